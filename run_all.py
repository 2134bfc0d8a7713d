#!/usr/bin/env python
"""Execute the course's notebooks headless with papermill, one experiment per process, and summarise.

    python run_all.py                      # the `quick` profile (real data, small subsets, 2 epochs)
    python run_all.py --profile smoke      # synthetic data, every notebook in minutes (what the tests run)
    python run_all.py --profile full       # full data, each recipe's epochs (GPU)
    python run_all.py --list               # the experiments of a profile, and which are finished
    python run_all.py --profile smoke --pdf  # ... and outputs/report.pdf (exit status 3: PDF not built)
    python run_all.py --profile full --shard 2/8    # one of 8 workers sharing one output folder
    python run_all.py --profile full --report-only  # wait for the workers, then one report of every run

Executed notebooks: ``<output-dir>/runs/<experiment>/notebook.ipynb`` for training experiments, else
``<output-dir>/notebooks/<experiment>.ipynb``; logs in ``<output-dir>/logs/``; the summary in
``<output-dir>/summary.csv``. Finished experiments are skipped unless ``--force``.

Any number of workers (processes, machines, SLURM array tasks, Kubernetes pods) may share one output folder, a
network folder included: a worker claims an experiment before running it and, holding the claim, checks again
that nobody finished it meanwhile, so every experiment runs once. ``summary.csv`` describes the folder, not one
worker's share, and the last worker to finish (or ``--report-only``) builds the one report.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
NOTEBOOK_DIR = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from helpers.experiments import NOTEBOOKS, PROFILES, Experiment, experiments_for, parameters_for  # noqa: E402
from helpers.runs import OUTPUT_DIR_ENV, RunDir, atomic_write, default_output_dir, make_writable_dir  # noqa: E402

KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
FAILED = ("failed", "timeout", "failed elsewhere")  # the statuses that make the exit status 1
SHARD_COUNT_VAR = "RUN_ALL_SHARD_COUNT"  # Kubernetes Indexed Jobs give each pod its index, not the count


class UsageError(Exception):
    """Bad command-line input: reported in one line, before anything runs."""


# ----------------------------------------------------------------------------------------------- checks


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
            raise UsageError(f"SLURM_ARRAY_TASK_ID={env['SLURM_ARRAY_TASK_ID']!r}: need {', '.join(names)} as "
                             "whole numbers (Slurm sets them in array jobs), or pass --shard i/n.") from None
        i, rest = divmod(task - first, step)
        if rest or not 0 <= i < count:
            raise UsageError(f"SLURM array task {task} is not one of {count} evenly spaced tasks from {first}: "
                             "submit a range such as --array=1-8, or pass --shard i/n.")
        return f"{i + 1}/{count}", f"SLURM_ARRAY_TASK_ID={task} (array of {count} from {first})"
    if "JOB_COMPLETION_INDEX" in env:
        index, count = env["JOB_COMPLETION_INDEX"], env.get(SHARD_COUNT_VAR)
        if not count:
            raise UsageError(f"JOB_COMPLETION_INDEX={index} is set (a Kubernetes Indexed Job) but {SHARD_COUNT_VAR} "
                             "is not: set it to the Job's completions, or pass --shard i/n.")
        try:
            i, n = int(index), int(count)
        except ValueError:
            raise UsageError(f"JOB_COMPLETION_INDEX={index!r}, {SHARD_COUNT_VAR}={count!r}: expected whole "
                             "numbers.") from None
        if not 0 <= i < n:
            raise UsageError(f"JOB_COMPLETION_INDEX={i} is not below {SHARD_COUNT_VAR}={n}: set {SHARD_COUNT_VAR} "
                             "to the Job's completions.")
        return f"{i + 1}/{n}", f"JOB_COMPLETION_INDEX={i} of {SHARD_COUNT_VAR}={n}"
    return None


@functools.cache
def notebook_parameters(notebook: str) -> frozenset[str]:
    """The names in a notebook's `parameters` cell."""
    import papermill

    path = NOTEBOOK_DIR / notebook
    if not path.is_file():
        raise UsageError(f"Notebook {path} does not exist.")
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
            problems.append(f"{exp.name}: {', '.join(unknown)} not in {exp.notebook} "
                            f"(its parameters: {', '.join(sorted(known))})")
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
        if not params.get("synthetic") and exp.notebook != NOTEBOOKS["appendix"]:
            needed |= {params["dataset"]} if "dataset" in params else {"mnist", "cifar10"}
    missing = sorted(d for d in needed if not _keras_cached(d))
    if missing and not _online():
        raise UsageError(
            f"Profile {profile!r} needs the real {' and '.join(missing)} data, which is not in Keras' cache, and there "
            "is no network to download it. Either pass --data-dir DIR (a folder with mnist.npz and "
            "cifar-10-python.tar.gz), or run offline with --profile smoke (synthetic data)."
        )


def check_output_dir(output_dir: Path) -> None:
    try:
        make_writable_dir(output_dir)
    except OSError as e:
        raise UsageError(f"--output-dir {str(output_dir)!r} cannot be written ({e.strerror or e}).") from None


# ------------------------------------------------------------------------------------------------ claims
# A claim is a file created with O_CREAT|O_EXCL (atomic on local disks and on NFSv3+, Lustre, GPFS, CephFS) that
# names its holder (host, boot, PID namespace, PID, process start) and whose modification time its holder's
# heartbeat refreshes every HEARTBEAT seconds. Kernel locks (flock/fcntl, filelock's default) are not used: on
# network folders they can be silently host-local (Lustre `localflock`, NFS `nolock`) or unsupported, and the
# process that holds one cannot be named to the user. A claim whose holder is gone is taken over: at once when the
# holder ran on this machine (its process is gone), otherwise once its heartbeat has been silent for STALE_AFTER
# seconds (clocks of cluster nodes agree to well under that; NFS may cache a file's time for up to a minute).

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
MACHINE = {"host": socket.gethostname(),
           "boot": _read("/proc/sys/kernel/random/boot_id", lambda p: Path(p).read_text().strip()),
           "pidns": _read("/proc/self/ns/pid", os.readlink)}


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
        return (isinstance(self.record.get("pid"), int) and self.record["pid"] > 0
                and all(self.record.get(k) == v for k, v in MACHINE.items()))

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
    record = {**MACHINE, "pid": os.getpid(), "start": _process_start(os.getpid()), **info, "token": token,
              "since": time.time(), "stale_after": STALE_AFTER}
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
    if holder and ((token and holder.record.get("token") == token)
                   or (pid and holder.local and holder.record.get("pid") == pid)):
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


def work_dir(output_dir: Path) -> Path:
    return output_dir / ".run_all"


def claim_path(output_dir: Path, name: str) -> Path:
    return work_dir(output_dir) / f"{name}.claim"


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


# -------------------------------------------------------------------------------------------- running


def is_training(exp: Experiment) -> bool:
    return exp.notebook not in (NOTEBOOKS["data"], NOTEBOOKS["appendix"])


def executed_path(exp: Experiment, output_dir: Path) -> Path:
    """Training notebooks are kept in their run directory, the others under <output-dir>/notebooks/."""
    if is_training(exp):
        return RunDir(output_dir, exp.name).path / "notebook.ipynb"
    return output_dir / "notebooks" / f"{exp.name}.ipynb"


def ok_marker(exp: Experiment, output_dir: Path) -> Path:
    return output_dir / "notebooks" / f"{exp.name}.ok"


def done_marker(exp: Experiment, output_dir: Path) -> Path | None:
    """The file that says an experiment is finished: its run's metrics.json, or the data notebook's .ok file.

    The appendix has none: it summarises whatever exists, so it runs every time.
    """
    if exp.notebook == NOTEBOOKS["appendix"]:
        return None
    return RunDir(output_dir, exp.name) / RunDir.METRICS if is_training(exp) else ok_marker(exp, output_dir)


def _done(marker: Path | None, since: float = 0.0) -> bool:
    try:
        return marker is not None and marker.stat().st_mtime >= since
    except OSError:
        return False


def is_finished(exp: Experiment, output_dir: Path, since: float = 0.0) -> bool:
    """Finished, and at or after ``since`` when given (--force reruns what was finished before a worker started)."""
    return _done(done_marker(exp, output_dir), since)


def result_path(output_dir: Path, name: str) -> Path:
    return work_dir(output_dir) / f"{name}.result.json"


def read_result(output_dir: Path, name: str) -> dict:
    """How the experiment's last execution in this folder ended, whoever ran it ({} when never)."""
    try:
        return json.loads(result_path(output_dir, name).read_text())
    except (OSError, ValueError):
        return {}


def write_result(output_dir: Path, name: str, status: str, error: str | None, wall_seconds: float, worker: str):
    atomic_write(result_path(output_dir, name), json.dumps({
        "status": status, "error": error, "wall_seconds": wall_seconds, "worker": worker, "at": time.time()}))


def worker(spec_path: str) -> int:
    """Child process: claim the experiment, check again that nobody finished it, execute it, record the result,
    release the claim. Writes a status file for the parent; prints only a takeover note, the rest goes to the log."""
    spec = json.loads(Path(spec_path).read_text())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cancelled: release the claim, record nothing
    name, path = spec["experiment"], Path(spec["claim"])
    try:
        token, note = claim(path, experiment=name, worker=spec["worker"])
    except Busy as e:
        return _finish(spec, {"status": "running elsewhere", "error": None, "worker": e.holder.who})
    heartbeat = Heartbeat(path)
    try:
        if note:
            print(f"{name}: {note}", flush=True)
        if spec["done"] and _done(Path(spec["done"]), spec["since"]):
            by = read_result(Path(spec["output_dir"]), name).get("worker")
            return _finish(spec, {"status": "done elsewhere", "error": None, "worker": by})
        return _finish(spec, _execute(spec))
    finally:
        heartbeat.stop()
        release(path, token)


def _finish(spec: dict, status: dict) -> int:
    atomic_write(spec["status"], json.dumps(status))
    return 1 if status["status"] in FAILED else 0


def _execute(spec: dict) -> dict:
    """Run the notebook with papermill, its output appended to the experiment's log (one header per execution)."""
    log = Path(spec["log"])
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    print(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {spec['worker']}: executing {spec['experiment']} ===", flush=True)
    import papermill
    from nbclient.exceptions import CellTimeoutError

    out, t0 = Path(spec["output"]), time.perf_counter()
    status = {"status": "ok", "error": None}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            spec["input"], str(out), parameters=spec["parameters"], kernel_name="python3",
            cwd=str(NOTEBOOK_DIR), execution_timeout=spec["timeout"], progress_bar=False, coalesce_streams=True,
            stdout_file=sys.stdout, stderr_file=sys.stderr,
        )
    except papermill.PapermillExecutionError as e:
        status = {"status": "failed", "error": f"{e.ename}: {e.evalue}"}
    except CellTimeoutError as e:  # papermill leaves a notebook that looks complete: record it ourselves
        status = {"status": "timeout", "error": str(e).splitlines()[0]}
    except Exception as e:  # kernel death, missing kernel, bad notebook
        status = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
    wall = round(time.perf_counter() - t0, 1)
    if status["status"] == "ok" and spec["ok_marker"]:
        atomic_write(spec["ok_marker"], "ok\n")
    write_result(Path(spec["output_dir"]), spec["experiment"], wall_seconds=wall, worker=spec["worker"], **status)
    print(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {spec['worker']}: {spec['experiment']} {status['status']} "
          f"after {wall} s ===", flush=True)
    return {**status, "worker": spec["worker"]}


class Job:
    """One experiment executing in its own process (papermill chdirs: never threads)."""

    def __init__(self, exp: Experiment, params: dict, output_dir: Path, timeout: float | None, since: float,
                 who: str):
        self.exp, self.params, self.timeout, self.output_dir, self.who = exp, params, timeout, output_dir, who
        self.output = executed_path(exp, output_dir)
        work = work_dir(output_dir)
        work.mkdir(parents=True, exist_ok=True)
        self.spec = work / f"{exp.name}.{SESSION}.json"  # per run_all: two workers never share these
        self.status_file = work / f"{exp.name}.{SESSION}.status.json"
        self.status_file.unlink(missing_ok=True)
        self.claim = claim_path(output_dir, exp.name)
        self.log = output_dir / "logs" / f"{exp.name}.log"
        done = done_marker(exp, output_dir) or ok_marker(exp, output_dir)  # the appendix: built since `since`
        atomic_write(self.spec, json.dumps({
            "experiment": exp.name, "input": str(NOTEBOOK_DIR / exp.notebook), "output": str(self.output),
            "parameters": params, "timeout": timeout, "status": str(self.status_file), "claim": str(self.claim),
            "log": str(self.log), "output_dir": str(output_dir), "done": str(done) if done else None,
            "since": since, "ok_marker": None if is_training(exp) else str(ok_marker(exp, output_dir)), "worker": who,
        }))

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(self.spec)],
                                     env={**os.environ, **KERNEL_ENV}, start_new_session=True, cwd=str(ROOT))

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def poll(self) -> dict | None:
        """None while running; else the result (ending the worker and its kernel on timeout)."""
        if self.proc.poll() is None:
            if not (self.timeout and self.elapsed > self.timeout):
                return None
            self.stop(signal.SIGKILL)
            error = f"ran over --timeout {self.timeout:g} s"
            write_result(self.output_dir, self.exp.name, "timeout", error, round(self.elapsed, 1), self.who)
            return {"status": "timeout", "error": error, "worker": self.who}
        try:
            result = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            release(self.claim, pid=self.proc.pid)
            result = {"status": "failed", "error": f"worker exited with code {self.proc.returncode}; see {self.log}",
                      "worker": self.who}
        self.spec.unlink(missing_ok=True)
        self.status_file.unlink(missing_ok=True)
        return result

    def stop(self, sig: int) -> None:
        """End the worker and its kernel (their own process group) and free the claim it held."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        release(self.claim, pid=self.proc.pid)


def test_accuracy(exp: Experiment, output_dir: Path) -> float | None:
    run = RunDir(output_dir, exp.name)
    if is_training(exp) and run.finished:
        return run.read_json(RunDir.METRICS).get("test_accuracy")
    return None


def run_jobs(jobs, output_dir: Path, n_jobs: int, timeout: float | None, since: float, who: str) -> dict[str, dict]:
    """Run our share, ``n_jobs`` at a time, and return what became of each experiment in this worker's eyes.

    An experiment finished meanwhile is 'done elsewhere'; one a live worker holds is left to it ('running
    elsewhere'); one whose holder stopped is taken over; one held from another machine that has not been seen
    beating yet is waited for, after the rest of the share (at most STALE_AFTER seconds).
    """
    pending, running, waiting, outcome = list(jobs), [], {}, {}
    watch, total, last_look = Watch(), len(jobs), 0.0

    def settle(exp: Experiment, res: dict, seconds: float | None = None) -> None:
        outcome[exp.name] = {"status": res["status"], "error": res.get("error"), "worker": res.get("worker"),
                             "wall_seconds": round(seconds, 1) if seconds is not None else None}
        acc = test_accuracy(exp, output_dir)
        took = f" in {seconds:.1f} s" if seconds is not None and res["status"] != "done elsewhere" else ""
        extra = f", test accuracy {acc:.4f}" if acc is not None and res["status"] == "ok" else ""
        by = f" ({res.get('worker')})" if res["status"].endswith("elsewhere") and res.get("worker") else ""
        why = f": {res['error']} (log: {output_dir / 'logs' / (exp.name + '.log')})" if res["status"] in FAILED else ""
        print(f"[{len(outcome)}/{total}] {exp.name}: {res['status']}{by}{took}{extra}{why}", flush=True)

    def look(exp: Experiment, params: dict, since_wait: float | None) -> bool:
        """Decide what to do with an experiment; True when settled or started, False to keep waiting for it."""
        if is_finished(exp, output_dir, since):
            settle(exp, {"status": "done elsewhere", "worker": read_result(output_dir, exp.name).get("worker")})
            return True
        state, holder = watch(claim_path(output_dir, exp.name))
        if state == "alive":
            settle(exp, {"status": "running elsewhere", "worker": holder.who})
            return True
        if state == "unknown":
            if since_wait is None:
                print(f"{exp.name}: claimed from another machine by {holder.who}; coming back to it", flush=True)
            return False
        last = read_result(output_dir, exp.name)
        if state == "free" and since_wait and last.get("at", 0) >= since_wait and last.get("status") in FAILED:
            settle(exp, {"status": "failed elsewhere", "error": last.get("error"), "worker": last.get("worker")})
            return True
        job = Job(exp, params, output_dir, timeout, since, who)
        job.start()
        running.append(job)
        print(f"{exp.name}: started ({exp.notebook})", flush=True)
        return True

    try:
        while pending or running or waiting:
            while pending and len(running) < n_jobs:
                exp, params = pending.pop(0)
                if not look(exp, params, None):
                    waiting[exp.name] = (exp, params, time.time())
            time.sleep(0.5)
            for job in list(running):
                res = job.poll()
                if res is None:
                    continue
                running.remove(job)
                if res["status"] == "running elsewhere":  # another worker claimed it a moment before us
                    waiting[job.exp.name] = (job.exp, job.params, time.time())
                else:
                    settle(job.exp, res, job.elapsed)
            if waiting and not pending and len(running) < n_jobs and time.monotonic() - last_look > 2:
                last_look = time.monotonic()
                for name, (exp, params, since_wait) in list(waiting.items()):
                    if len(running) < n_jobs and look(exp, params, since_wait):
                        del waiting[name]
    finally:  # interrupted (Ctrl-C, SIGTERM from the cluster): end our notebooks and free their claims
        for job in running:
            job.stop(signal.SIGTERM)
    return outcome


# -------------------------------------------------------------------------------------- the folder's state


def folder_row(exp: Experiment, output_dir: Path, share: set[str], started_at: float, own: dict | None) -> dict:
    """One line of summary.csv: what this worker did, else what the folder says (finished, claimed, failed)."""
    row = {"experiment": exp.name, "status": "not run", "test_accuracy": test_accuracy(exp, output_dir),
           "wall_seconds": None, "notebook": str(executed_path(exp, output_dir)), "error": None, "worker": None}
    if own and not own["status"].endswith("elsewhere"):
        return {**row, **own}
    holder = read_holder(claim_path(output_dir, exp.name))
    stopped = holder.gone() if holder else None
    if holder and not stopped:
        return {**row, "status": "running elsewhere", "worker": holder.who}
    last = read_result(output_dir, exp.name)
    row.update(wall_seconds=last.get("wall_seconds"), worker=last.get("worker"))
    if is_finished(exp, output_dir):
        before = not is_finished(exp, output_dir, started_at)
        row["status"] = "skipped (finished)" if before and exp.name in share else "done elsewhere"
    elif done_marker(exp, output_dir) is None and last.get("at", 0) < started_at:
        row.update(wall_seconds=None, worker=None)  # the appendix: only this run's counts
    elif last.get("status") == "ok":
        row["status"] = "done elsewhere"
    elif last.get("status") in FAILED:
        row.update(status="failed elsewhere", error=f"{last['status']}: {last.get('error')}")
    if stopped and row["status"] == "not run":
        row["worker"] = f"{holder.who} (stopped: {stopped})"
    return row


def settled(exp: Experiment, output_dir: Path) -> bool:
    """Finished or failed, and nobody working on it."""
    holder = read_holder(claim_path(output_dir, exp.name))
    if holder is not None and not holder.gone():
        return False
    return is_finished(exp, output_dir) or read_result(output_dir, exp.name).get("status") in FAILED


def write_summary(rows: list[dict], output_dir: Path) -> Path:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["experiment", "status", "test_accuracy", "wall_seconds", "notebook", "error",
                                        "worker"])
    path = atomic_write(output_dir / "summary.csv", frame.to_csv(index=False))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        shown = frame[["experiment", "status", "test_accuracy", "wall_seconds", "worker"]].astype(object)
        print("\nSummary of the folder\n" + shown.where(shown.notna(), "").to_string(index=False))
    print(f"\nSummary written to {path}")
    return path


# ----------------------------------------------------------------------------------------------- report


def appendix_parameters(exp: Experiment, profile: str, output_dir: Path, only: str | None,
                        running: list[str]) -> dict:
    """The appendix's parameters: its output folder and profile, and, where the notebook has them, the --only
    pattern (so that experiments left out are not 'missing') and the experiments still running elsewhere."""
    params = parameters_for(exp, profile, str(output_dir))
    declared = notebook_parameters(exp.notebook)
    if "only" in declared:
        params["only"] = only or ""
    if "running" in declared:
        params["running"] = sorted(running)
    return params


def last_to_finish(registration: Registration, selected: list[Experiment], output_dir: Path) -> str | None:
    """Leave the folder; None when this worker builds the report (no other worker left, and every experiment
    finished or failed), else why it does not."""
    with holding(work_dir(output_dir) / "workers.claim"):  # two workers leaving at once: exactly one is last
        registration.close()
        others = live_workers(output_dir)
    if others:
        return f"{len(others)} other worker(s) still running ({', '.join(h.who for h in others)}); the last one builds it"
    open_ = [e.name for e in selected if e.notebook != NOTEBOOKS["appendix"] and not settled(e, output_dir)]
    if open_:
        return (f"{len(open_)} experiment(s) neither finished nor failed yet ({', '.join(open_)}); the last worker "
                "to finish them, or run_all.py --report-only, builds it")
    return None


def wait_for_others(selected: list[Experiment], output_dir: Path, wait: float, me: Path) -> list[str]:
    """--report-only: wait, up to ``wait`` seconds, while other workers run or experiments (the appendix too) are
    claimed; return the experiments still running elsewhere."""
    t0, next_note = time.monotonic(), 0.0
    while True:
        workers = live_workers(output_dir, exclude=me)
        running = [e.name for e in selected if (h := read_holder(claim_path(output_dir, e.name))) and not h.gone()]
        waited = time.monotonic() - t0
        if not workers and not running:
            return []
        if waited >= wait:
            print(f"Report: waited {waited:.0f} s; still running elsewhere: {', '.join(running) or 'no experiment'}"
                  f" ({len(workers)} worker(s) registered)", flush=True)
            return [e.name for e in selected if e.name in running and e.notebook != NOTEBOOKS["appendix"]]
        if time.monotonic() >= next_note:
            print(f"Waiting (up to {wait:g} s) for {len(workers)} worker(s) and {len(running)} running experiment(s)"
                  f"{': ' + ', '.join(running) if running else ''}", flush=True)
            next_note = time.monotonic() + 60
        time.sleep(min(2.0, max(0.1, wait - waited)))


def make_report(output_dir: Path, profile: str, which: str) -> bool:
    """Export the report; False (after saying why in one line) when the PDF was not built."""
    from helpers.report import build_report

    t0 = time.perf_counter()
    result = build_report(output_dir, profile, which)
    if result.html:
        print(f"Report (HTML): {result.html}")
    for path in result.notebook_pdfs:
        print(f"Notebook PDF: {path}")
    if result.pdf:
        print(f"Report (PDF): {result.pdf} ({time.perf_counter() - t0:.0f} s)")
    for problem in result.problems:
        print(problem, file=sys.stderr)
    return result.pdf_built


# ----------------------------------------------------------------------------------------------- main


class Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (a UsageError), not usage text and an exit."""

    def error(self, message):
        raise UsageError(re.sub(r"^argument [^:]+: (?=--)", "", message))  # our messages name the option


def _checked(check):
    """An argparse ``type=`` from a check that raises UsageError."""

    def convert(text):
        try:
            return check(text)
        except UsageError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = check.__name__
    return convert


def _profile(text: str) -> str:
    if text not in PROFILES:
        raise UsageError(f"Unknown profile {text!r}; valid: {', '.join(PROFILES)}.")
    return text


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--jobs {text!r}: expected a whole number >= 1.")
    return int(text)


def _seconds(option: str, minimum: float, strict: bool):
    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value > minimum if strict else value >= minimum):
            raise UsageError(f"{option} {text}: expected seconds {'>' if strict else '>='} {minimum:g}.")
        return value

    return seconds


def _data_dir(text: str) -> str:
    if not Path(text).is_dir():
        raise UsageError(f"--data-dir {text!r} does not exist or is not a folder.")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = Parser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Profiles: " + "; ".join(f"{k}: {v['about']}" for k, v in PROFILES.items()))
    p.add_argument("--profile", default="quick", type=_checked(_profile), help="smoke, quick (default) or full")
    p.add_argument("--list", action="store_true", help="list the profile's experiments and exit")
    p.add_argument("--only", metavar="PATTERN", help="run only experiments whose name matches (glob or substring)")
    p.add_argument("--data-dir", type=_checked(_data_dir), help="folder with mnist.npz and cifar-10-python.tar.gz (offline use)")
    p.add_argument("--output-dir", default=str(default_output_dir()),
                   help="where runs, notebooks and the summary go (default: outputs/ at the repository root, or "
                        f"${OUTPUT_DIR_ENV}; the notebooks use the same folder)")
    p.add_argument("--jobs", default=1, type=_checked(_jobs), help="experiments to execute at once, each in its own process (default 1)")
    p.add_argument("--force", action="store_true", help="rerun experiments that already finished")
    p.add_argument("--shard", metavar="i/n", type=_checked(parse_shard),
                   help="run only the i-th of n deterministic shares of the matrix (default: from SLURM_ARRAY_TASK_ID "
                        f"in a SLURM array, or JOB_COMPLETION_INDEX and {SHARD_COUNT_VAR} in a Kubernetes Indexed Job)")
    p.add_argument("--timeout", type=_checked(_seconds("--timeout", 0, strict=True)), default=None, help="seconds allowed per notebook (default: no limit)")
    p.add_argument("--pdf", nargs="?", const="report", choices=["report", "all"],
                   help="build <output-dir>/report.pdf and report.html from the results; 'all' also exports every "
                        "executed notebook to its own PDF (needs xelatex; exit status 3 when the PDF was not built)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: wait for the workers on --output-dir, then build the appendix and the PDF "
                        "from every finished run (what a cluster's last step runs)")
    p.add_argument("--no-report", action="store_true",
                   help="never build the report here, even as the last worker: a later --report-only step does "
                        "(the SLURM recipe's array tasks)")
    p.add_argument("--wait", type=_checked(_seconds("--wait", 0, strict=False)), default=86400.0, metavar="SECONDS",
                   help="with --report-only: how long to wait for experiments running elsewhere (default 86400)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # run_jobs ends its notebooks and frees their claims on the way out


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.worker:
            return worker(args.worker)
        n_jobs = args.jobs
        shard, shard_source = None, None
        if not args.report_only:  # the report covers every share
            if args.shard:
                shard = args.shard
            else:
                text, shard_source = shard_from_env() or (None, None)
                shard = parse_shard(text)
        try:
            selected = experiments_for(args.profile, args.only)
        except ValueError as e:
            raise UsageError(str(e)) from None
        appendix = next((e for e in selected if e.notebook == NOTEBOOKS["appendix"]), None)
        share = [] if args.report_only else [e for e in selected if e is not appendix and in_shard(e, shard)]
        output_dir = Path(args.output_dir).resolve()
        data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
        jobs = [(e, parameters_for(e, args.profile, str(output_dir), data_dir)) for e in share]
        if args.list:
            for exp in share + ([appendix] if appendix else []):
                holder = read_holder(claim_path(output_dir, exp.name))
                state = ("finished" if is_finished(exp, output_dir) else
                         f"running ({holder.who})" if holder and not holder.gone() else "to run")
                print(f"{exp.name:42s} {exp.notebook:30s} {state}")
            return 0
        if args.report_only and appendix is None:
            raise UsageError(f"--report-only: profile {args.profile!r} has no evaluation appendix to build.")
        check_parameters(jobs + ([(appendix, parameters_for(appendix, args.profile, str(output_dir)))]
                                 if appendix else []))
        check_output_dir(output_dir)
        todo = [(e, p) for e, p in jobs if args.force or not is_finished(e, output_dir)]
        check_data_access(todo, args.profile, data_dir)
    except UsageError as e:
        print(f"run_all.py: error: {e}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args, selected, appendix, jobs, todo, shard, shard_source, output_dir, n_jobs)
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args, selected, appendix, jobs, todo, shard, shard_source, output_dir: Path, n_jobs: int) -> int:
    """Work through our share, then (if last) the report; summarise the folder."""
    started_at, t0 = time.time(), time.perf_counter()
    who = f"{socket.gethostname()} pid {os.getpid()}"
    since = started_at if args.force else 0.0  # --force: what another worker reran after we started counts
    if shard_source:
        print(f"Shard {shard[0]}/{shard[1]} (from {shard_source})", flush=True)
    registration = Registration(output_dir, worker=who, role="report" if args.report_only else "worker",
                                profile=args.profile, only=args.only, shard=shard)
    outcome, report_state = {}, None
    try:
        if args.report_only:
            print(f"Report only: profile {args.profile}, output in {output_dir}", flush=True)
            running = wait_for_others(selected, output_dir, args.wait, registration.path)
        else:
            share = f" (shard {shard[0]}/{shard[1]})" if shard else ""
            print(f"Profile {args.profile}{share}: {len(jobs)} experiments, {len(todo)} to run, "
                  f"{len(jobs) - len(todo)} already finished; output in {output_dir}", flush=True)
            outcome = run_jobs(todo, output_dir, n_jobs, args.timeout, since, who)
            running = []
            report_state = ("no appendix selected" if appendix is None else
                            "left to run_all.py --report-only (--no-report)" if args.no_report else
                            last_to_finish(registration, selected, output_dir))
            if appendix:
                print("Report: " + ("this worker is the last to finish: building it" if report_state is None else
                                    f"not built here, {report_state}"), flush=True)
        if appendix and report_state is None:  # built after this moment by another worker: as good as ours
            params = appendix_parameters(appendix, args.profile, output_dir, args.only, running)
            outcome.update(run_jobs([(appendix, params)], output_dir, 1, args.timeout, time.time(), who))
    finally:
        registration.close()
    names = {e.name for e, _ in jobs}
    rows = [folder_row(e, output_dir, names, started_at, outcome.get(e.name)) for e in selected]
    write_summary(rows, output_dir)
    counts = {s: sum(r["status"] == s for r in rows) for s in dict.fromkeys(r["status"] for r in rows)}
    failed = [r["experiment"] for r in rows if r["status"] in FAILED]
    print(f"Wall time {time.perf_counter() - t0:.0f} s; "
          + ", ".join(f"{n} {s}" for s, n in counts.items() if s not in FAILED)
          + f"; {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    which = args.pdf or ("report" if args.report_only else None)
    built = outcome.get(appendix.name, {}) if appendix else {}
    if built.get("status", "").endswith("elsewhere"):
        print(f"Report: built by {built.get('worker')} (another worker that finished at the same time)")
    elif which and appendix and report_state is None:
        if built.get("status") != "ok":
            print("Report: the evaluation appendix did not run through; no PDF (see its log).", file=sys.stderr)
            return 3
        if not make_report(output_dir, args.profile, which):
            return 3
    elif which and appendix is None and not make_report(output_dir, args.profile, which):
        return 3
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
