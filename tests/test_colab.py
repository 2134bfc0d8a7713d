"""Colab, simulated: a fake google.colab module, as Colab's kernel has it."""

import sys
import types
from pathlib import Path

import pytest

from helpers import environment
from helpers.environment import hosts


class MessageError(Exception):
    """google.colab._message.MessageError, which drive.mount raises when the student refuses or sign-in fails."""


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    """A google.colab whose drive.mount does what ``answer`` says: "allow" (the default), "refuse" or "fail"."""
    mounted, answer = [], {"now": "allow"}

    def mount(path):
        mounted.append(path)
        if answer["now"] == "refuse":
            raise MessageError("credential propagation was unsuccessful")
        if answer["now"] == "fail":
            raise TimeoutError("Timed out waiting for the Drive to be mounted")
        (tmp_path / "drive" / "MyDrive").mkdir(parents=True)

    # Only google.colab: a fake "google" package would hide google.protobuf, which TensorFlow imports.
    colab = types.ModuleType("google.colab")
    drive = types.ModuleType("google.colab.drive")
    drive.mount = mount
    colab.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    monkeypatch.setitem(hosts._drive, "refused", None)  # a fresh kernel: Drive not asked yet
    monkeypatch.setenv("CNN_KIT_OUTPUT_DIR", str(tmp_path / "local"))  # this machine's own disk
    monkeypatch.setenv("CNN_KIT_DRIVE_MOUNT", str(tmp_path / "drive"))
    return types.SimpleNamespace(mounted=mounted, mount=tmp_path / "drive", answer=answer)


def test_detects_colab(fake_colab):
    assert environment.in_colab()
    assert environment.environment_info()["colab"] is True


def test_setup_without_gpu_names_the_menu(fake_colab, capsys):
    info = environment.setup(0)
    out = capsys.readouterr().out
    assert "Runtime > Change runtime type > T4 GPU" in out and "TensorFlow" in out and "Keras" in out
    assert info["hardware"]["accelerator"] == "CPU"


def test_outside_colab_no_menu_hint(capsys):
    environment.setup(0)
    assert "Runtime >" not in capsys.readouterr().out


def test_output_dir_on_drive(fake_colab, tmp_path, capsys):
    mounted, mount = fake_colab.mounted, fake_colab.mount
    on_drive = str(mount / "MyDrive" / "cnn-course-kit" / "local")
    assert environment.resolve_output_dir("") == on_drive  # the default on Colab: Drive, mounted once
    assert "Colab asks for access now" in capsys.readouterr().out
    assert environment.resolve_output_dir("", use_drive=True) == on_drive and mounted == [str(mount)]
    # An explicit folder wins, Drive or not (the README's promise), and use_drive=False keeps the local one.
    assert environment.resolve_output_dir(str(tmp_path / "mine")) == str(tmp_path / "mine")
    assert environment.resolve_output_dir("", use_drive=False) == str(tmp_path / "local")
    assert len(mounted) == 1


@pytest.mark.parametrize(
    ("answer", "reason"), [("refuse", "credential propagation was unsuccessful"), ("fail", "Timed out waiting")]
)
def test_a_refused_or_failed_drive_gives_one_line_and_runs_stay_local(fake_colab, tmp_path, capsys, answer, reason):
    mounted = fake_colab.mounted
    fake_colab.answer["now"] = answer
    assert environment.resolve_output_dir("") == str(tmp_path / "local")  # no traceback: the notebook goes on
    lines = [line for line in capsys.readouterr().out.splitlines() if "Drive not mounted" in line]
    assert len(lines) == 1 and reason in lines[0] and str(tmp_path / "local") in lines[0], lines
    assert "vanish when the runtime ends" in lines[0] and "drive.mount(" in lines[0]  # what it costs, how to mount
    # The next step of the same session (06, make_pdf) does not ask again and lands in the same folder.
    assert environment.resolve_output_dir("") == str(tmp_path / "local") and len(mounted) == 1


def test_make_pdf_builds_from_the_folder_the_notebook_chose(fake_colab, tmp_path, monkeypatch):
    """05 resolves its folder (use_drive=False here), then calls make_pdf(output_dir): the PDF step neither asks for
    Drive again nor moves to another folder."""
    from helpers.report import export, notebook_pdf

    mounted = fake_colab.mounted
    seen = {}
    monkeypatch.setattr(notebook_pdf, "xelatex_available", lambda: True)
    monkeypatch.setattr(
        notebook_pdf.papermill, "execute_notebook", lambda nb, out, parameters, **kw: seen.update(parameters)
    )
    monkeypatch.setattr(notebook_pdf, "build_report", lambda out, profile: export.ReportResult(problems=["(stopped)"]))
    folder = environment.resolve_output_dir("", use_drive=False)
    assert notebook_pdf.make_pdf(folder, profile="") is None
    assert seen["output_dir"] == str(Path(folder).resolve()) and mounted == []


def test_use_drive_is_ignored_off_colab(capsys):
    assert environment.resolve_output_dir("outputs", use_drive=True) == "outputs"
    assert "only applies on Google Colab" in capsys.readouterr().out


def test_tpu_runtime_gets_one_clear_line(monkeypatch, capsys):
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert environment.on_tpu_runtime()
    environment.setup(0)
    lines = [line for line in capsys.readouterr().out.splitlines() if "TPU" in line]
    assert len(lines) == 1 and "Runtime > Change runtime type > T4 GPU" in lines[0]


def test_without_gpu_setup_says_how_to_make_a_short_run(capsys):
    environment.setup(0)
    out = capsys.readouterr().out
    assert "epochs=2" in out and "train_size=2000" in out


# --- the path a student follows from the badges: every notebook on a fresh machine, only the Drive shared -------

FAKE_COLAB_CELL = """import pathlib
import sys
import types

colab, drive = types.ModuleType("google.colab"), types.ModuleType("google.colab.drive")
drive.mount = lambda path: pathlib.Path(path, "MyDrive").mkdir(parents=True, exist_ok=True)
colab.drive = drive
sys.modules.update({"google.colab": colab, "google.colab.drive": drive})
from helpers.environment import setup"""


def outputs_text(nb) -> str:
    return "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_the_badge_path_works_with_a_fresh_machine_per_notebook(tmp_path, monkeypatch):
    """A student opens 03 from its badge and trains; then 05 and 06, each from its own badge, each on a fresh Colab
    machine with its own empty disk: with the defaults they find the run on the student's Google Drive. (Each
    notebook's first cell, which installs the kit on Colab, here only makes the kernel look like Colab's.)"""
    import nbformat
    import papermill

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    monkeypatch.setenv("CNN_KIT_DRIVE_MOUNT", str(tmp_path / "drive"))  # the one thing machines share

    def on_a_fresh_machine(name: str, params: dict) -> str:
        machine = tmp_path / name.split("_")[0]
        machine.mkdir()
        monkeypatch.setenv("CNN_KIT_OUTPUT_DIR", str(machine / "outputs"))  # its own local disk
        nb = nbformat.read(notebooks / name, as_version=4)
        next(c for c in nb.cells if c.cell_type == "code").source = FAKE_COLAB_CELL
        nbformat.write(nb, machine / name)
        done = papermill.execute_notebook(
            str(machine / name),
            str(machine / "executed.ipynb"),
            parameters=params,
            kernel_name="python3",
            cwd=str(machine),
            progress_bar=False,
        )
        return outputs_text(done)

    trained = on_a_fresh_machine(
        "03_resnet.ipynb",
        {
            "model": "resnet20",
            "synthetic": True,
            "epochs": 1,
            "train_size": 64,
            "val_size": 32,
            "test_size": 64,
            "batch_size": 32,
            "experiment_exercises": False,
            "progress": "epoch",
        },
    )
    on_drive = tmp_path / "drive" / "MyDrive" / "cnn-course-kit" / "outputs" / "runs" / "resnet20_cifar10_best"
    assert "Colab asks for access now" in trained and (on_drive / "metrics.json").is_file()
    assert not (tmp_path / "03" / "outputs").exists()  # nothing left on the machine that goes away
    appendix = on_a_fresh_machine("05_evaluation_appendix.ipynb", {"build_pdf": False})  # the defaults otherwise
    assert "1 finished run(s)" in appendix and "resnet20_cifar10_best" in appendix
    assert "runs missing" not in appendix and "not finished" not in appendix  # nothing listed it never meant to run
    seeing = on_a_fresh_machine("06_what_cnns_see.ipynb", {})
    assert "resnet20_cifar10_best: resnet20 on cifar10" in seeing and "No finished run" not in seeing


REFUSING_COLAB_CELL = FAKE_COLAB_CELL.replace(
    'drive.mount = lambda path: pathlib.Path(path, "MyDrive").mkdir(parents=True, exist_ok=True)',
    "def mount(path):\n    raise RuntimeError('credential propagation was unsuccessful')\n\n\ndrive.mount = mount",
)


@pytest.mark.slow
def test_a_student_who_refuses_drive_gets_one_line_and_the_notebook_finishes(tmp_path, monkeypatch):
    """06 with Colab's defaults, Drive refused at the sign-in window: one line, the notebook runs to its end on the
    machine's own folder (no traceback)."""
    import nbformat
    import papermill

    assert REFUSING_COLAB_CELL != FAKE_COLAB_CELL
    monkeypatch.setenv("CNN_KIT_DRIVE_MOUNT", str(tmp_path / "drive"))
    monkeypatch.setenv("CNN_KIT_OUTPUT_DIR", str(tmp_path / "local"))
    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "06_what_cnns_see.ipynb", as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").source = REFUSING_COLAB_CELL
    nbformat.write(nb, tmp_path / "06.ipynb")
    done = papermill.execute_notebook(
        str(tmp_path / "06.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False
    )
    text = outputs_text(done)
    lines = [line for line in text.splitlines() if "Google Drive not mounted" in line]
    assert len(lines) == 1 and "credential propagation was unsuccessful" in lines[0], text[-2000:]
    assert str(tmp_path / "local") in lines[0] and "No finished run" in text  # went on, in the local folder
    assert not [o for c in done.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
