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


def without_tensorflow(tmp_path, backend="jax") -> dict:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)  # the hook first
    return {**os.environ, "PYTHONPATH": path, "KERAS_BACKEND": backend}


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


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_smoke_training_notebooks_run_without_tensorflow(tmp_path, backend):
    """JAX always (the dev extra brings it); PyTorch where it is installed (not in the dev extra: its default wheel
    is a CUDA build of several GB; `pip install torch` to run this too)."""
    pytest.importorskip(backend)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "run_all.py",
            "--profile",
            "smoke",
            "--only",
            "best_",
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
    assert len(summary) == 3 and (summary["status"] == "ok").all(), summary
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
