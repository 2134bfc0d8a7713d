"""Datasets and input pipelines.

Three sources, chosen explicitly and never swapped silently:

* Keras' download (the default; cached under ``~/.keras/datasets`` and needs the internet once),
* ``data_dir=``: the official files in a folder (``mnist.npz`` in Keras' layout; ``cifar-10-python.tar.gz``
  or its extracted ``cifar-10-batches-py/``),
* ``synthetic=True``: deterministic, learnable images with the real shapes and class names, for offline tests
  and the smoke profile.

Images stay uint8 NHWC until the tf.data pipeline turns them into float batches.
"""

from __future__ import annotations

import pickle
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "AUGMENTATIONS",
    "DATASET_NAMES",
    "Dataset",
    "DatasetError",
    "Preprocessing",
    "load_dataset",
    "load_test_split",
    "make_pipeline",
]

MNIST_CLASSES = [str(d) for d in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
_CLASSES = {"mnist": MNIST_CLASSES, "cifar10": CIFAR10_CLASSES}
DATASET_NAMES = tuple(_SHAPES)
AUGMENTATIONS = ("none", "flip_crop", "shift_rotate")

_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR_TAR = "cifar-10-python.tar.gz"
_HOW_TO_GET = {
    "mnist": "download https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz into that folder",
    "cifar10": f"download https://www.cs.toronto.edu/~kriz/{_CIFAR_TAR} into that folder "
    f"(the .tar.gz as it is, or extracted to {_CIFAR_DIR}/)",
}


class DatasetError(ValueError):
    """A dataset file is missing, corrupt or holds data of the wrong shape."""


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
        (x_train, y_train), (x_test, y_test), source = _read_data_dir(name, Path(data_dir))
    else:
        (x_train, y_train), (x_test, y_test) = _download(name)
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
        where = {"data_dir": path.parent if path.is_file() or path.name == _CIFAR_DIR else path}
    return load_dataset(config["dataset"], val_size=config["val_size"], test_size=config["data"]["test"],
                        seed=config["seed"], **where)


def _check_name(name: str) -> str:
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in _SHAPES:
        raise ValueError(f"Unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}.")
    return key


def _count(size: int | float, n: int, what: str) -> int:
    """Turn a count or a fraction of ``n`` into a count, with a clear error when it does not fit."""
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be a count or a fraction, got {size!r}.")
    if isinstance(size, (float, np.floating)) and 0 < size < 1:
        return max(1, int(round(size * n)))
    if size != int(size) or size < 1:
        raise ValueError(f"{what}={size!r} must be a fraction in (0, 1) or a whole count >= 1.")
    return int(size)


def _split(x, y, size, seed, what, keep=False):
    """Stratified, seeded split; returns (x_rest, x_part, y_rest, y_part), or the part first when ``keep``."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    k = _count(size, n, what)
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


def _download(name: str):
    """Keras' own download and cache; a failure says how to work offline."""
    import keras

    loader = {"mnist": keras.datasets.mnist, "cifar10": keras.datasets.cifar10}[name]
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as e:  # network errors come in many types (URLError, HTTPError, OSError, Exception)
        files = "mnist.npz" if name == "mnist" else f"{_CIFAR_TAR} (or {_CIFAR_DIR}/)"
        raise DatasetError(
            f"Could not download {name} with keras.datasets ({type(e).__name__}: {e}). To work offline, put "
            f"the official file {files} in a folder and pass data_dir='that/folder' "
            f"(run_all.py: --data-dir); to {_HOW_TO_GET[name]}. For a quick test without data use synthetic=True."
        ) from e
    where = "keras.datasets cache (~/.keras/datasets)"
    train = _check_arrays(name, x_train, y_train, where)
    test = _check_arrays(name, x_test, y_test, where)
    return train, test


def _read_data_dir(name: str, data_dir: Path):
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a folder. To get {name}: {_HOW_TO_GET[name]}.")
    if name == "mnist":
        path = data_dir / "mnist.npz"
        if not path.is_file():
            raise FileNotFoundError(f"No MNIST file in {data_dir}: looked for {path}. To get it: {_HOW_TO_GET[name]}.")
        return (*_read_mnist_npz(path), str(path))
    candidates = [data_dir / _CIFAR_DIR, data_dir / _CIFAR_TAR, data_dir]
    for path in candidates:
        if path.is_dir() and (path / "data_batch_1").is_file():
            return (*_read_cifar10(path), str(path))
        if path.is_file():
            return (*_read_cifar10(path), str(path))
    looked = ", ".join(str(p) for p in candidates[:2])
    raise FileNotFoundError(f"No CIFAR-10 files in {data_dir}: looked for {looked}. To get them: {_HOW_TO_GET[name]}.")


def _read_mnist_npz(path: Path):
    """Read Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as e:
        raise DatasetError(f"{path} lacks the array {e} (expected x_train, y_train, x_test, y_test).") from e
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise DatasetError(f"{path} is truncated or not a valid mnist.npz ({e}). Delete it and download it again.") from e
    train = _check_arrays("mnist", arrays["x_train"], arrays["y_train"], path)
    test = _check_arrays("mnist", arrays["x_test"], arrays["y_test"], path)
    return train, test


def _read_cifar10(path: Path):
    """Read CIFAR-10's python batches from the folder or straight from the .tar.gz (nothing is extracted)."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    try:
        if path.is_dir():
            batches = {}
            for n in names:
                if not (path / n).is_file():
                    raise DatasetError(f"{path} lacks {n} (expected data_batch_1..5 and test_batch).")
                batches[n] = _unpickle((path / n).read_bytes(), path / n)
        else:
            with tarfile.open(path, "r:gz") as tar:
                members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
                missing = [n for n in names if n not in members]
                if missing:
                    raise DatasetError(f"{path} lacks {', '.join(missing)} (expected {_CIFAR_DIR}/data_batch_1..5, test_batch).")
                batches = {n: _unpickle(tar.extractfile(members[n]).read(), f"{path}:{members[n].name}") for n in names}
    except DatasetError:
        raise
    except (tarfile.TarError, EOFError, OSError, zipfile.BadZipFile, ValueError) as e:
        raise DatasetError(f"{path} is truncated or not a valid CIFAR-10 archive ({type(e).__name__}: {e}). "
                           f"Delete it and download it again.") from e
    train = [_cifar_batch(batches[n], f"{path}/{n}") for n in names[:5]]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    x_test, y_test = _cifar_batch(batches["test_batch"], f"{path}/test_batch")
    return _check_arrays("cifar10", x_train, y_train, path), _check_arrays("cifar10", x_test, y_test, path)


def _unpickle(raw: bytes, where) -> dict:
    try:
        return pickle.loads(raw, encoding="bytes")
    except Exception as e:  # a truncated pickle raises several types
        raise DatasetError(f"{where} is truncated or not a CIFAR-10 batch ({type(e).__name__}: {e}).") from e


def _cifar_batch(d: dict, where: str):
    """A batch dict holds b'data' (N x 3072, channel-major: 1024 R, 1024 G, 1024 B) and b'labels'."""
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DatasetError(f"{where} is not a CIFAR-10 batch (no b'data' / b'labels').")
    data = np.asarray(d[b"data"])
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetError(f"{where}: b'data' has shape {data.shape}, expected (N, 3072).")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(d[b"labels"])


def _check_arrays(name: str, x, y, where):
    """Images become uint8 NHWC and labels int64; shapes and label ranges are checked, naming the file."""
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    h, w, c = _SHAPES[name]
    if x.ndim == 3 and c == 1:
        x = x[..., None]
    if x.shape[1:] != (h, w, c):
        raise DatasetError(f"{where}: images have shape {x.shape[1:]}, expected {(h, w, c)} for {name}.")
    if len(x) != len(y):
        raise DatasetError(f"{where}: {len(x)} images but {len(y)} labels.")
    if x.dtype != np.uint8:
        if x.size and (x.min() < 0 or x.max() > 255 or not np.all(np.equal(np.mod(x, 1), 0))):
            raise DatasetError(f"{where}: pixel values must be whole numbers 0..255 (dtype {x.dtype}).")
        x = x.astype(np.uint8)
    n_classes = len(_CLASSES[name])
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise DatasetError(f"{where}: labels must be integers 0..{n_classes - 1}, found {y.min()}..{y.max()}.")
    return x, y.astype(np.int64)


# ------------------------------------------------------------------------------------------- synthetic


def synthetic_arrays(name: str, n_train: int = 2000, n_test: int = 500, seed: int = 1234):
    """Deterministic, learnable stand-ins: each class is a smooth random pattern, each image a shifted, noisy copy.

    Same shapes, dtype and classes as the real data; a small CNN separates the classes within seconds,
    so tests and the smoke profile exercise every code path offline. Never used unless asked for.
    """
    name = _check_name(name)
    h, w, c = _SHAPES[name]
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


# -------------------------------------------------------------------------------------------- pipeline


@dataclass(frozen=True)
class Preprocessing:
    """Pixel scaling: ``(x / 255 - mean) / std`` per channel; mean 0, std 1 is plain scaling to [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, x_train: np.ndarray, mode: str = "standardize") -> Preprocessing:
        """Statistics from the training split only (never validation or test) or plain [0, 1] scaling."""
        c = x_train.shape[-1]
        if mode == "scale":
            return cls((0.0,) * c, (1.0,) * c)
        if mode != "standardize":
            raise ValueError(f"Unknown normalization {mode!r}; valid: 'standardize', 'scale'.")
        flat = x_train.reshape(-1, c).astype(np.float64) / 255.0
        return cls(tuple(float(v) for v in flat.mean(0)), tuple(float(v) for v in np.maximum(flat.std(0), 1e-3)))

    def __call__(self, images):
        """uint8 or float pixel values 0..255 -> normalised float32 (works on numpy arrays and tensors)."""
        import tensorflow as tf

        x = tf.cast(images, tf.float32) / 255.0
        return (x - tf.constant(self.mean, tf.float32)) / tf.constant(self.std, tf.float32)


def make_pipeline(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    num_classes: int,
    preprocessing: Preprocessing,
    training: bool = False,
    augment: str = "none",
    one_hot: bool = True,
    output_names: list[str] | tuple[str, ...] | None = None,
    seed: int = 0,
    drop_remainder: bool = False,
    cache: bool = False,
):
    """A tf.data pipeline: (shuffle) -> batch -> (augment on whole batches) -> normalise, labels -> prefetch.

    Reproducible under ``seed``: shuffling and augmentation draw from seeded generators, differently each epoch.
    ``one_hot`` gives one-hot labels (categorical losses, label smoothing) or sparse integer labels.
    ``output_names`` repeats the labels for every output of a multi-output model (GoogLeNet's auxiliary heads).
    ``cache`` keeps the finished (normalised, labelled) batches in memory after the first pass, so later epochs
    only read them back; evaluation pipelines only, since training batches must be reshuffled and augmented anew.
    The images themselves are in memory from the start (``from_tensor_slices``), so there is nothing to cache
    before the shuffle.
    """
    import tensorflow as tf

    if augment not in AUGMENTATIONS:
        raise ValueError(f"Unknown augmentation {augment!r}; valid: {', '.join(AUGMENTATIONS)}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    if cache and training:
        raise ValueError("cache=True is for evaluation pipelines: training batches are reshuffled and augmented "
                         "every epoch, so caching them would freeze them.")
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if training and augment != "none":
        # One random int64 per batch seeds the stateless ops: deterministic, and new values every epoch.
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        ds = tf.data.Dataset.zip((ds, batch_seeds)).map(
            lambda xy, s: (augment_batch(xy[0], augment, tf.stack([s, tf.constant(seed, tf.int64)])), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    def finish(images, labels):
        labels = tf.one_hot(labels, num_classes) if one_hot else labels
        if output_names:
            labels = {name: labels for name in output_names}
        return preprocessing(images), labels

    ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE)


def augment_batch(images, kind: str, seed):
    """Random per-image transforms of a whole batch in one op (pixel values kept 0..255, float32).

    ``flip_crop`` (CIFAR): shift by up to 4 px with zero fill, which is exactly "pad 4, random 32x32 crop",
    and a horizontal flip half of the time. ``shift_rotate`` (digits): shifts of up to 3 px and rotations of
    up to 10 degrees, never flips (a flipped 2 is not a 2).
    """
    import tensorflow as tf

    if kind == "none":
        return tf.cast(images, tf.float32)
    if kind not in AUGMENTATIONS:
        raise ValueError(f"Unknown augmentation {kind!r}; valid: {', '.join(AUGMENTATIONS)}.")
    images = tf.cast(images, tf.float32)
    n = tf.shape(images)[0]
    h = tf.cast(tf.shape(images)[1], tf.float32)
    w = tf.cast(tf.shape(images)[2], tf.float32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    if kind == "flip_crop":
        max_shift, max_angle, interpolation = 4, 0.0, "NEAREST"
        flip = tf.random.stateless_uniform([n], seeds[0]) < 0.5
    else:
        max_shift, max_angle, interpolation = 3, 10.0, "BILINEAR"
        flip = tf.zeros([n], tf.bool)
    shift = tf.cast(tf.random.stateless_uniform([n, 2], seeds[1], -max_shift, max_shift + 1, tf.int32), tf.float32)
    angle = tf.random.stateless_uniform([n], seeds[2], -max_angle, max_angle) * (np.pi / 180.0)
    # Output pixel p reads input pixel R(p - c - t) + c, then the x coordinate is mirrored when flipping.
    cx, cy = (w - 1) / 2, (h - 1) / 2
    cos, sin = tf.cos(angle), tf.sin(angle)
    px, py = cx + shift[:, 0], cy + shift[:, 1]
    a0, a1, a2 = cos, -sin, cx - cos * px + sin * py
    b0, b1, b2 = sin, cos, cy - sin * px - cos * py
    sign = tf.where(flip, -1.0, 1.0)
    a0, a1, a2 = sign * a0, sign * a1, tf.where(flip, (w - 1) - a2, a2)
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation=interpolation,
        fill_mode="CONSTANT",
    )
