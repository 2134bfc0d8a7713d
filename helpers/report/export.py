"""The report students hand in: the executed evaluation appendix exported to HTML and PDF (nbconvert, xelatex).

``build_report(output_dir, profile)`` turns ``<output_dir>/notebooks/evaluation_appendix.ipynb`` into
``<output_dir>/report.html`` and ``<output_dir>/report.pdf`` with code cells hidden, using the LaTeX template in
``helpers/report/templates/report`` (A4, title page, DejaVu Sans Mono for Keras' box-drawing model summaries).
``which="all"`` also exports every executed notebook to its own PDF next to it.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter, PDFExporter
from nbconvert.exporters.pdf import LatexFailed

from helpers.environment import environment_info, in_colab, resolve_output_dir
from helpers.experiments import NOTEBOOKS, notebook_path
from helpers.runs import atomic_write

__all__ = [
    "TEX_HINT",
    "ReportError",
    "build_report",
    "export_html",
    "export_pdf",
    "install_tex",
    "make_pdf",
    "report_facts",
    "xelatex_available",
]

# Package data, found wherever pip put the kit (a venv, --user, /usr/local on Debian's and Colab's Python).
TEMPLATE_DIR = Path(str(importlib.resources.files("helpers.report") / "templates"))
TEX_PACKAGES = ("texlive-xetex", "texlive-fonts-recommended", "texlive-plain-generic", "pandoc", "fonts-dejavu-core")
TEX_HINT = (
    "PDF not built: xelatex is missing. Install TeX, then rerun with --pdf: on Debian/Ubuntu "
    "`sudo apt-get install texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc fonts-dejavu-core`; "
    "on Colab `!apt-get install -y texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc`."
)


NOT_IN_REPORT = {"setup", "parameters", "injected-parameters", "questionnaire"}


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


def report_facts(profile: str) -> dict:
    """Date, commit, library versions, hardware and profile: the title page of the report."""
    info = environment_info()
    v, hw = info["versions"], info["hardware"]
    accel = ", ".join(g["name"] for g in hw["gpus"]) or f"CPU ({hw['processor']}, {hw['cpu_count']} cores)"
    return {
        "Date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "Git commit": git_commit(),
        "Profile": profile or "none (the runs found)",
        "Hardware": accel,
        "TensorFlow / Keras": f"{v['tensorflow']} / {v['keras']}",
        "Keras backend": v.get("keras_backend", "tensorflow"),
        "NumPy / pandas / scikit-learn": f"{v['numpy']} / {v['pandas']} / {v['scikit-learn']}",
        "Python": v["python"],
    }


def _prepare(nb_path: Path, title: str, facts: dict | None, report: bool = True):
    """The notebook to export, titled; as a report (code hidden), without what the reader does not need: the set-up
    (cells tagged ``setup``: the Colab install, the parameters, papermill's injected ones) and the questionnaire."""
    nb = nbformat.read(nb_path, as_version=4)
    if report:
        nb.cells = [c for c in nb.cells if not set(c.get("metadata", {}).get("tags", [])) & NOT_IN_REPORT]
    nb.metadata["title"] = title
    nb.metadata["subtitle"] = "VGG, ResNet and GoogLeNet on MNIST and CIFAR-10"
    if facts:
        nb.metadata["report_facts"] = facts
    return nb


def export_html(nb_path: Path, out_path: Path, title: str, facts: dict | None = None) -> Path:
    """The report as one self-contained HTML page (code cells hidden)."""
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True
    )
    body, _ = exporter.from_notebook_node(_prepare(nb_path, title, facts))
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


def export_pdf(nb_path: Path, out_path: Path, title: str, facts: dict | None = None, hide_code: bool = True) -> Path:
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
            _prepare(nb_path, title, facts, report=hide_code), resources={"metadata": {"path": str(nb_path.parent)}}
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
    result.html = export_html(appendix, output_dir / "report.html", title, facts)
    if not xelatex_available():
        result.problems.append(TEX_HINT)
        return result
    try:
        result.pdf = export_pdf(appendix, output_dir / "report.pdf", title, facts)
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


def install_tex() -> bool:
    """Install xelatex and pandoc with apt (Colab: about a minute, once per session); True when they are there."""
    if xelatex_available():
        return True
    print("Installing TeX for the PDF with apt-get (about a minute, once per session)...", flush=True)
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *TEX_PACKAGES],
    ):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.SubprocessError) as e:
            print(f"TeX not installed ({e}). {TEX_HINT}")
            return False
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            print(f"TeX not installed: {' '.join(command[:2])} failed: {last}")
            return False
    return xelatex_available()


def make_pdf(output_dir: str = "", use_drive: bool | None = None, profile: str = "", download: bool | None = None):
    """Your report as a PDF, from a notebook (Colab too) or a script: runs the evaluation appendix afresh over every
    run in the outputs folder, exports it to ``report.html`` and ``report.pdf`` there, and on Colab offers the PDF
    for download. Installs TeX first on Colab when it is missing; elsewhere says how. Returns the PDF's path or None.
    """
    out = Path(resolve_output_dir(output_dir, use_drive)).resolve()
    if not xelatex_available() and in_colab():
        install_tex()
    executed = out / "notebooks" / "evaluation_appendix.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    print(f"Running the evaluation appendix over {out / 'runs'} ...", flush=True)
    papermill.execute_notebook(
        str(notebook_path(NOTEBOOKS["appendix"])),
        str(executed),
        kernel_name="python3",
        parameters={"output_dir": str(out), "profile": profile, "build_pdf": False},
        progress_bar=False,
        coalesce_streams=True,
    )
    result = build_report(out, profile)
    for problem in result.problems:
        print(problem)
    if result.html:
        print(f"Report (HTML): {result.html}")
    if not result.pdf:
        return None
    print(f"Report (PDF): {result.pdf}")
    if download if download is not None else in_colab():
        from google.colab import files  # exists on Colab only

        files.download(str(result.pdf))
    return result.pdf
