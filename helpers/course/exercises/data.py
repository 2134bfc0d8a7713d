"""The exercises of 01_data_loading: the datasets, splits and normalisation."""

from __future__ import annotations

import numpy as np

from helpers.course.judges import Exercise, number
from helpers.data import Preprocessing


def standardize(answer):
    """The student's standardize(images, mean, std) against (x / 255 - mean) / std on random pixels."""
    if not callable(answer):
        return f"expected a function standardize(images, mean, std), got {answer!r}"
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.25, 0.2, 0.15])
    got = answer(x, mean, std)
    if got is None:
        return "your function returns None"
    got = np.asarray(got, dtype=np.float64)
    want = (x / 255.0 - mean) / std
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}: normalise every pixel, keep the shape"
    if np.allclose(got, (x - mean) / std, atol=1e-3):
        return "divide the pixels by 255 first: mean and std are measured on values in [0, 1]"
    if np.allclose(got, x / 255.0, atol=1e-3):
        return "that is the pixels scaled to [0, 1]: now subtract each channel's mean and divide by its std"
    if np.allclose(got, x / 255.0 / std - mean, atol=1e-3):
        return "the order: subtract the mean first, then divide by the standard deviation"
    if np.allclose(got, x / 255.0 - mean, atol=1e-3):
        return "the mean is subtracted: now divide each channel by its standard deviation"
    if np.allclose(got, (x / 255.0 - std) / mean, atol=1e-3):
        return (
            "mean and std are swapped: subtract the mean, divide by the std (the arguments' order is images, mean, std)"
        )
    own = x / 255.0
    if np.allclose(got, (own - own.mean(axis=(0, 1, 2))) / own.std(axis=(0, 1, 2)), atol=1e-3) or np.allclose(
        got, (own - own.mean()) / own.std(), atol=1e-3
    ):
        return "use the mean and std passed in (the training split's), not the statistics of the images at hand"
    if not np.allclose(got, want, atol=1e-3):
        return "values are off: subtract the mean of each channel, then divide by its standard deviation"
    return None


NOTEBOOK = "01_data_loading.ipynb"

EXERCISES = [
    Exercise(
        "mnist_val_images",
        NOTEBOOK,
        "predict",
        number(
            6000,
            "MNIST's validation split with val_size=0.1",
            {
                10000: "10,000 is MNIST's test set, which is never split",
                54000: "that is what stays for training; the question asks for the validation images",
                0.1: "0.1 is val_size, the fraction; the question asks how many images that is of the 60,000",
                10: "10 is val_size as a percentage; the question asks how many images that is of the 60,000",
                60000: "60,000 is the whole training set: val_size=0.1 takes a tenth of it",
                7000: "0.1 of all 70,000 counts the test set too: the split takes 0.1 of the 60,000 training images",
            },
        ),
        "0.1 x 60,000 training images; the 10,000 test images stay untouched.",
    ),
    Exercise(
        "report1_val_fraction",
        NOTEBOOK,
        "predict",
        number(
            0.25,
            "the fraction behind report 1's 37,500 / 12,500 CIFAR-10 split",
            {
                12500: "val_size takes a fraction too: which share of 50,000 is 12,500?",
                1 / 3: "12,500 / 37,500 is validation over training; take validation over all 50,000",
                0.75: "0.75 is the training share (37,500 / 50,000); val_size is the validation share",
                75: "75 is the training share, as a percentage; the question asks for the validation share, as a "
                "fraction between 0 and 1",
            },
        ),
        "12,500 of 50,000 training images: val_size=0.25 (the kit's report1 recipe for Exp. 4).",
    ),
    Exercise(
        "standardize",
        NOTEBOOK,
        "code",
        standardize,
        "(x / 255 - mean) / std, with statistics of the training split only.",
        kit=(Preprocessing,),
    ),
    Exercise(
        "cifar_pixels",
        NOTEBOOK,
        "predict",
        number(
            3072,
            "the numbers in one CIFAR-10 image",
            {
                1024: "that is one channel: there are three",
                784: "784 = 28 x 28 is an MNIST digit",
                2352: "28 x 28 is MNIST's size: CIFAR-10 images are 32 x 32, with 3 channels",
                96: "count every pixel: 32 x 32 of them, 3 numbers each",
            },
        ),
        "32 x 32 pixels x 3 channels, stored channel-major in the official files (1024 R, 1024 G, 1024 B).",
    ),
]
