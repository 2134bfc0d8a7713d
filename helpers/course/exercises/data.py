"""The exercises of 01_data_loading: the datasets, splits and normalisation."""

from __future__ import annotations

from helpers.course.judges import Exercise, number, standardize

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
    ),
    Exercise(
        "cifar_pixels",
        NOTEBOOK,
        "predict",
        number(
            3072,
            "the numbers in one CIFAR-10 image",
            {1024: "that is one channel: there are three", 784: "784 = 28 x 28 is an MNIST digit"},
        ),
        "32 x 32 pixels x 3 channels, stored channel-major in the official files (1024 R, 1024 G, 1024 B).",
    ),
]
