"""Keras and its backend: which backend (TensorFlow, else JAX or PyTorch, said in one line), the quiet import, the
GPUs the backend sees and the speed-ups ("auto" settings) they allow."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import os
import sys

from helpers.environment.hosts import on_tpu_runtime

BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


@contextlib.contextmanager
def stderr_fd_silenced():
    """Send file descriptor 2 to /dev/null for a moment (C++ libraries write there, past Python's sys.stderr).

    Only around calls whose C++ chatter is known noise; their Python exceptions still propagate."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def choose_backend() -> str:
    """The Keras backend this kernel will use, decided before Keras is imported.

    TensorFlow is Keras' default and the backend the notebooks teach with. Where it is not installed (Colab's TPU
    runtime has JAX and no TensorFlow) and nothing asked for it by name, the kit picks JAX (or PyTorch) and says so
    in one line; with no backend at all it stops with one line naming what to install.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    asked = os.environ.get("KERAS_BACKEND")  # by name; keras.json says "tensorflow" as soon as Keras once ran
    wanted = asked or _keras_json_backend() or "tensorflow"
    if wanted != "tensorflow" or importlib.util.find_spec("tensorflow"):
        return wanted
    where = "this TPU runtime" if on_tpu_runtime() else "this Python"
    if asked:  # KERAS_BACKEND=tensorflow: the person chose it, so say what to change
        raise SystemExit(
            f"KERAS_BACKEND is tensorflow, but TensorFlow is not installed in {where}: "
            "pip install tensorflow, or set KERAS_BACKEND=jax before Python starts."
        )
    other = next((name for name in ("jax", "torch") if importlib.util.find_spec(name)), None)
    if other is None:
        raise SystemExit(
            f"No Keras backend in {where}: neither TensorFlow nor JAX nor PyTorch is installed. "
            "pip install tensorflow (or jax), then restart the kernel."
        )
    os.environ["KERAS_BACKEND"] = other
    print(
        f"TensorFlow is not installed in {where}, so Keras runs on its {BACKEND_NAMES[other]} backend "
        "(the notebooks work the same; they were written for TensorFlow on a GPU)."
    )
    return other


def _keras_json_backend() -> str | None:
    """The backend named in Keras' own settings file (``$KERAS_HOME/keras.json`` or ``~/.keras/keras.json``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as f:
            return json.load(f).get("backend")
    except (OSError, ValueError, AttributeError):
        return None


def import_keras_quietly():
    """Import Keras (and, on its TensorFlow backend, TensorFlow) without TensorFlow's C++ start-up lines (oneDNN,
    CUDA probing, absl's "All log messages before absl::InitializeLog()"), which TensorFlow 2.21 prints whatever
    ``TF_CPP_MIN_LOG_LEVEL`` says and which would otherwise land, red, in every notebook and PDF. Returns ``keras``.

    Every package of the kit that uses Keras calls this in its ``__init__`` before its modules import Keras, so the
    first import wins; a notebook imports the kit before Keras (its import cell's ``# isort: split``). Without
    TensorFlow it picks another backend first (``choose_backend``).
    """
    if "keras" not in sys.modules:
        choose_backend()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow < 2.21 honours it
        with stderr_fd_silenced():
            keras = importlib.import_module("keras")
            if keras.config.backend() == "tensorflow":
                # TensorFlow is optional (Keras' JAX and PyTorch backends run without it). Listing the devices
                # once makes it probe CUDA now, while fd 2 goes nowhere, instead of later in a notebook cell.
                importlib.import_module("tensorflow").config.list_physical_devices()
    return sys.modules["keras"]


@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TensorFlow's Python logger inside the block (retracing notices and the like)."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def backend() -> str:
    """The Keras backend in use: "tensorflow" (the kit's default, the one the notebooks teach with), "jax" or
    "torch" (``KERAS_BACKEND=jax`` before Python starts)."""
    return import_keras_quietly().config.backend()


def gpus() -> list[dict]:
    """The GPUs the Keras backend sees: name and compute capability (a (major, minor) tuple, or None)."""
    kind = backend()
    try:
        # Each backend's own query, imported only when it is the backend in use (the others may be absent).
        if kind == "tensorflow":
            import tensorflow as tf

            return [
                {"name": details.get("device_name", gpu.name), "compute_capability": details.get("compute_capability")}
                for gpu in tf.config.list_physical_devices("GPU")
                for details in [tf.config.experimental.get_device_details(gpu)]
            ]
        if kind == "jax":
            import jax

            return [
                {"name": d.device_kind, "compute_capability": _capability(getattr(d, "compute_capability", None))}
                for d in jax.devices()
                if d.platform == "gpu"
            ]
        import torch

        return [
            {"name": torch.cuda.get_device_name(i), "compute_capability": torch.cuda.get_device_capability(i)}
            for i in range(torch.cuda.device_count())
        ]
    except Exception:  # no driver, no runtime: CPU only
        return []


def _capability(text) -> tuple[int, int] | None:
    """JAX reports "9.0"; TensorFlow and PyTorch a (major, minor) pair."""
    return tuple(int(v) for v in str(text).split(".")[:2]) if text else None


def resolve_acceleration(config: dict) -> dict:
    """Turn "auto" into on/off for this machine: mixed precision on tensor-core GPUs (compute capability >= 7.0),
    compiled steps (XLA) on GPUs under TensorFlow and always under JAX, MirroredStrategy (TensorFlow only) when
    there are several GPUs ("mirrored" also mirrors over several logical CPUs)."""
    found = gpus()
    cc = tuple(found[0]["compute_capability"] or (0, 0)) if found else None
    mp, jit, dist = config["mixed_precision"], config["jit_compile"], config["distribute"]
    kind = backend()
    if kind != "tensorflow" and dist == "mirrored":
        raise ValueError(f"distribute='mirrored' needs the TensorFlow backend (this is {kind}); pass distribute='off'.")
    auto_jit = {"tensorflow": bool(cc), "jax": True}.get(kind, False)  # torch.compile costs more than it saves here
    return {
        "mixed_precision": bool(cc and cc >= (7, 0)) if mp == "auto" else bool(mp),
        "jit_compile": auto_jit if jit == "auto" else bool(jit),
        "distribute": (kind == "tensorflow" and len(found) > 1) if dist == "auto" else dist == "mirrored",
    }
