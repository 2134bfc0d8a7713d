"""Colab, simulated: a fake google.colab module, as Colab's kernel has it."""

import sys
import types

import pytest

from helpers import environment


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    mounted = []

    def mount(path):
        mounted.append(path)
        (tmp_path / "drive" / "MyDrive").mkdir(parents=True)

    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    drive = types.ModuleType("google.colab.drive")
    drive.mount = mount
    colab.drive = drive
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    return mounted, tmp_path / "drive"


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


def test_output_dir_on_drive(fake_colab):
    mounted, mount = fake_colab
    path = environment.resolve_output_dir("outputs", use_drive=True, mount=str(mount))
    assert mounted == [str(mount)] and path == str(mount / "MyDrive" / "cnn-course-kit" / "outputs")
    environment.resolve_output_dir("outputs", use_drive=True, mount=str(mount))
    assert len(mounted) == 1  # mounted once
    assert environment.resolve_output_dir("outputs", use_drive=False, mount=str(mount)) == "outputs"
    # The default ("") lands in the same Drive folder, whichever notebook asks (05 included).
    assert environment.resolve_output_dir("", use_drive=True, mount=str(mount)) == path


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
