"""The constraints files: Colab's versions (read by the tests' stand-in) and the set CI passed with, each refreshed by
the documented command (constraints/refresh.py)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFRESH = [sys.executable, str(ROOT / "constraints" / "refresh.py")]
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$")


def pins(path: Path) -> dict:
    return dict(line.split("==") for line in path.read_text().splitlines() if PIN.match(line))


def test_colab_pins_name_colabs_stack():
    colab = pins(ROOT / "constraints" / "colab.txt")
    assert {"tensorflow": "2.20.0", "keras": "3.13.2", "numpy": "2.1.3"}.items() <= colab.items()
    assert {"nbconvert", "jupyter_client", "tabulate", "ipykernel", "ipython"} <= set(colab)
    assert "papermill" not in colab and "jupyterlab" not in colab  # Colab preinstalls neither


def test_refreshing_colab_takes_the_new_versions_and_keeps_the_list(tmp_path):
    out = tmp_path / "colab.txt"
    shutil.copy(ROOT / "constraints" / "colab.txt", out)
    before = pins(out)
    freeze = "".join(f"{name}=={version}\n" for name, version in before.items()).replace(
        "keras==3.13.2", "keras==3.14.0"
    )
    freeze += "some-other-package==1.0\n"  # Colab's freeze lists far more than the kit needs
    (tmp_path / "f.txt").write_text(freeze)
    done = subprocess.run(
        REFRESH + ["colab", "--freeze", str(tmp_path / "f.txt"), "--out", str(out)], text=True, capture_output=True
    )
    assert done.returncode == 0 and "keras 3.13.2 -> 3.14.0" in done.stdout, done.stdout + done.stderr
    after = pins(out)
    assert after == {**before, "keras": "3.14.0"}  # same packages, one new version
    assert out.read_text().startswith("# Google Colab")  # the header stays


def test_a_package_colab_dropped_is_named_not_silently_kept(tmp_path):
    out = tmp_path / "colab.txt"
    shutil.copy(ROOT / "constraints" / "colab.txt", out)
    (tmp_path / "f.txt").write_text("numpy==2.1.3\n")
    done = subprocess.run(
        REFRESH + ["colab", "--freeze", str(tmp_path / "f.txt"), "--out", str(out)], text=True, capture_output=True
    )
    assert done.returncode == 1 and "is not in Colab's pip freeze any more" in done.stderr
    assert out.read_text() == (ROOT / "constraints" / "colab.txt").read_text()  # nothing half-written


def test_ci_pins_are_this_pythons_freeze_without_the_kit(tmp_path):
    out = tmp_path / "ci.txt"
    done = subprocess.run(REFRESH + ["ci", "--out", str(out)], text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    found = pins(out)
    assert "cnn-course-kit" not in {name.lower() for name in found} and "keras" in {n.lower() for n in found}
    committed = pins(ROOT / "constraints" / "ci.txt")
    assert {"tensorflow", "keras", "numpy", "pytest"} <= {name.lower() for name in committed}
