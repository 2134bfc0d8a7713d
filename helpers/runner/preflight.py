"""Checks run_all makes before anything runs: notebook parameters that exist, data that can be had, an output
folder that can be written. Each failure is one UsageError line, and nothing has been started or written."""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

import papermill

from helpers.experiments import NOTEBOOKS, Experiment, notebook_path
from helpers.runner.shards import UsageError
from helpers.runs import atomic_write, make_writable_dir

__all__ = ["check_data_access", "check_output_dir", "check_parameters", "notebook_parameters"]


@functools.cache
def notebook_parameters(notebook: str) -> frozenset[str]:
    """The names in a notebook's `parameters` cell."""
    try:
        path = notebook_path(notebook)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    names = frozenset(papermill.inspect_notebook(str(path)))
    if not names:
        raise UsageError(f"{path} has no cell tagged 'parameters'.")
    return names


def check_parameters(jobs: list[tuple[Experiment, dict]]) -> None:
    """Every parameter must exist in its notebook's `parameters` cell (papermill would only warn)."""
    problems = []
    for exp, params in jobs:
        known = notebook_parameters(exp.notebook)
        unknown = sorted(set(params) - known)
        if unknown:
            problems.append(
                f"{exp.name}: {', '.join(unknown)} not in {exp.notebook} (its parameters: {', '.join(sorted(known))})"
            )
    if problems:
        raise UsageError("Unknown notebook parameter(s), nothing was run:\n  " + "\n  ".join(problems))


def _keras_cached(dataset: str) -> bool:
    cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"
    return (cache / "mnist.npz").is_file() if dataset == "mnist" else (cache / "cifar-10-batches-py").is_dir()


def _online(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def check_data_access(jobs, profile: str, data_dir: str | None) -> None:
    """Real-data profiles need --data-dir (checked earlier), Keras' cache or the network: stop at once otherwise."""
    if data_dir:
        return
    needed = set()
    for exp, params in jobs:
        if not params.get("synthetic") and exp.notebook not in (NOTEBOOKS["appendix"], NOTEBOOKS["interpret"]):
            needed |= {params["dataset"]} if "dataset" in params else {"mnist", "cifar10"}
    missing = sorted(d for d in needed if not _keras_cached(d))
    if missing and not _online():
        raise UsageError(
            f"Profile {profile!r} needs the real {' and '.join(missing)} data, which is not in Keras' cache, and there "
            "is no network to download it. Either pass --data-dir DIR (a folder with mnist.npz and "
            "cifar-10-python.tar.gz), or run offline with --profile smoke (synthetic data)."
        )


def profile_file(output_dir: Path) -> Path:
    return output_dir / ".run_all" / "profile"


def check_output_dir(output_dir: Path, profile: str) -> None:
    """Writable, and not another profile's: a folder keeps one profile's runs (smoke's synthetic runs must never
    count as quick's, whose experiments share their names). Checked before anything is written."""
    try:
        other = profile_file(output_dir).read_text().strip()
    except OSError:
        other = None
    if other and other != profile:
        raise UsageError(
            f"--output-dir {str(output_dir)!r} holds the runs of profile {other!r}: give profile {profile!r} a "
            "folder of its own (--output-dir), so that neither counts the other's runs as its own."
        )
    try:
        make_writable_dir(output_dir)
    except OSError as e:
        raise UsageError(f"--output-dir {str(output_dir)!r} cannot be written ({e.strerror or e}).") from None


def keep_profile(output_dir: Path, profile: str) -> None:
    """Record the folder's profile, once every check has passed (``check_output_dir`` reads it)."""
    if not profile_file(output_dir).is_file():
        atomic_write(profile_file(output_dir), profile + "\n")
