"""Training: one ``train()`` that turns a config (``helpers.training.config``) and a dataset into a run directory
(the callback that shows progress and writes ``history.csv`` is ``progress.EpochLogger``; batch-norm statistics are
re-estimated by ``batchnorm``). Evaluation on the test split is ``helpers.evaluation.evaluate_run``.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass

import keras
import pandas as pd

from helpers.data import Dataset, Preprocessing, make_pipeline
from helpers.environment import environment_info, resolve_acceleration
from helpers.models import build_model, summary_text
from helpers.runs import RunDir, atomic_write
from helpers.training.batchnorm import RecalibrateBeforeValidation, recalibrate_batchnorm
from helpers.training.config import check_config
from helpers.training.optim import compile_model
from helpers.training.progress import EpochLogger, resolve_mode
from helpers.training.recovery import disk_full_said, trained_before
from helpers.training.selection import best_checkpoint, kept_best, selected_epoch
from helpers.training.tensorboard import tensorboard_callback

__all__ = ["TrainResult", "build_for", "train"]

# Training images whose batch-norm statistics are re-estimated: before each validation (cheap, every epoch) and
# once after the last epoch (for the saved model and the test).
VALIDATION_RECALIBRATION_IMAGES = 512
FINAL_RECALIBRATION_IMAGES = 2048


def build_for(config: dict, dataset: Dataset, mixed_precision: bool = False):
    """Build the config's model for the dataset's input shape, under the mixed-float16 policy if asked."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    try:
        return build_model(config["model"], dataset.input_shape, dataset.num_classes)
    finally:
        keras.mixed_precision.set_global_policy(previous)


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
    selected_epoch: int | None = None  # the epoch whose weights the model holds (config["select_epoch"])
    last_weights: list | None = None  # the last epoch's weights, when another epoch was selected


def train(config: dict, dataset: Dataset, run: RunDir, model=None, stream=None, progress: str = "epoch") -> TrainResult:
    """Train ``config["model"]`` on ``dataset`` into ``run``: config.json, history.csv, backup/, model.keras.

    An interrupted run resumes from its last finished epoch (Keras' BackupAndRestore in ``run/backup``).
    ``progress="bar"`` shows a live bar in each epoch inside a notebook; ``"epoch"`` prints one line per epoch.
    """
    stream = stream or sys.stdout
    progress = resolve_mode(progress)
    check_config(config)
    keras.utils.set_random_seed(int(config["seed"]))
    accel = resolve_acceleration(config)
    strategy = None
    if accel["distribute"]:
        from helpers.training.distribute import (
            make_strategy,  # TensorFlow only (checked by resolve_acceleration)
        )

        strategy = make_strategy()
    scope = strategy.scope if strategy else contextlib.nullcontext
    replicas = strategy.num_replicas_in_sync if strategy else 1
    if model is not None and accel["distribute"]:
        raise ValueError(
            "With distribute='mirrored' (or several GPUs) train() builds the model itself, inside the "
            "strategy's scope: call train() without model=, or pass distribute='off'."
        )
    if model is None:
        with scope():
            model = build_for(config, dataset, accel["mixed_precision"])
    expected = tuple(model.inputs[0].shape[1:])
    if expected != dataset.input_shape:
        raise ValueError(
            f"Model {model.name!r} was built for input shape {expected}, but {dataset.name} images "
            f"are {dataset.input_shape}; build it with build_model(name, {dataset.input_shape})."
        )
    run.create()  # only now, once the inputs are known to be right: bad input writes nothing
    prep = Preprocessing.fit(dataset.x_train, config["normalization"])
    data = {"source": dataset.source, **dataset.sizes(), "input_shape": dataset.input_shape}
    if not accel["distribute"] and trained_before(run, config, data):
        return _trained_result(run, config, prep, stream)
    # Under MirroredStrategy batch_size is per replica: each device keeps the batch the recipe was tuned for.
    batch = int(config["batch_size"]) * replicas
    accel["replicas"] = replicas
    multi = list(model.output_names) if len(model.outputs) > 1 else None
    pipe = dict(batch_size=batch, num_classes=dataset.num_classes, preprocessing=prep, output_names=multi)
    train_ds = make_pipeline(
        dataset.x_train, dataset.y_train, training=True, augment=config["augment"], seed=int(config["seed"]), **pipe
    )
    val_ds = (
        make_pipeline(dataset.x_val, dataset.y_val, cache=bool(config["cache"]), **pipe) if len(dataset.y_val) else None
    )
    steps = math.ceil(len(dataset.y_train) / batch)
    with scope():
        compile_model(model, config, steps, jit_compile=accel["jit_compile"])

    environment = environment_info()
    run.write_json(
        RunDir.CONFIG,
        {
            **config,
            "resolved": accel,
            "normalization_mean": prep.mean,
            "normalization_std": prep.std,
            "data": {**data, "class_names": dataset.class_names},
            "environment": environment,
        },
    )
    run.write_text(RunDir.SUMMARY, summary_text(model))
    backup = run / RunDir.BACKUP
    resume = (backup / "training_metadata.json").is_file()
    gpus = environment["hardware"]["gpus"]
    device = ", ".join(g["name"] for g in gpus) if gpus else f"this CPU ({environment['hardware']['cpu_count']} cores)"
    logger = EpochLogger(
        run,
        len(dataset.y_train),
        int(config["epochs"]),
        resume,
        stream,
        progress,
        device,
        bool(gpus),
        len(dataset.y_val),
    )
    # The logger and the kept best epoch write epoch k before the backup of epoch k: a kill between them retrains
    # epoch k, whose row is then replaced, so history.csv always holds each epoch once, and no best epoch is missed.
    keep_best = config["select_epoch"] == "best_val" and val_ds is not None
    if not resume:  # a fresh run in a used folder: a kept epoch of the run before is not this run's
        (run / RunDir.BEST).unlink(missing_ok=True)
    callbacks = [
        logger,
        *([best_checkpoint(model, run)] if keep_best else []),
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    recalibrate = bool(config["recalibrate_bn"]) and replicas == 1
    plain = (
        make_pipeline(
            dataset.x_train, dataset.y_train, batch_size=batch, num_classes=dataset.num_classes, preprocessing=prep
        )
        if recalibrate
        else None
    )
    if recalibrate and val_ds is not None:
        callbacks.insert(0, RecalibrateBeforeValidation(plain, math.ceil(VALIDATION_RECALIBRATION_IMAGES / batch)))
    if config["tensorboard"]:
        callbacks += [cb for cb in [tensorboard_callback(run.path, stream)] if cb is not None]
    t0 = time.perf_counter()
    with disk_full_said(run):
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=int(config["epochs"]),
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )  # the pipeline shuffles
    seconds = time.perf_counter() - t0
    resumed_from = (int(config["epochs"]) if logger.first_epoch is None else logger.first_epoch) if resume else 0
    final = math.ceil(FINAL_RECALIBRATION_IMAGES / batch)
    if recalibrate:
        recalibrate_batchnorm(model, plain, max_batches=final)
    history = run.history()
    if history.empty:
        history = pd.DataFrame(columns=EpochLogger.COLUMNS)
    chosen, last_weights = selected_epoch(history, "last"), None
    best = kept_best(run / RunDir.BEST) if keep_best else None
    if best is not None and len(history) and best[0] != chosen:  # the file's own epoch: it is what the model gets
        chosen = best[0]
        last_weights = model.get_weights()  # evaluate_run tests these too, for the page's "last epoch" figure
        model.load_weights(run / RunDir.BEST)
        if recalibrate:
            recalibrate_batchnorm(model, plain, max_batches=final)
    # BackupAndRestore deletes its backup when training ends, so the final model is saved on its own.
    atomic_write(run / RunDir.MODEL, model.save)
    resumed = f", resumed after epoch {resumed_from}" if resumed_from else ""
    kept = f"; keeps the weights of epoch {chosen} (best validation accuracy)" if last_weights is not None else ""
    print(
        f"{len(history)} epochs in {seconds:.0f} s{resumed}; mixed precision {accel['mixed_precision']}, XLA "
        f"{accel['jit_compile']}, {replicas} device(s){kept}; saved to {run / RunDir.MODEL}",
        file=stream,
        flush=True,
    )
    return TrainResult(model, history, config, prep, run, seconds, resumed_from, chosen, last_weights)


def _trained_result(run: RunDir, config: dict, prep: Preprocessing, stream) -> TrainResult:
    model = keras.models.load_model(run / RunDir.MODEL)
    history = run.history()
    best = kept_best(run / RunDir.BEST) if config["select_epoch"] == "best_val" else None
    chosen = best[0] if best is not None else selected_epoch(history, "last")
    seconds = float(history["epoch_seconds"].sum()) if "epoch_seconds" in history else 0.0
    print(
        f"Training of this run ended before (all {len(history)} epochs, {run / RunDir.MODEL}) and its evaluation "
        "did not: the trained model is evaluated, not trained again.",
        file=stream,
        flush=True,
    )
    return TrainResult(model, history, config, prep, run, seconds, len(history), chosen, None)
