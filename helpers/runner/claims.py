"""Claims: how any number of run_all workers, on any machines sharing one output folder, run every experiment once.

A claim is a file created with O_CREAT|O_EXCL (atomic on local disks and on NFSv3+, Lustre, GPFS, CephFS) that
names its holder (host, boot, PID namespace, PID, process start) and whose modification time its holder's
heartbeat refreshes every HEARTBEAT seconds. Kernel locks (flock/fcntl, filelock's default) are not used: on
network folders they can be silently host-local (Lustre `localflock`, NFS `nolock`) or unsupported, and the
process that holds one cannot be named to the user. A claim whose holder is gone is taken over: at once when the
holder ran on this machine (its process is gone), otherwise once its heartbeat has been silent for STALE_AFTER
seconds (clocks of cluster nodes agree to well under that; NFS may cache a file's time for up to a minute).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

STALE_AFTER = 300.0
HEARTBEAT = STALE_AFTER / 10


def _read(path: str, how):
    try:
        return how(path)
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (Linux): [state, ppid, ...]; [] where it cannot be read."""
    stat = _read(f"/proc/{pid}/stat", lambda p: Path(p).read_text())
    return stat.rsplit(")", 1)[-1].split() if stat else []


def _process_start(pid: int) -> str | None:
    """When the process started (Linux: clock ticks since boot), to tell it from a later one with its PID."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else None


# What tells this machine apart: containers share a hostname yet count PIDs on their own; a reboot restarts PIDs.
# SESSION names this run_all's files in the shared folder (pods are often all PID 1).
SESSION = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
MACHINE = {
    "host": socket.gethostname(),
    "boot": _read("/proc/sys/kernel/random/boot_id", lambda p: Path(p).read_text().strip()),
    "pidns": _read("/proc/self/ns/pid", os.readlink),
}


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: alive
        return True
    fields = _stat_fields(pid)  # a zombie, or a later process with the holder's PID, is not the holder
    return not fields or (fields[0] not in ("Z", "X") and (start is None or fields[19:20] == [start]))


@dataclass
class Holder:
    """Who holds a claim (as its file says) and how long its heartbeat has been silent."""

    record: dict
    mtime: float

    @property
    def who(self) -> str:
        return str(self.record.get("worker") or f"{self.record.get('host', '?')} pid {self.record.get('pid', '?')}")

    @property
    def silent(self) -> float:
        return max(0.0, time.time() - self.mtime)

    @property
    def local(self) -> bool:
        """Held from this machine (same host, boot and PID namespace): its process can be looked at."""
        return (
            isinstance(self.record.get("pid"), int)
            and self.record["pid"] > 0
            and all(self.record.get(k) == v for k, v in MACHINE.items())
        )

    def gone(self) -> str | None:
        """Why the holder stopped, or None while it may still be working."""
        if self.local and not _pid_alive(int(self.record["pid"]), self.record.get("start")):
            return f"its process {self.record['pid']} is gone"
        try:
            limit = float(self.record.get("stale_after") or STALE_AFTER)
        except (TypeError, ValueError):
            limit = STALE_AFTER
        return f"no heartbeat for {self.silent:.0f} s" if self.silent > limit else None


def read_holder(path: Path) -> Holder | None:
    """The claim's holder; None when nobody holds it. Opening the file makes NFS fetch its current time."""
    try:
        with open(path, "rb") as f:
            mtime, raw = os.fstat(f.fileno()).st_mtime, f.read()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(raw)
    except ValueError:  # being written: judged by its age alone
        record = {}
    return Holder(record if isinstance(record, dict) else {}, mtime)


class Busy(Exception):
    """Someone else holds the claim."""

    def __init__(self, holder: Holder):
        super().__init__(holder.who)
        self.holder = holder


def claim(path: Path, **info) -> tuple[str, str | None]:
    """Create the claim ``path`` for this process, taking over a stale one: (token, takeover note or None).

    Raises Busy when a live (or not yet provably stopped) holder has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    record = {
        **MACHINE,
        "pid": os.getpid(),
        "start": _process_start(os.getpid()),
        **info,
        "token": token,
        "since": time.time(),
        "stale_after": STALE_AFTER,
    }
    note = None
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = read_holder(path)
            if holder is None:
                continue  # released meanwhile
            why = holder.gone()
            if why is None:
                raise Busy(holder) from None
            _break(path, holder.record.get("token"))
            note = f"taking over from {holder.who}, which stopped ({why})"
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        return token, note
    raise Busy(read_holder(path) or Holder({}, time.time()))


def _break(path: Path, token: str | None) -> None:
    """Remove a stale claim; if another process replaced it in the meantime, put that one back."""
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    moved = read_holder(aside)
    if moved is not None and moved.record.get("token") != token:
        with contextlib.suppress(OSError):
            os.link(aside, path)  # fails if yet another process claimed it: then that one holds it
    aside.unlink(missing_ok=True)


def release(path: Path, token: str | None = None, pid: int | None = None) -> None:
    """Remove a claim that is ours (same token), or that a process we killed held (same PID, this machine)."""
    holder = read_holder(path)
    if holder and (
        (token and holder.record.get("token") == token) or (pid and holder.local and holder.record.get("pid") == pid)
    ):
        path.unlink(missing_ok=True)


class Heartbeat:
    """Refresh a claim's time every HEARTBEAT seconds from a daemon thread while its holder works."""

    def __init__(self, path: Path):
        self.path, self._stop = path, threading.Event()
        threading.Thread(target=self._beat, daemon=True).start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def stop(self) -> None:
        self._stop.set()


class Watch:
    """A worker's view of claims held elsewhere: 'free', 'gone', 'alive', or 'unknown' (held from another machine
    and not yet seen beating: alive once its time moves, gone after STALE_AFTER seconds of silence)."""

    def __init__(self):
        self._first: dict[str, tuple] = {}

    def __call__(self, path: Path) -> tuple[str, Holder | None]:
        holder = read_holder(path)
        if holder is None:
            return "free", None
        if holder.gone():
            return "gone", holder
        if holder.local:
            return "alive", holder
        seen = (holder.record.get("token"), holder.mtime)
        first = self._first.setdefault(str(path), seen)
        if first[0] != seen[0]:
            self._first[str(path)] = seen
            return "unknown", holder
        return ("alive" if first[1] != seen[1] else "unknown"), holder
