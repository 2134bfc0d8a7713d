#!/usr/bin/env python
"""One GPU session, every GPU measurement in it, within a fixed wall time: throughput with mixed precision on and
off, the recipe search at several budgets, then the recipes head to head with each budget's winner.

    python bench/gpu_session.py --data-dir DIR --out gpu_results               # about 25 minutes
    python bench/gpu_session.py --data-dir DIR --seconds 500 --throughput-seconds 130 --search-seconds 190

1. ``bench/throughput.py`` alone on the device, mixed precision on, then off.
2. ``bench/tune.py`` at every ``--budgets`` epochs at once, ``--workers`` processes per budget sharing one Optuna
   study (a journal file): one setting for ``--search-models`` together (mean validation accuracy).
3. ``bench/recipes.py``: ``report2``, ``best``, issue 13's override and ``tuned`` (the budget's winner, read from
   the search's tables, validation only) for every ``--models`` at the ``--recipe-budgets``, one process per
   model, budget and seed, each tested once.

Small models on 32x32 images leave a large GPU mostly idle and most of a short run is XLA compilation on the
host's cores, so steps 2 and 3 run many processes side by side (``XLA_PYTHON_CLIENT_PREALLOCATE=false``); step 1
runs alone, since its numbers are speeds. Every step has a deadline; what finished is kept (each script writes
its table as it goes) and the logs say what was cut. Tables and logs go to ``--out``.

What it cost on one H200 with 16 host cores (JAX, before the input path prepared batches in threads): about a
minute per model and precision in step 1 (each ``fit`` compiles anew); in step 2, with 9 processes, about 170 s
per trial of 2 models x 8 epochs of 1,792 images; in step 3, 18 processes were too many for 16 cores (7 of 18
runs finished in 285 s). The defaults below are sized for a session of about 25 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parent
SETTINGS = ["optimizer", "lr", "weight_decay", "label_smoothing", "batch_size", "warmup_fraction", "augment"]


def start(script: str, args: list, log: Path, env: dict) -> subprocess.Popen:
    handle = open(log, "w")
    return subprocess.Popen(
        [sys.executable, "-u", str(BENCH / script), *map(str, args)], stdout=handle, stderr=subprocess.STDOUT, env=env
    )


def wait_all(procs: list, deadline: float) -> None:
    """Wait until every process ended or the deadline passed; then stop the rest (their tables so far stay)."""
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def winner(out: Path, epochs: int) -> dict | None:
    """The best complete trial of a budget's search (validation accuracy), as settings; None if none finished."""
    tables = [pd.read_csv(f) for f in sorted(out.glob(f"tune_{epochs}_w*.csv")) if f.stat().st_size]
    if not tables:
        return None
    trials = pd.concat(tables, ignore_index=True)
    done = trials[trials["state"] == "complete"]
    if done.empty:
        return None
    top = done.loc[done["val_accuracy"].idxmax()]
    # (tables of searches from before augmentation was searched have no "augment" column)
    return {k: (int(top[k]) if k == "batch_size" else top[k]) for k in SETTINGS if k in top and not pd.isna(top[k])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--out", default="gpu_results")
    p.add_argument("--seconds", type=float, default=1500, help="wall time for the whole session")
    p.add_argument("--throughput-models", nargs="+", default=["vgg11", "resnet18", "googlenet", "vgg16", "resnet50"])
    p.add_argument("--throughput-seconds", type=float, default=480)
    p.add_argument("--budgets", type=int, nargs="+", default=[8, 30, 60], help="search budgets (epochs)")
    p.add_argument("--search-models", nargs="+", default=["vgg11", "resnet18"])
    p.add_argument("--workers", type=int, default=2, help="search processes per budget")
    p.add_argument("--search-seconds", type=float, default=600)
    p.add_argument("--models", nargs="+", default=["vgg11", "resnet18", "googlenet"])
    p.add_argument("--recipe-budgets", type=int, nargs="+", default=[8, 30])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--train-size", type=int, default=1792, help="a multiple of 128: no partial batch to compile")
    p.add_argument("--val-size", type=int, default=384)
    p.add_argument("--images", type=int, default=8192, help="throughput: images per epoch")
    args = p.parse_args(argv)

    t_start = time.time()
    end = t_start + args.seconds
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    shared = {**env, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    sizes = ["--train-size", args.train_size, "--val-size", args.val_size]

    def left() -> float:
        return end - time.time()

    # 1. Speeds, alone on the device.
    throughput_end = min(end, time.time() + args.throughput_seconds)
    for mp in ("on", "off"):
        share = (throughput_end - time.time()) / (2 if mp == "on" else 1)
        proc = start(
            "throughput.py",
            [
                "--models",
                *args.throughput_models,
                "--images",
                args.images,
                "--batch-size",
                128,
                "--epochs",
                2,
                "--repeats",
                1,
                "--mixed-precision",
                mp,
                "--out",
                out / f"throughput_mp_{mp}.csv",
            ],
            out / f"throughput_mp_{mp}.log",
            env,
        )
        wait_all([proc], time.time() + share)
    print(f"throughput done at {time.time() - t_start:.0f} s", flush=True)

    # 2. The search, every budget at once.
    search_end = min(end - 60, time.time() + args.search_seconds)
    procs = []
    for epochs in args.budgets:
        for w in range(args.workers):
            procs.append(
                start(
                    "tune.py",
                    [
                        "--data-dir",
                        args.data_dir,
                        "--model",
                        *args.search_models,
                        "--epochs",
                        epochs,
                        "--trials",
                        100,
                        *sizes,
                        "--storage",
                        out / f"tune_{epochs}.journal",
                        "--study-name",
                        f"epochs{epochs}",
                        "--timeout",
                        max(10, search_end - time.time() - 30),
                        "--out",
                        out / f"tune_{epochs}_w{w}.csv",
                        *([] if w == 0 else ["--no-baselines"]),
                    ],
                    out / f"tune_{epochs}_w{w}.log",
                    shared,
                )
            )
    wait_all(procs, search_end)
    print(f"search done at {time.time() - t_start:.0f} s", flush=True)

    # 3. Head to head on the test split, with each budget's winner.
    procs = []
    for epochs in args.recipe_budgets:
        tuned = winner(out, epochs)
        # The winner first: when the deadline cuts a process short, its most important row is in.
        variant = ["tuned", "--variant", "tuned:" + ",".join(f"{k}={v}" for k, v in tuned.items())] if tuned else []
        for model in args.models:
            for seed in args.seeds:
                procs.append(
                    start(
                        "recipes.py",
                        [
                            "--data-dir",
                            args.data_dir,
                            "--models",
                            model,
                            "--epochs",
                            epochs,
                            *sizes,
                            "--seed",
                            seed,
                            "--recipes",
                            *variant[:1],
                            "report2",
                            "best+adamw",
                            "best",
                            *variant[1:],
                            "--out",
                            out / f"recipes_{model}_{epochs}_{seed}.csv",
                        ],
                        out / f"recipes_{model}_{epochs}_{seed}.log",
                        shared,
                    )
                )
    wait_all(procs, end)
    print(f"recipes done at {time.time() - t_start:.0f} s ({left():.0f} s left)", flush=True)
    for epochs in args.budgets:
        print(f"winner at {epochs} epochs: {winner(out, epochs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
