"""Start-up of every notebook: versions, accelerator, seeds, and where the kit runs (Colab or not)."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path

__all__ = ["environment_info", "import_tensorflow_quietly", "in_colab", "on_tpu_runtime",
           "resolve_output_dir", "setup", "stderr_fd_silenced"]


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


def import_tensorflow_quietly() -> None:
    """Import TensorFlow without its C++ start-up lines (oneDNN, CUDA probing), which no log level silences
    and which would otherwise land in every executed notebook and PDF."""
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with stderr_fd_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe prints here


import_tensorflow_quietly()


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def on_tpu_runtime() -> bool:
    """True on a Cloud TPU machine (Colab's TPU runtimes set these variables or expose /dev/accel*)."""
    return any(os.environ.get(k) for k in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")) or any(
        Path("/dev").glob("accel[0-9]*"))


def environment_info() -> dict:
    """Library versions and hardware, recorded in every config.json."""
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for pkg in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn", "matplotlib", "seaborn", "papermill"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    hardware = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                "cpu_count": os.cpu_count(), "gpus": []}
    try:
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(gpu)
            hardware["gpus"].append({"name": details.get("device_name", gpu.name),
                                     "compute_capability": details.get("compute_capability")})
    except Exception:  # no TensorFlow or no driver: CPU only
        pass
    hardware["accelerator"] = hardware["gpus"][0]["name"] if hardware["gpus"] else "CPU"
    return {"versions": versions, "hardware": hardware, "colab": in_colab()}


def setup(seed: int = 0, deterministic: bool = False) -> dict:
    """Seed Python, NumPy and TensorFlow, print versions and the accelerator, and return them.

    ``deterministic=True`` also asks TensorFlow for deterministic kernels (slower; exact repeats on CPU).
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    info = environment_info()
    v, hw = info["versions"], info["hardware"]
    print(f"TensorFlow {v['tensorflow']}, Keras {v['keras']}, NumPy {v['numpy']}, Python {v['python']}")
    if on_tpu_runtime():
        print("This is a TPU runtime, which the kit does not use (it trains with TensorFlow on a GPU or the CPU): "
              "choose Runtime > Change runtime type > T4 GPU instead.")
    if hw["gpus"]:
        print(f"Accelerator: {', '.join(g['name'] for g in hw['gpus'])}")
    else:
        where = "Runtime > Change runtime type > T4 GPU" if in_colab() else "a machine with a GPU"
        print(f"Accelerator: none, training runs on the CPU ({hw['cpu_count']} cores) and will be slow. For a short "
              f"run set epochs=2 and train_size=2000 in the parameters cell; for the real thing use {where}.")
    print(f"Seed: {seed}")
    return info


def resolve_output_dir(output_dir: str = "", use_drive: bool = False, drive_folder: str = "cnn-course-kit",
                       mount: str = "/content/drive") -> str:
    """Where runs go: ``output_dir`` as given, or (``""``) the kit's one folder (``default_output_dir``).

    On Colab with ``use_drive``: Google Drive is mounted and the folder put there (``MyDrive/cnn-course-kit/``), so
    run directories (and their per-epoch backups) survive a disconnect and every notebook finds them.
    """
    from helpers.runs import default_output_dir

    path = Path(output_dir).expanduser() if output_dir else default_output_dir()
    if not use_drive:
        return str(path)
    if not in_colab():
        print(f"use_drive=True only applies on Google Colab; runs stay in {path}")
        return str(path)
    from google.colab import drive

    mount = Path(mount)
    if not (mount / "MyDrive").is_dir():
        drive.mount(str(mount))
    path = mount / "MyDrive" / drive_folder / path.name
    path.mkdir(parents=True, exist_ok=True)
    print(f"output_dir on Google Drive: {path}")
    return str(path)
