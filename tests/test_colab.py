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
    path = environment.colab_output_dir("outputs", use_drive=True, mount=str(mount))
    assert mounted == [str(mount)] and path == str(mount / "MyDrive" / "cnn-course-kit" / "outputs")
    environment.colab_output_dir("outputs", use_drive=True, mount=str(mount))
    assert len(mounted) == 1  # mounted once
    assert environment.colab_output_dir("outputs", use_drive=False, mount=str(mount)) == "outputs"


def test_use_drive_is_ignored_off_colab(capsys):
    assert environment.colab_output_dir("outputs", use_drive=True) == "outputs"
    assert "only applies on Google Colab" in capsys.readouterr().out
