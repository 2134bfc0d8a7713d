"""Shards: a deterministic share of the experiment matrix for each of n workers (``--shard i/n``), or the share a
SLURM array task or a Kubernetes Indexed Job's pod gets from its environment."""

from __future__ import annotations

import os
import zlib

from helpers.experiments import NOTEBOOKS, Experiment

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


def in_shard(exp: Experiment, shard: tuple[int, int] | None) -> bool:
    """A deterministic share: the same experiment always lands in the same shard (CRC32 of its name)."""
    if shard is None or exp.notebook == NOTEBOOKS["appendix"]:  # the report is every share's (run_all builds it once)
        return True
    i, n = shard
    return zlib.crc32(exp.name.encode()) % n == i - 1


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
