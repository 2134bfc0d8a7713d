"""Start-up of every notebook: versions, Keras backend, accelerator and its settings, seeds, and where the kit runs.

``keras_backend``: the backend and the quiet Keras import, GPUs and their speed-ups; ``hosts``: Colab, Kaggle, TPU
runtimes and the output folder there (Google Drive or local). ``setup`` and ``environment_info`` live here.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform

from helpers.environment.hosts import in_colab, on_kaggle, on_tpu_runtime, resolve_output_dir
from helpers.environment.keras_backend import (
    BACKEND_NAMES,
    backend,
    choose_backend,
    gpus,
    import_keras_quietly,
    quiet_tensorflow,
    resolve_acceleration,
    stderr_fd_silenced,
)

__all__ = [
    "BACKEND_NAMES",
    "backend",
    "choose_backend",
    "environment_info",
    "gpus",
    "import_keras_quietly",
    "in_colab",
    "on_kaggle",
    "on_tpu_runtime",
    "quiet_tensorflow",
    "resolve_acceleration",
    "resolve_output_dir",
    "setup",
    "stderr_fd_silenced",
]


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
    return {"versions": versions, "hardware": hardware, "colab": in_colab(), "kaggle": on_kaggle()}


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
    framework = BACKEND_NAMES[v["keras_backend"]]
    print(f"{framework} {v[v['keras_backend']]}, Keras {v['keras']}, NumPy {v['numpy']}, Python {v['python']}")
    if on_tpu_runtime():
        print(
            f"This is a TPU runtime: Keras runs on {framework} here, which the kit is not tuned or timed for (it is "
            "tested on GPUs and CPUs): for the notebooks as written choose Runtime > Change runtime type > T4 GPU."
        )
    if hw["gpus"]:
        print(f"Accelerator: {', '.join(g['name'] for g in hw['gpus'])}")
    else:
        where = (
            "Runtime > Change runtime type > T4 GPU"
            if in_colab()
            else "Settings > Accelerator > GPU in the notebook's side panel"
            if on_kaggle()
            else "a machine with a GPU"
        )
        print(
            f"Accelerator: none, training runs on the CPU ({hw['cpu_count']} cores) and will be slow. For a short "
            f"run set epochs=2 and train_size=2000 in the parameters cell; for the real thing use {where}."
        )
    print(f"Seed: {seed}")
    return info
