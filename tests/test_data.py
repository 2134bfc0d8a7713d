"""helpers.data: official-format loaders, splits, synthetic data, pipelines and the errors bad input gets."""

import hashlib

import keras
import numpy as np
import pytest
from conftest import cifar_batch_bytes, write_cifar10, write_mnist_npz

from helpers.data import DatasetError, Preprocessing, augment, load_dataset, make_pipeline, pipeline
from helpers.data import datasets as data
from helpers.data import files as datafiles


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="mnist, cifar10"):
        load_dataset("imagenet", synthetic=True)


def test_mnist_npz_read_exactly(tmp_path):
    _, arrays = write_mnist_npz(tmp_path, n_train=600, n_test=200)
    ds = load_dataset("mnist", data_dir=tmp_path, val_size=150)
    assert ds.input_shape == (28, 28, 1) and ds.num_classes == 10 and ds.class_names[3] == "3"
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert ds.sizes() == {"train": 450, "val": 150, "test": 200}
    np.testing.assert_array_equal(ds.x_test[..., 0], arrays["x_test"])  # test set untouched, same order
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    # train + val is exactly the original training set, each image with its own label
    merged = np.concatenate([ds.x_train, ds.x_val])[..., 0]
    labels = np.concatenate([ds.y_train, ds.y_val])
    order = np.lexsort(merged.reshape(len(merged), -1).T)
    ref = np.lexsort(arrays["x_train"].reshape(600, -1).T)
    np.testing.assert_array_equal(merged[order], arrays["x_train"][ref])
    np.testing.assert_array_equal(labels[order], arrays["y_train"][ref])


@pytest.mark.parametrize("as_tar", [True, False])
def test_cifar10_official_files_exact_pixels(tmp_path, as_tar):
    path, (x_train, y_train), (x_test, y_test) = write_cifar10(tmp_path, as_tar=as_tar)
    before = listing(tmp_path)
    (xtr, ytr), (xte, yte) = datafiles._read_cifar10(path)
    np.testing.assert_array_equal(xtr, x_train)  # same pixels, same (RGB, HWC) channel order
    np.testing.assert_array_equal(ytr, y_train)
    np.testing.assert_array_equal(xte, x_test)
    ds = load_dataset("cifar10", data_dir=tmp_path, val_size=0.1)
    assert ds.sizes() == {"train": 450, "val": 50, "test": 200}
    np.testing.assert_array_equal(ds.x_test, x_test)
    np.testing.assert_array_equal(ds.y_test, y_test)
    assert ds.class_names == data.CIFAR10_CLASSES
    assert listing(tmp_path) == before  # reading extracts nothing, writes nothing beside the files
    assert not (tmp_path / "cifar-10-batches-py").exists() or not as_tar


def test_cifar10_channel_order_is_rgb(tmp_path):
    """A pure-red image written channel-major must come back red in the last axis."""
    path, _, _ = write_cifar10(tmp_path, as_tar=False)
    x = np.zeros((10, 32, 32, 3), np.uint8)
    x[:, :, :, 0] = 255
    (path / "test_batch").write_bytes(cifar_batch_bytes(x, np.arange(10)))
    (_, _), (xte, _) = datafiles._read_cifar10(path)
    assert xte[..., 0].min() == 255 and xte[..., 1:].max() == 0


def test_cifar10_data_dir_may_be_the_batches_folder(tmp_path):
    path, _, (x_test, _) = write_cifar10(tmp_path, as_tar=False)
    ds = load_dataset("cifar10", data_dir=path)
    np.testing.assert_array_equal(ds.x_test, x_test)


def test_reports_splits_are_expressible():
    # report 1: MNIST 45,000/15,000 (val_size=15000 of 60,000) -- here scaled: counts and fractions agree
    ds = load_dataset("mnist", synthetic=True, val_size=500)
    assert ds.sizes()["val"] == 500 and ds.sizes()["train"] == 1500
    ds = load_dataset("cifar10", synthetic=True, val_size=0.25)
    assert ds.sizes()["val"] == 500 and ds.sizes()["train"] == 1500


def test_splits_are_stratified_and_seeded():
    a = load_dataset("cifar10", synthetic=True, val_size=0.2, train_size=300, test_size=100, seed=1)
    b = load_dataset("cifar10", synthetic=True, val_size=0.2, train_size=300, test_size=100, seed=1)
    c = load_dataset("cifar10", synthetic=True, val_size=0.2, train_size=300, test_size=100, seed=2)
    assert a.sizes() == {"train": 300, "val": 400, "test": 100}
    for split in ("y_train", "y_val", "y_test"):
        counts = np.bincount(getattr(a, split), minlength=10)
        assert counts.max() - counts.min() <= 1, (split, counts)
        np.testing.assert_array_equal(getattr(a, split), getattr(b, split))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    # validation never overlaps training
    tr = {x.tobytes() for x in a.x_train}
    assert not any(x.tobytes() in tr for x in a.x_val)


def image_hashes(x):
    """One hash of each image's bytes."""
    return [hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest() for image in x]


def assert_splits_disjoint(ds, official_train, official_test):
    """Training, validation and test images are three disjoint sets (by the hash of each image's bytes), training and
    validation come from the official training images only, and the test images from the official test images."""
    train, val, test = (image_hashes(x) for x in (ds.x_train, ds.x_val, ds.x_test))
    for name, hashes in (("train", train), ("val", val), ("test", test)):
        assert len(set(hashes)) == len(hashes) > 0, f"{name}: an image twice"
    assert not set(train) & set(val), "an image both in training and validation"
    assert not set(train) & set(test), "an image both in training and test"
    assert not set(val) & set(test), "an image both in validation and test"
    assert set(train) | set(val) <= set(image_hashes(official_train))
    assert set(test) <= set(image_hashes(official_test))


@pytest.mark.parametrize("sizes", [{}, {"train_size": 300, "test_size": 100}], ids=["all", "subsets"])
def test_mnist_official_file_splits_are_disjoint_by_image(tmp_path, sizes):
    _, arrays = write_mnist_npz(tmp_path, n_train=600, n_test=200)
    ds = load_dataset("mnist", data_dir=tmp_path, val_size=150, **sizes)
    assert ds.sizes() == {"train": sizes.get("train_size", 450), "val": 150, "test": sizes.get("test_size", 200)}
    assert_splits_disjoint(ds, arrays["x_train"][..., None], arrays["x_test"][..., None])


@pytest.mark.parametrize("as_tar", [True, False])
def test_cifar10_official_file_splits_are_disjoint_by_image(tmp_path, as_tar):
    _, (x_train, _), (x_test, _) = write_cifar10(tmp_path, as_tar=as_tar)
    ds = load_dataset("cifar10", data_dir=tmp_path, val_size=0.1, train_size=300, test_size=150, seed=3)
    assert ds.sizes() == {"train": 300, "val": 50, "test": 150}
    assert_splits_disjoint(ds, x_train, x_test)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_synthetic_splits_are_disjoint_by_image(name):
    ds = load_dataset(name, synthetic=True, val_size=0.2, train_size=600, test_size=200, seed=1)
    (x_train, _), (x_test, _) = data.synthetic_arrays(name)
    assert ds.sizes() == {"train": 600, "val": 400, "test": 200}
    assert_splits_disjoint(ds, x_train, x_test)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"train_size": 5000}, "train_size=5000 asks for 5000 images but only 1800"),
        ({"test_size": 0}, "test_size=0"),
        ({"val_size": 1.5}, "val_size=1.5"),
        ({"val_size": "lots"}, "val_size must be a count or a fraction"),
    ],
)
def test_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset("mnist", synthetic=True, **kwargs)


def test_synthetic_and_data_dir_are_exclusive(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        load_dataset("mnist", synthetic=True, data_dir=tmp_path)


def test_missing_files_name_the_paths_and_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        load_dataset("mnist", data_dir=tmp_path)
    assert str(tmp_path / "mnist.npz") in str(e.value) and "mnist.npz" in str(e.value) and "download" in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        load_dataset("cifar10", data_dir=tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "cifar-10-batches-py") in msg and str(tmp_path / "cifar-10-python.tar.gz") in msg
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_dataset("mnist", data_dir=tmp_path / "nope")
    assert listing(tmp_path) == []  # nothing written


def test_truncated_files_name_the_file(tmp_path):
    path, _ = write_mnist_npz(tmp_path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DatasetError, match="mnist.npz.*truncated"):
        load_dataset("mnist", data_dir=tmp_path)
    other = tmp_path / "c"
    other.mkdir()
    tar, _, _ = write_cifar10(other)
    tar.write_bytes(tar.read_bytes()[:5000])
    before = listing(tmp_path)
    with pytest.raises(DatasetError, match="cifar-10-python.tar.gz.*truncated"):
        load_dataset("cifar10", data_dir=other)
    assert listing(tmp_path) == before


def test_corrupt_cifar_batch_names_the_file(tmp_path):
    path, _, _ = write_cifar10(tmp_path, as_tar=False)
    (path / "data_batch_3").write_bytes(b"not a pickle at all")
    with pytest.raises(DatasetError, match="data_batch_3"):
        load_dataset("cifar10", data_dir=tmp_path)


@pytest.mark.parametrize(
    "override, match",
    [
        ({"x_train": np.zeros((600, 32, 32), np.uint8)}, r"images have shape \(32, 32, 1\)"),
        ({"y_train": np.full(600, 10, np.uint8)}, "labels must be integers 0..9"),
        ({"y_test": np.zeros(7, np.uint8)}, "200 images but 7 labels"),
    ],
)
def test_wrong_contents_name_the_file(tmp_path, override, match):
    write_mnist_npz(tmp_path, **override)
    with pytest.raises(DatasetError, match=match) as e:
        load_dataset("mnist", data_dir=tmp_path)
    assert "mnist.npz" in str(e.value)


def test_failed_download_says_how_to_work_offline(monkeypatch):
    import keras

    def offline():
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DatasetError) as e:
        load_dataset("cifar10")
    msg = str(e.value)
    assert "data_dir" in msg and "cifar-10-python.tar.gz" in msg and "name resolution" in msg


def test_download_is_the_default_source(monkeypatch):
    import keras

    x = np.zeros((100, 28, 28), np.uint8)
    y = np.arange(100) % 10
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x, y), (x[:20], y[:20])))
    ds = load_dataset("mnist", val_size=20)
    assert ds.source == "keras.datasets" and ds.sizes() == {"train": 80, "val": 20, "test": 20}


def test_synthetic_is_deterministic_with_real_shapes():
    a = load_dataset("cifar10", synthetic=True)
    b = load_dataset("cifar10", synthetic=True)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape[1:] == (32, 32, 3) and a.x_train.dtype == np.uint8 and a.source == "synthetic"
    assert load_dataset("mnist", synthetic=True).x_test.shape[1:] == (28, 28, 1)


def test_synthetic_data_is_learnable():
    """A small CNN clearly beats chance (10%) on held-out synthetic images within seconds."""
    import keras

    ds = load_dataset("mnist", synthetic=True, seed=0)
    prep = Preprocessing.fit(ds.x_train)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(ds.input_shape),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    train = make_pipeline(
        ds.x_train, ds.y_train, batch_size=64, num_classes=10, preprocessing=prep, training=True, one_hot=False
    )
    test = make_pipeline(ds.x_test, ds.y_test, batch_size=256, num_classes=10, preprocessing=prep, one_hot=False)
    model.fit(train, epochs=4, verbose=0, shuffle=False)  # the pipeline shuffles
    _, acc = model.evaluate(test, verbose=0)
    print("synthetic accuracy", acc)
    assert acc > 0.6, acc


def test_preprocessing_uses_training_statistics_only():
    ds = load_dataset("cifar10", synthetic=True)
    prep = Preprocessing.fit(ds.x_train)
    z = prep(ds.x_train)
    assert isinstance(z, np.ndarray) and z.dtype == np.float32  # NumPy in, NumPy out (no trip to the device)
    np.testing.assert_allclose(z.reshape(-1, 3).mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(z.reshape(-1, 3).std(0), 1, atol=1e-3)
    as_tensor = prep(keras.ops.convert_to_tensor(ds.x_train[:8]))  # a backend tensor stays one (tf.data's path)
    assert not isinstance(as_tensor, np.ndarray)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(as_tensor), z[:8], rtol=1e-6)
    scale = Preprocessing.fit(ds.x_train, "scale")
    assert float(scale(np.full((1, 2, 2, 3), 255, np.uint8)).max()) == 1.0
    with pytest.raises(ValueError, match="standardize"):
        Preprocessing.fit(ds.x_train, "zscore")


def test_pipeline_batches_labels_and_outputs():
    ds = load_dataset("mnist", synthetic=True, train_size=100)
    prep = Preprocessing.fit(ds.x_train)
    kw = dict(batch_size=32, num_classes=10, preprocessing=prep)
    x, y = next(iter(make_pipeline(ds.x_train, ds.y_train, **kw)))
    assert x.shape == (32, 28, 28, 1) and x.dtype.name == "float32" and y.shape == (32, 10)
    np.testing.assert_array_equal(np.argmax(y, 1), ds.y_train[:32])  # no shuffling outside training
    _, y = next(iter(make_pipeline(ds.x_train, ds.y_train, one_hot=False, **kw)))
    assert y.shape == (32,)
    _, y = next(iter(make_pipeline(ds.x_train, ds.y_train, output_names=["main", "aux1", "aux2"], **kw)))
    assert sorted(y) == ["aux1", "aux2", "main"]
    batches = list(make_pipeline(ds.x_train, ds.y_train, training=True, **kw))
    assert sum(len(b[0]) for b in batches) == 100
    with pytest.raises(ValueError, match="flip_crop"):
        make_pipeline(ds.x_train, ds.y_train, augment="mixup", **kw)


def test_cached_evaluation_pipeline_gives_the_same_batches():
    ds = load_dataset("cifar10", synthetic=True, train_size=100, val_size=70)
    kw = dict(batch_size=32, num_classes=10, preprocessing=Preprocessing.fit(ds.x_train))
    plain = [x.numpy() for x, _ in make_pipeline(ds.x_val, ds.y_val, **kw)]
    cached = make_pipeline(ds.x_val, ds.y_val, cache=True, **kw)
    for _ in range(2):  # the first pass fills the cache, the second reads it back
        again = [x.numpy() for x, _ in cached]
        assert len(again) == len(plain) == 3
        for a, b in zip(again, plain):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="evaluation pipelines"):
        make_pipeline(ds.x_train, ds.y_train, training=True, cache=True, **kw)


@pytest.mark.parametrize("augment", ["flip_crop", "flip", "shift_rotate"])
def test_augmentation_reproducible_and_fresh_each_epoch(augment):
    ds = load_dataset("cifar10", synthetic=True, train_size=128)
    prep = Preprocessing.fit(ds.x_train)

    def epochs(seed, n=2):
        pipe = make_pipeline(
            ds.x_train,
            ds.y_train,
            batch_size=64,
            num_classes=10,
            preprocessing=prep,
            training=True,
            augment=augment,
            seed=seed,
        )
        return [np.concatenate([x.numpy() for x, _ in pipe]) for _ in range(n)]

    a, b, c = epochs(7), epochs(7), epochs(8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a[0], c[0])


def test_flip_crop_is_pad4_random_crop_and_flip():

    x = load_dataset("cifar10", synthetic=True, train_size=32).x_train
    out = augment.augment_batch(x, "flip_crop", [3, 4])
    flips = 0
    for img, aug in zip(x.astype(np.float32), out):
        pad = np.pad(img, ((4, 4), (4, 4), (0, 0)))
        hits = [
            (f, dy, dx)
            for f in (0, 1)
            for dy in range(9)
            for dx in range(9)
            if np.array_equal((pad[:, ::-1] if f else pad)[dy : dy + 32, dx : dx + 32], aug)
        ]
        assert hits, "augmented image is not a crop of the padded (flipped) image"
        flips += hits[0][0]
    assert 4 <= flips <= 28  # about half are flipped


def test_flip_is_a_mirror_or_the_image_itself():
    """``flip`` (best's small band on CIFAR-10): each image unchanged or mirrored left-right, never shifted."""
    x = load_dataset("cifar10", synthetic=True, train_size=32).x_train
    out = augment.augment_batch(x, "flip", [3, 4])
    mirrored = [np.array_equal(aug, img[:, ::-1]) for img, aug in zip(x.astype(np.float32), out)]
    same = [np.array_equal(aug, img) for img, aug in zip(x.astype(np.float32), out)]
    assert all(m or s for m, s in zip(mirrored, same))
    assert 4 <= sum(mirrored) <= 28  # about half are flipped


def test_shift_rotate_never_flips_and_keeps_range():

    x = np.zeros((64, 28, 28, 1), np.uint8)
    x[:, 4:24, 4:8] = 255  # a bar on the left
    out = augment.augment_batch(x, "shift_rotate", [1, 2])
    assert out.min() >= 0 and out.max() <= 255
    left, right = out[:, :, :14].sum((1, 2, 3)), out[:, :, 14:].sum((1, 2, 3))
    assert np.all(left > right)  # a flip would move the bar to the right half
    assert not np.array_equal(out[0], x[0].astype(np.float32))


def test_pydataset_batches_match_the_tf_data_pipeline():
    """Without TensorFlow (Keras on JAX or PyTorch) ``Batches`` feeds training: the same normalisation, labels and
    order as the tf.data pipeline, and augmentation seeded, reproducible and new every epoch."""
    ds = load_dataset("cifar10", synthetic=True, train_size=100, val_size=70)
    kw = dict(batch_size=32, num_classes=10, preprocessing=Preprocessing.fit(ds.x_train))
    tf_data = [(np.asarray(x), np.asarray(y)) for x, y in make_pipeline(ds.x_val, ds.y_val, **kw)]
    batches = list(pipeline.Batches(ds.x_val, ds.y_val, **kw))
    assert len(batches) == len(tf_data) == 3
    for (x1, y1), (x2, y2) in zip(tf_data, batches):
        np.testing.assert_allclose(x1, x2, rtol=1e-6)
        np.testing.assert_array_equal(y1, y2)

    def epochs(seed):
        feed = pipeline.Batches(ds.x_train, ds.y_train, training=True, augment="flip_crop", seed=seed, **kw)
        return [np.concatenate([x for x, _ in feed]) for _ in range(2)]

    a, b, c = epochs(7), epochs(7), epochs(8)
    # model.fit reads training batches through threads (workers > 1): batch i is the same whoever makes it, in
    # whatever order, and only Keras' epoch end moves the feed to the next epoch.
    feed = pipeline.Batches(ds.x_train, ds.y_train, training=True, augment="flip_crop", seed=7, workers=4, **kw)
    assert feed.workers == 4
    made = {i: feed[i][0] for i in reversed(range(len(feed)))}  # out of order, as threads may
    np.testing.assert_array_equal(np.concatenate([made[i] for i in range(len(feed))]), a[0])
    feed.on_epoch_end()
    np.testing.assert_array_equal(np.concatenate([feed[i][0] for i in range(len(feed))]), a[1])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[0], c[0])
