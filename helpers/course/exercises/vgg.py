"""The exercises of 02_vgg: convolutions, VGG's config lists, the budget and the one-cycle schedule."""

from __future__ import annotations

from helpers.course.judges import Exercise, number, one_cycle, report_row, run_of, shape, vgg13_config, vgg_loop

NOTEBOOK = "02_vgg.ipynb"

EXERCISES = [
    Exercise(
        "conv_params",
        NOTEBOOK,
        "predict",
        number(
            73856,
            "a 3x3 convolution from 64 to 128 channels with bias",
            {
                73728: "close: add one bias per output channel",
                1152: "that is one filter's 3x3x128; count every input channel of every filter",
                576: "3 x 3 x 64 is one filter: there are 128",
            },
        ),
        "3 x 3 x 64 weights per filter, 128 filters, plus 128 biases: 73,856.",
    ),
    Exercise(
        "vgg_final_shape",
        NOTEBOOK,
        "predict",
        shape((1, 1, 512), "VGG-16's last feature map on 32x32"),
        "Five 2x2 pools: 32 -> 16 -> 8 -> 4 -> 2 -> 1, and the last block has 512 channels.",
    ),
    Exercise("vgg13_config", NOTEBOOK, "code", vgg13_config, "VGG-13: two 3x3 convs in each of the five blocks."),
    Exercise(
        "vgg_loop",
        NOTEBOOK,
        "shown",
        vgg_loop,
        "A number adds a 3x3 conv + ReLU, 'M' a 2x2 max-pool: the whole VGG idea in a loop.",
    ),
    Exercise(
        "budget_images",
        NOTEBOOK,
        "predict",
        number(
            9600,
            "the images seen by 8 epochs on 1,200 training images",
            {
                1200: "1,200 is one epoch: the run makes 8 passes",
                300: "300 is the optimizer steps at batch 32: each step sees a batch of 32 images",
                8: "8 is the epochs: multiply by the images each epoch trains on",
            },
        ),
        "8 x 1,200 = 9,600 images seen, below 16,000: the small band (AdamW lr 1e-3, batch 32, flips without crops).",
    ),
    Exercise(
        "one_cycle_lr",
        NOTEBOOK,
        "code",
        one_cycle,
        "Linear warm-up from peak/25 over the first 15% of steps, then a cosine down to peak/400.",
    ),
    Exercise(
        "vgg11_experiment",
        NOTEBOOK,
        "experiment",
        run_of("model", "vgg11", "VGG-11"),
        f"Compare with report 2's VGG-11 ({report_row('Table IV', 'VGG11')}% on CIFAR-10, "
        f"{report_row('Table I', 'VGG11')}% on MNIST) at its budget, not ours.",
    ),
]
