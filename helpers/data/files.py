"""The official dataset files and Keras' download: read, checked, and turned into uint8 NHWC images and int64 labels.

``mnist.npz`` in Keras' layout; CIFAR-10's ``cifar-10-python.tar.gz`` (read without extracting) or its extracted
``cifar-10-batches-py/``. Every error names the file and says how to get a good one.
"""

from __future__ import annotations

import pickle
import tarfile
import zipfile
from pathlib import Path

import keras
import numpy as np

__all__ = ["CIFAR_DIR", "SHAPES", "DatasetError", "download", "read_data_dir"]

SHAPES = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
NUM_CLASSES = {"mnist": 10, "cifar10": 10}
CIFAR_DIR = "cifar-10-batches-py"
CIFAR_TAR = "cifar-10-python.tar.gz"
HOW_TO_GET = {
    "mnist": "download https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz into that folder",
    "cifar10": f"download https://www.cs.toronto.edu/~kriz/{CIFAR_TAR} into that folder "
    f"(the .tar.gz as it is, or extracted to {CIFAR_DIR}/)",
}


class DatasetError(ValueError):
    """A dataset file is missing, corrupt or holds data of the wrong shape."""


def download(name: str):
    """Keras' own download and cache; a failure says how to work offline."""
    loader = {"mnist": keras.datasets.mnist, "cifar10": keras.datasets.cifar10}[name]
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as e:  # network errors come in many types (URLError, HTTPError, OSError, Exception)
        files = "mnist.npz" if name == "mnist" else f"{CIFAR_TAR} (or {CIFAR_DIR}/)"
        raise DatasetError(
            f"Could not download {name} with keras.datasets ({type(e).__name__}: {e}). To work offline, put "
            f"the official file {files} in a folder and pass data_dir='that/folder' "
            f"(run_all.py: --data-dir); to {HOW_TO_GET[name]}. For a quick test without data use synthetic=True."
        ) from e
    where = "keras.datasets cache (~/.keras/datasets)"
    train = _check_arrays(name, x_train, y_train, where)
    test = _check_arrays(name, x_test, y_test, where)
    return train, test


def read_data_dir(name: str, data_dir: Path):
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a folder. To get {name}: {HOW_TO_GET[name]}.")
    if name == "mnist":
        path = data_dir / "mnist.npz"
        if not path.is_file():
            raise FileNotFoundError(f"No MNIST file in {data_dir}: looked for {path}. To get it: {HOW_TO_GET[name]}.")
        return (*_read_mnist_npz(path), str(path))
    candidates = [data_dir / CIFAR_DIR, data_dir / CIFAR_TAR, data_dir]
    for path in candidates:
        if path.is_dir() and (path / "data_batch_1").is_file():
            return (*_read_cifar10(path), str(path))
        if path.is_file():
            return (*_read_cifar10(path), str(path))
    looked = ", ".join(str(p) for p in candidates[:2])
    raise FileNotFoundError(f"No CIFAR-10 files in {data_dir}: looked for {looked}. To get them: {HOW_TO_GET[name]}.")


def _read_mnist_npz(path: Path):
    """Read Keras' ``mnist.npz`` (x_train, y_train, x_test, y_test)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as e:
        raise DatasetError(f"{path} lacks the array {e} (expected x_train, y_train, x_test, y_test).") from e
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise DatasetError(
            f"{path} is truncated or not a valid mnist.npz ({e}). Delete it and download it again."
        ) from e
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
                    raise DatasetError(
                        f"{path} lacks {', '.join(missing)} (expected {CIFAR_DIR}/data_batch_1..5, test_batch)."
                    )
                batches = {n: _unpickle(tar.extractfile(members[n]).read(), f"{path}:{members[n].name}") for n in names}
    except DatasetError:
        raise
    except (tarfile.TarError, EOFError, OSError, zipfile.BadZipFile, ValueError) as e:
        raise DatasetError(
            f"{path} is truncated or not a valid CIFAR-10 archive ({type(e).__name__}: {e}). "
            f"Delete it and download it again."
        ) from e
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
    h, w, c = SHAPES[name]
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
    n_classes = NUM_CLASSES[name]
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise DatasetError(f"{where}: labels must be integers 0..{n_classes - 1}, found {y.min()}..{y.max()}.")
    return x, y.astype(np.int64)
