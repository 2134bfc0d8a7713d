"""Datasets: where the images come from and how they are split.

Three sources, chosen explicitly and never swapped silently:

* Keras' download (the default; cached under ``~/.keras/datasets`` and needs the internet once),
* ``data_dir=``: the official files in a folder (``mnist.npz`` in Keras' layout; ``cifar-10-python.tar.gz``
  or its extracted ``cifar-10-batches-py/``),
* ``synthetic=True``: deterministic, learnable images with the real shapes and class names, for offline tests
  and the smoke profile.

Images stay uint8 NHWC until the input pipeline (``helpers.data.pipeline``) turns them into float batches; the official
files are read in ``helpers.data.files``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from helpers.data.files import CIFAR_DIR, SHAPES, DatasetError, download, read_data_dir
from helpers.experiments.budget import split_count

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "DatasetError",
    "load_dataset",
    "load_test_split",
    "synthetic_arrays",
]

MNIST_CLASSES = [str(d) for d in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_CLASSES = {"mnist": MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}
DATASET_NAMES = tuple(SHAPES)


@dataclass
class Dataset:
    """Train / validation / test splits as uint8 NHWC images and integer labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str = ""
    extras: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def sizes(self) -> dict[str, int]:
        """Number of images in each split."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def __repr__(self) -> str:
        s = self.sizes()
        return (
            f"Dataset({self.name!r}, input_shape={self.input_shape}, classes={self.num_classes}, "
            f"train={s['train']}, val={s['val']}, test={s['test']}, source={self.source!r})"
        )


# --------------------------------------------------------------------------------------------- loading


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    synthetic: bool = False,
    val_size: int | float = 0.1,
    train_size: int | float | None = None,
    test_size: int | float | None = None,
    seed: int = 0,
    synthetic_size: tuple[int, int] = (2000, 500),
) -> Dataset:
    """Load ``name`` ("mnist" or "cifar10"), split a stratified validation set off the training set.

    ``val_size``, ``train_size`` and ``test_size`` take a count or a fraction. The validation split is taken
    first (so the reports' splits are exact: MNIST ``val_size=15000`` gives 45,000/15,000), then
    ``train_size`` / ``test_size`` draw stratified subsets for quick runs. Everything is seeded.
    ``synthetic_size`` is the (training, test) image count that ``synthetic=True`` generates.
    """
    name = _check_name(name)
    if synthetic and data_dir:
        raise ValueError("Pass either synthetic=True or data_dir=..., not both.")
    if synthetic:
        (x_train, y_train), (x_test, y_test) = synthetic_arrays(name, *synthetic_size)
        source = "synthetic"
    elif data_dir:
        (x_train, y_train), (x_test, y_test), source = read_data_dir(name, Path(data_dir))
    else:
        (x_train, y_train), (x_test, y_test) = download(name)
        source = "keras.datasets"

    x_train, x_val, y_train, y_val = _split(x_train, y_train, val_size, seed, "val_size")
    if train_size is not None:
        x_train, _, y_train, _ = _split(x_train, y_train, train_size, seed, "train_size", keep=True)
    if test_size is not None:
        x_test, _, y_test, _ = _split(x_test, y_test, test_size, seed, "test_size", keep=True)
    return Dataset(name, x_train, y_train, x_val, y_val, x_test, y_test, list(_CLASSES[name]), source)


def load_test_split(config: dict) -> Dataset:
    """A finished run's test images again, from its config.json (same source, test subset and seed).

    Run directories keep predictions, not images; galleries of right and wrong predictions reload them here.
    """
    source = config["data"]["source"]
    if source == "synthetic":
        where = {"synthetic": True}
    elif source == "keras.datasets":
        where = {}
    else:  # the mnist.npz / .tar.gz file, the extracted cifar-10-batches-py folder, or a folder of batches
        path = Path(source)
        where = {"data_dir": path.parent if path.is_file() or path.name == CIFAR_DIR else path}
    return load_dataset(
        config["dataset"], val_size=config["val_size"], test_size=config["data"]["test"], seed=config["seed"], **where
    )


def _check_name(name: str) -> str:
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in SHAPES:
        raise ValueError(f"Unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}.")
    return key


def _split(x, y, size, seed, what, keep=False):
    """Stratified, seeded split; returns (x_rest, x_part, y_rest, y_part), or the part first when ``keep``."""
    n = len(y)
    k = split_count(size, n, what)
    if keep and k == n:
        return x, x[:0], y, y[:0]
    if k >= n:
        raise ValueError(f"{what}={size!r} asks for {k} images but only {n} are available.")
    classes = np.unique(y)
    # Stratification needs one image of each class on both sides; tiny requests fall back to a plain shuffle.
    stratify = y if min(k, n - k) >= len(classes) and np.bincount(y).min() >= 2 else None
    x_rest, x_part, y_rest, y_part = train_test_split(x, y, test_size=k, random_state=seed, stratify=stratify)
    if keep:
        return x_part, x_rest, y_part, y_rest
    return x_rest, x_part, y_rest, y_part


# ------------------------------------------------------------------------------------------- synthetic


def synthetic_arrays(name: str, n_train: int = 2000, n_test: int = 500, seed: int = 1234):
    """Deterministic, learnable stand-ins: each class is a smooth random pattern, each image a shifted, noisy copy.

    Same shapes, dtype and classes as the real data; a small CNN separates the classes within seconds,
    so tests and the smoke profile exercise every code path offline. Never used unless asked for.
    """
    name = _check_name(name)
    h, w, c = SHAPES[name]
    rng = np.random.default_rng(seed)
    n_classes = len(_CLASSES[name])
    # Low-frequency patterns (8x8 noise upsampled) make blob-like "objects" that survive small shifts.
    coarse = rng.normal(size=(n_classes, 8, 8, c))
    reps = (int(np.ceil(h / 8)), int(np.ceil(w / 8)))
    protos = np.kron(coarse, np.ones((1, *reps, 1)))[:, :h, :w, :]
    protos = (protos - protos.min()) / (protos.max() - protos.min())

    def draw(n, rng):
        y = rng.permutation(np.arange(n) % n_classes)
        shifts = rng.integers(-1, 2, size=(n, 2))
        x = np.stack([np.roll(protos[k], tuple(s), axis=(0, 1)) for k, s in zip(y, shifts)])
        x = 0.85 * x + 0.15 * rng.random(x.shape)
        return np.clip(x * 255, 0, 255).astype(np.uint8), y.astype(np.int64)

    return draw(n_train, np.random.default_rng(seed + 1)), draw(n_test, np.random.default_rng(seed + 2))
