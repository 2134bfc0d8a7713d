"""run_all's console: the estimate of a job on this machine, and the progress of its running experiments read from
their run directories (a line per epoch in logs, tqdm bars on a terminal)."""

import io

import pandas as pd
import pytest

from helpers.evaluation import count_flops
from helpers.experiments import EXPERIMENTS, parameters_for
from helpers.models import MODEL_NAMES, build_model
from helpers.runner import estimate
from helpers.runner.console import Console
from helpers.runs import RunDir


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_estimates_flops_are_the_models_own(name):
    assert estimate.FORWARD_GFLOPS[name] == round(count_flops(build_model(name, (32, 32, 3))) / 1e9, 3)


def test_an_experiment_costs_its_notebook_its_training_and_its_exercises():
    exp = EXPERIMENTS["r2_vgg16_cifar10"]
    quick = parameters_for(exp, "quick", "out")
    base = estimate.reference_seconds(exp, quick)
    longer = estimate.reference_seconds(exp, {**quick, "epochs": 20})
    with_exercise = estimate.reference_seconds(exp, {**quick, "experiment_exercises": True})
    per_epoch = (longer - base) / (20 - quick["epochs"])
    # an epoch: its training images, its validation images and the batch-norm re-estimate (forward: a third each)
    assert per_epoch == pytest.approx((1200 + 300 / 3 + 512 / 3) / estimate.TRAIN_IMAGES_PER_S["vgg16"])
    assert with_exercise > base and base > estimate.NOTEBOOK_SECONDS["vgg"]
    full = estimate.reference_seconds(exp, parameters_for(exp, "full", "out"))
    assert full > 20 * base  # 10 epochs of 45,000 images, not 1,200
    assert estimate.reference_seconds(EXPERIMENTS["evaluation_appendix"], {}) == estimate.NOTEBOOK_SECONDS["appendix"]


def test_the_estimate_scales_with_this_machine_and_names_faster_choices_past_an_hour():
    jobs = [(EXPERIMENTS[n], parameters_for(EXPERIMENTS[n], "full", "out")) for n in ("r2_vgg16_cifar10",)]
    reference = estimate.Estimate(jobs, speed=estimate.MachineSpeed.reference())
    slow = estimate.Estimate(jobs, speed=estimate.MachineSpeed.reference(0.5))
    fast = estimate.Estimate(jobs, speed=estimate.MachineSpeed(1e6, 1e6))
    assert reference.total == pytest.approx(estimate.reference_seconds(*jobs[0]))
    assert slow.total == pytest.approx(2 * reference.total)
    assert fast.scales == (0.25, 0.25)  # no machine is estimated more than 4x faster than the reference
    # Training follows all cores, the rest (graph building, notebooks) one core: more cores, only training faster.
    training, rest = estimate.reference_parts(*jobs[0])
    many_cores = estimate.Estimate(
        jobs, speed=estimate.MachineSpeed(2 * estimate.REFERENCE_GFLOPS, estimate.REFERENCE_GFLOPS_ONE_CORE)
    )
    assert training > rest > 0 and many_cores.total == pytest.approx(training / 2 + rest)
    lines = slow.lines()
    assert lines[0].startswith("Estimated time on this machine: ") and "GFLOP/s on all cores" in lines[0]
    if not slow.gpu:
        assert "--profile smoke" in lines[1] and "--only" in lines[1] and "GPU" in lines[1]
    assert estimate.machine_gflops(n=256, repeats=2) > 0 and estimate.machine_gflops(n=256, repeats=2, threads=1) > 0


def test_the_course_takes_under_two_hours_on_a_t4():
    minutes = {kind: estimate.t4_minutes(kind) for kind in estimate.DEFAULT_TRAINING}
    assert sum(minutes.values()) < 120 and max(minutes, key=minutes.get) == "googlenet"


def write_epoch(run: RunDir, epoch: int, val: float, seconds: float = 10.0) -> None:
    rows = run.history().to_dict("records") if (run / RunDir.HISTORY).is_file() else []
    rows.append({"epoch": epoch, "accuracy": 0.5, "val_accuracy": val, "epoch_seconds": seconds})
    run.write_csv(RunDir.HISTORY, pd.DataFrame(rows))


def test_a_line_per_epoch_with_the_time_left_and_at_the_end_estimate_against_actual(tmp_path):
    stream = io.StringIO()
    console = Console({"a": 100.0, "b": 50.0}, tmp_path, stream=stream, live=False, every=0)
    console.started(EXPERIMENTS["r2_vgg16_cifar10"].__class__("a", "02_vgg.ipynb"))
    console.tick()
    assert stream.getvalue() == ""  # nothing before the first epoch
    run = RunDir(tmp_path, "a").create()
    run.write_json(RunDir.CONFIG, {"epochs": 4})
    write_epoch(run, 1, 0.25, seconds=30.0)
    write_epoch(run, 2, 0.5)
    console.tick()
    line = stream.getvalue().strip()
    assert line.startswith("a: epoch 2/4, val_accuracy 50.0%, this run ~20 s left") and "the job ~" in line
    assert console.run_left("a") == 20.0  # two epochs at the pace of the second (the first builds the graph)
    assert console.job_left() == 20.0 + 50.0  # b not started: its estimate
    console.tick()
    assert stream.getvalue().count("\n") == 1  # no new epoch, no new line
    console.finished("a", 200.0)
    assert console.job_left() == 2 * 50.0  # a took twice its estimate: b probably will too
    table = console.comparison()
    assert table.to_dict("records") == [
        {"experiment": "a", "estimated_s": 100, "actual_s": 200, "actual/estimated": 2.0}
    ]
    console.finished("b", None)  # done elsewhere: nothing left to wait for
    assert console.job_left() == 0


def test_on_a_terminal_a_bar_per_running_experiment(tmp_path):
    stream = io.StringIO()
    console = Console({"a": 100.0}, tmp_path, stream=stream, live=True, every=0)
    console.started(EXPERIMENTS["r2_vgg16_cifar10"].__class__("a", "02_vgg.ipynb"))
    run = RunDir(tmp_path, "a").create()
    run.write_json(RunDir.CONFIG, {"epochs": 4})
    write_epoch(run, 1, 0.25)
    console.tick()
    bar = console.running["a"]["bar"]
    assert bar.total == 4 and bar.n == 1 and "val_accuracy 25.0%" in str(bar)
    console.finished("a", 40.0)
    assert "a" not in console.running
