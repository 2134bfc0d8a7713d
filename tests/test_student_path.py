"""The student's path: the published install cell, one outputs folder, every parameter alone, live progress."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import nbformat
import papermill
import pytest
from packaging.specifiers import SpecifierSet

from helpers.course import publish
from helpers.experiments import NOTEBOOKS
from helpers.experiments.budget import format_duration
from helpers.runs import OUTPUT_DIR_ENV, default_output_dir
from helpers.training.progress import bar_text, estimate_text

ROOT = Path(__file__).resolve().parents[1]


# --- published in one place ---------------------------------------------------------------------------------


def test_every_badge_and_install_cell_agrees_with_the_one_constant():
    assert publish.publish(write=False) == []
    done = subprocess.run([sys.executable, "-m", "helpers.course.publish"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_publish_rewrites_a_fork_everywhere_and_the_check_catches_a_stale_notebook(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    (tmp_path / "helpers" / "course").mkdir(parents=True)
    shutil.copy(ROOT / "helpers" / "course" / "publish.py", tmp_path / "helpers" / "course")
    shutil.copy(ROOT / "README.md", tmp_path)
    fork = "a-teacher/cnn-course-kit@spring-2027"
    changed = publish.publish(fork, root=tmp_path)
    assert sorted(changed) == sorted(
        [f"notebooks/{n}" for n in NOTEBOOKS.values()] + ["README.md", "helpers/course/publish.py"]
    )
    assert publish.publish(fork, root=tmp_path, write=False) == []
    for name in NOTEBOOKS.values():
        text = (tmp_path / "notebooks" / name).read_text()
        assert publish.SOURCE not in text and f'KIT = \\"{fork}\\"' in text
        assert f"github/a-teacher/cnn-course-kit/blob/spring-2027/notebooks/{name}" in text
    assert 'SOURCE = "a-teacher/cnn-course-kit@spring-2027"' in (tmp_path / "helpers/course/publish.py").read_text()
    readme = (tmp_path / "README.md").read_text()
    assert "blob/spring-2027/notebooks/02_vgg.ipynb" in readme and "cnn-course-kit/cnn-course-kit/blob" not in readme
    # A notebook edited by hand back to another version is caught.
    nb = tmp_path / "notebooks" / "03_resnet.ipynb"
    nb.write_text(nb.read_text().replace("spring-2027", "main"))
    assert publish.publish(fork, root=tmp_path, write=False) == ["notebooks/03_resnet.ipynb"]


@pytest.mark.parametrize("bad", ["no-ref", "owner/repo@", "https://github.com/o/r@main", "o/r@main branch"])
def test_publish_refuses_a_malformed_source_in_one_line(bad):
    done = subprocess.run(
        [sys.executable, "-m", "helpers.course.publish", bad], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "OWNER/REPO@REF" in done.stderr
    assert publish.publish(write=False) == []  # nothing was written


# --- the install cell, run as Colab runs it -------------------------------------------------------------------


def colab_script(kit: str) -> str:
    """The install cell with KIT replaced, run in a Python that has a google.colab module (as Colab's kernel)."""
    cell = publish.install_cell(publish.SOURCE).replace(f'KIT = "{publish.SOURCE}"', f'KIT = "{kit}"')
    # Only google.colab: a fake "google" package would hide google.protobuf, which TensorFlow imports.
    return "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + cell + "\n"


def run_cell(python: str, kit: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run(
        [python, "-c", colab_script(kit)], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


@pytest.mark.parametrize(
    ("kit", "cause"),
    [
        ("cnn-course-kit/cnn-course-kit@v0.2.0", "no network"),  # this machine cannot reach github.com
        ("file:///no/such/repository@v1", "repository file:///no/such/repository not found"),
        (None, "version no-such-tag not found"),
    ],
)
def test_install_cell_stops_with_one_line_naming_the_cause(kit_repo, tmp_path, kit, cause):
    repo, _ = kit_repo
    if kit is None:
        kit = f"file://{repo}@no-such-tag"
    elif "://" not in kit and not _github_unreachable():
        pytest.skip("github.com is reachable from here: the no-network case cannot be shown")
    done = run_cell(sys.executable, kit, tmp_path, timeout=300)
    assert done.returncode == 1
    lines = [line for line in done.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("The course kit was not installed: "), done.stderr
    assert cause in lines[0], lines[0]


@pytest.mark.parametrize("own", ["helpers.py", "helpers/__init__.py"])
def test_a_students_own_helpers_beside_the_notebook_is_named_in_one_line(tmp_path, own):
    """Python imports the notebook's folder first: a student's helpers.py (or helpers/ package) would hide the kit's
    and end in "No module named 'helpers.environment'"; the first cell names the file instead."""
    (tmp_path / own).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / own).write_text("def plot_loss(history):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cell = publish.install_cell(publish.SOURCE)  # off Colab and Kaggle: it only checks the kit
    done = subprocess.run([sys.executable, "-c", cell], capture_output=True, text=True, cwd=tmp_path, env=env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert str(tmp_path / own) in lines[0] and "hides the course kit's package" in lines[0], lines[0]
    assert "rename it" in lines[0]
    (tmp_path / own).rename(tmp_path / "my_helpers.py")  # renamed: the same cell now finds the kit
    shutil.rmtree(tmp_path / "helpers", ignore_errors=True)
    done = subprocess.run([sys.executable, "-c", cell], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr


def _github_unreachable() -> bool:
    return (
        subprocess.run(
            ["git", "ls-remote", "https://github.com/git/git", "HEAD"], capture_output=True, timeout=60
        ).returncode
        != 0
    )


# --- the wheel carries what runs need -------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_installed_elsewhere_builds_the_pdf(smoke, tmp_path):
    """Non-editable, as on Colab: the report template and the appendix notebook come from the wheel."""
    from helpers.report.export import xelatex_available

    if not xelatex_available() and os.environ.get("CI") != "true":
        pytest.skip("xelatex not installed")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(dist)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(dist.glob("cnn_course_kit-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    vpy = str(venv / "bin" / "python")
    subprocess.run([vpy, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    out, _, _ = smoke
    runs = tmp_path / "student"
    shutil.copytree(out / "runs", runs / "runs", ignore=shutil.ignore_patterns("*.keras", "backup", "notebook.*"))
    code = textwrap.dedent(f"""
        import helpers, helpers.report.notebook_pdf as r
        from helpers.experiments import notebook_path
        assert "{venv}" in helpers.__file__, helpers.__file__
        assert "{venv}" in str(notebook_path("05_evaluation_appendix.ipynb"))
        print(r.make_pdf({str(runs)!r}, profile="smoke", download=False))
    """)
    # A --system-site-packages venv borrows nbconvert from the base interpreter, whose templates live under the
    # base prefix (a real install, as on Colab, has them under its own prefix).
    env = {**os.environ, "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    done = subprocess.run([vpy, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert (runs / "report.pdf").is_file() and (runs / "report.html").is_file()
    text = subprocess.run(["pdftotext", str(runs / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "best_resnet18_cifar10" in text and "\ufffd" not in text


# --- one home for runs ----------------------------------------------------------------------------------------


def test_every_way_of_running_finds_the_same_outputs_folder(tmp_path, monkeypatch):
    code = "from helpers.runs import default_output_dir; print(default_output_dir())"
    env = {k: v for k, v in os.environ.items() if k != OUTPUT_DIR_ENV}
    for cwd in (ROOT, ROOT / "notebooks", tmp_path):  # run_all, JupyterLab's kernel, papermill from elsewhere
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env)
        assert done.stdout.strip() == str(ROOT / "outputs")
    assert run_all_default_output_dir(env) == str(ROOT / "outputs")
    env[OUTPUT_DIR_ENV] = str(tmp_path / "elsewhere")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.stdout.strip() == str(tmp_path / "elsewhere")
    assert run_all_default_output_dir(env) == str(tmp_path / "elsewhere")
    monkeypatch.delenv(OUTPUT_DIR_ENV, raising=False)
    assert default_output_dir() == ROOT / "outputs"


def run_all_default_output_dir(env) -> str:
    code = "from helpers.runner.cli import build_parser; print(build_parser().parse_args([]).output_dir)"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    ).stdout.strip()


def test_notebooks_default_to_the_one_folder():
    for name in NOTEBOOKS.values():
        params = papermill.inspect_notebook(str(ROOT / "notebooks" / name))
        assert params["output_dir"]["default"] == '""', name
        assert "use_drive" in params, name


# --- every documented parameter alone -------------------------------------------------------------------------


def cells_before_training(name: str, params: dict, folder: Path) -> list[str]:
    """The notebook's code up to (not including) training, with ``params`` injected by papermill."""
    nb = papermill.execute_notebook(
        str(ROOT / "notebooks" / name), str(folder / name), parameters=params, prepare_only=True, progress_bar=False
    )
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    stop = next(i for i, src in enumerate(code) if re.search(r"^result = train\(", src, re.M))
    return code[:stop]


CASES = [
    ("02_vgg.ipynb", {}),
    ("02_vgg.ipynb", {"train_size": 300}),
    ("02_vgg.ipynb", {"dataset": "mnist"}),
    ("02_vgg.ipynb", {"use_drive": True}),
    ("02_vgg.ipynb", {"data_dir": "OFFICIAL"}),
]
CASES += [("02_vgg.ipynb", {"recipe": r}) for r in ("report1", "report2", "best")]
CASES += [
    ("02_vgg.ipynb", {"model": m}) for m in ("vgg11", "vgg13", "vgg19", "report_vgg16_mnist", "report_vgg16_cifar10")
]
CASES += [("03_resnet.ipynb", {"model": m}) for m in ("resnet34", "resnet50", "plain18", "plain34", "report_resnet50")]
CASES += [("03_resnet.ipynb", {"recipe": "report1"}), ("04_googlenet.ipynb", {"recipe": "report2"})]


@pytest.mark.parametrize(("name", "param"), CASES, ids=[f"{n[:2]}-{p}" for n, p in CASES])
def test_each_documented_parameter_alone_gets_to_training(name, param, tmp_path, monkeypatch, capsys):
    """synthetic=True (no network here) plus one parameter, the rest at their defaults: config, data, model."""
    import matplotlib.pyplot as plt
    from conftest import write_cifar10, write_mnist_npz

    params = {"synthetic": True, "output_dir": str(tmp_path / "out"), **param}
    if params.get("data_dir") == "OFFICIAL":
        write_mnist_npz(tmp_path)
        write_cifar10(tmp_path, n_per_batch=400)
        params.update(data_dir=str(tmp_path), synthetic=False)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for source in cells_before_training(name, params, tmp_path):
        exec(compile(source, name, "exec"), namespace)  # noqa: S102 - the notebook's own code
        plt.close("all")
    cfg, ds = namespace["cfg"], namespace["ds"]
    for key, value in param.items():  # each parameter reached where it acts: the config, the data, the folder
        if key == "data_dir":
            assert ds.source.startswith(str(tmp_path)), ds.source  # the official files, not synthetic images
        elif key == "use_drive":
            assert namespace["output_dir"] == str(tmp_path / "out")  # off Colab the folder stays where it was
        elif key == "train_size":
            assert len(ds.y_train) == value
        else:
            assert cfg[key] == value, (key, cfg.get(key))
    assert len(ds.y_val) > 0 and len(ds.y_train) > len(ds.y_val)
    if "use_drive" in param:
        assert "only applies on Google Colab" in capsys.readouterr().out


# --- live progress, honest expectations, Python 3.13 ----------------------------------------------------------


def test_progress_texts():
    assert bar_text(3, 30, 120, 390, 40.0, {"loss": 1.23456, "accuracy": 0.5}).startswith(
        "Epoch 3/30 [=======>................] 120/390 - ETA 2 min - loss 1.2346 - accuracy 0.5000"
    )
    assert bar_text(1, 1, 10, 10, 5.0, {}) == "Epoch 1/1 [========================] 10/10 - ETA 0 s"
    assert (
        format_duration(95) == "2 min" and format_duration(48 * 60) == "48 min" and format_duration(3 * 3600) == "3.0 h"
    )
    text = estimate_text(95, 30, "this CPU (2 cores)", gpu=False)
    assert text.startswith("~2 min per epoch on this CPU (2 cores): 30 epochs ~ 48 min") and "epochs=2" in text
    assert "epochs=2" not in estimate_text(5, 30, "Tesla T4", gpu=True)


@pytest.mark.slow
def test_live_bar_in_a_kernel_saves_one_clean_line_per_epoch(tmp_path):
    """In a notebook the bar updates in place; the saved notebook keeps only each epoch's final line."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            textwrap.dedent(f"""
        from helpers.data import load_dataset
        from helpers.runs import RunDir
        from helpers.training import make_config
        from helpers.training import train
        ds = load_dataset("mnist", synthetic=True, train_size=256, val_size=64, test_size=32)
        cfg = make_config("best", "vgg11", "mnist", epochs=2, batch_size=32)
        result = train(cfg, ds, RunDir({str(tmp_path)!r}, "bar"), progress="bar")
    """)
        )
    ]
    executed = papermill.execute_notebook(
        nb, str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False, cwd=str(tmp_path)
    )
    outputs = executed.cells[0].outputs
    lines = [o["data"]["text/plain"] for o in outputs if o["output_type"] == "display_data"]
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert all("val_accuracy" in line and "[" not in line for line in lines)  # the bar became the epoch line
    streams = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert re.search(r"^~\d+ s per epoch on this CPU \(\d+ cores\): 2 epochs ~ \d+ s", streams, re.M), streams
    assert not [o for o in outputs if o.get("name") == "stderr"]
    raw = (tmp_path / "out.ipynb").read_text()
    assert "\\r" not in raw and "\\b" not in raw and "\\u0008" not in raw and "HBox" not in raw


def test_python_3_13_is_allowed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    allowed = SpecifierSet(project["requires-python"])
    assert "3.13" in allowed and "3.11" in allowed
    assert "3.10" not in allowed  # end of life in October 2026: dropped (pyproject.toml, README)
    assert "Programming Language :: Python :: 3.13" in project["classifiers"]
    assert "3.13" in (ROOT / "README.md").read_text()
