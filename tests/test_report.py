"""The PDF report (run_all.py --pdf): built from the smoke profile and checked the way a reader would."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.report import export as report

NEEDS_TEX = pytest.mark.skipif(
    not report.xelatex_available() and os.environ.get("CI") != "true",
    reason="xelatex/pandoc not installed (apt-get install texlive-xetex texlive-fonts-recommended "
    "texlive-plain-generic pandoc fonts-dejavu-core poppler-utils); under CI=true this test never skips",
)


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@NEEDS_TEX
def test_smoke_report_pdf_reads_right(smoke):
    out, proc, _ = smoke
    pdf = out / "report.pdf"
    assert pdf.is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (out / "report.html").is_file()
    text = pdftotext(pdf)
    assert "\ufffd" not in text  # no lost glyph
    # Report 1's Appendix A model with every column and per-layer count (rich used to cut them at 80 columns).
    assert re.search(r"\| Layer \(type\) +\| Output Shape +\| +Param # \|", text)
    assert re.search(r"\| block5_conv3 \(Conv2D\) +\| \(None, 1, 1, 512\) +\| +2,359,808 \|", text)
    assert "Total params: 14,913,226" in text
    assert re.search(r"\| +Param # \| Connected to +\|", text)  # ResNet-50's skip connections
    for title in (
        "Deep CNNs for image classification",
        "cnn-course-kit 0.2.0, commit",
        "Hardware",
        "Profile",
        "Results beside the reports",
        "Missing runs",
        "Ablations",
        "Table IV",
        "The models: size, cost",
        "Every finished run in detail",
        "Appendix: architectures",
        "reported (%)",
        "GFLOPs",
        "precision",
        "recall",
        "f1-score",
    ):
        assert title in text, title
    for exp in ("r1_exp1_vgg16_mnist", "best_resnet18_cifar10", "best_googlenet_cifar10"):
        assert exp in text
    # 06, run by the report step over the finished runs, is the last chapter, with its pictures; no set-up prose
    chapter = text.split("What the network sees")[-1]
    assert "Grad-CAM" in chapter and "Feature maps" in chapter, text[-3000:]
    assert "Setting up" not in text and "Colab and Kaggle only" not in text
    assert not re.search(r"\d+/\d+ ━+", text) and "ms/step" not in text  # no progress bars
    assert "\x08" not in text and "\r" not in text.replace("\r\n", "\n")
    pages = int(
        re.search(
            r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        ).group(1)
    )
    assert 10 <= pages <= 200, pages
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    shown = [p for p in (out / "figures").glob("*.png")]  # every figure the appendix showed is also saved
    assert len([i for i in images if " image " in i]) >= len(shown) >= 10
    assert all((out / "figures" / f"{p.stem}.pdf").is_file() for p in shown)  # vector copies for write-ups


def test_without_tex_the_html_is_written_and_the_hint_is_one_line(smoke, monkeypatch, tmp_path, capsys):
    from helpers.runner import session

    out, _, _ = smoke
    target = tmp_path / "o"
    (target / "notebooks").mkdir(parents=True)
    shutil.copy(out / "notebooks" / "evaluation_appendix.ipynb", target / "notebooks")
    monkeypatch.setattr(report, "xelatex_available", lambda: False)
    assert session.make_report(target, "smoke", "report") is False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install texlive-xetex" in err[0] and "Colab" in err[0]
    assert (target / "report.html").is_file() and not (target / "report.pdf").exists()


@NEEDS_TEX
def test_latex_failure_shows_the_relevant_log_lines(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/latex": r"\notACommandAnywhere{}"})]
    nb.cells = [cell]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(report.ReportError) as e:
        report.export_pdf(path, tmp_path / "bad.pdf", "bad")
    msg = str(e.value)
    assert "Undefined control sequence" in msg and "notACommandAnywhere" in msg and len(msg.splitlines()) < 40
    assert not (tmp_path / "bad.pdf").exists()


def test_latex_error_extraction():
    log = "line\n! Undefined control sequence.\nl.42 \\foo\n\nmore\n! Missing $ inserted.\nx\ny\nz"
    picked = report._latex_errors(log)
    assert "! Undefined control sequence." in picked and "l.42 \\foo" in picked and "! Missing $" in picked
    assert "more" not in picked


def test_report_facts_name_commit_versions_hardware_profile():
    facts = report.report_facts("quick")
    assert facts["Profile"] == "quick" and facts["TensorFlow / Keras"].count("/") == 1
    assert facts["Hardware"].startswith("CPU")
    assert re.fullmatch(
        r"cnn-course-kit \d+\.\d+\.\d+, commit ([0-9a-f]{7,}( \(with local changes\))?|unknown)", facts["Kit"]
    )


@NEEDS_TEX
def test_pdf_all_exports_every_executed_notebook(smoke, tmp_path):
    out, _, _ = smoke
    target = tmp_path / "copy"
    shutil.copytree(out, target, ignore=shutil.ignore_patterns("*.keras", "backup"))
    # Two executed notebooks besides the appendix (a training run's and the data notebook) say what 'all' does; each
    # more PDF would cost the suite another XeLaTeX build
    for extra in [*target.glob("runs/*/notebook.ipynb"), *(target / "notebooks").glob("*.ipynb")]:
        if extra.parent.name != "best_resnet18_cifar10" and extra.stem not in ("data_overview", "evaluation_appendix"):
            extra.unlink()
    result = report.build_report(target, "smoke", which="all")
    assert result.pdf_built, result.problems
    executed = sorted(target.glob("runs/*/notebook.ipynb")) + sorted((target / "notebooks").glob("*.ipynb"))
    executed = [p for p in executed if p.name != "evaluation_appendix.ipynb"]
    assert sorted(result.notebook_pdfs) == sorted(p.with_suffix(".pdf") for p in executed) and len(executed) == 2
    text = pdftotext(target / "runs" / "best_resnet18_cifar10" / "notebook.pdf")
    assert "train(cfg, ds, run, progress=progress)" in text  # the notebook PDFs keep their code
    assert "\ufffd" not in text


@NEEDS_TEX
@pytest.mark.parametrize("executed", ["runs/r1_exp1_vgg16_mnist/notebook.ipynb", "notebooks/evaluation_appendix.ipynb"])
def test_export_by_hand_with_the_default_template_loses_nothing(smoke, tmp_path, executed):
    """JupyterLab's File > Save and Export Notebook As > PDF is nbconvert's default template (no DejaVu font)."""
    out, _, _ = smoke
    notebook = tmp_path / Path(executed).name
    shutil.copy(out / executed, notebook)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "pdf", str(notebook)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    text = pdftotext(notebook.with_suffix(".pdf"))
    assert text.count("\ufffd") == 0
    assert "Param #" in text and "Total params: 14,913,226" in text
    assert re.search(r"\| fc1 \(Dense\) +\| \(None, 256\) +\| +131,328 \|", text)


def test_smoke_notebooks_write_nothing_to_stderr(smoke):
    """Red text in JupyterLab or Colab that is not an error (TensorFlow's C++ log lines) is gone."""
    out, _, _ = smoke
    executed = sorted(out.glob("runs/*/notebook.ipynb")) + sorted((out / "notebooks").glob("*.ipynb"))
    assert len(executed) >= 8
    for path in executed:
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            for output in cell.get("outputs", []):
                assert output.get("name") != "stderr", f"{path} cell {i}: {output.get('text', '')[:300]}"
