"""Training: named recipes as data, one ``train()`` that writes a run directory, and the test evaluation.

A *recipe* is a dict of settings (optimizer, learning rate, schedule, batch size, epochs, augmentation...).
``report1`` and ``report2`` are the two student reports' own settings, ``best`` is ours. ``make_config`` picks a
recipe's values for a model and dataset and lets individual parameters override them; ``train`` runs it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.data import AUGMENTATIONS, Dataset, Preprocessing, make_pipeline
from helpers.environment import environment_info
from helpers.models.summary import summary_text
from helpers.progress import LiveLine, bar_text, estimate_text, resolve_mode
from helpers.runs import RunDir

__all__ = ["LOSSES", "OPTIMIZERS", "RECIPES", "SCHEDULES", "TrainResult", "budget_settings", "evaluate_run",
           "keras_weight_decay", "make_config", "recalibrate_batchnorm", "train"]

OPTIMIZERS = ("sgd", "sgd_momentum", "adam", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
LOSSES = ("categorical_crossentropy", "binary_crossentropy")

# Every setting a run has; a recipe fills them, parameters override them.
BASE = {
    "epochs": 10,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 1e-3,
    "momentum": 0.9,  # sgd_momentum only
    "nesterov": False,  # sgd_momentum only
    "schedule": "constant",
    "warmup_fraction": 0.15,  # onecycle: share of the steps spent warming up
    # The references' meaning (PyTorch's): for SGD the coupled L2 coefficient, for Adam/RMSprop AdamW's decoupled
    # one; make_optimizer translates it into Keras' decoupled, lr-scaled decay. Never on batch-norm or biases.
    "weight_decay": 0.0,
    "loss": "categorical_crossentropy",
    "label_smoothing": 0.0,
    "augment": "none",
    "normalization": "scale",  # "scale": x / 255; "standardize": per-channel mean/std of the training split
    "val_size": 0.1,
    "aux_loss_weight": 0.3,  # GoogLeNet's auxiliary classifiers (the paper's 0.3)
    "mixed_precision": "auto",  # "auto": on for GPUs with tensor cores (compute capability >= 7.0)
    "jit_compile": "auto",  # "auto": XLA on GPUs only
    "steps_per_execution": 1,
    "cache": True,  # keep the finished validation batches in memory after the first epoch
    "distribute": "auto",  # "auto": MirroredStrategy over all GPUs when there are several; "mirrored"; "off"
    "recalibrate_bn": True,  # re-estimate batch-norm statistics on training images after the last epoch
    "tensorboard": False,  # True: Keras' TensorBoard logs in <run>/tensorboard (helpers.tensorboard)
}

# Recipes: defaults, then rules matched against "<model>/<dataset>" in order (later rules win).
RECIPES = {
    "report1": {
        "about": "Report 1 (four experiments, 50 epochs, Keras defaults where the report is silent).",
        "defaults": {"epochs": 50, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
        "rules": [
            # Validation splits as fractions of the training set, so they fit any data (a sample, synthetic
            # images) and give the report's exact counts on the full sets: 0.25 x 60,000 = 15,000.
            ("*/mnist", {"val_size": 0.25}),  # 45,000 / 15,000
            ("*/cifar10", {"val_size": 0.1}),  # 45,000 / 5,000
            # Exp. 1: RMSprop 1e-4 with binary cross-entropy, as reported (it inflates Keras' "accuracy").
            ("report_vgg16_mnist/mnist", {"optimizer": "rmsprop", "lr": 1e-4, "loss": "binary_crossentropy"}),
            ("report_resnet50/mnist", {"batch_size": 128}),  # Exp. 3: Adam, batch 128
            ("report_resnet50/cifar10", {"batch_size": 32, "val_size": 0.25}),  # Exp. 4: 37,500 / 12,500
        ],
    },
    "report2": {
        # The report names RMSprop, SGD (+ momentum) and Adam; rows that name no optimizer are read as RMSprop,
        # so that its "VGG16" and "VGG16 with ADAM" rows are different runs.
        "about": "Report 2 (10 epochs, lr 0.001); batch 64 for every row and RMSprop where a row names no optimizer "
                 "are the kit's reading (the report names no baseline optimizer; its logs imply batch 64, 32, 128, "
                 "128 and 64).",
        "defaults": {"epochs": 10, "batch_size": 64, "optimizer": "rmsprop", "lr": 1e-3, "val_size": 0.1},
        "rules": [("googlenet/cifar10", {"optimizer": "sgd_momentum"})],
    },
    "best": {
        # lr 0.02 at batch 128: on 2,000-image samples lr 0.05-0.1 at batch 256 diverged (first-epoch loss > 4.5).
        # weight_decay 5e-4 means what it means in the references (PyTorch SGD's coupled L2, kuangliu/pytorch-cifar):
        # make_optimizer hands Keras 5e-4 / (1 - 0.9) = 5e-3, i.e. a shrink of lr x 5e-3 = 1e-4 per step at the
        # peak lr 0.02 (the references: 0.1 x 5e-4 / 0.1 = 5e-4 per step at their lr 0.1). Until issue 13 Keras got
        # 5e-4 itself: 0.02 x 5e-4 = 1e-5 per step, 10x weaker than meant at this lr and 50x weaker than the
        # references' per-step decay. Searched with bench/tune.py (Optuna) on CIFAR-10 samples (issue 13).
        "about": "Ours: SGD + Nesterov, one-cycle, label smoothing, weight decay (PyTorch's meaning), augmentation, "
                 "batch 128; settings by budget (epochs): see 'budget'.",
        "defaults": {"epochs": 30, "batch_size": 128, "optimizer": "sgd_momentum", "nesterov": True, "lr": 0.02,
                     "schedule": "onecycle", "weight_decay": 5e-4, "label_smoothing": 0.1,
                     "normalization": "standardize", "val_size": 0.1},  # 5,000 of CIFAR-10's 50,000
        "rules": [
            ("*/mnist", {"epochs": 15, "augment": "shift_rotate"}),
            ("*/cifar10", {"augment": "flip_crop"}),
        ],
        # Settings by budget, as data: (max epochs, settings); the first band with max epochs >= the run's epochs
        # wins (None: no bound); explicit parameters still win over it. The rule is keyed on epochs because that is
        # what a user sets and what make_config sees (the optimizer steps also depend on the training-set size,
        # known only inside train()). Issue 13's CPU-sized search (bench/tune.py, VGG-11, CIFAR-10 samples of
        # 300-1,200 images, 80-150 steps a run) was inconclusive: SGD + Nesterov led at 8 epochs (val 35.7% vs
        # AdamW 22.0% when pruned at epoch 4), AdamW led at 30 epochs on 300 images (32.5% vs 28.0%), both within
        # the noise of 200-300 validation images. So one band holds every budget until a larger search (GPU,
        # bench/tune.py) finds a budget-dependent winner; then a band goes here, e.g.
        # (12, {"optimizer": "adam", "lr": 0.003, "weight_decay": 0.05, "batch_size": 64}).
        "budget": [
            (None, {}),
        ],
    },
}

RUN_KEYS = ("experiment", "dataset", "model", "recipe", "seed")


def make_config(recipe: str, model: str, dataset: str, **overrides) -> dict:
    """The settings of one run: the recipe's values for ``model``/``dataset``, then ``overrides`` (None = keep)."""
    from helpers.data import DATASET_NAMES
    from helpers.models import MODEL_NAMES

    if recipe not in RECIPES:
        raise ValueError(f"Unknown recipe {recipe!r}; valid: {', '.join(RECIPES)}.")
    if model not in MODEL_NAMES:
        raise ValueError(f"Unknown model {model!r}; valid: {', '.join(MODEL_NAMES)}.")
    if dataset not in DATASET_NAMES:
        raise ValueError(f"Unknown dataset {dataset!r}; valid: {', '.join(DATASET_NAMES)}.")
    config = {"experiment": None, "recipe": recipe, "model": model, "dataset": dataset, "seed": 0, **BASE}
    config.update(RECIPES[recipe]["defaults"])
    for pattern, values in RECIPES[recipe]["rules"]:
        if fnmatch.fnmatch(f"{model}/{dataset}", pattern):
            config.update(values)
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f"Unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(config))}.")
    config.update(budget_settings(recipe, overrides.get("epochs") or config["epochs"]))
    config.update({k: v for k, v in overrides.items() if v is not None})
    _check_config(config)
    return config


def budget_settings(recipe: str, epochs: int) -> dict:
    """The settings a recipe's ``budget`` rule gives a run of ``epochs`` epochs: the first band whose upper bound
    (``max_epochs``, None = no bound) is at least ``epochs``; {} for recipes without a budget rule."""
    for max_epochs, values in RECIPES[recipe].get("budget", []):
        if max_epochs is None or epochs <= max_epochs:
            return dict(values)
    return {}


def _check_config(c: dict) -> None:
    """Clear one-line errors for values that would otherwise fail deep inside TensorFlow."""
    choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "loss": LOSSES, "augment": AUGMENTATIONS,
               "normalization": ("scale", "standardize"), "distribute": ("auto", "mirrored", "off"),
               "mixed_precision": ("auto", True, False), "jit_compile": ("auto", True, False),
               "cache": (True, False), "recalibrate_bn": (True, False)}
    for key, valid in choices.items():
        if c[key] not in valid:
            raise ValueError(f"Unknown {key} {c[key]!r}; valid: {', '.join(str(v) for v in valid)}.")
    if not isinstance(c["epochs"], (int, np.integer)) or c["epochs"] < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {c['epochs']!r}.")
    if not isinstance(c["batch_size"], (int, np.integer)) or c["batch_size"] < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {c['batch_size']!r}.")
    if not isinstance(c["steps_per_execution"], (int, np.integer)) or c["steps_per_execution"] < 1:
        raise ValueError(f"steps_per_execution must be a whole number >= 1, got {c['steps_per_execution']!r}.")
    if not (isinstance(c["lr"], (int, float)) and c["lr"] > 0 and math.isfinite(c["lr"])):
        raise ValueError(f"lr must be a number > 0, got {c['lr']!r}.")
    if not 0 <= c["label_smoothing"] < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {c['label_smoothing']!r}.")
    if c["weight_decay"] < 0:
        raise ValueError(f"weight_decay must be >= 0, got {c['weight_decay']!r}.")


# ------------------------------------------------------------------------------------------ building


def _gpu_capability():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0)
    return tuple(cc)


def resolve_acceleration(config: dict) -> dict:
    """Turn "auto" into on/off for this machine: mixed precision on tensor-core GPUs, XLA on GPUs,
    MirroredStrategy when there are several GPUs ("mirrored" also mirrors over several logical CPUs)."""
    import tensorflow as tf

    cc = _gpu_capability()
    mp, jit, dist = config["mixed_precision"], config["jit_compile"], config["distribute"]
    n_gpus = len(tf.config.list_logical_devices("GPU"))
    return {
        "mixed_precision": bool(cc and cc >= (7, 0)) if mp == "auto" else bool(mp),
        "jit_compile": bool(cc) if jit == "auto" else bool(jit),
        "distribute": (n_gpus > 1) if dist == "auto" else dist == "mirrored",
    }


def make_strategy(enabled: bool):
    """MirroredStrategy over the GPUs (or, without GPUs, the logical CPUs), else the default strategy."""
    import tensorflow as tf

    if not enabled:
        return tf.distribute.get_strategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def make_schedule(config: dict, steps_per_epoch: int):
    """The learning rate as a function of the optimizer step (a float for ``constant``)."""
    import keras

    lr, total = float(config["lr"]), max(1, steps_per_epoch * int(config["epochs"]))
    kind = config["schedule"]
    if kind == "constant":
        return lr
    if kind == "step":  # divide by 10 at 50% and 75% of training (the ResNet paper's CIFAR schedule, scaled)
        return keras.optimizers.schedules.PiecewiseConstantDecay([total // 2, (3 * total) // 4], [lr, lr / 10, lr / 100])
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=total, alpha=0.0)
    # onecycle: linear warm-up from lr/25 to lr, then cosine down to lr x 0.0025 = lr/400 -- fast and forgiving.
    warmup = max(1, int(total * float(config["warmup_fraction"])))
    return keras.optimizers.schedules.CosineDecay(lr / 25, decay_steps=max(1, total - warmup), alpha=1e-4 * 25,
                                                  warmup_target=lr, warmup_steps=warmup)


def keras_weight_decay(config: dict) -> float:
    """Keras' ``weight_decay`` argument that gives ``config["weight_decay"]`` the references' meaning.

    Keras 3 decays decoupled and scaled by the learning rate, outside the momentum: every step
    ``w -= lr * wd * w`` (``BaseOptimizer._apply_weight_decay``). The references (kuangliu/pytorch-cifar, PyTorch's
    ``SGD(weight_decay=5e-4)``) add ``wd * w`` to the gradient (coupled L2), which then runs through the momentum
    buffer: in the steady state each step shrinks ``w`` by ``lr * wd / (1 - momentum)`` (Nesterov alike). So for
    SGD with momentum Keras gets ``wd / (1 - momentum)``: 5e-4 at momentum 0.9 becomes 5e-3, i.e. ``lr x 5e-3`` per
    step, the same shrink per step as the references at the same learning rate (0.1 x 5e-4 / 0.1 = 5e-4 per step at
    their lr 0.1). Plain SGD: the two are the same (``lr * wd``). Adam and RMSprop: the value is AdamW's decoupled
    coefficient (PyTorch's ``AdamW(weight_decay=...)`` also shrinks by ``lr * wd``), passed through unchanged;
    coupled L2 would be rescaled away by Adam's per-weight normalisation.
    """
    wd = float(config["weight_decay"])
    if config["optimizer"] == "sgd_momentum":
        return wd / (1.0 - float(config["momentum"]))
    return wd


def make_optimizer(config: dict, steps_per_epoch: int):
    """The config's optimizer with its learning-rate schedule and weight decay (see ``keras_weight_decay``);
    ``adam`` with ``weight_decay > 0`` is AdamW."""
    import keras

    schedule = make_schedule(config, steps_per_epoch)
    wd = keras_weight_decay(config) or None
    name = config["optimizer"]
    if name == "sgd":
        opt = keras.optimizers.SGD(schedule, weight_decay=wd)
    elif name == "sgd_momentum":
        opt = keras.optimizers.SGD(schedule, momentum=float(config["momentum"]), nesterov=bool(config["nesterov"]),
                                   weight_decay=wd)
    elif name == "adam":
        opt = keras.optimizers.Adam(schedule, weight_decay=wd)
    else:
        opt = keras.optimizers.RMSprop(schedule, weight_decay=wd)
    if wd:
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return opt


def compile_model(model, config: dict, steps_per_epoch: int, jit_compile: bool = False):
    """Optimizer, loss (with label smoothing) and accuracy; GoogLeNet's auxiliary heads get weight 0.3."""
    import keras

    ls = float(config["label_smoothing"])
    if config["loss"] == "binary_crossentropy":
        loss = keras.losses.BinaryCrossentropy(label_smoothing=ls)
    else:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=ls)
    # Named explicitly: with binary cross-entropy, Keras' "accuracy" string would silently become
    # per-output binary accuracy (report 1's 96% after one epoch is partly that).
    accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
    names = list(model.output_names)
    if len(names) > 1:
        aux = float(config["aux_loss_weight"])
        losses = {n: loss for n in names}
        weights = {n: (1.0 if i == 0 else aux) for i, n in enumerate(names)}
        metrics = {names[0]: [accuracy]}
        model.compile(make_optimizer(config, steps_per_epoch), loss=losses, loss_weights=weights, metrics=metrics,
                      jit_compile=jit_compile, steps_per_execution=int(config["steps_per_execution"]))
    else:
        model.compile(make_optimizer(config, steps_per_epoch), loss=loss, metrics=[accuracy],
                      jit_compile=jit_compile, steps_per_execution=int(config["steps_per_execution"]))
    return model


def build_for(config: dict, dataset: Dataset, mixed_precision: bool = False):
    """Build the config's model for the dataset's input shape, under the mixed-float16 policy if asked."""
    import keras

    from helpers.models import build_model

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    try:
        return build_model(config["model"], dataset.input_shape, dataset.num_classes)
    finally:
        keras.mixed_precision.set_global_policy(previous)


# -------------------------------------------------------------------------------------------- training


class EpochLogger:
    """Keras callback: progress on screen (a live bar per epoch, or one line per epoch), an estimate of the run's
    length from its first steps, and ``history.csv`` rewritten atomically each epoch.

    Rows are keyed by epoch, so a resumed run replaces, never duplicates, epochs it trains again.
    """

    COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_seconds", "images_per_s"]

    def __new__(cls, *args, **kwargs):  # subclass keras.callbacks.Callback lazily (keeps imports light)
        import keras

        class _EpochLogger(keras.callbacks.Callback):
            def __init__(self, run, n_train, epochs, resume, stream, progress="epoch", device="this CPU",
                         gpu=False, n_val=0):
                super().__init__()
                self.run, self.n_train, self.epochs, self.stream = run, n_train, epochs, stream
                # Validation predicts (about 3x cheaper per image than a training step) after every epoch.
                self.val_share = n_val / max(n_train, 1) / 3
                self.mode, self.device, self.gpu = progress, device, gpu
                history = run.history() if resume else None
                self.rows = history.to_dict("records") if history is not None and len(history) else []
                self.estimated, self.line = False, None

            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()
                self.t_train, self.t_first = None, None
                self.epoch = epoch
                if self.mode == "bar":
                    self.line = LiveLine(f"Epoch {epoch + 1}/{self.epochs} starting...")

            def on_train_batch_end(self, batch, logs=None):
                now, step, steps = time.perf_counter(), batch + 1, self.params.get("steps") or 0
                if self.t_first is None:
                    self.t_first = now  # the first step includes tracing and compiling: not a fair sample
                elif not self.estimated and (now - self.t_first >= 2.0 or step == steps):
                    self._estimate((now - self.t_first) / batch * steps * (1 + self.val_share))
                if self.line is not None and steps:
                    self.line.update(bar_text(self.epoch + 1, self.epochs, step, steps, now - self.t0, logs or {}),
                                     force=step == steps)

            def _estimate(self, epoch_seconds):
                self.estimated = True
                left = self.epochs - self.epoch
                print(estimate_text(epoch_seconds, left, self.device, self.gpu), file=self.stream, flush=True)

            def on_test_begin(self, logs=None):
                if self.t_train is None and hasattr(self, "t0"):
                    self.t_train = time.perf_counter() - self.t0

            def on_epoch_end(self, epoch, logs=None):
                import pandas as pd

                logs = logs or {}
                seconds = time.perf_counter() - self.t0
                train_seconds = self.t_train or seconds
                if not self.estimated:  # an epoch of one step: the epoch itself is the measurement
                    self._estimate(seconds)

                def pick(*keys):
                    return next((float(logs[k]) for k in keys if k in logs), float("nan"))

                row = {
                    "epoch": epoch + 1,
                    "loss": pick("loss"),
                    "accuracy": pick("accuracy", "main_accuracy"),
                    "val_loss": pick("val_loss"),
                    "val_accuracy": pick("val_accuracy", "val_main_accuracy"),
                    "lr": _current_lr(self.model.optimizer),
                    "epoch_seconds": seconds,
                    "images_per_s": self.n_train / train_seconds if train_seconds > 0 else float("nan"),
                }
                self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
                self.run.write_csv(RunDir.HISTORY, pd.DataFrame(self.rows, columns=EpochLogger.COLUMNS))
                text = (f"Epoch {row['epoch']}/{self.epochs} - loss {row['loss']:.4f} - accuracy {row['accuracy']:.4f}"
                        f" - val_loss {row['val_loss']:.4f} - val_accuracy {row['val_accuracy']:.4f}"
                        f" - lr {row['lr']:.2e} - {seconds:.1f}s ({row['images_per_s']:.0f} img/s)")
                if self.line is not None:  # the live bar becomes the epoch's line
                    self.line.update(text, force=True)
                    self.line = None
                else:
                    print(text, file=self.stream, flush=True)

        return _EpochLogger(*args, **kwargs)


def _current_lr(optimizer) -> float:
    """The learning rate the optimizer uses now (a schedule is evaluated at the current step)."""
    lr = optimizer.learning_rate
    try:
        return float(np.asarray(lr))
    except TypeError:
        return float(np.asarray(lr(optimizer.iterations)))


@dataclass
class TrainResult:
    """What ``train`` returns: the trained model, its per-epoch history and the settings used."""

    model: object
    history: object
    config: dict
    preprocessing: Preprocessing
    run: RunDir
    train_seconds: float
    resumed_from_epoch: int


def train(config: dict, dataset: Dataset, run: RunDir, model=None, stream=None, progress: str = "epoch") -> TrainResult:
    """Train ``config["model"]`` on ``dataset`` into ``run``: config.json, history.csv, backup/, model.keras.

    An interrupted run resumes from its last finished epoch (Keras' BackupAndRestore in ``run/backup``).
    ``progress="bar"`` shows a live bar in each epoch inside a notebook; ``"epoch"`` prints one line per epoch.
    """
    import keras
    import pandas as pd

    stream = stream or sys.stdout
    progress = resolve_mode(progress)
    _check_config(config)
    keras.utils.set_random_seed(int(config["seed"]))
    accel = resolve_acceleration(config)
    strategy = make_strategy(accel["distribute"])
    if model is not None and accel["distribute"]:
        raise ValueError("With distribute='mirrored' (or several GPUs) train() builds the model itself, inside the "
                         "strategy's scope: call train() without model=, or pass distribute='off'.")
    if model is None:
        with strategy.scope():
            model = build_for(config, dataset, accel["mixed_precision"])
    expected = tuple(model.inputs[0].shape[1:])
    if expected != dataset.input_shape:
        raise ValueError(f"Model {model.name!r} was built for input shape {expected}, but {dataset.name} images "
                         f"are {dataset.input_shape}; build it with build_model(name, {dataset.input_shape}).")
    run.create()  # only now, once the inputs are known to be right: bad input writes nothing
    prep = Preprocessing.fit(dataset.x_train, config["normalization"])
    # Under MirroredStrategy batch_size is per replica: each device keeps the batch the recipe was tuned for.
    batch = int(config["batch_size"]) * strategy.num_replicas_in_sync
    accel["replicas"] = strategy.num_replicas_in_sync
    multi = list(model.output_names) if len(model.outputs) > 1 else None
    pipe = dict(batch_size=batch, num_classes=dataset.num_classes, preprocessing=prep, output_names=multi)
    train_ds = make_pipeline(dataset.x_train, dataset.y_train, training=True, augment=config["augment"],
                             seed=int(config["seed"]), **pipe)
    val_ds = make_pipeline(dataset.x_val, dataset.y_val, cache=bool(config["cache"]), **pipe) \
        if len(dataset.y_val) else None
    steps = math.ceil(len(dataset.y_train) / batch)
    with strategy.scope():
        compile_model(model, config, steps, jit_compile=accel["jit_compile"])

    environment = environment_info()
    run.write_json(RunDir.CONFIG, {
        **config, "resolved": accel, "normalization_mean": prep.mean, "normalization_std": prep.std,
        "data": {"source": dataset.source, **dataset.sizes(), "input_shape": dataset.input_shape,
                 "class_names": dataset.class_names},
        "environment": environment,
    })
    run.write_text(RunDir.SUMMARY, summary_text(model))
    backup = run / RunDir.BACKUP
    resume = (backup / "training_metadata.json").is_file()
    gpus = environment["hardware"]["gpus"]
    device = ", ".join(g["name"] for g in gpus) if gpus else f"this CPU ({environment['hardware']['cpu_count']} cores)"
    logger = EpochLogger(run, len(dataset.y_train), int(config["epochs"]), resume, stream, progress, device,
                         bool(gpus), len(dataset.y_val))
    # The logger writes epoch k before the backup of epoch k: a kill between the two retrains epoch k, whose row is
    # then replaced, so history.csv always holds each epoch once.
    callbacks = [logger, keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
                 keras.callbacks.TerminateOnNaN()]
    if config["tensorboard"]:
        from helpers.tensorboard import tensorboard_callback

        callbacks += [cb for cb in [tensorboard_callback(run.path, stream)] if cb is not None]
    t0 = time.perf_counter()
    model.fit(train_ds, validation_data=val_ds, epochs=int(config["epochs"]), callbacks=callbacks, verbose=0,
              shuffle=False)  # the pipeline shuffles
    seconds = time.perf_counter() - t0
    resumed_from = int(getattr(model, "_initial_epoch", 0) or 0) if resume else 0
    if config["recalibrate_bn"] and strategy.num_replicas_in_sync == 1:
        plain = make_pipeline(dataset.x_train, dataset.y_train, batch_size=batch, num_classes=dataset.num_classes,
                              preprocessing=prep)
        recalibrate_batchnorm(model, plain, max_batches=math.ceil(2048 / batch))
    _save_model_atomically(model, run / RunDir.MODEL)
    history = run.history()
    if history.empty:
        history = pd.DataFrame(columns=EpochLogger.COLUMNS)
    return TrainResult(model, history, config, prep, run, seconds, resumed_from)


def recalibrate_batchnorm(model, dataset, max_batches: int = 32) -> int:
    """Re-estimate every BatchNormalization layer's moving mean and variance as the plain average over up to
    ``max_batches`` batches of ``dataset`` (no augmentation); the weights are untouched. Returns the batches used.

    Keras keeps running averages during training, which lag behind weights that still change quickly (short
    runs, adaptive optimizers): a network at 92% training accuracy can test at 35% with them, and at 78% once
    they are re-estimated ("precise BN", Wu & Johnson 2021). Dropout is switched off meanwhile.
    """
    import keras

    layers = list(model._flatten_layers(include_self=False))
    bns = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    if not bns:
        return 0
    momenta, rates = [b.momentum for b in bns], [d.rate for d in drops]
    used = 0
    try:
        for d in drops:
            d.rate = 0.0
        for used, (x, _) in enumerate(dataset.take(max_batches), 1):
            for b in bns:
                b.momentum = (used - 1) / used  # moving statistic = mean over the batches seen so far
            model(x, training=True)
    finally:
        for b, m in zip(bns, momenta):
            b.momentum = m
        for d, r in zip(drops, rates):
            d.rate = r
    return used


def _save_model_atomically(model, path: Path) -> None:
    """BackupAndRestore deletes its backup when training ends, so the final model is saved on its own."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def evaluate_run(result: TrainResult, dataset: Dataset, batch_size: int = 256) -> dict:
    """Test predictions, accuracy, per-class report, confusion matrix, throughput -> metrics.json, predictions.npz."""
    from helpers import evaluation
    from helpers.models import count_params, inference_model

    model = inference_model(result.model)
    x_test = result.preprocessing(dataset.x_test).numpy()
    with contextlib.redirect_stdout(io.StringIO()):
        probs = evaluation.predict(model, x_test, batch_size=batch_size)
    y_pred = probs.argmax(1)
    metrics = evaluation.evaluate_predictions(dataset.y_test, probs, dataset.class_names)
    history = result.history
    n_infer = min(len(x_test), 1024)
    metrics.update({
        "test_accuracy": metrics["accuracy"],
        "val_accuracy": float(history["val_accuracy"].iloc[-1]) if len(history) else None,
        "epochs_run": len(history),
        "train_seconds": float(history["epoch_seconds"].sum()) if len(history) else result.train_seconds,
        "train_images_per_s": float(history["images_per_s"].median()) if len(history) else None,
        "inference_images_per_s": evaluation.inference_throughput(model, x_test[:n_infer], batch_size=batch_size)
        if n_infer else None,
        "params": count_params(result.model),
        "flops_per_image": evaluation.count_flops(model, dataset.input_shape),
        "resumed_from_epoch": result.resumed_from_epoch,
    })
    run = result.run
    run.write_npz(RunDir.PREDICTIONS, y_true=dataset.y_test, y_pred=y_pred, probs=probs.astype(np.float16))
    run.write_json(RunDir.METRICS, metrics)  # written last: its presence marks the run finished
    return metrics
