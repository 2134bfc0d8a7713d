"""The output folder's workers: each run_all registers itself in ``<output-dir>/.run_all/workers/`` (a claim with a
heartbeat, ``helpers.runner.claims``), so that the last worker to leave knows it is last and builds the one report."""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path

from helpers.runner.claims import SESSION, STALE_AFTER, Busy, Heartbeat, Holder, claim, read_holder, release

__all__ = ["Registration", "claim_path", "holder_of", "holding", "live_workers", "work_dir"]


def work_dir(output_dir: Path) -> Path:
    return output_dir / ".run_all"


def claim_path(output_dir: Path, name: str) -> Path:
    return work_dir(output_dir) / f"{name}.claim"


def holder_of(output_dir: Path, name: str) -> Holder | None:
    """The worker holding experiment ``name``'s claim while it may still run it (None: nobody, or a holder that
    stopped: its claim is free to be taken over)."""
    holder = read_holder(claim_path(output_dir, name))
    return holder if holder is not None and not holder.gone() else None


@contextlib.contextmanager
def holding(path: Path, wait: float = 1.5 * STALE_AFTER):
    """Hold a short claim (to leave the folder and decide who is last), waiting for it if another worker has it."""
    t0 = time.monotonic()
    while True:
        try:
            token, _ = claim(path)
            break
        except Busy:
            if time.monotonic() - t0 > wait:
                raise
            time.sleep(0.2)
    try:
        yield
    finally:
        release(path, token)


class Registration:
    """This worker's entry in ``<output-dir>/.run_all/workers/``: a claim with a heartbeat while it runs."""

    def __init__(self, output_dir: Path, **info):
        self.path = work_dir(output_dir) / "workers" / f"{SESSION}.{uuid.uuid4().hex[:6]}"
        self.token, _ = claim(self.path, **info)
        self._heartbeat = Heartbeat(self.path)

    def close(self) -> None:
        if self._heartbeat:
            self._heartbeat.stop()
            release(self.path, self.token)
            self._heartbeat = None


def live_workers(output_dir: Path, exclude: Path | None = None) -> list[Holder]:
    """Workers registered on the folder that may still be running (a stopped one's entry is removed)."""
    live = []
    for path in sorted((work_dir(output_dir) / "workers").glob("*")):
        holder = read_holder(path) if path != exclude and not path.name.startswith(".") else None
        if holder is not None and holder.gone():
            path.unlink(missing_ok=True)
        elif holder is not None:
            live.append(holder)
    return live
