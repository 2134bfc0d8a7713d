"""How long a job will take on this machine, told before it starts: each experiment's time measured on a reference
machine (the kit's own runs: per model its training images/s and first-epoch cost, per notebook what it does
besides training), scaled by this machine's speed, measured here in a second (float32 matrix products, NumPy).
Training is scaled by the products on all cores; the rest (kernels, imports, graph building, figures: mostly one
thread) by the products on one core, which also holds when a neighbour (a test worker, another job) shares the CPU.

No Keras here: run_all's parent process stays light. ``tests/test_console.py`` holds the reference FLOPs to the
models' own count, ``tests/test_run_all.py`` the smoke profile's estimate to within a factor of two of what it took.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
from threadpoolctl import threadpool_limits

from helpers.experiments import NOTEBOOKS, Experiment
from helpers.experiments.budget import format_duration, training_images
from helpers.experiments.recipes import recipe_values

__all__ = ["Estimate", "MachineSpeed", "machine_gflops", "reference_parts", "reference_seconds"]

# The reference machine: the project's CPU machine, 2 cores of an AMD EPYC, TensorFlow 2.21 / Keras 3.15.
REFERENCE_GFLOPS = 197.0  # machine_gflops() there, all cores
REFERENCE_GFLOPS_ONE_CORE = 100.0  # machine_gflops(threads=1) there
# Training images/s of the kit's fit there (median epoch, each recipe's batch size; the quick profile, seed 0).
TRAIN_IMAGES_PER_S = {
    "vgg11": 158.0,
    "vgg16": 72.0,
    "report_resnet50": 191.0,
    "plain20": 270.0,
    "plain56": 89.0,
    "resnet20": 217.0,
    "resnet56": 67.0,
    "googlenet": 13.1,
}
# What a model costs before its first step (building and compiling its graph), there, in seconds.
FIRST_EPOCH_SECONDS = {
    "vgg11": 6.0,
    "vgg16": 9.0,
    "report_resnet50": 27.0,
    "plain20": 9.0,
    "resnet20": 9.0,
    "plain56": 24.0,
    "resnet56": 23.0,
    "googlenet": 50.0,
}
DEFAULT_FIRST_EPOCH_SECONDS = 12.0
# A notebook's work besides training (kernel, imports, data, figures), there.
# The models each notebook's "run an experiment" exercises train, with the notebook's own settings (02: VGG-11; 03:
# plain-20 and plain-56; 04: GoogLeNet again without augmentation).
EXERCISE_MODELS = {
    "data": [],
    "vgg": ["vgg11"],
    "resnet": ["plain20", "plain56"],
    "googlenet": ["googlenet"],
    "appendix": [],
    "interpret": [],
}
NOTEBOOK_SECONDS = {"data": 24.0, "vgg": 37.0, "resnet": 37.0, "googlenet": 43.0, "appendix": 70.0, "interpret": 30.0}
# Forward passes besides training, in images (a forward pass costs about a third of a training step): batch-norm
# statistics re-estimated from up to 512 training images before each validation and 2,048 after the last epoch,
# and the test images predicted.
RECALIBRATION_IMAGES, FINAL_RECALIBRATION_IMAGES = 512, 2048
# Forward FLOPs per 32x32x3 image (helpers.evaluation.count_flops), for the models without a measured speed: their
# images/s is ACHIEVED / (3 x FLOPs) (a training step costs about three forward passes).
FORWARD_GFLOPS = {
    "vgg11": 0.306,
    "vgg13": 0.457,
    "vgg16": 0.627,
    "vgg19": 0.797,
    "resnet18": 1.112,
    "resnet34": 2.321,
    "resnet50": 2.604,
    "plain18": 1.099,
    "plain34": 2.308,
    "resnet20": 0.082,
    "resnet32": 0.138,
    "resnet44": 0.195,
    "resnet56": 0.252,
    "resnet110": 0.508,
    "plain20": 0.081,
    "plain32": 0.138,
    "plain44": 0.195,
    "plain56": 0.252,
    "plain110": 0.508,
    "googlenet": 2.912,
    "report_vgg16_mnist": 0.628,
    "report_vgg16_cifar10": 0.635,
    "report_resnet50": 0.152,
}
ACHIEVED_GFLOPS = 3 * 0.306 * TRAIN_IMAGES_PER_S["vgg11"]  # VGG-11's training FLOP/s there


def machine_gflops(n: int = 1024, repeats: int = 5, threads: int | None = None) -> float:
    """This machine's float32 matrix-product speed in GFLOP/s: the best of a few n x n products, on all cores, or
    on ``threads`` of them (NumPy's BLAS limited through threadpoolctl)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b  # warm-up
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


class MachineSpeed:
    """A machine's float32 matrix-product speed, on all its cores and on one (GFLOP/s)."""

    def __init__(self, all_cores: float, one_core: float):
        self.all_cores, self.one_core = float(all_cores), float(one_core)

    @classmethod
    def measure(cls) -> MachineSpeed:
        return cls(machine_gflops(), machine_gflops(threads=1))

    @classmethod
    def reference(cls, factor: float = 1.0) -> MachineSpeed:
        """The reference machine's speed, times ``factor``."""
        return cls(REFERENCE_GFLOPS * factor, REFERENCE_GFLOPS_ONE_CORE * factor)

    def scales(self) -> tuple[float, float]:
        """How much longer than the reference training and the rest take here (each within 1/4 to 4)."""
        return tuple(
            min(4.0, max(0.25, ref / max(mine, 1e-9)))
            for ref, mine in ((REFERENCE_GFLOPS, self.all_cores), (REFERENCE_GFLOPS_ONE_CORE, self.one_core))
        )


def _images_per_s(model: str) -> float:
    return TRAIN_IMAGES_PER_S.get(model) or ACHIEVED_GFLOPS / (3 * FORWARD_GFLOPS.get(model, 1.0))


def reference_parts(exp: Experiment, params: dict) -> tuple[float, float]:
    """One experiment's time on the reference machine, as (training, the rest): training is every epoch's images
    (validation predicts about three times faster) and the forward passes besides (``RECALIBRATION_IMAGES``); the
    rest is its notebook's work and each model's first-epoch cost (building its graph), once more for the
    notebook's "run an experiment" exercises when they run."""
    kind = next(k for k, v in NOTEBOOKS.items() if v == exp.notebook)
    training, rest = 0.0, NOTEBOOK_SECONDS[kind]
    if "model" not in params:
        return training, rest
    model, dataset = params["model"], params["dataset"]
    values = {**recipe_values(params["recipe"], f"{model}/{dataset}"), **params}
    if params.get("synthetic"):
        n_train = int(params.get("train_size") or 1800)
    else:
        n_train = training_images(dataset, values["val_size"], values.get("train_size"))
    n_val = int(values["val_size"]) if values["val_size"] >= 1 else round(values["val_size"] * n_train)
    exercises = EXERCISE_MODELS[kind] if params.get("experiment_exercises", True) else []
    n_test = int(values.get("test_size") or 10_000)
    epochs = int(values["epochs"])
    forward = epochs * min(RECALIBRATION_IMAGES, n_train) + min(FINAL_RECALIBRATION_IMAGES, n_train) + n_test
    for trained in (model, *exercises):  # the exercises train with the run's settings: other models, same data
        training += (epochs * (n_train + n_val / 3) + forward / 3) / _images_per_s(trained)
        rest += FIRST_EPOCH_SECONDS.get(trained, DEFAULT_FIRST_EPOCH_SECONDS)
    return training, rest


def reference_seconds(exp: Experiment, params: dict) -> float:
    """One experiment's time on the reference machine (``reference_parts``, summed)."""
    return sum(reference_parts(exp, params))


class Estimate:
    """The job's estimate on this machine: seconds per experiment, and how to say it."""

    def __init__(self, jobs: list[tuple[Experiment, dict]], speed: MachineSpeed | None = None):
        self.speed = MachineSpeed.measure() if speed is None else speed
        self.scales = self.speed.scales()
        self.seconds = {
            exp.name: sum(part * scale for part, scale in zip(reference_parts(exp, params), self.scales))
            for exp, params in jobs
        }
        self.gpu = shutil.which("nvidia-smi") is not None

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def lines(self) -> list[str]:
        """What run_all prints before the first notebook."""
        lines = [
            f"Estimated time on this machine: {format_duration(self.total)} for {len(self.seconds)} notebooks "
            f"(this machine's float32 matrix products: {self.speed.all_cores:.0f} GFLOP/s on all cores, "
            f"{self.speed.one_core:.0f} on one; the kit's timings come from a machine of {REFERENCE_GFLOPS:.0f} and "
            f"{REFERENCE_GFLOPS_ONE_CORE:.0f})."
        ]
        if self.gpu:
            lines.append("A GPU is present: the estimate is for the CPU and too long (GPUs train 10-100x faster).")
        elif self.total > 3600:
            lines.append(
                "That is more than an hour. Faster: --profile smoke (every notebook on synthetic images, minutes), "
                "--only PATTERN (a few experiments), or a GPU (README: On Google Colab; Performance)."
            )
        return lines


# A free Colab T4: 65 TFLOP/s of float16 at its peak. Training 32x32 images reaches a fraction of it (the H200 reached
# 6% of its float16 matmul rate on VGG-11, README "On a GPU"); the kit assumes a tenth for its T4 estimates.
T4_FLOPS, T4_SHARE, T4_OVERHEAD_S = 65e12, 0.10, 120.0
# What each notebook trains with its defaults (CIFAR-10, the `best` recipe: 30 epochs of 45,000 images), its
# "run an experiment" exercises included (EXERCISE_MODELS).
DEFAULT_MODELS = {"vgg": "vgg16", "resnet": "resnet18", "googlenet": "googlenet"}
DEFAULT_TRAINING = {
    kind: ([DEFAULT_MODELS[kind]] if kind in DEFAULT_MODELS else []) + EXERCISE_MODELS[kind] for kind in NOTEBOOKS
}


def t4_minutes(kind: str, epochs: int = 30, images: int = 45_000) -> float:
    """A notebook's time on a free Colab T4 with its defaults, estimated from its models' FLOPs: every training
    image costs three forward passes, at a tenth of the T4's float16 peak, plus two minutes of the rest (install,
    download, building, evaluation)."""
    flops = sum(3 * FORWARD_GFLOPS[m] * 1e9 * epochs * images for m in DEFAULT_TRAINING[kind])
    return (flops / (T4_FLOPS * T4_SHARE) + T4_OVERHEAD_S) / 60
