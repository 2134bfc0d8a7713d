"""Training: one ``train()`` that turns a config (``helpers.recipes``) and a dataset into a run directory, with the
callback that shows progress and writes ``history.csv``, and the batch-norm recalibration after the last epoch.

Evaluation on the test split is ``helpers.evaluation.evaluate_run``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import sys
import time
from dataclasses import dataclass

from helpers.data import Dataset
from helpers.environment import environment_info, import_keras_quietly, resolve_acceleration
from helpers.models import build_model
from helpers.models.summary import summary_text
from helpers.optim import compile_model
from helpers.pipeline import Preprocessing, make_pipeline
from helpers.progress import LiveLine, bar_text, estimate_text, resolve_mode
from helpers.recipes import check_config
from helpers.runs import RunDir, atomic_write

import_keras_quietly()

import keras  # noqa: E402

__all__ = ["EpochLogger", "TrainResult", "build_for", "recalibrate_batchnorm", "train"]


def build_for(config: dict, dataset: Dataset, mixed_precision: bool = False):
    """Build the config's model for the dataset's input shape, under the mixed-float16 policy if asked."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    try:
        return build_model(config["model"], dataset.input_shape, dataset.num_classes)
    finally:
        keras.mixed_precision.set_global_policy(previous)


class EpochLogger(keras.callbacks.Callback):
    """Keras callback: progress on screen (a live bar per epoch, or one line per epoch), an estimate of the run's
    length from its first steps, and ``history.csv`` rewritten atomically each epoch.

    Rows are keyed by epoch, so a resumed run replaces, never duplicates, epochs it trains again.
    """

    COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "epoch_seconds", "images_per_s"]

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
        self.first_epoch = None  # the epoch fit() started at: > 0 when BackupAndRestore resumed the run

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.t_train, self.t_first = None, None
        self.epoch = epoch
        if self.first_epoch is None:
            self.first_epoch = epoch
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


def _current_lr(optimizer) -> float:
    """The learning rate the optimizer uses now (a schedule is evaluated at the current step)."""
    lr = optimizer.learning_rate
    if callable(lr):
        lr = lr(optimizer.iterations)
    return float(keras.ops.convert_to_numpy(lr))


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
    import pandas as pd

    stream = stream or sys.stdout
    progress = resolve_mode(progress)
    check_config(config)
    keras.utils.set_random_seed(int(config["seed"]))
    accel = resolve_acceleration(config)
    strategy = None
    if accel["distribute"]:
        from helpers.tensorflow_only import make_strategy

        strategy = make_strategy()
    scope = strategy.scope if strategy else contextlib.nullcontext
    replicas = strategy.num_replicas_in_sync if strategy else 1
    if model is not None and accel["distribute"]:
        raise ValueError("With distribute='mirrored' (or several GPUs) train() builds the model itself, inside the "
                         "strategy's scope: call train() without model=, or pass distribute='off'.")
    if model is None:
        with scope():
            model = build_for(config, dataset, accel["mixed_precision"])
    expected = tuple(model.inputs[0].shape[1:])
    if expected != dataset.input_shape:
        raise ValueError(f"Model {model.name!r} was built for input shape {expected}, but {dataset.name} images "
                         f"are {dataset.input_shape}; build it with build_model(name, {dataset.input_shape}).")
    run.create()  # only now, once the inputs are known to be right: bad input writes nothing
    prep = Preprocessing.fit(dataset.x_train, config["normalization"])
    # Under MirroredStrategy batch_size is per replica: each device keeps the batch the recipe was tuned for.
    batch = int(config["batch_size"]) * replicas
    accel["replicas"] = replicas
    multi = list(model.output_names) if len(model.outputs) > 1 else None
    pipe = dict(batch_size=batch, num_classes=dataset.num_classes, preprocessing=prep, output_names=multi)
    train_ds = make_pipeline(dataset.x_train, dataset.y_train, training=True, augment=config["augment"],
                             seed=int(config["seed"]), **pipe)
    val_ds = make_pipeline(dataset.x_val, dataset.y_val, cache=bool(config["cache"]), **pipe) \
        if len(dataset.y_val) else None
    steps = math.ceil(len(dataset.y_train) / batch)
    with scope():
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
    resumed_from = (int(config["epochs"]) if logger.first_epoch is None else logger.first_epoch) if resume else 0
    if config["recalibrate_bn"] and replicas == 1:
        plain = make_pipeline(dataset.x_train, dataset.y_train, batch_size=batch, num_classes=dataset.num_classes,
                              preprocessing=prep)
        recalibrate_batchnorm(model, plain, max_batches=math.ceil(2048 / batch))
    # BackupAndRestore deletes its backup when training ends, so the final model is saved on its own.
    atomic_write(run / RunDir.MODEL, model.save)
    history = run.history()
    if history.empty:
        history = pd.DataFrame(columns=EpochLogger.COLUMNS)
    return TrainResult(model, history, config, prep, run, seconds, resumed_from)


def _all_layers(layer):
    """Every layer inside ``layer``, nested models included."""
    for sub in getattr(layer, "layers", []):
        yield sub
        yield from _all_layers(sub)


def recalibrate_batchnorm(model, dataset, max_batches: int = 32) -> int:
    """Re-estimate every BatchNormalization layer's moving mean and variance as the plain average over up to
    ``max_batches`` batches of ``dataset`` (no augmentation); the weights are untouched. Returns the batches used.

    Keras keeps running averages during training, which lag behind weights that still change quickly (short
    runs, adaptive optimizers): a network at 92% training accuracy can test at 35% with them, and at 78% once
    they are re-estimated ("precise BN", Wu & Johnson 2021). Dropout is switched off meanwhile.
    """
    layers = list(_all_layers(model))
    bns = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    if not bns:
        return 0
    momenta, rates = [b.momentum for b in bns], [d.rate for d in drops]
    used = 0
    try:
        for d in drops:
            d.rate = 0.0
        for used, (x, _) in enumerate(itertools.islice(dataset, max_batches), 1):
            for b in bns:
                b.momentum = (used - 1) / used  # moving statistic = mean over the batches seen so far
            model(x, training=True)
    finally:
        for b, m in zip(bns, momenta):
            b.momentum = m
        for d, r in zip(drops, rates):
            d.rate = r
    return used
