"""Shares that fit the matrix, and dependencies declared: what reads the runs (06, the appendix) runs after them.

A SLURM array task or a ``--shard i/n`` worker trains its share; 06 (what a network sees) and the evaluation appendix
read the runs, so they never sit in a share: the report step (the last worker, or ``--report-only``) runs them over
the runs that exist by then, and 06 with no run to interpret says it skipped, instead of passing on nothing.
"""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.experiments import EXPERIMENTS, experiments_for, parameters_for
from helpers.runner import session
from helpers.runner.estimate import reference_seconds
from helpers.runner.shards import share_of, shares

ROOT = Path(__file__).resolve().parents[1]


def seconds_for(profile):
    return lambda e: reference_seconds(e, parameters_for(e, profile, "out"))


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
@pytest.mark.parametrize("n", [1, 3, 8])
def test_shares_cover_every_runnable_experiment_once_and_balance_the_time(profile, n):
    selected, seconds = experiments_for(profile), seconds_for(profile)
    cut = shares(selected, n, seconds)
    names = [e.name for share in cut for e in share]
    runnable = [e.name for e in selected if not e.needs]
    assert sorted(names) == sorted(runnable)  # each exactly once
    assert not any(EXPERIMENTS[name].needs for name in names)  # 06 and the appendix wait for the report step
    assert cut == shares(list(reversed(selected)), n, seconds)  # the same cut whatever order a worker lists them
    loads = [sum(seconds(e) for e in share) for share in cut]
    longest = max(seconds(e) for e in selected if not e.needs)
    assert max(loads) - min(loads) <= longest + 1e-9  # greedy longest-first: within one experiment of balance
    if n <= len(runnable):
        assert all(cut), [len(s) for s in cut]  # no share empty while there is work for it


def test_shares_are_balanced_by_time_not_by_count():
    """quick: ResNet-50's Exp. 3 (40 epochs) is worth several small runs; a share by name would stack them."""
    seconds = seconds_for("quick")
    cut = shares(experiments_for("quick"), 3, seconds)
    loads = sorted(sum(seconds(e) for e in share) for share in cut)
    assert loads[-1] / loads[0] < 1.25, loads
    heavy = max((e for e in experiments_for("quick") if not e.needs), key=seconds)
    home = next(share for share in cut if heavy in share)
    assert len(home) < max(len(share) for share in cut)  # the heavy run's share holds fewer experiments


def test_an_empty_share_says_so_in_one_line(capsys):
    selected = experiments_for("smoke", "degradation_*20*,what_cnns_see")  # 2 runs to train, 06 and the appendix
    assert [e.name for e in selected if not e.needs] == ["degradation_plain20_cifar10", "degradation_resnet20_cifar10"]
    got = [share_of(selected, (i, 3), seconds_for("smoke")) for i in (1, 2, 3)]
    assert sorted(len(s) for s in got) == [0, 1, 1]
    lines = [line for line in capsys.readouterr().out.splitlines() if "is empty" in line]
    assert len(lines) == 1 and "at most 2 shares get work" in lines[0] and "--array=1-2" in lines[0], lines


def test_count_shards_tells_the_array_size():
    done = subprocess.run(
        [sys.executable, "run_all.py", "--profile", "smoke", "--count-shards"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0 and done.stdout.strip() == str(sum(not e.needs for e in experiments_for("smoke")))


def test_only_takes_several_patterns_and_keeps_the_appendix():
    names = [e.name for e in experiments_for("smoke", "degradation_*20*,what_cnns_see")]
    assert names == [
        "degradation_plain20_cifar10",
        "degradation_resnet20_cifar10",
        "what_cnns_see",
        "evaluation_appendix",
    ]
    assert "what_cnns_see" not in [e.name for e in experiments_for("smoke", "degradation_*20*")]
    for nothing in ("nothing_like_this", "evaluation_appendix"):  # the appendix alone is no selection
        with pytest.raises(ValueError, match="matches no experiment"):
            experiments_for("smoke", nothing)


def test_06_with_no_run_to_interpret_is_skipped_with_its_reason(tmp_path, capsys):
    class Args:
        profile, only, timeout, seed = "smoke", None, None, None

    got = session.report_step(EXPERIMENTS["what_cnns_see"], Args, tmp_path, [], "me", None)
    assert got["what_cnns_see"]["status"] == "skipped" and "no finished run" in got["what_cnns_see"]["error"]
    assert "skipped, no finished run" in capsys.readouterr().out


def test_a_folder_keeps_one_profile(tmp_path):
    """smoke's synthetic runs share their names with quick's: a second profile in the same folder would count them
    as its own. One line, before any work, nothing written."""
    first = subprocess.run(
        [sys.executable, "run_all.py", "--profile", "smoke", "--list", "--output-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert first.returncode == 0, first.stderr
    (tmp_path / "out" / ".run_all").mkdir(parents=True, exist_ok=True)
    (tmp_path / "out" / ".run_all" / "profile").write_text("smoke\n")  # what a smoke run leaves
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = subprocess.run(
        [sys.executable, "run_all.py", "--profile", "quick", "--output-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "holds the runs of profile 'smoke'" in lines[0], done.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_sharded_smoke_run_interprets_real_runs_and_leaves_no_share_idle(smoke):
    """The session's smoke run is its eight shares run one after the other in an order of no meaning
    (``conftest.SHARD_ORDER``): each share trained one experiment, only the last to finish ran the report step, and
    06 there drew its pictures from the real runs (report.pdf's section on them: tests/test_report.py)."""
    out, proc, _ = smoke
    *first, last = proc.shards
    assert all("Report: not built here" in share.stdout for share in first), [s.stdout[-500:] for s in first]
    assert "Report: this worker is the last to finish: building it" in last.stdout, last.stdout[-2000:]
    summary = pd.read_csv(out / "summary.csv").set_index("experiment")["status"]
    assert summary["what_cnns_see"] == "ok" and summary["evaluation_appendix"] == "ok", summary
    executed = json.loads((out / "notebooks" / "what_cnns_see.ipynb").read_text())
    assert "No finished run" not in json.dumps(executed)
    pictures = sum("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", []))
    assert pictures >= 5, pictures
