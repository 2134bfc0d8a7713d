#!/usr/bin/env python
"""Recipes head to head on real images: the same model trained with each recipe variant (`report2`, `best`, and
`best` with issue 13's AdamW override) for the same number of epochs, on the same split, then tested once; with
several --epochs, at each budget (`best` picks its settings by budget: see RECIPES["best"]["budget"]).

    python bench/recipes.py --data-dir DIR                       # VGG-16, ResNet-18, GoogLeNet on CIFAR-10
    python bench/recipes.py --data-dir DIR --models vgg11 resnet18 --epochs 8 30
    python bench/recipes.py --data-dir DIR --dataset mnist --epochs 5 --recipes report2 best
    python bench/recipes.py --data-dir DIR --variant tuned:optimizer=adam,lr=1e-3,batch_size=64 --seed 0 1 2

DIR holds the official files (mnist.npz, cifar-10-python.tar.gz or cifar-10-batches-py/). On a CPU use
--train-size to keep it short; a handful of epochs on a few thousand images says which recipe learns faster,
not what either reaches on the full dataset. ``--variant NAME:key=value,...`` adds a variant of `best` with those
settings (e.g. a search's winner); several ``--seed`` values repeat every run on other splits and initialisations
and end with a table of the means.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.environment import environment_info, import_keras_quietly  # noqa: E402

import_keras_quietly()

import pandas as pd  # noqa: E402

from helpers.data import load_dataset  # noqa: E402
from helpers.evaluation import evaluate_run  # noqa: E402
from helpers.runs import RunDir  # noqa: E402
from helpers.training import (  # noqa: E402
    budget_bands,
    make_config,
    parse_settings,
    train,  # noqa: E402
)


def variants(dataset: str, model: str = "any") -> dict:
    """Named variants for runs of ``model`` on ``dataset``: a recipe and the settings that override it."""
    bands = budget_bands("best", f"{model}/{dataset}")
    return {
        "report2": ("report2", {}),
        "best": ("best", {}),
        # Issue 13's single override of `best` (54.2% against best's 52.3% on 4,006 CIFAR-10 images, VGG-11,
        # 8 epochs), with `best`'s own augmentation of that time (flip + crop; MNIST: shifts and rotations).
        "best+adamw": (
            "best",
            {
                "optimizer": "adam",
                "lr": 0.003,
                "weight_decay": 0.05,
                "batch_size": 64,
                "augment": make_config("best", "vgg11", dataset)["augment"],
            },
        ),
        # `best` with its large-budget settings (the references' SGD) whatever the budget: what `best` was before
        # its small-budget band.
        "best-sgd": ("best", bands[-1][1]),
        # `best` with its small-budget settings whatever the budget.
        "best-adamw": ("best", bands[0][1]),
    }


def write_csv(rows: list, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True, help="folder with the official dataset files")
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "mnist"])
    p.add_argument("--models", nargs="+", default=["vgg16", "resnet18", "googlenet"])
    p.add_argument(
        "--recipes",
        nargs="+",
        default=["report2", "best", "best+adamw"],
        help=f"variants: {', '.join(variants('cifar10'))} or any recipe name",
    )
    p.add_argument("--epochs", type=int, nargs="+", default=[10], help="one or more budgets")
    p.add_argument("--train-size", type=float, default=None, help="training images (count or fraction)")
    p.add_argument("--val-size", type=float, default=0.1)
    p.add_argument("--test-size", type=float, default=None)
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:K=V,...",
        help="a variant of best with these settings, e.g. tuned:optimizer=adam,lr=1e-3 (repeatable)",
    )
    p.add_argument("--seed", type=int, nargs="+", default=[0], help="one or more seeds (split and initialisation)")
    p.add_argument("--out", default="bench/recipes.csv")
    args = p.parse_args(argv)

    def count(v):
        return int(v) if v is not None and v >= 1 else v

    try:
        given_variants = {}
        for text in args.variant:
            name, sep, given = text.partition(":")
            if not (sep and name and given):
                raise ValueError(f"--variant {text!r}: expected NAME:key=value,...")
            given_variants[name] = ("best", parse_settings(given))
            if name not in args.recipes:
                args.recipes.append(name)
        # Per model: `best`'s bands have rules by model and dataset (e.g. crops for the ResNets at small budgets).
        named = {m: {**variants(args.dataset, m), **given_variants} for m in args.models}
        splits = {
            seed: load_dataset(
                args.dataset,
                data_dir=args.data_dir,
                val_size=count(args.val_size),
                train_size=count(args.train_size),
                test_size=count(args.test_size),
                seed=seed,
            )
            for seed in args.seed
        }
        ds = splits[args.seed[0]]
        # train_size: the images this split trains on, so that `best` picks its band by this run's budget.
        configs = [
            (
                m,
                name,
                make_config(recipe, m, args.dataset, train_size=len(ds.y_train), **{**over, "epochs": e, "seed": seed}),
            )
            for seed in args.seed
            for e in args.epochs
            for m in args.models
            for name in args.recipes
            for recipe, over in [named[m].get(name, (name, {}))]
        ]
    except (ValueError, OSError) as err:  # unknown model/recipe/setting, epochs < 1, missing or bad files, sizes
        p.error(str(err))
    hw = environment_info()["hardware"]
    print(
        f"{ds} on {hw['accelerator']} ({hw['cpu_count']} cores); {', '.join(map(str, args.epochs))} epochs; "
        f"seeds {', '.join(map(str, args.seed))}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for model, recipe, cfg in configs:
            ds = splits[cfg["seed"]]
            cfg = {**cfg, "val_size": len(ds.y_val)}  # one split for every run of a seed
            t0 = time.perf_counter()
            result = train(
                cfg, ds, RunDir(out, f"{model}-{recipe}-{cfg['epochs']}-{cfg['seed']}"), stream=io.StringIO()
            )
            metrics = evaluate_run(result, ds)
            rows.append(
                {
                    "model": model,
                    "recipe": recipe,
                    "epochs": cfg["epochs"],
                    "seed": cfg["seed"],
                    "images seen": cfg["images_seen"],
                    "batch": cfg["batch_size"],
                    "optimizer": cfg["optimizer"],
                    "lr": cfg["lr"],
                    "augment": cfg["augment"],
                    "weight decay": cfg["weight_decay"],
                    "label smoothing": cfg["label_smoothing"],
                    "best val acc": round(float(result.history["val_accuracy"].max()), 4),
                    "test accuracy": round(metrics["test_accuracy"], 4),
                    "wall time (s)": round(time.perf_counter() - t0, 1),
                }
            )
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
            write_csv(rows, args.out)  # after every run: a stopped comparison keeps its rows
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False))
    if len(args.seed) > 1:
        means = table.groupby(["model", "epochs", "recipe"], sort=False)[["best val acc", "test accuracy"]]
        print(f"\nmeans over seeds {', '.join(map(str, args.seed))}:\n" + means.mean().round(4).to_string())
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
