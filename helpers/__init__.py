"""The course kit's helper package: data, models, training, run directories, evaluation, plots, report.

Notebooks import what they need from here (``from helpers import load_dataset, build_model, train``).
Names are imported lazily, so ``import helpers`` stays quick and TensorFlow loads only when first needed.
"""

from importlib import import_module

__version__ = "0.2.0"

_EXPORTS = {
    "load_dataset": "helpers.data",
    "make_pipeline": "helpers.data",
    "Dataset": "helpers.data",
    "DatasetError": "helpers.data",
    "Preprocessing": "helpers.data",
    "build_model": "helpers.models",
    "inference_model": "helpers.models",
    "MODEL_NAMES": "helpers.models",
    "count_params": "helpers.models",
    "setup": "helpers.environment",
    "in_colab": "helpers.environment",
    "RunDir": "helpers.runs",
    "load_runs": "helpers.runs",
    "RECIPES": "helpers.training",
    "make_config": "helpers.training",
    "train": "helpers.training",
    "evaluate_run": "helpers.training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
