"""The kit on Keras' JAX backend with TensorFlow out of reach: the machine a lent GPU is (JAX, no TensorFlow).

TensorFlow is installed here (it is the default backend), so the test hides it: a ``sitecustomize`` on PYTHONPATH
wraps every finder in ``sys.meta_path`` so that none finds ``tensorflow`` in run_all.py and in every notebook
kernel papermill starts. The smoke profile's three training notebooks then run under ``KERAS_BACKEND=jax``.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("jax", reason="the jax extra (pip install -e '.[dev]' brings it)")

BLOCK_TENSORFLOW = textwrap.dedent('''
    import sys


    class WithoutTensorFlow:
        """One of Python's import finders, blind to TensorFlow: as if it were not installed (find_spec -> None)."""

        def __init__(self, finder):
            self.finder = finder

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == "tensorflow":
                return None
            return self.finder.find_spec(name, path, target)

        def __getattr__(self, attr):
            return getattr(self.finder, attr)


    sys.meta_path[:] = [WithoutTensorFlow(f) for f in sys.meta_path]
''')


def without_tensorflow(tmp_path, backend: str | None = "jax", hide=("tensorflow",)) -> dict:
    """The environment of a Python without TensorFlow (and whatever else ``hide`` names); ``backend`` None leaves
    KERAS_BACKEND unset, as on Colab's TPU runtime, so the kit chooses."""
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(BLOCK_TENSORFLOW.replace('== "tensorflow"', f"in {tuple(hide)!r}"))
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)  # the hook first
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    return {**env, "PYTHONPATH": path, **({"KERAS_BACKEND": backend} if backend else {})}


def test_the_hook_hides_tensorflow(tmp_path):
    code = (
        "import importlib.util, keras\n"
        "assert importlib.util.find_spec('tensorflow') is None\n"
        "try:\n    import tensorflow\nexcept ModuleNotFoundError:\n    print('hidden')\n"
        "print(keras.config.backend())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=without_tensorflow(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["hidden", "jax"]


KIT_IMPORT = "from helpers.environment import import_keras_quietly; print(import_keras_quietly().config.backend())"


@pytest.mark.parametrize("keras_json", [None, "tensorflow"], ids=["fresh", "keras-json-default"])
def test_without_tensorflow_the_kit_picks_jax_and_says_so_in_one_line(tmp_path, keras_json):
    """Colab's TPU runtime: JAX, no TensorFlow, KERAS_BACKEND unset; Keras' own keras.json, which names tensorflow
    as soon as Keras once ran, is no reason to stop."""
    home = tmp_path / "keras-home"
    if keras_json:
        home.mkdir()
        (home / "keras.json").write_text(json.dumps({"backend": keras_json, "floatx": "float32"}))
    env = {**without_tensorflow(tmp_path, backend=None), "KERAS_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", KIT_IMPORT], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    *said, chosen = proc.stdout.strip().splitlines()
    assert chosen == "jax" and len(said) == 1 and "TensorFlow is not installed" in said[0] and "JAX" in said[0]
    assert not proc.stderr.strip()  # no traceback, nothing red


@pytest.mark.parametrize(
    ("backend", "hide", "says"),
    [
        ("tensorflow", ("tensorflow",), "KERAS_BACKEND is tensorflow, but TensorFlow is not installed"),
        (None, ("tensorflow", "jax", "torch"), "neither TensorFlow nor JAX nor PyTorch is installed"),
    ],
    ids=["asked-for-tensorflow", "no-backend-at-all"],
)
def test_without_a_usable_backend_the_kit_stops_with_one_line(tmp_path, backend, hide, says):
    env = {**without_tensorflow(tmp_path, backend=backend, hide=hide), "KERAS_HOME": str(tmp_path / "keras-home")}
    proc = subprocess.run([sys.executable, "-c", KIT_IMPORT], capture_output=True, text=True, env=env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and says in lines[0], proc.stderr  # SystemExit: no traceback
    assert "pip install tensorflow" in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("backend", [None, "torch"], ids=["chosen-jax", "torch"])
def test_smoke_training_notebooks_run_without_tensorflow(tmp_path, backend):
    """02's smoke experiment with TensorFlow hidden: JAX chosen by the kit (KERAS_BACKEND unset, as on Colab's TPU
    runtime; the dev extra brings JAX); PyTorch where it is installed and asked for (not in the dev extra: its
    default wheel is a CUDA build of several GB; `pip install torch` to run this too)."""
    pytest.importorskip(backend or "jax")
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "run_all.py",
            "--profile",
            "smoke",
            "--only",
            "best_vgg",
            "--no-report",
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
        env=without_tensorflow(tmp_path, backend),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(out / "summary.csv").set_index("experiment")
    assert summary.loc["evaluation_appendix", "status"] == "not run"  # --no-report: the appendix is left out
    summary = summary.drop(index="evaluation_appendix").reset_index()
    assert len(summary) == 1 and (summary["status"] == "ok").all(), summary
    backend = backend or "jax"
    for name in summary["experiment"]:
        run = out / "runs" / name
        config = json.loads((run / "config.json").read_text())
        assert config["environment"]["versions"]["keras_backend"] == backend
        metrics = json.loads((run / "metrics.json").read_text())
        assert 0 <= metrics["test_accuracy"] <= 1 and metrics["params"]["total"] > 0
        assert metrics["flops_per_image"] > 0  # counted from the layers, on any backend
        assert (run / "model.keras").is_file() and (run / "predictions.npz").is_file()
        executed = json.loads((run / "notebook.ipynb").read_text())
        errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors
        text = json.dumps(executed)
        name = {"jax": "JAX", "torch": "PyTorch"}[backend]
        assert re.search(name + r" \d+\.\d+[^,]*, Keras 3\.", text), name  # the set-up cell's versions line
        assert "TensorFlow 2." not in text
        chose = "TensorFlow is not installed in this Python, so Keras runs on its JAX backend"
        assert (chose in text) == (backend == "jax")  # said once, where the kit chose
