"""The student's report from a notebook (Colab included): ``make_pdf`` runs the evaluation appendix afresh over the
outputs folder and exports it (``export.build_report``); on Colab it installs TeX first and offers the PDF."""

from __future__ import annotations

import subprocess
from pathlib import Path

import papermill

from helpers.environment import in_colab, resolve_output_dir
from helpers.experiments import NOTEBOOKS, notebook_path
from helpers.report.export import TEX_HINT, build_report, xelatex_available

__all__ = ["TEX_PACKAGES", "install_tex", "make_pdf"]

TEX_PACKAGES = ("texlive-xetex", "texlive-fonts-recommended", "texlive-plain-generic", "pandoc", "fonts-dejavu-core")


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
