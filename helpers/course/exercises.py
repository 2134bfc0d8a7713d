"""Exercises with instant checks, and the command that writes the student version of the notebooks.

Each exercise ends a notebook section and has a check in the next line or cell::

    ### BEGIN SOLUTION
    conv_params = 3 * 3 * 64 * 128 + 128
    ### END SOLUTION
    check("conv_params", conv_params)

``check`` prints ``[correct]`` with a one-line explanation, or ``[try again]`` with a hint that names what is off
(a shape, a parameter count, a value), or ``[not answered]`` while the answer is still ``...``. It never raises,
so a notebook with unsolved exercises still runs from top to bottom (JupyterLab, Colab and papermill alike).

Three kinds: *predict* (a number or a shape, then check), *code* (a function or a Keras block, checked against
the kit's tested copy) and *experiment* (train with one change and compare with the reports' table).

The notebooks hold the solutions between nbgrader's markers. ``python -m helpers.course student [DIR]``
writes the student version: each solution block becomes its stub (``name = ...`` for an assignment, the
signature, docstring and ``...`` for a function). run_all and the tests execute the solution version.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from helpers.course.judges import (
    center_share,
    naive_inception,
    number,
    one_cycle,
    report_row,
    run_of,
    same_block,
    shape,
    standardize,
    vgg13_config,
    vgg_loop,
)
from helpers.models.googlenet import inception
from helpers.models.resnet import basic_block, bottleneck_block

__all__ = ["EXERCISES", "Exercise", "Verdict", "check"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, its kind, and a judge that returns None (right) or a hint (wrong)."""

    name: str
    notebook: str
    kind: str  # "predict", "code", "experiment"; "shown": a block the notebook writes in plain sight and checks
    judge: Callable[[object], str | None]
    explanation: str  # printed with [correct]


def _registry() -> dict[str, Exercise]:
    ex = [
        # 01: the data
        Exercise(
            "mnist_val_images",
            "01_data_loading.ipynb",
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
            "01_data_loading.ipynb",
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
            "01_data_loading.ipynb",
            "code",
            standardize,
            "(x / 255 - mean) / std, with statistics of the training split only.",
        ),
        Exercise(
            "cifar_pixels",
            "01_data_loading.ipynb",
            "predict",
            number(
                3072,
                "the numbers in one CIFAR-10 image",
                {1024: "that is one channel: there are three", 784: "784 = 28 x 28 is an MNIST digit"},
            ),
            "32 x 32 pixels x 3 channels, stored channel-major in the official files (1024 R, 1024 G, 1024 B).",
        ),
        # 02: VGG
        Exercise(
            "conv_params",
            "02_vgg.ipynb",
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
            "02_vgg.ipynb",
            "predict",
            shape((1, 1, 512), "VGG-16's last feature map on 32x32"),
            "Five 2x2 pools: 32 -> 16 -> 8 -> 4 -> 2 -> 1, and the last block has 512 channels.",
        ),
        Exercise(
            "vgg13_config", "02_vgg.ipynb", "code", vgg13_config, "VGG-13: two 3x3 convs in each of the five blocks."
        ),
        Exercise(
            "vgg_loop",
            "02_vgg.ipynb",
            "shown",
            vgg_loop,
            "A number adds a 3x3 conv + ReLU, 'M' a 2x2 max-pool: the whole VGG idea in a loop.",
        ),
        Exercise(
            "budget_images",
            "02_vgg.ipynb",
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
            "8 x 1,200 = 9,600 images seen, below 16,000: the small band (AdamW lr 1e-3, batch 32, flips "
            "without crops).",
        ),
        Exercise(
            "one_cycle_lr",
            "02_vgg.ipynb",
            "code",
            one_cycle,
            "Linear warm-up from peak/25 over the first 15% of steps, then a cosine down to peak/400.",
        ),
        Exercise(
            "vgg11_experiment",
            "02_vgg.ipynb",
            "experiment",
            run_of("model", "vgg11", "VGG-11"),
            f"Compare with report 2's VGG-11 ({report_row('Table IV', 'VGG11')}% on CIFAR-10, "
            f"{report_row('Table I', 'VGG11')}% on MNIST) at its budget, not ours.",
        ),
        # 03: ResNet
        Exercise(
            "bottleneck_params",
            "03_resnet.ipynb",
            "predict",
            number(
                71168,
                "an identity bottleneck block on 256 channels (width 64, no conv biases)",
                {
                    69632: "the convolutions are right; add the batch norms (4 parameters per channel: "
                    "scale, shift, moving mean, moving variance)"
                },
            ),
            "1x1 256->64, 3x3 64->64, 1x1 64->256 (69,632 weights) plus 3 batch norms (1,536): 71,168.",
        ),
        Exercise(
            "stage_shape",
            "03_resnet.ipynb",
            "predict",
            shape((16, 16, 128), "the output of ResNet-18's second stage (conv3) on a 32x32 image"),
            "Its first block has stride 2 (32 -> 16) and the width doubles to 128.",
        ),
        Exercise(
            "basic_block",
            "03_resnet.ipynb",
            "shown",
            same_block(
                basic_block,
                [((8, 8, 64), {"filters": 64, "stride": 1}), ((8, 8, 64), {"filters": 128, "stride": 2})],
                "basic block",
            ),
            "Two 3x3 conv-BN pairs plus the shortcut: identity, or a 1x1 conv + BN when the shape changes.",
        ),
        Exercise(
            "bottleneck_block",
            "03_resnet.ipynb",
            "shown",
            same_block(
                bottleneck_block,
                [((8, 8, 256), {"filters": 64, "stride": 1}), ((8, 8, 256), {"filters": 128, "stride": 2})],
                "bottleneck block",
            ),
            "1x1 reduce, 3x3 (with the stride), 1x1 expand to 4x the width, shortcut, ReLU.",
        ),
        Exercise(
            "plain_block",
            "03_resnet.ipynb",
            "code",
            same_block(
                lambda x, filters, stride=1, name=None: basic_block(x, filters, stride, False, name),
                [((8, 8, 64), {"filters": 64, "stride": 1}), ((8, 8, 64), {"filters": 128, "stride": 2})],
                "plain block",
                "two 3x3 conv-BN pairs without bias, ReLU after each, and no shortcut at all",
            ),
            "The basic block without its shortcut: what plain-18 and plain-34 are made of.",
        ),
        Exercise(
            "resnet34_layers",
            "03_resnet.ipynb",
            "predict",
            number(
                34,
                "the weight layers of ResNet-34 (blocks [3, 4, 6, 3])",
                {
                    16: "16 is the number of blocks: each has two 3x3 convs",
                    32: "32 convs in the blocks: add the stem conv and the final dense layer",
                    33: "add the final dense layer",
                },
            ),
            "16 basic blocks x 2 convs + the stem conv + the dense layer = 34 (shortcut projections are "
            "not counted, as in the paper).",
        ),
        Exercise(
            "plain_experiment",
            "03_resnet.ipynb",
            "experiment",
            run_of("model", "plain18", "plain-18"),
            "Plain and residual nets of the same depth: the degradation problem appears as depth grows.",
        ),
        # 04: GoogLeNet
        Exercise(
            "inception_channels",
            "04_googlenet.ipynb",
            "predict",
            number(
                256,
                "the output channels of inception 3a",
                {
                    192: "192 is its input; add the four branches' outputs",
                    320: "the 3x3 and 5x5 reductions (96, 16) are inside the branches",
                },
            ),
            "64 + 128 + 32 + 32 = 256: the concatenation adds the branches' channels.",
        ),
        Exercise(
            "reduction_params",
            "04_googlenet.ipynb",
            "predict",
            number(
                15872,
                "the 5x5 branch of 3a with its 1x1 reduction (192 -> 16 -> 32 channels, no biases)",
                {
                    153600: "that is the 5x5 conv straight from 192 channels: the point of the 1x1 is to avoid it",
                    12800: "add the 1x1 reduction itself: 192 x 16",
                },
            ),
            "192 x 16 + 5 x 5 x 16 x 32 = 15,872, against 153,600 without the reduction: ~10x fewer.",
        ),
        Exercise(
            "naive_inception",
            "04_googlenet.ipynb",
            "code",
            same_block(
                lambda x, f1, f3, f5, name=None: naive_inception(x, f1, f3, f5),
                [((16, 16, 192), {"f1": 64, "f3": 128, "f5": 32})],
                "naive inception module",
                "1x1, 3x3 and 5x5 'same' convs with bias and ReLU, a 3x3 stride-1 'same' max-pool",
            ),
            "Without 1x1 reductions: 416 channels out of 192 (the pool passes all 192 through) and 387,296 "
            "parameters, against 3a's 256 channels: the reason for the 1x1 convs.",
        ),
        Exercise(
            "inception_module",
            "04_googlenet.ipynb",
            "shown",
            same_block(
                lambda x, filters, name=None: inception(x, filters, name),
                [
                    ((16, 16, 192), {"filters": (64, 96, 128, 16, 32, 32)}),
                    ((8, 8, 256), {"filters": (128, 128, 192, 32, 96, 64)}),
                ],
                "inception module",
            ),
            "Four branches on the same input, concatenated on channels.",
        ),
        Exercise(
            "augment_experiment",
            "04_googlenet.ipynb",
            "experiment",
            run_of("augment", "none", "no augmentation"),
            "Report 2's Table VI compares GoogLeNet with and without augmentation.",
        ),
        # 06: what the network sees
        Exercise(
            "block3_pool_shape",
            "06_what_cnns_see.ipynb",
            "predict",
            shape((4, 4, 256), "VGG-16's block3_pool output on a 32x32 image"),
            "Three 2x2 pools: 32 -> 16 -> 8 -> 4, and block 3 has 256 channels.",
        ),
        Exercise(
            "gradcam_cell_pixels",
            "06_what_cnns_see.ipynb",
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
            "06_what_cnns_see.ipynb",
            "code",
            center_share,
            "The middle half (in height and width) holds a quarter of the pixels: a share far below 0.25 means "
            "the network looked around the object rather than at it.",
        ),
    ]
    return {e.name: e for e in ex}


EXERCISES: dict[str, Exercise] = _registry()


class Verdict(int):
    """What ``check`` returns: true when the answer is right. As a cell's last value it shows nothing (the check
    has printed its line), so a cell ending in ``check(...)`` has no ``Out: True``."""

    def __repr__(self) -> str:
        return repr(bool(self))

    def _ipython_display_(self) -> None:
        pass


def _unwritten(answer) -> bool:
    """True for a stub of the student version: a function whose body is only a docstring and ``...``."""
    if not inspect.isfunction(answer):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(answer)))
    except (OSError, TypeError, SyntaxError):  # no source (built in a string, say): judge it normally
        return False
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.FunctionDef) else None
    if not body:
        return False
    if (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis
    )


def check(name: str, answer) -> Verdict:
    """Check an exercise's answer: print [correct], [try again] with a hint, or [not answered]; true if right."""
    if name not in EXERCISES:
        print(f"[unknown exercise] {name!r}; exercises: {', '.join(EXERCISES)}")
        return Verdict(False)
    exercise = EXERCISES[name]
    if answer is Ellipsis or _unwritten(answer):
        print(f"[not answered] {name}: replace the ... with your answer, then run the cell again.")
        return Verdict(False)
    try:
        problem = exercise.judge(answer)
    except Exception as e:  # the student's code failed inside the check: say so, never crash the notebook
        problem = f"your code raised {type(e).__name__}: {e}"
    if problem:
        print(f"[try again] {name}: {problem}")
        return Verdict(False)
    print(f"[correct] {name}: {exercise.explanation}")
    return Verdict(True)
