"""Every number in the notebooks' text is tied to its source: a report's experiment or table row (the experiment
matrix, checked against the reports' text), a model's own parameter count, a split the kit computes, arithmetic
spelled out, a measurement of the kit's that the README states with its table, or a cited paper. Percentages,
counts with thousands separators, epochs, points and minutes are collected from every Markdown cell; each must be
in FACTS, and each fact is checked against its source: a number the kit's code holds or computes (a recipe's epochs,
a profile's images, a model's layer) is read from the code, so that the text and the code cannot drift apart."""

import json
import re
from functools import cache
from pathlib import Path

import pytest

from helpers.experiments import EXPERIMENTS, PROFILES, experiments_for, parameters_for
from helpers.experiments.budget import OFFICIAL_TRAIN_IMAGES, split_count, training_images
from helpers.experiments.recipes import MIDDLE_BUDGET, SMALL_BUDGET
from helpers.models import build_model, count_params
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
    written out twice and a mistyped one is caught."""
    return ("paper", citation)


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
        "27.94%": paper("He et al. 2016, Table 2: plain-18's top-1 error on ImageNet, 27.94%"),
        "27.88%": paper("He et al. 2016, Table 2: ResNet-18's top-1 error on ImageNet, 27.88%"),
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
        "1,024": value(lambda: googlenet_layer("logits").input.shape[-1], "GoogLeNet's channels before its classifier"),
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
        number, why = args
        number = number() if callable(number) else number
        assert number == as_number(token), (token, number, why)
    elif kind == "readme":
        why, computed = args
        assert token in README, f"{token} ({why}) is not in the README"
        if computed is not None:
            assert computed() == as_number(token), (token, computed(), why)
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
