#!/usr/bin/env python
"""Search training settings with Optuna on real images: each trial is the kit's own ``train()`` into a run
directory, scored on the validation split (the test split is never loaded into a decision), weak trials pruned.

    python bench/tune.py --data-dir DIR --model vgg11 --epochs 8 --trials 8 --train-size 1000
    python bench/tune.py --data-dir DIR --model resnet18 --epochs 30 --trials 6 --out bench/tune_resnet18_30.csv
    python bench/tune.py --data-dir DIR --model vgg11 resnet18 --epochs 30 --storage s.journal --out w1.csv &
    python bench/tune.py --data-dir DIR --model vgg11 resnet18 --epochs 30 --storage s.journal --no-baselines \
        --out w2.csv

DIR holds the official files (mnist.npz, cifar-10-python.tar.gz or cifar-10-batches-py/). The space: optimizer
(SGD + Nesterov momentum or AdamW, i.e. ``adam`` with weight decay), peak learning rate and weight decay (ranges
per optimizer, in the references' meaning: see ``helpers.training.optim.keras_weight_decay``), label smoothing, batch
size, the one-cycle warm-up share and the augmentation (CIFAR-10: flip + crop, flips alone or none; MNIST: shifts
and rotations or none); everything else is the ``best`` recipe's. Every trial trains the same
number of epochs. The first trials are the ``best`` recipe as it is for this budget, the override from issue 13
(AdamW lr 0.003, weight decay 0.05, batch 64) and ``best``'s other budget bands, each once, so the table always
compares them with what the search finds. Pruning: Optuna's successive halving on the per-epoch validation accuracy
(rungs from a quarter of the epochs on, keep the better half), or Hyperband, median, none.

With several models (``--model vgg11 resnet18``) a trial trains each in turn with the same settings and scores
their mean validation accuracy: one setting for every family, as a recipe is. The pruner then sees model k's epoch
e as step k x epochs + e, the same step in every trial. With ``--storage FILE`` (an Optuna journal file) several
processes search one study together, e.g. on one GPU; give the baselines to one of them only (``--no-baselines``
for the others) and each its own ``--out``.

Why Optuna and not KerasTuner: it drives plain Python, so a trial is exactly the kit's ``train()`` with its run
directory, recipe, pipeline and batch-norm recalibration (KerasTuner wants to own ``model.fit`` and the model
builder); it has successive halving / Hyperband pruning on intermediate values, conditional spaces (a learning
rate range per optimizer) and a trials DataFrame for the CSV.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.environment import environment_info, import_keras_quietly  # noqa: E402

import_keras_quietly()

import pandas as pd  # noqa: E402

from helpers.data import load_dataset  # noqa: E402
from helpers.runs import RunDir  # noqa: E402
from helpers.training import (  # noqa: E402
    make_config,
    parse_settings,
    train,  # noqa: E402
)

# The override measured in issue 13 (best with these values: 54.2% against best's 52.3% on 4,006 images, 8 epochs).
ISSUE13_OVERRIDE = {"optimizer": "adam", "lr": 0.003, "weight_decay": 0.05, "batch_size": 64}
SPACE = {  # optimizer -> (lr range, weight-decay range), both log-uniform
    "sgd_momentum": ((0.01, 0.2), (5e-5, 5e-3)),  # coupled-L2 meaning (PyTorch SGD)
    "adam": ((1e-4, 1e-2), (1e-3, 0.3)),  # AdamW's decoupled coefficient
}


class PruningStream(io.StringIO):
    """The stream ``train()`` prints its per-epoch lines to. After each epoch line it reads the run's
    ``history.csv`` (written just before the line), reports the validation accuracy to the trial and raises
    ``optuna.TrialPruned`` when the pruner says so: the kit's ``train()`` stays untouched."""

    def __init__(self, trial, run: RunDir, first_step: int = 0):
        super().__init__()
        self.trial, self.run, self.first_step = trial, run, first_step  # steps before this model's epoch 1

    def write(self, text):
        import optuna

        n = super().write(text)
        if re.match(r"\s*Epoch \d+/\d+ - loss", text):
            history = self.run.history()
            if history is not None and len(history):
                epoch, acc = int(history["epoch"].iloc[-1]), float(history["val_accuracy"].iloc[-1])
                self.trial.report(0.0 if math.isnan(acc) else acc, self.first_step + epoch)
                if self.trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch} (val {acc:.3f})")
        return n


def val_accuracy(result, ds) -> float:
    """Validation accuracy of the finished model (after train()'s batch-norm recalibration)."""
    import keras

    from helpers import evaluation

    with contextlib.redirect_stdout(io.StringIO()):
        probs = evaluation.predict(result.model, keras.ops.convert_to_numpy(result.preprocessing(ds.x_val)))
    return float((probs.argmax(1) == ds.y_val).mean())


def make_pruner(name: str, epochs: int):
    import optuna

    first = max(1, epochs // 4)
    if name == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=first, reduction_factor=2)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=first, max_resource=epochs, reduction_factor=2)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=first)
    return optuna.pruners.NopPruner()


AUGMENT_CHOICES = {"cifar10": ["flip_crop", "flip", "none"], "mnist": ["shift_rotate", "none"]}  # per dataset
SPACE_KEYS = ("optimizer", "lr", "weight_decay", "label_smoothing", "batch_size", "warmup_fraction", "augment")


def suggest(trial, dataset: str) -> dict:
    optimizer = trial.suggest_categorical("optimizer", list(SPACE))
    (lr_lo, lr_hi), (wd_lo, wd_hi) = SPACE[optimizer]
    return {
        "optimizer": optimizer,
        "lr": trial.suggest_float(f"lr_{optimizer}", lr_lo, lr_hi, log=True),
        "weight_decay": trial.suggest_float(f"weight_decay_{optimizer}", wd_lo, wd_hi, log=True),
        "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.2),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "warmup_fraction": trial.suggest_float("warmup_fraction", 0.05, 0.3),
        "augment": trial.suggest_categorical(f"augment_{dataset}", AUGMENT_CHOICES[dataset]),
    }


def as_params(settings: dict) -> dict:
    """Settings (a run's config) -> the trial's parameter names (for ``enqueue_trial``)."""
    opt = settings["optimizer"]
    return {
        "optimizer": opt,
        f"lr_{opt}": settings["lr"],
        f"weight_decay_{opt}": settings["weight_decay"],
        "label_smoothing": settings["label_smoothing"],
        "batch_size": settings["batch_size"],
        "warmup_fraction": settings["warmup_fraction"],
        f"augment_{settings['dataset']}": settings["augment"],
    }


def baselines(base: dict) -> list[tuple[str, dict]]:
    """The trials every search starts with: ``best`` as it is at this budget, issue 13's override, then each of
    ``best``'s other budget bands at this budget, so the search also says which band wins here. A setting that is
    already in the list is not tried twice (at 30 epochs of the samples the override *is* ``best``)."""
    from helpers.training import budget_bands

    candidates = [("best", base), ("issue13 override", {**base, **ISSUE13_OVERRIDE})]
    candidates += [
        (f"band up to {limit:,}" if limit else "band beyond", {**base, **band})
        for limit, band in budget_bands("best", f"{base['model']}/{base['dataset']}")
    ]
    chosen, seen = [], []
    for name, settings in candidates:
        key = {k: settings[k] for k in SPACE_KEYS}
        if key not in seen:
            seen.append(key)
            chosen.append((name, settings))
    return chosen


def write_table(rows: list, path: str) -> pd.DataFrame:
    """The trials so far as a table, written to ``path`` (after every trial: a stopped search keeps its rows)."""
    table = pd.DataFrame(rows)
    for key in ("lr", "weight_decay", "label_smoothing", "warmup_fraction"):
        table[key] = table[key].map(lambda v: float(f"{v:.3g}"))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True, help="folder with the official dataset files")
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "mnist"])
    p.add_argument("--model", nargs="+", default=["vgg11"], help="one or more models; a trial scores their mean")
    p.add_argument("--epochs", type=int, default=8, help="every trial trains this many epochs")
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--train-size", type=float, default=None, help="training images (count or fraction)")
    p.add_argument("--val-size", type=float, default=0.1, help="the search split (count or fraction)")
    p.add_argument("--pruner", default="sha", choices=["sha", "hyperband", "median", "none"])
    p.add_argument("--no-baselines", action="store_true", help="don't start with best and the issue-13 override")
    p.add_argument(
        "--enqueue",
        action="append",
        default=[],
        metavar="K=V,...",
        help="also try these settings first, e.g. optimizer=adam,lr=3e-4,weight_decay=0.01,batch_size=32 "
        "(the rest from best); repeatable",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--storage", default=None, help="an Optuna journal file shared by several search processes")
    p.add_argument("--study-name", default="tune", help="the study's name in --storage")
    p.add_argument("--out", default="bench/tune.csv")
    args = p.parse_args(argv)

    import optuna

    def count(v):
        return int(v) if v is not None and v >= 1 else v

    try:
        # test_size=1: the test split is not part of the search (one image is loaded and never looked at).
        ds = load_dataset(
            args.dataset,
            data_dir=args.data_dir,
            val_size=count(args.val_size),
            train_size=count(args.train_size),
            test_size=1,
            seed=args.seed,
        )
        # `best` as it is for this budget (its budget rule reads the images this split trains on).
        bases = {
            m: make_config("best", m, args.dataset, train_size=len(ds.y_train), epochs=args.epochs, seed=args.seed)
            for m in args.model
        }
    except (ValueError, OSError) as err:
        p.error(str(err))
    hw = environment_info()["hardware"]
    print(
        f"{ds} on {hw['accelerator']} ({hw['cpu_count']} cores); {' + '.join(args.model)}, {args.epochs} epochs "
        f"a trial, {args.trials} trials, pruner {args.pruner}",
        flush=True,
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None
    if args.storage:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(args.storage))
    # Each process of a shared study samples with its own seed (the same seed would propose the same settings).
    study = optuna.create_study(
        direction="maximize",
        storage=storage,
        study_name=args.study_name,
        load_if_exists=True,
        pruner=make_pruner(args.pruner, args.epochs * len(args.model)),
        sampler=optuna.samplers.TPESampler(seed=args.seed + (os.getpid() if storage else 0)),
    )
    base = bases[args.model[0]]  # the settings searched are the same for every model (its recipe's budget band)
    if not args.no_baselines:
        for name, settings in baselines(base):
            study.enqueue_trial(as_params(settings), user_attrs={"name": name})
    for i, text in enumerate(args.enqueue):
        try:
            study.enqueue_trial(as_params({**base, **parse_settings(text)}), user_attrs={"name": f"enqueued {i + 1}"})
        except (ValueError, KeyError) as err:
            p.error(f"--enqueue {text!r}: {err}")
    rows = []

    with tempfile.TemporaryDirectory() as out:

        def finish(row, state, epochs_run, scores, t0):
            several = len(args.model) > 1
            row.update(
                state=state,
                epochs_run=epochs_run,
                val_accuracy=round(sum(scores) / len(scores), 4),
                **({f"val_{m}": round(v, 4) for m, v in zip(args.model, scores)} if several else {}),
                seconds=round(time.perf_counter() - t0, 1),
            )
            rows.append(row)
            write_table(rows, args.out)
            print(pd.DataFrame([row]).to_string(index=False, header=len(rows) == 1), flush=True)

        def objective(trial):
            settings = suggest(trial, args.dataset)
            t0 = time.perf_counter()
            row = {
                "trial": trial.number,
                "name": trial.user_attrs.get("name", ""),
                **settings,
                "steps": math.ceil(len(ds.y_train) / settings["batch_size"]) * args.epochs,
            }
            scores = []
            for k, model in enumerate(args.model):
                cfg = {**bases[model], **settings, "val_size": len(ds.y_val)}
                run = RunDir(out, f"trial{trial.number}-{model}")
                try:
                    result = train(cfg, ds, run, stream=PruningStream(trial, run, k * args.epochs))
                except optuna.TrialPruned:
                    history = run.history()
                    finish(
                        row,
                        "pruned",
                        k * args.epochs + len(history),
                        [*scores, float(history["val_accuracy"].iloc[-1])],
                        t0,
                    )
                    raise
                scores.append(val_accuracy(result, ds))
            finish(row, "complete", len(args.model) * args.epochs, scores, t0)
            return row["val_accuracy"]

        study.optimize(objective, n_trials=args.trials, timeout=args.timeout, catch=(FloatingPointError,))

    if not rows:
        print("no trial finished", file=sys.stderr)
        return 1
    table = write_table(rows, args.out)
    print("\n" + table.sort_values("val_accuracy", ascending=False).to_string(index=False))
    done = table[table["state"] == "complete"]
    if len(done):
        top = done.loc[done["val_accuracy"].idxmax()]
        print(
            f"\nbest trial: #{int(top['trial'])} {top['optimizer']} lr {top['lr']} wd {top['weight_decay']} "
            f"ls {top['label_smoothing']} batch {int(top['batch_size'])} warm-up {top['warmup_fraction']}: "
            f"val {top['val_accuracy']:.4f}"
        )
    print(f"written to {args.out}")
    return 0 if len(done) else 1


if __name__ == "__main__":
    sys.exit(main())
