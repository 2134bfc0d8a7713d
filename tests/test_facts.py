"""Every number in the notebooks' text is tied to its source: a report's experiment or table row (the experiment
matrix, checked against the reports' text), a model's own parameter count, a split the kit computes, arithmetic
spelled out, a measurement of the kit's that the README states with its table, or a cited paper. Percentages,
counts with thousands separators, epochs, points and minutes are collected from every Markdown cell; each must be
in FACTS, and each fact is checked against its source."""

import json
import re
from pathlib import Path

import pytest

from helpers.experiments import EXPERIMENTS, experiments_for, parameters_for
from helpers.experiments.budget import training_images
from helpers.models import build_model, count_params
from helpers.runner.estimate import t4_minutes

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


def value(number: float, why: str):
    """Arithmetic or a definition, spelled out in ``why``."""
    return ("value", number, why)


def readme(why: str):
    """A measurement of the kit's: the README states it (with its table and machine)."""
    return ("readme", why)


def paper(citation: str):
    """A number from a paper or from a report's text, cited."""
    return ("paper", citation)


MNIST_TRAIN, CIFAR_TRAIN = training_images("mnist", 0.25), training_images("cifar10", 0.1)
T4 = {kind: round(t4_minutes(kind)) for kind in ("data", "vgg", "resnet", "googlenet", "appendix", "interpret")}
EPOCHS = {
    "50 epochs": paper("report 1 trained every experiment for 50 epochs"),
    "10 epochs": paper("report 2 trained every row for 10 epochs"),
    "30 epochs": value(30, "the best recipe's epochs on CIFAR-10 (helpers.experiments.recipes)"),
    "8 epochs": value(8, "the quick profile's epochs (helpers.experiments.profiles)"),
}
FULL_CIFAR = {"45,000": value(CIFAR_TRAIN, "CIFAR-10's 50,000 training images less a tenth for validation")}
QUICK = {"1,200": value(1200, "the quick profile's training images"), "8 epochs": EPOCHS["8 epochs"]}
REPORT_EPOCHS = {"50 epochs": EPOCHS["50 epochs"], "10 epochs": EPOCHS["10 epochs"]}


def standard_error(p: float, n: int = 5000) -> float:
    """One standard error of an accuracy p measured on n images, in points."""
    return round(100 * (p * (1 - p) / n) ** 0.5, 2)


FACTS = {
    "01_data_loading.ipynb": {
        "70,000": value(60_000 + 10_000, "MNIST's training and test images"),
        "60,000": value(60_000, "MNIST's training images (helpers.experiments.budget)"),
        "10,000": value(10_000, "MNIST's and CIFAR-10's test images"),
        "50,000": value(50_000, "CIFAR-10's training images (helpers.experiments.budget)"),
        "83%": report("r2_vgg19_mnist"),
        "99.33%": report("r1_exp1_vgg16_mnist"),
        "64.6%": report("r2_resnet18_sgd_cifar10"),
        "85.17%": report("r1_exp2_vgg16_cifar10"),
        "5,000": value(50_000 // 10, "CIFAR-10's training images a class, and a tenth of them for validation"),
        "1,000": value(10_000 // 10, "CIFAR-10's test images a class"),
        "6,742": paper("MNIST's training set: 6,742 ones (LeCun et al., counted in 01's own table)"),
        "5,421": paper("MNIST's training set: 5,421 fives (LeCun et al., counted in 01's own table)"),
        "45,000": value(MNIST_TRAIN, "report 1's splits: 45,000 training images on both datasets"),
        "37,500": value(training_images("cifar10", 0.25), "report 1's Exp. 4: 50,000 less a quarter"),
        "6,000": value(60_000 // 10, "a tenth of MNIST's training images"),
        "15,000": value(60_000 // 4, "report 1's MNIST validation images: a quarter of 60,000"),
        "0.4 points": value(round(standard_error(0.90), 1), "one standard error at 90% on 5,000 images"),
        "0.14 points": value(standard_error(0.99), "one standard error at 99% on 5,000 images"),
        "12,500": value(50_000 // 4, "report 1's Exp. 4 validation images: a quarter of 50,000"),
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
        "5,130": value(512 * 10 + 10, "a Dense(10) on 512 features: 5,120 weights and 10 biases"),
        "83%": report("r2_vgg19_mnist"),
        "99.33%": report("r1_exp1_vgg16_mnist"),
        "1,350,000": value(30 * CIFAR_TRAIN, "30 epochs of 45,000 images"),
        "9,600": value(8 * 1200, "the quick check's answer: 8 epochs of 1,200 images"),
        "6,000": value(min(QUICK_SEEN), "the smallest quick run's images seen (epochs x training images)"),
        "68,000": value(max(QUICK_SEEN), "the largest quick run's images seen (epochs x training images)"),
        "16,000": value(16_000, "helpers.experiments.recipes.SMALL_BUDGET"),
        "1,853": readme("bench/tune.py's search: VGG-11 on 1,853 CIFAR-10 images"),
        "47.0%": readme("bench/tune.py's search: the winner's validation accuracy, AdamW lr 3e-4"),
        "42.0%": readme("bench/tune.py's search: the SGD settings' validation accuracy"),
        "43.0%": readme("bench/recipes.py: ResNet-18's validation accuracy with flips and crops"),
        "37.6%": readme("bench/recipes.py: ResNet-18's validation accuracy with flips alone"),
        "100,000": value(100_000, "helpers.experiments.recipes.MIDDLE_BUDGET"),
        "14,824": readme("VGG-11, 8 epochs of 1,853: the small band won there"),
        "18,000": readme("ResNet-18, 30 epochs of 600: the middle band won there"),
        "55,590": readme("VGG-11, 30 epochs of 1,853: the largest budget measured"),
        "1,000": value(1000, "the exercise's run of 1,000 steps"),
        "2,400": value(2 * 1200, "twice the quick profile's training images"),
        "19,200": value(8 * 2400, "8 epochs of 2,400 images"),
        "100%": value(100, "a probability of one"),
    },
    "03_resnet.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        **QUICK,
        "30 epochs": EPOCHS["30 epochs"],
        "17 min": value(T4["resnet"], "helpers.runner.estimate.t4_minutes('resnet')"),
        "70%": report("r1_exp4_resnet50_cifar10"),
        "27.94%": paper("He et al. 2016, Table 2: plain-18's top-1 error on ImageNet"),
        "27.88%": paper("He et al. 2016, Table 2: ResNet-18's top-1 error on ImageNet"),
        "37.4%": readme("the degradation study, 3 seeds: plain-20's training accuracy after 8 epochs of 1,200"),
        "15.4%": readme("the degradation study, 3 seeds: plain-56's training accuracy after 8 epochs of 1,200"),
        "22 points": readme("the degradation study: plain-56 below plain-20, mean of 3 seeds"),
        "42.5%": readme("the degradation study, 3 seeds: ResNet-56's training accuracy after 8 epochs of 1,200"),
        "27 points": readme("the degradation study: ResNet-56 above plain-56, mean of 3 seeds"),
        "46.2%": readme("the degradation study, 3 seeds: ResNet-20's training accuracy after 8 epochs of 1,200"),
        "1,700": value(1700, "the quick profile's MNIST training images for report 1's Exp. 3"),
        "25 epochs": readme("report 1's Exp. 3 on 1,700 images without augmentation: the run whose validation lagged"),
        "96%": readme("report 1's Exp. 3 in quick: training accuracy above 96% from epoch 4"),
        "94%": readme("report 1's Exp. 3 in quick: test accuracy once batch-norm statistics are re-estimated"),
        "2,048": value(2048, "helpers.training.loop.FINAL_RECALIBRATION_IMAGES"),
        "37,500": value(training_images("cifar10", 0.25), "report 1's Exp. 4: 50,000 less a quarter"),
        "12,500": value(50_000 // 4, "report 1's Exp. 4 validation images"),
        "5,000": value(50_000 // 10, "a tenth of CIFAR-10's training images"),
    },
    "04_googlenet.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        "30 epochs": EPOCHS["30 epochs"],
        "62 min": value(T4["googlenet"], "helpers.runner.estimate.t4_minutes('googlenet')"),
        "76.48%": report("r2_googlenet_sgd_cifar10"),
        "15,872": value(192 * 16 + 5 * 5 * 16 * 32, "3a's 5x5 branch with its 1x1 reduction"),
        "153,600": value(5 * 5 * 192 * 32, "a 5x5 convolution from 192 to 32 channels"),
        "1,024": value(1024, "GoogLeNet's channels before its classifier"),
    },
    "05_evaluation_appendix.ipynb": {
        **REPORT_EPOCHS,
        **FULL_CIFAR,
        **QUICK,
        "30 epochs": EPOCHS["30 epochs"],
        "2 points": value(2, "the questionnaire's example of a gap between two recipes"),
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
        assert args[0] == as_number(token), (token, args)
    elif kind == "readme":
        assert token in README, f"{token} ({args[0]}) is not in the README"
    else:
        assert kind == "paper" and args[0], source


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
