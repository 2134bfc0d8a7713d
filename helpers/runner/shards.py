"""Shards: a deterministic share of the experiment matrix for each of n workers (``--shard i/n``), or the share a
SLURM array task or a Kubernetes Indexed Job's pod gets from its environment."""

from __future__ import annotations

import os
from collections.abc import Callable

from helpers.experiments import Experiment

SHARD_COUNT_VAR = "RUN_ALL_SHARD_COUNT"  # Kubernetes Indexed Jobs give each pod its index, not the count


class UsageError(Exception):
    """Bad command-line input: reported in one line, before anything runs."""


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``i/n`` -> (i, n); None for no text."""
    if not text:
        return None
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r}: expected i/n with whole numbers, e.g. 1/3.") from None
    if not (n >= 1 and 1 <= i <= n):
        raise UsageError(f"--shard {text!r}: need 1 <= i <= n, e.g. 1/3, 2/3, 3/3.")
    return i, n


def shares(experiments: list[Experiment], n: int, seconds: Callable[[Experiment], float]) -> list[list[Experiment]]:
    """``n`` deterministic shares of the experiments that wait for no other run, balanced by estimated time: longest
    first, each to the share with the least time so far (ties: by name, then the lower share). ``seconds`` must not
    depend on the machine (the kit's reference timings), so that every worker computes the same shares. Experiments
    that read others' runs (``needs``) are in no share: the report step runs them."""
    own = sorted((e for e in experiments if not e.needs), key=lambda e: (-seconds(e), e.name))
    load, out = [0.0] * n, [[] for _ in range(n)]
    for exp in own:
        i = min(range(n), key=lambda k: (load[k], k))
        load[i] += seconds(exp)
        out[i].append(exp)
    return out


def share_of(
    experiments: list[Experiment], shard: tuple[int, int] | None, seconds: Callable[[Experiment], float]
) -> list[Experiment]:
    """This worker's share (all that wait for no other run when ``shard`` is None), in the matrix's order. An empty
    share (more shares than experiments) is said in one line, with the number of shares that each get work."""
    if shard is None:
        return [e for e in experiments if not e.needs]
    i, n = shard
    mine = {e.name for e in shares(experiments, n, seconds)[i - 1]}
    if not mine:
        k = sum(not e.needs for e in experiments)
        print(
            f"Shard {i}/{n} is empty: this selection has {k} experiments to share, so at most {k} shares get work "
            f"(SLURM: --array=1-{k}; run_all.py --count-shards says it). Nothing to train here.",
            flush=True,
        )
    return [e for e in experiments if e.name in mine]


def shard_from_env(env=os.environ) -> tuple[str, str] | None:
    """``--shard i/n`` of a SLURM array task or a Kubernetes Indexed Job's pod: (i/n, where it came from)."""
    if "SLURM_ARRAY_TASK_ID" in env:
        names = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT")
        try:
            task, first, count = (int(env[k]) for k in names)
            step = int(env.get("SLURM_ARRAY_TASK_STEP") or 1)
        except (KeyError, ValueError):
            raise UsageError(
                f"SLURM_ARRAY_TASK_ID={env['SLURM_ARRAY_TASK_ID']!r}: need {', '.join(names)} as "
                "whole numbers (Slurm sets them in array jobs), or pass --shard i/n."
            ) from None
        i, rest = divmod(task - first, step)
        if rest or not 0 <= i < count:
            raise UsageError(
                f"SLURM array task {task} is not one of {count} evenly spaced tasks from {first}: "
                "submit a range such as --array=1-8, or pass --shard i/n."
            )
        return f"{i + 1}/{count}", f"SLURM_ARRAY_TASK_ID={task} (array of {count} from {first})"
    if "JOB_COMPLETION_INDEX" in env:
        index, count = env["JOB_COMPLETION_INDEX"], env.get(SHARD_COUNT_VAR)
        if not count:
            raise UsageError(
                f"JOB_COMPLETION_INDEX={index} is set (a Kubernetes Indexed Job) but {SHARD_COUNT_VAR} "
                "is not: set it to the Job's completions, or pass --shard i/n."
            )
        try:
            i, n = int(index), int(count)
        except ValueError:
            raise UsageError(
                f"JOB_COMPLETION_INDEX={index!r}, {SHARD_COUNT_VAR}={count!r}: expected whole numbers."
            ) from None
        if not 0 <= i < n:
            raise UsageError(
                f"JOB_COMPLETION_INDEX={i} is not below {SHARD_COUNT_VAR}={n}: set {SHARD_COUNT_VAR} "
                "to the Job's completions."
            )
        return f"{i + 1}/{n}", f"JOB_COMPLETION_INDEX={i} of {SHARD_COUNT_VAR}={n}"
    return None
