"""Colab for real: the kit installed as Colab installs it, on a Debian-family Python, and the student's path there.

Colab's Python is Ubuntu's build: ``sys.prefix`` is ``/usr`` but pip installs into ``/usr/local`` (Debian's
``posix_local`` scheme), so the wheel's data files (the notebooks) land in ``/usr/local/share``, not in
``sys.prefix/share``. Debian's own ``/usr/bin/python3`` behaves the same; ``.ci/colab-stand-in.sh`` gives it Colab's
versions (``constraints/colab.txt``: TensorFlow 2.20, Keras 3.13.2, nbconvert, jupyter_client, tabulate...). In a
venv both paths coincide and such a bug hides. Here the notebooks' own install cell installs the kit (this tree as
a git repository), as root, into ``/usr/local``; then 02 trains (smoke), 05 runs with Colab's defaults and builds
``report.pdf`` with ``make_pdf``, all through the kernel that Colab's ``python`` starts. With Kaggle's variables
the same cell installs the kit and runs go to ``/kaggle/working``.
"""

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path

import nbformat
import pytest

from helpers.course import publish
from helpers.experiments import EXPERIMENTS, parameters_for

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "/usr/bin/python3"
PINS = dict(
    line.split("==")
    for line in (ROOT / "constraints" / "colab.txt").read_text().splitlines()
    if line and not line.startswith("#")
)
KEPT = ("tensorflow", "keras", "numpy")  # the install cell may never change these
STACK = (*KEPT, "nbconvert", "jupyter_client", "tabulate", "ipykernel")

pytestmark = pytest.mark.slow


def versions(names, env=None) -> dict:
    code = (
        "import importlib.metadata as m, json\n"
        "def v(n):\n    try:\n        return m.version(n)\n    except m.PackageNotFoundError:\n        return None\n"
        f"print(json.dumps({{n: v(n) for n in {list(names)!r}}}))"
    )
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env)
    return json.loads(done.stdout) if done.returncode == 0 else {}


@pytest.fixture(scope="module")
def stand_in():
    """Debian's Python with Colab's versions, or a skip (a failure in CI, whose .ci/run prepares it)."""
    found = versions(STACK) if Path(PYTHON).is_file() else {}
    wrong = {name: found.get(name) for name in STACK if found.get(name) != PINS[name]}
    if wrong:
        why = f"{PYTHON} lacks Colab's versions {wrong}: run `bash .ci/colab-stand-in.sh` (root; it pip-installs there)"
        pytest.fail(why) if os.environ.get("CI") == "true" else pytest.skip(why)
    return found


def colab_env(tmp_path: Path, **extra) -> dict:
    """The environment of Colab's kernel: ``python`` on the PATH is the system Python, no venv, no kit variables."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("python", "python3"):
        if not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(PYTHON)
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "KERAS_BACKEND", "CNN_KIT_OUTPUT_DIR", "KAGGLE_KERNEL_RUN_TYPE")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYENV")}
    return {
        **env,
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "PIP_BREAK_SYSTEM_PACKAGES": "1",  # Colab's Python has no EXTERNALLY-MANAGED marker; Debian's has
        "PIP_ROOT_USER_ACTION": "ignore",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),  # no kernel of this machine's user: Colab's own
        **extra,
    }


def install_cell(kit: str) -> str:
    return publish.install_cell(publish.SOURCE).replace(f'KIT = "{publish.SOURCE}"', f'KIT = "{kit}"')


def where_the_kit_is(env, cwd) -> dict:
    code = textwrap.dedent("""
        import json, sys, sysconfig, helpers
        from helpers.experiments import notebook_path
        from helpers.report.export import TEMPLATE_DIR
        from helpers.runs import default_output_dir
        print(json.dumps({"prefix": sys.prefix, "purelib": sysconfig.get_path("purelib"), "kit": helpers.__file__,
                          "appendix": str(notebook_path("05_evaluation_appendix.ipynb")),
                          "template": (TEMPLATE_DIR / "report" / "index.tex.j2").is_file(),
                          "outputs": str(default_output_dir())}))
    """)
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def installed(stand_in, kit_repo, tmp_path_factory):
    """A fresh runtime (the kit uninstalled first) with Kaggle's variable: the install cell, then ``setup()``."""
    repo, commit = kit_repo
    folder = tmp_path_factory.mktemp("kaggle")
    env = colab_env(folder, KAGGLE_KERNEL_RUN_TYPE="Interactive")
    subprocess.run([PYTHON, "-m", "pip", "uninstall", "-y", "-q", "cnn-course-kit"], env=env, capture_output=True)
    cell = install_cell(f"file://{repo}@{commit}") + "\nsetup(0)\n"
    done = subprocess.run([PYTHON, "-c", cell], capture_output=True, text=True, env=env, cwd=folder, timeout=900)
    return done, env, folder


def test_on_kaggle_the_install_cell_installs_and_runs_go_to_kaggle_working(installed):
    done, env, folder = installed
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Settings > Accelerator > GPU" in done.stdout  # setup() names Kaggle's menu, not Colab's
    found = where_the_kit_is(env, folder)
    assert found["prefix"] == "/usr" and found["purelib"].startswith("/usr/local/"), found  # the layout stood in
    assert found["kit"].startswith(found["purelib"]), found
    assert found["appendix"].startswith("/usr/local/share/cnn-course-kit/notebooks/"), found
    assert found["template"] and found["outputs"] == "/kaggle/working/outputs", found
    assert {name: v for name, v in versions(KEPT, env).items()} == {name: PINS[name] for name in KEPT}


def test_the_runner_works_from_the_installed_kit(installed, tmp_path):
    """No checkout, no run_all.py: ``python -m helpers.runner`` runs a notebook the wheel carries, each experiment in a
    worker process of its own (the same ``python -m helpers.runner --worker``)."""
    env = colab_env(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run(
        [PYTHON, "-m", "helpers.runner", "--profile", "smoke", "--only", "data_overview", "--no-report"]
        + ["--output-dir", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    summary = (out / "summary.csv").read_text()
    assert "data_overview" in summary and ",ok," in summary, summary
    assert (out / "notebooks" / "data_overview.ipynb").is_file()


FAKE_COLAB = textwrap.dedent("""
    # The test's stand-in for Colab's own modules: google.colab with drive.mount and files.download.
    import os, pathlib, sys, types

    colab, drive, files = (types.ModuleType(f"google.colab{s}") for s in ("", ".drive", ".files"))
    drive.mount = lambda path: pathlib.Path(path, "MyDrive").mkdir(parents=True, exist_ok=True)
    files.download = lambda path: pathlib.Path(os.environ["DOWNLOADED"]).write_text(str(path))
    colab.drive, colab.files = drive, files
    sys.modules.update({"google.colab": colab, "google.colab.drive": drive, "google.colab.files": files})
""")


def as_on_colab(name: str, kit: str, folder: Path) -> Path:
    """The notebook as the badge opens it, with Colab's modules stood in and KIT pointing at this tree."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert f'KIT = "{publish.SOURCE}"' in first.source
    first.source = first.source.replace(f'KIT = "{publish.SOURCE}"', f'KIT = "{kit}"')
    nb.cells.insert(0, nbformat.v4.new_code_cell(FAKE_COLAB))
    path = folder / name
    nbformat.write(nb, path)
    return path


def execute(path: Path, params: dict, env: dict, cwd: Path) -> nbformat.NotebookNode:
    """papermill with Colab's Python and its ``python3`` kernel."""
    out = path.with_name(f"executed_{path.name}")
    code = (
        "import json, sys, papermill\n"
        "papermill.execute_notebook(sys.argv[1], sys.argv[2], parameters=json.loads(sys.argv[3]),"
        " kernel_name='python3', progress_bar=False, cwd=sys.argv[4])\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", code, str(path), str(out), json.dumps(params), str(cwd)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return nbformat.read(out, as_version=4)


def outputs(nb, kind: str | None = None) -> str:
    return "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
        if kind is None or o.get("name") == kind
    )


def test_on_colab_02_trains_05_reports_and_make_pdf_builds_report_pdf(installed, kit_repo, tmp_path):
    repo, commit = kit_repo
    kit = f"file://{repo}@{commit}"
    content, drive = tmp_path / "content", tmp_path / "drive"
    content.mkdir()
    env = colab_env(tmp_path, CNN_KIT_DRIVE_MOUNT=str(drive), DOWNLOADED=str(tmp_path / "downloaded"))
    params = parameters_for(EXPERIMENTS["best_vgg16_cifar10"], "smoke", "unused")
    params = {k: v for k, v in params.items() if k not in ("output_dir", "tensorboard")}  # Colab's defaults
    trained = execute(as_on_colab("02_vgg.ipynb", kit, content), params, env, content)
    on_drive = drive / "MyDrive" / "cnn-course-kit" / "outputs"
    assert (on_drive / "runs" / "best_vgg16_cifar10" / "metrics.json").is_file()
    assert "TensorFlow 2.20.0, Keras 3.13.2" in outputs(trained)  # Colab's versions ran it, not this machine's
    assert not outputs(trained, "stderr").strip(), outputs(trained, "stderr")[-2000:]  # nothing red
    appendix = execute(as_on_colab("05_evaluation_appendix.ipynb", kit, content), {}, env, content)
    text = outputs(appendix)
    assert "1 finished run(s)" in text and f"Report (PDF): {on_drive / 'report.pdf'}" in text, text[-2000:]
    assert not outputs(appendix, "stderr").strip(), outputs(appendix, "stderr")[-2000:]
    assert (tmp_path / "downloaded").read_text() == str(on_drive / "report.pdf")  # offered for download
    pdf = subprocess.run(["pdftotext", str(on_drive / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "best_vgg16_cifar10" in pdf and "\ufffd" not in pdf
    assert "Setting up" not in pdf and "KIT =" not in pdf and "use_drive" not in pdf  # no set-up prose or parameters
    headings = [line.strip() for line in pdf.splitlines() if re.match(r"\d+\. [A-Z]", line.strip())]
    assert headings and "The runs found" in headings[0], headings[:5]  # the report opens with the results
    assert {name: v for name, v in versions(KEPT, env).items()} == {name: PINS[name] for name in KEPT}
