"""Every number in the notebooks' text is tied to its source: a report's experiment or table row (the experiment
matrix, checked against the reports' text), a model's own parameter count, a split the kit computes, arithmetic
spelled out, a measurement of the kit's that the README states with its table, or a cited paper. Percentages,
counts with thousands separators, epochs, points and minutes are collected from every Markdown cell; each must be
in FACTS, and each fact is checked against its source: a number the kit's code holds or computes (a recipe's epochs,
a profile's images, a model's layer) is read from the code, so that the text and the code cannot drift apart."""

import inspect
import json
import math
import re
from functools import cache
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers.evaluation import count_flops, gradcam, gradcam_layer
from helpers.experiments import EXPERIMENTS, PROFILES, experiments_for, parameters_for
from helpers.experiments.budget import OFFICIAL_TRAIN_IMAGES, split_count, training_images
from helpers.experiments.recipes import MIDDLE_BUDGET, SMALL_BUDGET
from helpers.models import build_model, count_params, inference_model
from helpers.models.googlenet import INCEPTION, inception
from helpers.models.summary import tensor_sources
from helpers.runner.estimate import t4_minutes
from helpers.training import make_config
from helpers.training.loop import FINAL_RECALIBRATION_IMAGES

QUICK_SEEN = [
    params["epochs"] * params["train_size"]
    for params in (parameters_for(e, "quick", "out") for e in experiments_for("quick"))
    if "model" in params
]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The README and the docs/ pages it links to: the measurements the kit states, with their tables and machines.
README = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
NUMBER = re.compile(r"(?<![\w.,-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:\s?%| epochs?| points| min\b))")


def report(experiment: str):
    """A report's number for one experiment of the matrix (its Exp. or table row)."""
    return ("report", experiment)


def params(model: str, shape: tuple, which: str = "total"):
    """A model's parameter count, as the kit builds it."""
    return ("params", model, shape, which)


def value(number, why: str):
    """A number the code holds or computes (``number`` reads it: a constant, or a function called when the fact is
    checked, for what costs a model build), or arithmetic and definitions spelled out in ``why``."""
    return ("value", number, why)


def readme(why: str, computed=None):
    """A measurement of the kit's: the README states it (with its table and machine); ``computed``, where the code
    produces the number (images seen of a budget), is what the code gives for it."""
    return ("readme", why, computed)


def paper(citation: str):
    """A number from a paper, cited: the citation states the number itself, so that the text and its source are
    written out twice and a mistyped one is caught. For a statement (STATEMENTS below) the citation quotes its words."""
    return ("paper", citation)


def holds(check, why: str):
    """A property of the kit's code that a statement names (STATEMENTS below): ``check`` computes it, True when it
    holds."""
    return ("holds", check, why)


# What the code holds: the official sets, the recipes (report 1's and 2's settings as the kit encodes them), the
# quick profile.
MNIST_OFFICIAL, CIFAR_OFFICIAL = OFFICIAL_TRAIN_IMAGES["mnist"], OFFICIAL_TRAIN_IMAGES["cifar10"]
REPORT1_EXP1 = make_config("report1", "report_vgg16_mnist", "mnist")
REPORT1_EXP4 = make_config("report1", "report_resnet50", "cifar10")
BEST_CIFAR = make_config("best", "vgg11", "cifar10")
MNIST_TRAIN = training_images("mnist", REPORT1_EXP1["val_size"])
CIFAR_TRAIN = training_images("cifar10", BEST_CIFAR["val_size"])
QUICK_TRAIN = PROFILES["quick"]["train"]
QUICK_EPOCHS, QUICK_IMAGES = QUICK_TRAIN["epochs"], QUICK_TRAIN["train_size"]
EXP3_QUICK = parameters_for(EXPERIMENTS["r1_exp3_resnet50_mnist"], "quick", "out")
T4 = {kind: round(t4_minutes(kind)) for kind in ("data", "vgg", "resnet", "googlenet", "appendix", "interpret")}
EPOCHS = {
    "50 epochs": value(REPORT1_EXP1["epochs"], "report 1 trained every experiment for 50 epochs (its recipe)"),
    "10 epochs": value(make_config("report2", "vgg16", "cifar10")["epochs"], "report 2's 10 epochs (its recipe)"),
    "30 epochs": value(BEST_CIFAR["epochs"], "the best recipe's epochs on CIFAR-10 (helpers.experiments.recipes)"),
    "8 epochs": value(QUICK_EPOCHS, "the quick profile's epochs (helpers.experiments.profiles)"),
}
FULL_CIFAR = {"45,000": value(CIFAR_TRAIN, "CIFAR-10's 50,000 training images less a tenth for validation")}
QUICK = {"1,200": value(QUICK_IMAGES, "the quick profile's training images"), "8 epochs": EPOCHS["8 epochs"]}
REPORT_EPOCHS = {"50 epochs": EPOCHS["50 epochs"], "10 epochs": EPOCHS["10 epochs"]}


@cache
def course_model(name: str):
    return build_model(name, (32, 32, 3))


def googlenet_layer(name: str):
    return course_model("googlenet").get_layer(name)


def auxiliary_share() -> int:
    """The share (%) of the course GoogLeNet's trained parameters that only its two auxiliary heads hold."""
    full = count_params(course_model("googlenet"))["total"]
    return round(100 * (full - count_params(inference_model(course_model("googlenet")))["total"]) / full)


def images_seen(epochs: int, train_size: int, model: str = "vgg11"):
    """What the best recipe counts as a budget: epochs x training images (make_config's images_seen)."""
    return lambda: make_config("best", model, "cifar10", train_size=train_size, epochs=epochs)["images_seen"]


def exercise_steps() -> int:
    """The total steps 02's one-cycle exercise checks the student's schedule at (its judge's own run)."""
    from helpers.course.exercises.vgg import one_cycle

    seen = []
    one_cycle(lambda step, total, peak: seen.append(total))
    return seen[0]


def standard_error(p: float, n: int = 5000) -> float:
    """One standard error of an accuracy p measured on n images, in points."""
    return round(100 * (p * (1 - p) / n) ** 0.5, 2)


FACTS = {
    "01_data_loading.ipynb": {
        "70,000": value(MNIST_OFFICIAL + 10_000, "MNIST's training and test images"),
        "60,000": value(MNIST_OFFICIAL, "MNIST's training images (helpers.experiments.budget)"),
        "10,000": value(10_000, "MNIST's and CIFAR-10's test images"),
        "50,000": value(CIFAR_OFFICIAL, "CIFAR-10's training images (helpers.experiments.budget)"),
        "83%": report("r2_vgg19_mnist"),
        "99.33%": report("r1_exp1_vgg16_mnist"),
        "64.6%": report("r2_resnet18_sgd_cifar10"),
        "85.17%": report("r1_exp2_vgg16_cifar10"),
        "5,000": value(CIFAR_OFFICIAL // 10, "CIFAR-10's training images a class, and a tenth of them for validation"),
        "1,000": value(10_000 // 10, "CIFAR-10's test images a class"),
        "6,742": paper("MNIST's training set: 6,742 ones (LeCun et al., counted in 01's own table)"),
        "5,421": paper("MNIST's training set: 5,421 fives (LeCun et al., counted in 01's own table)"),
        "45,000": value(MNIST_TRAIN, "report 1's splits: 45,000 training images on both datasets"),
        "37,500": value(
            training_images("cifar10", REPORT1_EXP4["val_size"]), "report 1's Exp. 4: 50,000 less a quarter"
        ),
        "6,000": value(MNIST_OFFICIAL // 10, "a tenth of MNIST's training images"),
        "15,000": value(
            split_count(REPORT1_EXP1["val_size"], MNIST_OFFICIAL, "val_size"),
            "report 1's MNIST validation images: a quarter of 60,000",
        ),
        "0.4 points": value(round(standard_error(0.90), 1), "one standard error at 90% on 5,000 images"),
        "0.14 points": value(standard_error(0.99), "one standard error at 99% on 5,000 images"),
        "12,500": value(
            split_count(REPORT1_EXP4["val_size"], CIFAR_OFFICIAL, "val_size"),
            "report 1's Exp. 4 validation images: a quarter of 50,000",
        ),
        "2 min": value(T4["data"], "helpers.runner.estimate.t4_minutes('data')"),
    },
    "02_vgg.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        **QUICK,
        "30 epochs": EPOCHS["30 epochs"],
        "5 points": value(
            EXPERIMENTS["r2_vgg16_cifar10"].reported - EXPERIMENTS["r2_vgg11_cifar10"].reported,
            "report 2's VGG-16 against VGG-11 on CIFAR-10 (Table IV)",
        ),
        "12 min": value(T4["vgg"], "helpers.runner.estimate.t4_minutes('vgg')"),
        "50,000": value(50_000, "MNIST's training set as report 2's logs imply it"),
        "78.6%": report("r2_vgg16_cifar10"),
        "99.1%": report("r2_vgg16_mnist"),
        "98%": report("r2_vgg16_sgd_momentum_mnist"),
        "5,130": value(
            lambda: course_model("vgg11").get_layer("logits").count_params(),
            "a Dense(10) on 512 features: 5,120 weights and 10 biases (the course VGG's classifier)",
        ),
        "83%": report("r2_vgg19_mnist"),
        "99.33%": report("r1_exp1_vgg16_mnist"),
        "1,350,000": value(BEST_CIFAR["images_seen"], "30 epochs of 45,000 images (the best recipe's budget)"),
        "9,600": value(images_seen(QUICK_EPOCHS, QUICK_IMAGES), "the quick check's answer: 8 epochs of 1,200 images"),
        "6,000": value(min(QUICK_SEEN), "the smallest quick run's images seen (epochs x training images)"),
        "68,000": value(max(QUICK_SEEN), "the largest quick run's images seen (epochs x training images)"),
        "16,000": value(SMALL_BUDGET, "helpers.experiments.recipes.SMALL_BUDGET"),
        "1,853": readme("bench/tune.py's search: VGG-11 on 1,853 CIFAR-10 images"),
        "47.0%": readme("bench/tune.py's search: the winner's validation accuracy, AdamW lr 3e-4"),
        "42.0%": readme("bench/tune.py's search: the SGD settings' validation accuracy"),
        "43.0%": readme("bench/recipes.py: ResNet-18's validation accuracy with flips and crops"),
        "37.6%": readme("bench/recipes.py: ResNet-18's validation accuracy with flips alone"),
        "100,000": value(MIDDLE_BUDGET, "helpers.experiments.recipes.MIDDLE_BUDGET"),
        "14,824": readme("VGG-11, 8 epochs of 1,853: the small band won there", images_seen(8, 1853)),
        "18,000": readme("ResNet-18, 30 epochs of 600: the middle band won there", images_seen(30, 600, "resnet18")),
        "55,590": readme("VGG-11, 30 epochs of 1,853: the largest budget measured", images_seen(30, 1853)),
        "1,000": value(exercise_steps, "the exercise's run of 1,000 steps (helpers.course.exercises.vgg)"),
        "2,400": value(2 * QUICK_IMAGES, "twice the quick profile's training images"),
        "19,200": value(images_seen(QUICK_EPOCHS, 2 * QUICK_IMAGES), "8 epochs of 2,400 images"),
        "100%": value(100, "a probability of one"),
    },
    "03_resnet.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        **QUICK,
        "30 epochs": EPOCHS["30 epochs"],
        "17 min": value(T4["resnet"], "helpers.runner.estimate.t4_minutes('resnet')"),
        "70%": report("r1_exp4_resnet50_cifar10"),
        "27.94%": paper("He et al. 2016, Table 2 (10-crop, ImageNet validation): plain-18's top-1 error, 27.94%"),
        "27.88%": paper("He et al. 2016, Table 2 (10-crop, ImageNet validation): ResNet-18's top-1 error, 27.88%"),
        "37.4%": readme("the degradation study, 3 seeds: plain-20's training accuracy after 8 epochs of 1,200"),
        "15.4%": readme("the degradation study, 3 seeds: plain-56's training accuracy after 8 epochs of 1,200"),
        "22 points": readme("the degradation study: plain-56 below plain-20, mean of 3 seeds"),
        "42.5%": readme("the degradation study, 3 seeds: ResNet-56's training accuracy after 8 epochs of 1,200"),
        "27 points": readme("the degradation study: ResNet-56 above plain-56, mean of 3 seeds"),
        "46.2%": readme("the degradation study, 3 seeds: ResNet-20's training accuracy after 8 epochs of 1,200"),
        "1,700": value(EXP3_QUICK["train_size"], "the quick profile's MNIST training images for report 1's Exp. 3"),
        "25 epochs": readme("report 1's Exp. 3 on 1,700 images without augmentation: the run whose validation lagged"),
        "96%": readme("report 1's Exp. 3 in quick: training accuracy above 96% from epoch 4"),
        "94%": readme("report 1's Exp. 3 in quick: test accuracy once batch-norm statistics are re-estimated"),
        "2,048": value(FINAL_RECALIBRATION_IMAGES, "helpers.training.loop.FINAL_RECALIBRATION_IMAGES"),
        "37,500": value(
            training_images("cifar10", REPORT1_EXP4["val_size"]), "report 1's Exp. 4: 50,000 less a quarter"
        ),
        "12,500": value(
            split_count(REPORT1_EXP4["val_size"], CIFAR_OFFICIAL, "val_size"), "report 1's Exp. 4 validation images"
        ),
        "5,000": value(CIFAR_OFFICIAL // 10, "a tenth of CIFAR-10's training images"),
    },
    "04_googlenet.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        "30 epochs": EPOCHS["30 epochs"],
        "62 min": value(T4["googlenet"], "helpers.runner.estimate.t4_minutes('googlenet')"),
        "76.48%": report("r2_googlenet_sgd_cifar10"),
        "15,872": value(
            lambda: (
                googlenet_layer("inception_3a_5x5_reduce").count_params()
                + googlenet_layer("inception_3a_5x5").count_params()
            ),
            "3a's 5x5 branch with its 1x1 reduction: 192 x 16 + 5 x 5 x 16 x 32 (the kit's GoogLeNet)",
        ),
        "153,600": value(
            lambda: (
                5
                * 5
                * googlenet_layer("inception_3a_5x5_reduce").input.shape[-1]
                * googlenet_layer("inception_3a_5x5").filters
            ),
            "a 5x5 convolution from 3a's 192 input channels to its 32 (5 x 5 x 192 x 32)",
        ),
        "1,024": value(
            lambda: {googlenet_layer("logits").input.shape[-1], googlenet_layer("aux1_fc").units} == {1024} and 1024,
            "GoogLeNet's channels before its classifier, and the units of an auxiliary head's dense layer",
        ),
        "43%": value(auxiliary_share, "the two auxiliary heads' share of GoogLeNet's trained parameters"),
        "2,048": value(
            lambda: googlenet_layer("aux1_flatten").output.shape[-1], "an auxiliary head's 4x4x128 map, flattened"
        ),
    },
    "05_evaluation_appendix.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        **QUICK,
        "30 epochs": EPOCHS["30 epochs"],
        "2 points": value(2, "the questionnaire's example of a gap between two recipes"),
        "5 points": value(
            EXPERIMENTS["r2_vgg16_cifar10"].reported - EXPERIMENTS["r2_vgg11_cifar10"].reported,
            "report 2's VGG-16 against VGG-11 on CIFAR-10 (Table IV)",
        ),
        "2 min": value(T4["appendix"], "helpers.runner.estimate.t4_minutes('appendix')"),
        "35.6%": readme("ResNet-18, 8 epochs of 600, the best recipe's three seeds: the lowest test accuracy"),
        "38.8%": readme("ResNet-18, 8 epochs of 600, the best recipe's three seeds: the highest test accuracy"),
    },
    "06_what_cnns_see.ipynb": {
        "2 min": value(T4["interpret"], "helpers.runner.estimate.t4_minutes('interpret')"),
    },
}


def numbers_in_text(path: Path) -> dict[str, str]:
    """Every number of the kinds above in the notebook's Markdown, with a little of its context."""
    found = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            for m in NUMBER.finditer(text):
                found.setdefault(" ".join(m.group(1).split()), text[max(0, m.start() - 70) : m.end()])
    return found


def as_number(token: str) -> float:
    return float(re.sub(r"[^\d.]", "", token))


def check_fact(token: str, source: tuple) -> None:
    kind, *args = source
    if kind == "report":
        assert EXPERIMENTS[args[0]].reported == as_number(token), (token, args[0])
    elif kind == "params":
        model, shape, which = args
        assert count_params(build_model(model, shape))[which] == as_number(token), (token, model)
    elif kind == "value":
        number, why = args
        number = number() if callable(number) else number
        assert number == as_number(token), (token, number, why)
    elif kind == "readme":
        why, computed = args
        assert token in README, f"{token} ({why}) is not in the README"
        if computed is not None:
            assert computed() == as_number(token), (token, computed(), why)
    elif kind == "holds":
        check, why = args
        assert check(), f"{token}: {why}: not so in the code"
    else:
        assert kind == "paper" and token in args[0], f"{token}: the citation does not state it: {args[0]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_number_in_the_text_is_tied_to_its_source(path):
    found, facts = numbers_in_text(path), FACTS[path.name]
    untied = {t: context for t, context in found.items() if t not in facts}
    assert not untied, f"{path.name}: numbers without a source in FACTS: {untied}"
    for token in found:
        check_fact(token, facts[token])
    stale = sorted(set(facts) - set(found))
    assert not stale, f"{path.name}: FACTS lists numbers the text no longer has: {stale}"


def test_the_matrix_holds_the_reports_headline_numbers():
    """Report 1's four experiments (Exp. 1-4) and report 2's extremes, as the seeds state them."""
    by_name = {e.name: e.reported for e in EXPERIMENTS.values()}
    assert [
        by_name[f"r1_exp{i}_{m}"]
        for i, m in ((1, "vgg16_mnist"), (2, "vgg16_cifar10"), (3, "resnet50_mnist"), (4, "resnet50_cifar10"))
    ] == [99.33, 85.17, 98.96, 70.0]
    assert by_name["r2_vgg19_mnist"] == 83.0 and by_name["r2_resnet18_sgd_cifar10"] == 64.6
    assert by_name["r2_googlenet_sgd_cifar10"] == 76.48 and by_name["r2_vgg16_cifar10"] == 78.6


def test_a_mistyped_number_or_one_without_a_source_is_caught(tmp_path, monkeypatch):
    path = tmp_path / "03_resnet.ipynb"
    for text, error in (("Report 1 reached 70.1% on CIFAR-10.", "70.1%"), ("plain-56: 99 points.", "99 points")):
        path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": [text]}]}))
        with pytest.raises(AssertionError, match=re.escape(error)):
            test_every_number_in_the_text_is_tied_to_its_source(path)
    monkeypatch.setitem(FACTS, "03_resnet.ipynb", {"70%": report("r1_exp3_resnet50_mnist")})  # the wrong row
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": ["It stopped at 70%."]}]}))
    with pytest.raises(AssertionError, match="r1_exp3"):
        test_every_number_in_the_text_is_tied_to_its_source(path)


# ------------------------------------------------------------------------------ the statements the text makes
# A statement of the notebooks' text (Markdown, model answers included) found by a pattern: the number its group
# captures is checked against its source as FACTS are; a statement without a number is a paper's, its citation quoting
# the words the pattern finds, or a property of the kit's code that ``holds`` computes. WITHDRAWN: what the text once
# said, wrong or misleading (issue 37), and must not say again.


@cache
def flops(model: str, shape: tuple) -> int:
    """The kit's count of a model's floating-point operations per image (helpers.evaluation.count_flops)."""
    return count_flops(build_model(model, shape))


def resized_over_cifar_stem() -> int:
    """Report 1's ImageNet-stem ResNet-50 on images resized to 224x224, over the kit's CIFAR-stem one on 32x32."""
    return round(flops("report_resnet50", (224, 224, 3)) / flops("resnet50", (32, 32, 3)))


def receptive_field(model, layer: str) -> int:
    """Image pixels per side that one unit of ``layer`` depends on, the widest path through the graph: each k x k
    window (convolution or pool) widens it by k - 1 times the distance between its input's units, a stride multiplies
    that distance."""
    inbound = {entry["name"]: entry.get("inbound_nodes", []) for entry in model.get_config()["layers"]}
    field = {}  # layer -> (receptive field, distance between its units), in image pixels
    for each in model.layers:
        size, jump = max([field[s.split("[")[0]] for s in tensor_sources(inbound[each.name])] or [(1, 1)])
        if isinstance(each, keras.layers.Conv2D | keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
            k = each.kernel_size[0] if isinstance(each, keras.layers.Conv2D) else each.pool_size[0]
            size, jump = size + (k - 1) * jump, jump * each.strides[0]
        field[each.name] = (size, jump)
    return field[layer][0]


def gradcam_map(model: str = "resnet18"):
    """The layer whose maps Grad-CAM reads in a course model on 32x32 images (helpers.evaluation.gradcam_layer)."""
    return course_model(model).get_layer(gradcam_layer(course_model(model)))


def batch_norm_after_every_conv(model: str) -> int | None:
    """The number of convolutions of a course model when a batch norm reads each of them, else None."""
    m = course_model(model)
    inbound = {entry["name"]: entry.get("inbound_nodes", []) for entry in m.get_config()["layers"]}
    convs = {layer.name for layer in m.layers if isinstance(layer, keras.layers.Conv2D)}
    normed = {
        source
        for layer in m.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for source in tensor_sources(inbound[layer.name])
    }
    return len(convs) if convs <= normed else None


def gradcam_maps_peak_at_one() -> bool:
    """Each Grad-CAM map is divided by its own maximum: every map peaks at 1, and scaling the class scores by 1e-3
    (a gradient a thousand times smaller) leaves the maps as they were."""
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")

    def tiny():
        x = keras.Input((8, 8, 3))
        maps = keras.layers.Conv2D(6, 3, padding="same", name="maps")(x)
        logits = keras.layers.Dense(3, name="logits")(keras.layers.GlobalAveragePooling2D()(maps))
        return keras.Model(x, keras.layers.Activation("softmax")(logits))

    model, scaled = tiny(), tiny()
    conv_kernel, conv_bias, dense_kernel, dense_bias = model.get_weights()
    scaled.set_weights([conv_kernel, conv_bias, dense_kernel * 1e-3, dense_bias * 1e-3])
    big, small = (gradcam(m, images, layer="maps", upsample=False) for m in (model, scaled))
    peaks = big.max(axis=(1, 2))
    return bool(np.allclose(peaks[peaks > 0], 1.0) and np.allclose(big, small, atol=1e-4))


def reductions_factor() -> float:
    """Module 3a's convolution weights without its 1x1 reductions (the paper's naive module, Fig. 2(a)) over those
    of the kit's module, counted on the built layers."""
    channels, (f1, _, f3, _, f5, _) = 192, INCEPTION["3a"]
    inputs = keras.Input((32, 32, channels))
    module = keras.Model(inputs, inception(inputs, INCEPTION["3a"], "facts_3a"))
    reduced = sum(math.prod(layer.kernel.shape) for layer in module.layers if isinstance(layer, keras.layers.Conv2D))
    return round(channels * (f1 + 9 * f3 + 25 * f5) / reduced, 1)


def last_map_positions(shape: tuple) -> int:
    """Height x width of the course GoogLeNet's last inception map on images of ``shape``."""
    h, w = build_model("googlenet", shape).get_layer("inception_5b_output").output.shape[1:3]
    return h * w


VGG_DEPTH_GAIN = value(
    EXPERIMENTS["r2_vgg16_cifar10"].reported - EXPERIMENTS["r2_vgg11_cifar10"].reported,
    "report 2's VGG-16 against VGG-11 on CIFAR-10 (Table IV): depth helped there",
)
STATEMENTS = {
    "02_vgg.ipynb": {
        r"possible to initialise the weights without pre-training": paper(
            'Simonyan and Zisserman 2015, Sec. 3.1: "after the paper submission we found that it is possible to '
            "initialise the weights without pre-training by using the random initialisation procedure of Glorot & "
            'Bengio (2010)"'
        ),
        r"plain-56 has a batch norm after each of its (\d+) convolutions": value(
            lambda: batch_norm_after_every_conv("plain56"), "the course plain-56: a batch norm reads every convolution"
        ),
        r"VGG-16 tested (\d+) points above its VGG-11": VGG_DEPTH_GAIN,
    },
    "03_resnet.ipynb": {
        r"at about (\d+) times the computation of the CIFAR-stem ResNet-50": value(
            resized_over_cifar_stem, "count_flops: report_resnet50 on 224x224 over resnet50 on 32x32 (7.7 / 2.6 G)"
        ),
        r"would cost about (\d+) times the CIFAR-stem network's operations": value(
            resized_over_cifar_stem, "count_flops: report_resnet50 on 224x224 over resnet50 on 32x32"
        ),
        r"about (\d+) times the ImageNet stem's operations": value(
            lambda: round(flops("resnet50", (32, 32, 3)) / flops("report_resnet50", (32, 32, 3))),
            "count_flops: resnet50 (CIFAR stem) over report_resnet50 (ImageNet stem), both on 32x32 (2.6 / 0.15 G)",
        ),
        r"still performs identity mapping, with extra zero entries padded": paper(
            'He et al. 2016, Sec. 3.3: "(A) The shortcut still performs identity mapping, with extra zero entries '
            "padded for increasing dimensions. [...] (B) The projection shortcut in Eqn.(2) is used to match "
            'dimensions (done by 1x1 convolutions)."'
        ),
        r"the 18-layer ResNet converges faster": paper(
            'He et al. 2016, Sec. 4.1: "the 18-layer plain/residual nets are comparably accurate (Table 2), but the '
            '18-layer ResNet converges faster (Fig. 4 right vs. left)"'
        ),
        r"top-1 validation error": paper(
            'He et al. 2016, Table 2: "Top-1 error (%, 10-crop testing) on ImageNet validation", a top-1 validation '
            "error"
        ),
    },
    "04_googlenet.ipynb": {
        r"asynchronous stochastic gradient descent with 0.9 momentum": paper(
            'Szegedy et al. 2015, Sec. 6: "Our training used asynchronous stochastic gradient descent with 0.9 '
            'momentum", without batch normalisation (Ioffe and Szegedy introduced it afterwards)'
        ),
        r"By a factor of about (\d+\.\d), both": value(
            reductions_factor, "module 3a's convolution weights, naive over the kit's built module"
        ),
        r"About (\d+) times \(the biases aside\)": value(
            lambda: last_map_positions((32, 32, 3)), "the positions of GoogLeNet's last map on 32x32 (8 x 8)"
        ),
        r"the last map is 7x7: (\d+) times": value(
            lambda: last_map_positions((28, 28, 1)), "the positions of GoogLeNet's last map on MNIST (7 x 7)"
        ),
    },
    "05_evaluation_appendix.ipynb": {
        r"VGG-16 tested (\d+) points above its VGG-11": VGG_DEPTH_GAIN,
    },
    "06_what_cnns_see.ipynb": {
        r"the deepest maps at least (\d+) pixels high": value(
            inspect.signature(gradcam_layer).parameters["min_size"].default, "gradcam_layer's min_size"
        ),
        r"Neighbouring cells are (\d+) pixels apart": value(
            lambda: 32 // gradcam_map().output.shape[1], "ResNet-18's Grad-CAM map on 32x32: 32 pixels over its 4 cells"
        ),
        r"ResNet-18 stacks (\d+) of them": value(
            lambda: sum(
                isinstance(layer, keras.layers.Conv2D) and tuple(layer.kernel_size) == (3, 3)
                for layer in course_model("resnet18").layers
            ),
            "the course ResNet-18's 3x3 convolutions: the stem's and two in each of its 8 basic blocks",
        ),
        r"receptive field (?:of )?(\d+)x\1 pixels": value(
            lambda: receptive_field(course_model("resnet18"), gradcam_map().name),
            "the receptive field of ResNet-18's Grad-CAM layer, computed from the built model's graph",
        ),
        r"more than (\d+) times the image's side": value(
            lambda: receptive_field(course_model("resnet18"), gradcam_map().name) // 32,
            "109 // 32: the receptive field over the image's side",
        ),
        r"divided by its own maximum": holds(gradcam_maps_peak_at_one, "helpers.evaluation.gradcam scales each map"),
        r"before the softmax": paper(
            'Selvaraju et al. 2017, Sec. 3: "we first compute the gradient of the score for class c, y^c (before the '
            'softmax)"'
        ),
    },
}
WITHDRAWN = {
    "02_vgg.ipynb": {
        "had to train its deeper nets": "VGG did not have to: Glorot initialisation worked without pre-training",
        "neither vanish nor explode": "batch norm does not make depth harmless: 03's plain-56 has it and degrades",
        "a deeper network would make it worse": "not a rule: depth can help (report 2's VGG-16 above its VGG-11)",
    },
    "03_resnet.ipynb": {
        "49 times": "(224/32)^2 compares the ImageNet stem with itself; against the CIFAR stem resizing costs 3x",
        "shortcut becomes a *projection*": "option A is an identity with zero padding; projection is the 1x1 conv",
        "their 56-layer *plain* network": "Exercise 5's pair and its answer named above the prediction",
    },
    "04_googlenet.ipynb": {
        "lets the network train from scratch": "GoogLeNet trained from scratch without batch norm",
    },
    "05_evaluation_appendix.ipynb": {
        "Not a deeper network.": "not a rule: depth can help (report 2's VGG-16 above its VGG-11)",
    },
    "06_what_cnns_see.ipynb": {
        "stands for an 8x8": "8 pixels is the stride; each cell's receptive field covers the whole image",
        "heatmap would be almost empty": "each map is divided by its own maximum; the softmax mixes in other classes",
        "still have a spatial layout": "gradcam_layer picks the deepest map at least 4 pixels high",
    },
}


def markdown_text(path: Path) -> str:
    """The notebook's Markdown, model answers included, every run of whitespace one space."""
    cells = json.loads(path.read_text())["cells"]
    return " ".join(" ".join("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_statement_is_tied_to_its_source_and_none_withdrawn_is_back(path):
    text = markdown_text(path)
    for pattern, source in STATEMENTS.get(path.name, {}).items():
        found = list(re.finditer(pattern, text))
        assert found, f"{path.name}: the text no longer states {pattern!r}: update STATEMENTS with it"
        for m in found:
            check_fact(m.group(1) if m.groups() else m.group(0), source)
    back = {phrase: why for phrase, why in WITHDRAWN.get(path.name, {}).items() if phrase in text}
    assert not back, f"{path.name}: withdrawn statements are back: {back}"


def test_a_wrong_statement_or_a_withdrawn_one_is_caught(tmp_path, monkeypatch):
    path = tmp_path / "03_resnet.ipynb"
    pattern = r"at about (\d+) times the computation of the CIFAR-stem ResNet-50"
    monkeypatch.setitem(STATEMENTS, "03_resnet.ipynb", {pattern: STATEMENTS["03_resnet.ipynb"][pattern]})
    for text, error in (
        ("at about 49 times the computation of the CIFAR-stem ResNet-50", "49"),
        ("at about 3 times the computation of the CIFAR-stem ResNet-50, not the 49 times of the stem", "49 times"),
        ("resizing costs more", "no longer states"),
    ):
        path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": [text]}]}))
        with pytest.raises(AssertionError, match=re.escape(error)):
            test_every_statement_is_tied_to_its_source_and_none_withdrawn_is_back(path)


# ----------------------------------------------------------------------- the README's statements of the profiles

README_TEXT = README  # the README and the docs/ pages it links to (the profiles' page holds these tables)
QUICK_RUNS = {
    e.name: parameters_for(e, "quick", "out") for e in experiments_for("quick") if "model" in e.params
}  # the quick profile's training runs, with the parameters run_all gives their notebooks


def table_row(first_cell: str) -> list[str]:
    """The cells of the table row (README or docs/) that starts with ``first_cell``."""
    line = next(line for line in README_TEXT.splitlines() if line.startswith(f"| {first_cell} |"))
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_the_readmes_profile_rows_are_what_the_profiles_run():
    """The profiles table: quick's images, splits and epochs per model as run_all passes them to the notebooks."""
    data, runs = table_row("`quick` (default)")[1:3]
    m = re.search(
        r"([\d,]+) training \(MNIST ([\d,]+)\) / ([\d,]+) validation / ([\d,]+) test images, (\d+) epochs "
        r"\((\d+) for GoogLeNet, (\d+) for VGG-11 and VGG-16, (\d+) for ResNet-50 on MNIST",
        data,
    )
    assert m, data
    cifar, mnist, val, test, epochs, googlenet, vgg, resnet50 = (int(as_number(g)) for g in m.groups())
    for name, p in QUICK_RUNS.items():
        assert p["train_size"] == (mnist if p["dataset"] == "mnist" else cifar), name
        assert (p["val_size"], p["test_size"]) == (val, test), name
        want = {"googlenet": googlenet, "vgg11": vgg, "vgg16": vgg, "report_resnet50": resnet50}.get(p["model"], epochs)
        assert p["epochs"] == want, name
    assert int(re.search(r"(\d+) training runs", runs).group(1)) == len(QUICK_RUNS)
    smoke = table_row("`smoke`")[1]
    m = re.fullmatch(r"synthetic, (\d+) training images, (\d+) epochs?", smoke)
    assert m, smoke
    assert PROFILES["smoke"]["train"]["synthetic"] is True
    assert (PROFILES["smoke"]["train"]["train_size"], PROFILES["smoke"]["train"]["epochs"]) == tuple(
        int(g) for g in m.groups()
    )


def test_the_readmes_quick_results_table_states_each_runs_budget_as_run_all_runs_it():
    """ "40 epochs of 1,700", "last epoch", "batch 128": each row of quick's measured results against the parameters
    run_all gives that experiment in quick and the recipe it runs."""
    lines = README_TEXT.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| experiment | recipe, budget in `quick`"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, budget = (cell.strip() for cell in line.strip("|").split("|")[:2])
        rows[name] = budget
    assert set(rows) == set(QUICK_RUNS), "the table is quick's training runs, each once"
    for name, budget in rows.items():
        p = QUICK_RUNS[name]
        config = make_config(
            p["recipe"], p["model"], p["dataset"], **{k: p[k] for k in ("epochs", "train_size", "val_size")}
        )
        m = re.search(r"(\d+) epochs(?: of ([\d,]+))?", budget)
        assert m and int(m.group(1)) == p["epochs"], (name, budget, p["epochs"])
        if m.group(2):
            assert as_number(m.group(2)) == p["train_size"], (name, budget, p["train_size"])
        selection = p.get("select_epoch") or config["select_epoch"]
        if "last epoch" in budget or "best validation epoch" in budget:
            assert selection == ("last" if "last epoch" in budget else "best_val"), (name, budget, selection)
        batch = re.search(r"batch (\d+)", budget)
        if batch:
            assert int(batch.group(1)) == config["batch_size"], (name, budget, config["batch_size"])
