"""The repository's promises: one list of dependencies, README commands that CI really runs."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_installs_the_project_itself():
    """environment.yml only brings Python and pip; the packages come from pyproject.toml (no drift possible)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    conda = sorted(d.split("=")[0] for d in deps if isinstance(d, str))
    assert conda == ["pip", "python"], f"conda packages besides python/pip drift from pyproject.toml: {conda}"
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip == ['-e ".[lab]"'], pip  # a student's set: JupyterLab, not the test tools of `dev`
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    major_minor = tuple(int(v) for v in python.split("=")[1].split(".")[:2])
    assert major_minor == (3, 13)  # Colab's Python


def test_dependencies_have_no_upper_pins_on_colab_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = {re.split(r"[<>=!~ \[]", d)[0].lower(): d for d in project["dependencies"]}
    for name in (
        "tensorflow",
        "keras",
        "numpy",
        "pandas",
        "scikit-learn",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbconvert",
        "ipykernel",
        "tabulate",
    ):
        assert name in deps, name
    for spec in project["dependencies"]:  # lower bounds only: Colab's preinstalled versions must satisfy them
        assert "<" not in spec and "==" not in spec and "~=" not in spec, spec
    # JupyterLab (and its jupyter-server 2) never goes onto Colab, whose own server it would replace.
    assert "jupyterlab" not in deps and any(d.startswith("jupyterlab") for d in project["optional-dependencies"]["lab"])
    assert any(d.startswith("pytest") for d in project["optional-dependencies"]["dev"])
    # dev brings the lab (browser tests) and jax (tests/test_backends.py) extras.
    dev_extras = [d for d in project["optional-dependencies"]["dev"] if d.startswith("cnn-course-kit[")]
    assert len(dev_extras) == 1, dev_extras
    assert set(dev_extras[0][len("cnn-course-kit[") : -1].split(",")) == {"lab", "jax"}, dev_extras


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    command = ci[-1].replace("pip install -q ", "pip install ")
    assert command in readme, f"README lacks CI's test command: {command}"
    assert 'pip install -e ".[lab]" && python run_all.py' in readme  # the other of the README's two commands
