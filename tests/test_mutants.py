"""Tests written against the mutants that the kit's own tests left alive (issue 38; bench/mutation/REPORT.md lists
each survivor and the test here that kills it). One class per area of bench/mutation/run.py, so that each area's
mutation run picks its own: judges, best-epoch selection, claims, shards, the results and ablation tables. All are
quick (no training, no notebook)."""

import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.course import judges
from helpers.experiments import EXPERIMENTS, experiments_for, parameters_for
from helpers.report import tables
from helpers.runner import claims, shards
from helpers.runs import RunDir
from helpers.training import selection


class FakeRun:
    """What train() returns, as far as run_like reads it."""

    def __init__(self, epochs_done=2, **config):
        self.config = {"model": "vgg16", "epochs": 2, "lr": 1e-3, "experiment": "x", "images_seen": 1, **config}
        self.history = pd.DataFrame({"epoch": range(1, epochs_done + 1)})


class TestJudges:
    def test_whole_numbers(self):
        assert judges._whole(7) == 7 and judges._whole(np.int64(7)) == 7 and judges._whole(7.0) == 7
        assert judges._whole(7.5) is None and judges._whole("7") is None
        assert judges._whole(True) is None and judges._whole(np.bool_(True)) is None

    def test_number(self):
        count = judges.number(6000, "images", hints={10000: "the test set"})
        assert count(6000) is None and count(np.int64(6000)) is None and count(6000.0) is None
        assert count(10000) == "the test set"
        assert count(6000.5) == "6000.5 is not a whole number, and images counts things"
        assert count(True).startswith("expected a number (images), got bool")
        assert count(np.bool_(False)).startswith("expected a number (images), got")
        assert count("6000") == "expected a number (images), got str '6000'"
        assert count(7000) == "7,000 is too high for images" and count(5000) == "5,000 is too low for images"
        share = judges.number(0.25, "the share", rel=1e-3)
        assert share(0.25 * (1 + 1e-4)) is None and share(0.25 * (1 + 1e-2)) is not None
        assert share(0.2) == "0.2 is too low for the share"  # a fraction needs no whole answer

    def test_choice(self):
        judge = judges.choice("plain56", {"plain20": "shallower", "resnet56": "residual"}, "the deeper net")
        assert judge("Plain-56") is None and judge(" plain 56 ") is None
        assert judge("PLAIN20") == "shallower" and judge("resnet-56") == "residual"
        assert judge("vgg") == "answer one of 'plain56', 'plain20', 'resnet56' (the deeper net), got 'vgg'"
        assert judge(56).startswith("answer one of")

    def test_shape(self):
        judge = judges.shape((16, 16, 128), "the stage")
        assert (
            judge((16, 16, 128)) is None and judge(np.array([16, 16, 128])) is None and judge([16.0, 16, 128]) is None
        )
        assert judge(5) == "expected a shape such as (16, 16, 128) for the stage, got 5"
        assert judge((16.5, 16, 128)) == "(16.5, 16, 128) is not a shape: height, width and channels are whole numbers"
        assert judge((16, 128)) == "the stage has 3 dimensions (height, width, channels), your shape has 2"
        assert judge((8, 16, 128)) == "height of the stage is off: got (8, 16, 128)"
        assert judge((8, 8, 128)) == "height and width of the stage are off: got (8, 8, 128)"
        assert judge((8, 8, 64)) == "height and width and channels of the stage are off: got (8, 8, 64)"

    def test_run_like(self):
        judge = judges.run_like({"model": "vgg11"}, "VGG-11")
        mine = FakeRun()
        assert judge(FakeRun(model="vgg11", experiment="y", images_seen=5), mine) is None  # names: not settings
        assert judge(object(), mine).startswith("expected the result of train(...) for VGG-11")
        assert judge(type("R", (), {"config": {"model": "vgg11"}, "history": None})(), mine).startswith("expected")
        assert judge(FakeRun(model="vgg13"), mine) == (
            "this run has model='vgg13'; the experiment asks for model='vgg11'"
        )
        assert judge(FakeRun(model="vgg11"), FakeRun(model="vgg11")).startswith("this notebook's own run already")
        assert judge(FakeRun(model="vgg11", epochs_done=1), mine).startswith("this run stopped after 1 of its 2 epochs")
        assert judge(FakeRun(model="vgg11", epochs_done=3), mine) is None  # more rows than epochs: finished
        assert judge(FakeRun(model="vgg11", lr=3e-3), mine) == (
            "this run also changes lr=0.003 (this notebook's run: 0.001): change only model, keep the rest of `cfg`"
        )
        assert "batch_size=None (this notebook's run: 32)" in judge(FakeRun(model="vgg11"), FakeRun(batch_size=32))
        two = judges.run_like({"model": "vgg11", "lr": 3e-3}, "VGG-11 faster")
        assert two(FakeRun(model="vgg11", lr=3e-3), FakeRun(model="vgg11")) is None  # one of the two asked differs


class TestSelection:
    def test_selected_epoch(self):
        history = pd.DataFrame({"epoch": [3, 4, 5, 6], "val_accuracy": [0.5, np.nan, 0.9, 0.9]})
        assert selection.selected_epoch(history, "best_val") == 5  # the history's epoch, not its row
        assert selection.selected_epoch(history, "last") == 6
        assert selection.selected_epoch(history.assign(val_accuracy=np.nan), "best_val") == 6
        assert selection.selected_epoch(history.iloc[:0], "last") is None

    def test_kept_best_reads_only_the_kits_files(self, tmp_path):
        import h5py

        assert selection.kept_best(tmp_path / "none.h5") is None
        with h5py.File(tmp_path / "plain.h5", "w") as f:
            f.attrs["kit_epoch"] = 3
        assert selection.kept_best(tmp_path / "plain.h5") is None  # no accuracy: not the kit's
        with h5py.File(tmp_path / "kit.h5", "w") as f:
            f.attrs["kit_epoch"], f.attrs["kit_val_accuracy"] = np.int64(3), np.float32(0.5)
        found = selection.kept_best(tmp_path / "kit.h5")
        assert found == (3, 0.5) and type(found[0]) is int and type(found[1]) is float

    def test_best_checkpoint_watches_the_main_head(self, tmp_path):
        run = RunDir(tmp_path, "r")
        one = type("M", (), {"outputs": [0], "output_names": ["out"]})()
        two = type("M", (), {"outputs": [0, 1], "output_names": ["main", "aux"]})()
        assert selection.best_checkpoint(one, run).monitor == "val_accuracy"
        keep = selection.best_checkpoint(two, run)
        assert keep.monitor == "val_main_accuracy" and keep.path == run / RunDir.BEST and keep.best is None

    def test_keep_best_skips_what_it_cannot_rank(self, tmp_path):
        import h5py

        saved = []
        keep = selection.KeepBest(tmp_path / RunDir.BEST)
        keep.set_model(type("M", (), {"save_weights": lambda self, p: saved.append(p) or h5py.File(p, "w").close()})())
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing to warn about: the metric is there
            keep.on_epoch_end(0, {"val_accuracy": float("inf")})
            keep.on_epoch_end(1, {"val_accuracy": float("-inf")})
        assert not saved and keep.best is None and not keep.missing
        keep.on_epoch_end(2, {"val_accuracy": 0.0})  # a first epoch at 0 is still kept
        assert keep.best == (3, 0.0) and selection.kept_best(tmp_path / RunDir.BEST) == (3, 0.0)
        keep.on_epoch_end(3, {"val_accuracy": -0.5})
        assert keep.best == (3, 0.0)
        with pytest.warns(UserWarning, match="no 'val_accuracy' among \\[\\]"):
            keep.on_epoch_end(4, None)
        assert keep.missing

    @staticmethod
    def scripted_run(tmp_path, select, scripted, stale=None):
        """train() of a one-layer model for len(scripted) epochs, the validation accuracy the callbacks see scripted;
        ``stale``: (epoch, accuracy) of a best.weights.h5 a run before left in the folder."""
        import io

        import h5py
        import keras

        from helpers.data import load_dataset
        from helpers.training import make_config, train

        data = load_dataset("mnist", synthetic=True, train_size=64, val_size=32, test_size=32)
        x = keras.Input((28, 28, 1))
        model = keras.Model(x, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))

        class Scripted(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs["val_accuracy"] = scripted[epoch]

        real_fit = model.fit
        model.fit = lambda *a, **kw: real_fit(*a, **{**kw, "callbacks": [Scripted(), *kw["callbacks"]]})
        run = RunDir(tmp_path, "r").create()
        if stale:
            with h5py.File(run / RunDir.BEST, "w") as f:
                f.attrs["kit_epoch"], f.attrs["kit_val_accuracy"] = stale
        cfg = make_config("best", "vgg11", "mnist", epochs=len(scripted), batch_size=32, select_epoch=select)
        out = io.StringIO()
        return train(cfg, data, run, model=model, stream=out), run, out.getvalue()

    def test_a_last_epoch_run_keeps_no_best_epoch(self, tmp_path):
        result, run, out = self.scripted_run(tmp_path, "last", [0.9, 0.5])
        assert result.selected_epoch == 2 and result.last_weights is None and not (run / RunDir.BEST).exists()
        assert "keeps the weights" not in out

    def test_a_best_val_run_whose_best_epoch_is_its_last_keeps_the_last_weights(self, tmp_path):
        result, run, out = self.scripted_run(tmp_path, "best_val", [0.5, 0.9])
        assert selection.kept_best(run / RunDir.BEST) == (2, 0.9) and result.selected_epoch == 2
        assert result.last_weights is None and "keeps the weights" not in out  # nothing to restore

    def test_a_fresh_best_val_run_ignores_the_best_epoch_of_the_run_before(self, tmp_path):
        result, run, out = self.scripted_run(tmp_path, "best_val", [0.9, 0.5], stale=(2, 2.0))
        assert selection.kept_best(run / RunDir.BEST) == (1, 0.9) and result.selected_epoch == 1
        assert result.last_weights is not None and "; keeps the weights of epoch 1 (best validation accuracy)" in out


class TestClaims:
    def test_process_fields(self):
        start = claims._process_start(os.getpid())
        assert start is not None and start.isdigit()
        assert claims._stat_fields(os.getpid())[0] in "RS"
        assert claims._stat_fields(2**22 + 12345) == [] and claims._process_start(2**22 + 12345) is None
        assert claims._pid_alive(os.getpid(), start) and claims._pid_alive(os.getpid(), None)
        assert not claims._pid_alive(os.getpid(), str(int(start) + 1))  # a later process with our PID
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        assert not claims._pid_alive(gone.pid, None)
        zombie = subprocess.Popen([sys.executable, "-c", "pass"])
        deadline = time.monotonic() + 10
        while claims._stat_fields(zombie.pid)[:1] != ["Z"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not claims._pid_alive(zombie.pid, None)  # exited, not yet reaped
        zombie.wait()

    def test_holder(self, monkeypatch):
        monkeypatch.setattr(claims.time, "time", lambda: 1000.0)
        assert claims.Holder({"worker": "w"}, 0).who == "w"
        assert claims.Holder({"host": "h", "pid": 5}, 0).who == "h pid 5"
        assert claims.Holder({}, 0).who == "? pid ?"
        assert claims.Holder({}, 1005.0).silent == 0.0 and claims.Holder({}, 990.0).silent == 10.0
        here = {**claims.MACHINE, "pid": os.getpid()}
        assert claims.Holder(here, 0).local
        assert not claims.Holder({**here, "pid": 0}, 0).local and not claims.Holder({**here, "pid": "1"}, 0).local
        assert not claims.Holder({**here, "boot": "another boot"}, 0).local
        assert claims.Holder({**here, "pid": 1}, 0).local  # PID 1: a container's first process
        assert claims.Holder(here, 995.0).gone() is None  # we are alive and beating
        assert claims.Holder({**here, "stale_after": 1}, 995.0).gone() == "no heartbeat for 5 s"  # alive, silent
        other = {"host": "node-b", "pid": 1}
        assert claims.Holder({**other, "stale_after": 10}, 990.0).gone() is None  # exactly the limit: not yet
        assert claims.Holder({**other, "stale_after": 10}, 989.0).gone() == "no heartbeat for 11 s"
        assert claims.Holder({**other, "stale_after": "x"}, 1000.0 - 301).gone() == "no heartbeat for 301 s"
        assert claims.Holder({**other, "stale_after": None}, 1000.0 - 299).gone() is None
        assert claims.Holder({**other, "stale_after": [1]}, 1000.0 - 301).gone() == "no heartbeat for 301 s"

    def test_read_holder(self, tmp_path):
        path = tmp_path / "c.claim"
        assert claims.read_holder(path) is None
        path.write_text("[1, 2]")
        assert claims.read_holder(path).record == {}
        path.write_text('{"host": "h", "pid"')  # being written
        holder = claims.read_holder(path)
        assert holder.record == {} and holder.mtime == pytest.approx(path.stat().st_mtime)

    def test_claim_writes_its_record(self, tmp_path, monkeypatch):
        monkeypatch.setattr(claims, "STALE_AFTER", 42.0)
        path = tmp_path / "sub" / "c.claim"
        token, note = claims.claim(path, worker="me", host="from-info")
        record = json.loads(path.read_text())
        assert note is None and record["token"] == token and record["worker"] == "me"
        assert record["host"] == "from-info" and record["pid"] == os.getpid() and record["stale_after"] == 42.0
        assert record["start"] == claims._process_start(os.getpid()) and abs(record["since"] - time.time()) < 60
        assert path.stat().st_mode & 0o777 == 0o644
        with pytest.raises(claims.Busy) as busy:
            claims.claim(path, worker="second")
        assert str(busy.value) == "me" and busy.value.holder.record["token"] == token

    def test_a_claim_that_keeps_coming_back_is_busy(self, tmp_path, monkeypatch):
        path = tmp_path / "c.claim"
        stale = {"host": "node-b", "pid": 1, "worker": "ghost", "token": "t", "stale_after": 1}
        breaks = []

        def rewrite(p, token):  # each takeover finds the stale claim back at once
            breaks.append(token)
            p.write_text(json.dumps(stale))
            os.utime(p, (0, 0))

        path.write_text(json.dumps(stale))
        os.utime(path, (0, 0))
        monkeypatch.setattr(claims, "_break", rewrite)
        with pytest.raises(claims.Busy) as busy:
            claims.claim(path)
        assert breaks == ["t", "t", "t"] and busy.value.holder.who == "ghost"

    def test_break_puts_back_a_claim_that_replaced_the_stale_one(self, tmp_path, monkeypatch):
        path = tmp_path / "c.claim"
        path.write_text(json.dumps({"token": "new"}))
        claims._break(path, "old")  # the file now is someone else's: it stays
        assert json.loads(path.read_text()) == {"token": "new"} and [p.name for p in tmp_path.iterdir()] == ["c.claim"]
        claims._break(path, "new")
        assert not list(tmp_path.iterdir())
        claims._break(path, "new")  # already gone: nothing to do

    def test_release(self, tmp_path):
        path = tmp_path / "c.claim"
        here = {**claims.MACHINE, "pid": 4242, "token": "t"}
        path.write_text(json.dumps(here))
        claims.release(path)  # neither token nor PID: kept
        claims.release(path, token="other", pid=4241)
        assert path.exists()
        claims.release(path, pid=4242)
        assert not path.exists()
        path.write_text(json.dumps({**here, "host": "node-b"}))
        claims.release(path, pid=4242)  # another machine's PID 4242 is not the process we killed
        assert path.exists()
        claims.release(path, token="t")
        assert not path.exists()
        claims.release(path, token="t")  # nothing there

    def test_release_of_a_claim_removed_meanwhile(self, tmp_path, monkeypatch):
        path = tmp_path / "c.claim"
        monkeypatch.setattr(claims, "read_holder", lambda p: claims.Holder({"token": "t"}, 0.0))  # read, then gone
        claims.release(path, token="t")  # no FileNotFoundError
        assert not path.exists()

    def test_process_start_is_the_twentieth_field(self, monkeypatch):
        fields = [str(i) for i in range(20)]
        monkeypatch.setattr(claims, "_stat_fields", lambda pid: fields)
        assert claims._process_start(1) == "19"
        fields.pop()
        assert claims._process_start(1) is None

    def test_heartbeat(self, tmp_path, monkeypatch):
        monkeypatch.setattr(claims, "HEARTBEAT", 0.05)
        path = tmp_path / "c.claim"
        path.write_text("{}")
        os.utime(path, (0, 0))
        beat = claims.Heartbeat(path)
        deadline = time.monotonic() + 10
        while path.stat().st_mtime == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        beat.stop()
        assert path.stat().st_mtime > 0
        time.sleep(0.2)  # a beat under way ends
        os.utime(path, (0, 0))
        time.sleep(0.3)
        assert path.stat().st_mtime == 0  # stopped: no more beats
        assert claims.HEARTBEAT == 0.05 and claims.STALE_AFTER / 10 == 30.0

    def test_watch(self, tmp_path):
        path = tmp_path / "c.claim"
        watch = claims.Watch()
        assert watch(path) == ("free", None)
        path.write_text(json.dumps({"host": "node-b", "pid": 1, "token": "a"}))
        os.utime(path, (100, 100))
        assert watch(path)[0] == "gone"
        now = time.time()
        os.utime(path, (now, now))
        assert watch(path)[0] == "unknown" and watch(path)[0] == "unknown"  # not seen beating yet
        os.utime(path, (now + 1, now + 1))
        assert watch(path)[0] == "alive"
        path.write_text(json.dumps({"host": "node-b", "pid": 1, "token": "b"}))  # a new holder: seen afresh
        os.utime(path, (now + 2, now + 2))
        assert watch(path)[0] == "unknown"
        path.write_text(json.dumps({**claims.MACHINE, "pid": os.getpid(), "token": "c"}))
        assert watch(path)[0] == "alive"  # this machine's live process


class TestShards:
    def test_parse_shard(self):
        assert shards.parse_shard(None) is None and shards.parse_shard("") is None
        assert shards.parse_shard("1/1") == (1, 1) and shards.parse_shard("3/3") == (3, 3)
        for bad in ("0/3", "4/3", "1/0", "-1/3"):
            with pytest.raises(shards.UsageError, match="need 1 <= i <= n"):
                shards.parse_shard(bad)
        for bad in ("1/2/3", "1", "a/3"):
            with pytest.raises(shards.UsageError, match="expected i/n with whole numbers"):
                shards.parse_shard(bad)

    def test_shares(self):
        from helpers.runner.estimate import reference_seconds

        def seconds(e):
            return reference_seconds(e, parameters_for(e, "full", "out"))

        selected = experiments_for("full")
        assert shards.share_of(selected, None, seconds) == [e for e in selected if not e.needs]
        for n in (1, 3, 5):
            cut = shards.shares(selected, n, seconds)
            homes = {e.name: [i for i, share in enumerate(cut, 1) if e in share] for e in selected}
            for e in selected:  # each runnable experiment in exactly one share; 06 and the appendix in none
                assert len(homes[e.name]) == (0 if e.needs else 1), e.name
            assert [shards.share_of(selected, (i, n), seconds) for i in range(1, n + 1)] == [
                [e for e in selected if e in share] for share in cut
            ]

    def test_shard_from_slurm(self):
        env = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"}
        assert shards.shard_from_env({**env, "SLURM_ARRAY_TASK_STEP": "2"}) == (
            "3/4",
            "SLURM_ARRAY_TASK_ID=5 (array of 4 from 1)",
        )
        assert shards.shard_from_env({**env, "SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_STEP": ""})[0] == "4/4"
        for task, step in (("6", "2"), ("0", "1"), ("5", "1")):  # off the grid, before the first, past the last
            with pytest.raises(shards.UsageError, match=f"SLURM array task {task} is not one of 4"):
                shards.shard_from_env({**env, "SLURM_ARRAY_TASK_ID": task, "SLURM_ARRAY_TASK_STEP": step})
        with pytest.raises(shards.UsageError, match="SLURM_ARRAY_TASK_ID='x': need"):
            shards.shard_from_env({**env, "SLURM_ARRAY_TASK_ID": "x"})
        with pytest.raises(shards.UsageError, match="need"):
            shards.shard_from_env({**env, "SLURM_ARRAY_TASK_STEP": "two"})

    def test_shard_from_kubernetes(self):
        var = shards.SHARD_COUNT_VAR
        assert shards.shard_from_env({"JOB_COMPLETION_INDEX": "0", var: "3"}) == (
            "1/3",
            f"JOB_COMPLETION_INDEX=0 of {var}=3",
        )
        assert shards.shard_from_env({"JOB_COMPLETION_INDEX": "2", var: "3"})[0] == "3/3"
        with pytest.raises(shards.UsageError, match="is set .* but RUN_ALL_SHARD_COUNT is not"):
            shards.shard_from_env({"JOB_COMPLETION_INDEX": "0", var: ""})
        with pytest.raises(shards.UsageError, match="expected whole numbers"):
            shards.shard_from_env({"JOB_COMPLETION_INDEX": "0", var: "three"})
        for index in ("3", "-1"):
            with pytest.raises(shards.UsageError, match=f"JOB_COMPLETION_INDEX={index} is not below"):
                shards.shard_from_env({"JOB_COMPLETION_INDEX": index, var: "3"})
        assert shards.shard_from_env({var: "3"}) is None  # the count alone: no shard


def finished_frame(out, accuracies: dict, histories: dict | None = None) -> pd.DataFrame:
    """``finished_runs``' frame for experiments with these test accuracies; ``histories``: their history.csv."""
    for name, history in (histories or {}).items():
        RunDir(out, f"run_{name}").create().write_csv(RunDir.HISTORY, history)
    frame = pd.DataFrame(
        {"test_accuracy": list(accuracies.values()), "run_name": [f"run_{n}" for n in accuracies]},
        index=list(accuracies),
    )
    return frame


class TestTables:
    def test_results_table_rows(self):
        ours = next(e for e in experiments_for("quick") if e.report is None and "model" in e.params)
        r2 = EXPERIMENTS["r2_vgg11_mnist"]
        finished = finished_frame(None, {"r1_exp1_vgg16_mnist": 0.99456, ours.name: 0.5, r2.name: 0.1})
        table = tables.results_table(finished, [r2, ours]).set_index("experiment")
        headline = [e.name for e in EXPERIMENTS.values() if e.report == "report1"]
        assert table.index.tolist() == [*headline, r2.name, ours.name]
        row = table.loc["r1_exp1_vgg16_mnist"]
        assert row["ours (%)"] == 99.46 and row["difference"] == round(99.46 - row["reported (%)"], 2)
        assert table.loc[ours.name, "source"] == "ours" and np.isnan(table.loc[ours.name, "reported (%)"])
        assert np.isnan(table.loc[ours.name, "difference"]) and table.loc[ours.name, "ours (%)"] == 50.0
        assert table.loc[r2.name, "source"] == f"report2 {r2.table}" and table.loc[r2.name, "status"] == "finished"
        assert table.loc[r2.name, "difference"] == round(10.0 - r2.reported, 2) < 0  # minus: the report did better
        statuses = table.loc[headline, "status"]
        assert statuses.iloc[0] == "finished" and set(statuses.iloc[1:]) == {tables.NOT_IN_PROFILE}

    def test_running_and_missing(self):
        r2 = EXPERIMENTS["r2_vgg11_mnist"]
        finished = finished_frame(None, {})
        table = tables.results_table(finished, [r2], running=[r2.name]).set_index("experiment")
        assert table.loc[r2.name, "status"] == tables.RUNNING and np.isnan(table.loc[r2.name, "ours (%)"])
        assert tables.results_table(finished, [r2]).set_index("experiment").loc[r2.name, "status"] == "missing"
        assert tables.missing_experiments(finished, [r2]) == [r2]
        assert tables.missing_experiments(finished_frame(None, {r2.name: 0.5}), [r2]) == []

    def test_ablation_tables(self):
        finished = finished_frame(None, {"r2_vgg11_mnist": 0.98765})
        tables_ = tables.ablation_tables(finished)
        assert list(tables_) == [f"{t}. {c}" for t, c in tables.ABLATION_TABLES.items()]
        t1 = next(iter(tables_.values())).set_index("experiment")
        row = t1.loc["r2_vgg11_mnist"]
        assert row["ours (%)"] == 98.77 and row["difference"] == round(98.77 - row["report 2 (%)"], 2)
        assert row["setting"] == EXPERIMENTS["r2_vgg11_mnist"].label
        assert t1.drop("r2_vgg11_mnist")["difference"].isna().all()
        assert list(t1.columns) == ["setting", "report 2 (%)", "ours (%)", "difference"]

    def test_histories(self, tmp_path):
        h = pd.DataFrame({"epoch": [1, 2], "accuracy": [0.1, 0.2], "val_accuracy": [0.1, 0.2]})
        empty = h.iloc[:0]
        finished = finished_frame(
            tmp_path,
            {"r2_vgg11_mnist": 0.5, "r2_vgg16_mnist": 0.5, "degradation_plain20_cifar10": 0.5},
            {"r2_vgg11_mnist": h, "r2_vgg16_mnist": empty, "degradation_plain20_cifar10": h},
        )
        pd.testing.assert_frame_equal(tables.run_history(finished, tmp_path, "r2_vgg11_mnist"), h)
        curves = tables.ablation_histories(finished, tmp_path)
        assert list(curves) == list(tables.ablation_tables(finished))
        first = next(iter(curves.values()))
        assert list(first) == [EXPERIMENTS["r2_vgg11_mnist"].label]  # the empty history is left out
        histories, notes = tables.degradation_histories(finished, tmp_path, expected=["degradation_plain32_cifar10"])
        assert list(histories["plain"]) == [20] and histories["residual"] == {}
        assert notes == ["Not drawn, not finished: degradation_plain32_cifar10."]
        assert tables.degradation_histories(finished, tmp_path, expected=[])[1] == []
