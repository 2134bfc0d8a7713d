"""The exercises of 06_what_cnns_see: feature maps and Grad-CAM."""

from __future__ import annotations

from helpers.course.judges import Exercise, center_share, number, shape

NOTEBOOK = "06_what_cnns_see.ipynb"

EXERCISES = [
    Exercise(
        "block3_pool_shape",
        NOTEBOOK,
        "predict",
        shape((4, 4, 256), "VGG-16's block3_pool output on a 32x32 image"),
        "Three 2x2 pools: 32 -> 16 -> 8 -> 4, and block 3 has 256 channels.",
    ),
    Exercise(
        "gradcam_cell_pixels",
        NOTEBOOK,
        "predict",
        number(
            8,
            "the image pixels (per side) one cell of ResNet-18's 4x4 Grad-CAM map spans on 32x32",
            {
                64: "64 is a cell's area: the question asks per side",
                4: "4 is the map's size: how many image pixels does each of its cells span?",
            },
        ),
        "32 / 4 = 8: each cell stands for an 8x8 patch, so on small images Grad-CAM can only say roughly where.",
    ),
    Exercise(
        "center_share",
        NOTEBOOK,
        "code",
        center_share,
        "The middle half (in height and width) holds a quarter of the pixels: a share far below 0.25 means "
        "the network looked around the object rather than at it.",
    ),
]
