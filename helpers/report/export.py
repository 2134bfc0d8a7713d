"""The report students hand in: the executed evaluation appendix exported to HTML and PDF (nbconvert, xelatex).

``build_report(output_dir, profile)`` turns ``<output_dir>/notebooks/evaluation_appendix.ipynb`` into
``<output_dir>/report.html`` and ``<output_dir>/report.pdf`` with code cells hidden, using the LaTeX template in
``helpers/report/templates/report`` (A4, title page, DejaVu Sans Mono for Keras' box-drawing model summaries).
``which="all"`` also exports every executed notebook to its own PDF next to it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.resources
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, PDFExporter
from nbconvert.exporters.pdf import LatexFailed

from helpers.environment import environment_info
from helpers.experiments import DISTRIBUTION, EXPERIMENTS
from helpers.runs import atomic_write

__all__ = [
    "TEX_HINT",
    "ReportError",
    "build_report",
    "export_html",
    "export_pdf",
    "report_facts",
    "xelatex_available",
]

# Package data, found wherever pip put the kit (a venv, --user, /usr/local on Debian's and Colab's Python).
TEMPLATE_DIR = Path(str(importlib.resources.files("helpers.report") / "templates"))
TEX_HINT = (
    "PDF not built: xelatex is missing. Install TeX, then rerun with --pdf: on Debian/Ubuntu "
    "`sudo apt-get install texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc fonts-dejavu-core`; "
    "on Colab `!apt-get install -y texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc`."
)


NOT_IN_REPORT = {"setup", "parameters", "injected-parameters", "questionnaire", "question"}


class ReportError(RuntimeError):
    """The PDF could not be built; the message holds the relevant lines of the LaTeX log."""


def xelatex_available() -> bool:
    return shutil.which("xelatex") is not None and shutil.which("pandoc") is not None


def git_commit(root: Path | None = None) -> str:
    root = root or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return (out.stdout.strip() + (" (with local changes)" if dirty else "")) if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def kit_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # a checkout never installed (its files on sys.path)
        return "(not installed)"


def report_facts(profile: str) -> dict:
    """Date, commit, library versions, hardware and profile: the title page of the report."""
    info = environment_info()
    v, hw = info["versions"], info["hardware"]
    accel = ", ".join(g["name"] for g in hw["gpus"]) or f"CPU ({hw['processor']}, {hw['cpu_count']} cores)"
    return {
        "Date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "Kit": f"cnn-course-kit {kit_version()}, commit {git_commit()}",
        "Profile": profile or "none (the runs found)",
        "Hardware": accel,
        "TensorFlow / Keras": f"{v['tensorflow']} / {v['keras']}",
        "Keras backend": v.get("keras_backend", "tensorflow"),
        "NumPy / pandas / scikit-learn": f"{v['numpy']} / {v['pandas']} / {v['scikit-learn']}",
        "Python": v["python"],
    }


def _in_report(cell) -> bool:
    return not set(cell.get("metadata", {}).get("tags", [])) & NOT_IN_REPORT


def _prepare(nb_path: Path, title: str, facts: dict | None, report: bool = True, chapters: tuple[Path, ...] = ()):
    """The notebook to export, titled; as a report (code hidden), without what the reader does not need: the set-up
    (cells tagged ``setup``: the Colab install, the parameters, papermill's injected ones) and the questionnaire.
    ``chapters``: executed notebooks whose cells follow, each under its own title (06's pictures of the runs)."""
    nb = nbformat.read(nb_path, as_version=4)
    if report:
        nb.cells = [c for c in nb.cells if _in_report(c)]
    for chapter in chapters:  # a section of the report: its title (a set-up cell there) opens it, headings go down
        cells = nbformat.read(chapter, as_version=4).cells
        heads = [c.source.splitlines()[0] for c in cells if c.cell_type == "markdown" and c.source[:2] == "# "]
        cells = [nbformat.v4.new_markdown_cell(h) for h in heads[:1]] + [c for c in cells if _in_report(c)]
        for cell in cells:
            if cell.cell_type == "markdown":
                cell.source = re.sub(r"(?m)^#", "##", cell.source)
        nb.cells += cells
    nb.metadata["title"] = title
    nb.metadata["subtitle"] = "VGG, ResNet and GoogLeNet on MNIST and CIFAR-10"
    if facts:
        nb.metadata["report_facts"] = facts
    return nb


def export_html(nb_path: Path, out_path: Path, title: str, facts: dict | None = None, chapters=()) -> Path:
    """The report as one self-contained HTML page (code cells hidden)."""
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True
    )
    body, _ = exporter.from_notebook_node(_prepare(nb_path, title, facts, chapters=tuple(chapters)))
    return atomic_write(out_path, body)


def _latex_errors(log: str, context: int = 3) -> str:
    """The lines of a LaTeX log that matter: each '! error' with a few lines after it."""
    lines = log.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("!"):  # the error, then its context up to the "l.<line number>" line
            end = next((j for j in range(i + 1, min(i + 8, len(lines))) if re.match(r"^l\.\d+", lines[j])), i + context)
            picked.extend(lines[i : end + 1])
    return "\n".join(dict.fromkeys(picked)) or "\n".join(lines[-20:])


def export_pdf(
    nb_path: Path, out_path: Path, title: str, facts: dict | None = None, hide_code: bool = True, chapters=()
) -> Path:
    """nbconvert --to pdf (xelatex) with the kit's template; code cells hidden unless ``hide_code=False``."""
    exporter = PDFExporter(
        template_name="report",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=hide_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.latex_count = 3  # table of contents needs the extra pass
    try:
        pdf, _ = exporter.from_notebook_node(
            _prepare(nb_path, title, facts, hide_code, tuple(chapters)),
            resources={"metadata": {"path": str(nb_path.parent)}},
        )
    except LatexFailed as e:
        raise ReportError(f"LaTeX failed on {nb_path}:\n{_latex_errors(e.output)}") from None
    return atomic_write(out_path, pdf)


@dataclass
class ReportResult:
    html: Path | None = None
    pdf: Path | None = None
    notebook_pdfs: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def pdf_built(self) -> bool:
        return self.pdf is not None and not self.problems


def build_report(output_dir: str | Path, profile: str, which: str = "report") -> ReportResult:
    """Write report.html and report.pdf from the executed appendix (and, with which="all", every notebook's PDF)."""
    output_dir = Path(output_dir)
    appendix = output_dir / "notebooks" / "evaluation_appendix.ipynb"
    result = ReportResult()
    if not appendix.is_file():
        result.problems.append(f"No executed evaluation appendix at {appendix}: run the notebooks first.")
        return result
    facts = report_facts(profile)
    title = "Deep CNNs for image classification: results"
    # What reads the runs besides the appendix (06), executed by the report step: its pictures close the report.
    readers = [output_dir / "notebooks" / f"{e.name}.ipynb" for e in EXPERIMENTS.values() if e.needs == "runs"]
    chapters = tuple(p for p in readers if p.is_file())
    result.html = export_html(appendix, output_dir / "report.html", title, facts, chapters)
    if not xelatex_available():
        result.problems.append(TEX_HINT)
        return result
    try:
        result.pdf = export_pdf(appendix, output_dir / "report.pdf", title, facts, chapters=chapters)
    except ReportError as e:
        result.problems.append(str(e))
    if which == "all":
        executed = sorted((output_dir / "runs").glob("*/notebook.ipynb")) + sorted(
            p for p in (output_dir / "notebooks").glob("*.ipynb") if p != appendix
        )
        for nb in executed:
            name = nb.parent.name if nb.name == "notebook.ipynb" else nb.stem
            try:
                result.notebook_pdfs.append(
                    export_pdf(nb, nb.with_suffix(".pdf"), name.replace("_", " "), None, hide_code=False)
                )
            except ReportError as e:
                result.problems.append(str(e))
    return result
