"""Start-up of every notebook: versions, Keras backend, accelerator and its settings, seeds, and where the kit runs."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import logging
import os
import platform
import sys
from pathlib import Path

from helpers.runs import default_output_dir

__all__ = [
    "backend",
    "environment_info",
    "gpus",
    "import_keras_quietly",
    "in_colab",
    "on_tpu_runtime",
    "quiet_tensorflow",
    "resolve_acceleration",
    "resolve_output_dir",
    "setup",
    "stderr_fd_silenced",
]


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


def import_keras_quietly():
    """Import Keras (and, on its TensorFlow backend, TensorFlow) without TensorFlow's C++ start-up lines (oneDNN,
    CUDA probing, absl's "All log messages before absl::InitializeLog()"), which TensorFlow 2.21 prints whatever
    ``TF_CPP_MIN_LOG_LEVEL`` says and which would otherwise land, red, in every notebook and PDF. Returns ``keras``.

    Every package of the kit that uses Keras calls this in its ``__init__`` before its modules import Keras, so the
    first import wins; a notebook imports the kit before Keras (its import cell's ``# isort: split``).
    """
    if "keras" not in sys.modules:
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


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def on_tpu_runtime() -> bool:
    """True on a Cloud TPU machine (Colab's TPU runtimes set these variables or expose /dev/accel*)."""
    return any(os.environ.get(k) for k in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")) or any(
        Path("/dev").glob("accel[0-9]*")
    )


def environment_info() -> dict:
    """Library versions and hardware, recorded in every config.json."""
    versions = {"python": platform.python_version()}
    for pkg in (
        "tensorflow",
        "keras",
        "jax",
        "torch",
        "numpy",
        "pandas",
        "scikit-learn",
        "matplotlib",
        "seaborn",
        "papermill",
    ):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    versions["keras_backend"] = backend()
    hardware = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": gpus(),
    }
    hardware["accelerator"] = hardware["gpus"][0]["name"] if hardware["gpus"] else "CPU"
    return {"versions": versions, "hardware": hardware, "colab": in_colab()}


def setup(seed: int = 0, deterministic: bool = False) -> dict:
    """Seed Python, NumPy and the Keras backend, print versions and the accelerator, and return them.

    ``deterministic=True`` also asks for deterministic kernels (slower; exact repeats on CPU).
    """
    keras = import_keras_quietly()
    keras.utils.set_random_seed(seed)
    if deterministic and keras.config.backend() == "tensorflow":
        import tensorflow as tf  # the TensorFlow backend is in use, so TensorFlow is installed

        tf.config.experimental.enable_op_determinism()
    info = environment_info()
    v, hw = info["versions"], info["hardware"]
    framework = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[v["keras_backend"]]
    print(f"{framework} {v[v['keras_backend']]}, Keras {v['keras']}, NumPy {v['numpy']}, Python {v['python']}")
    if on_tpu_runtime():
        print(
            "This is a TPU runtime, which the kit does not use (it trains with TensorFlow on a GPU or the CPU): "
            "choose Runtime > Change runtime type > T4 GPU instead."
        )
    if hw["gpus"]:
        print(f"Accelerator: {', '.join(g['name'] for g in hw['gpus'])}")
    else:
        where = "Runtime > Change runtime type > T4 GPU" if in_colab() else "a machine with a GPU"
        print(
            f"Accelerator: none, training runs on the CPU ({hw['cpu_count']} cores) and will be slow. For a short "
            f"run set epochs=2 and train_size=2000 in the parameters cell; for the real thing use {where}."
        )
    print(f"Seed: {seed}")
    return info


def resolve_output_dir(
    output_dir: str = "", use_drive: bool | None = None, drive_folder: str = "cnn-course-kit", mount: str | None = None
) -> str:
    """Where runs go: ``output_dir`` as given, or (``""``) the kit's one folder (``default_output_dir``).

    On Colab with ``use_drive`` (None, the default: on Colab, yes) Google Drive is mounted (Colab asks for access
    once per session) and the folder put there (``MyDrive/cnn-course-kit/``): each notebook opened from its badge
    runs on a machine of its own, and the Drive is where their runs meet; runs (and their per-epoch backups) also
    survive a disconnect. ``mount``: where Colab mounts the Drive (``$CNN_KIT_DRIVE_MOUNT`` or /content/drive).
    """
    path = Path(output_dir).expanduser() if output_dir else default_output_dir()
    if use_drive is None:
        use_drive = in_colab()
    if not use_drive:
        return str(path)
    if not in_colab():
        print(f"use_drive=True only applies on Google Colab; runs stay in {path}")
        return str(path)
    from google.colab import drive  # exists on Colab only

    mount = Path(mount or os.environ.get("CNN_KIT_DRIVE_MOUNT", "/content/drive"))
    if not (mount / "MyDrive").is_dir():
        print(
            "Google Drive: Colab asks for access now (choose your account, allow); the runs of every notebook "
            "meet there. Refuse it, or set use_drive = False, to keep them on this machine.",
            flush=True,
        )
        drive.mount(str(mount))
    path = mount / "MyDrive" / drive_folder / path.name
    path.mkdir(parents=True, exist_ok=True)
    print(f"output_dir on Google Drive: {path}")
    return str(path)
