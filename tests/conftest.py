"""Shared fixtures: official-format dataset files written into temporary folders (tests never download)."""

import io
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


def random_split(n, shape, n_classes=10, seed=0):
    """Random uint8 images and balanced labels (what an official file might hold)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = rng.permutation(np.arange(n) % n_classes).astype(np.uint8)
    return x, y


def write_mnist_npz(folder, n_train=600, n_test=200, seed=0, **override):
    """Write ``mnist.npz`` in Keras' layout (x_train (N,28,28) uint8, y_train (N,) uint8, ...)."""
    x_train, y_train = random_split(n_train, (28, 28), seed=seed)
    x_test, y_test = random_split(n_test, (28, 28), seed=seed + 1)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    arrays.update(override)
    path = folder / "mnist.npz"
    np.savez_compressed(path, **arrays)
    return path, arrays


def cifar_batch_bytes(x, y, label_key=b"labels"):
    """Pickle a CIFAR-10 python batch: b'data' is N x 3072, channel-major (1024 R, 1024 G, 1024 B)."""
    data = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)
    return pickle.dumps(
        {b"batch_label": b"test", label_key: [int(v) for v in y], b"data": data, b"filenames": [b"f.png"] * len(y)},
        protocol=2,
    )


def write_cifar10(folder, n_per_batch=100, n_test=200, as_tar=True, seed=0):
    """Write ``cifar-10-python.tar.gz`` (or the extracted ``cifar-10-batches-py/``) with small batches."""
    batches, xs, ys = {}, [], []
    for i in range(1, 6):
        x, y = random_split(n_per_batch, (32, 32, 3), seed=seed + i)
        xs.append(x)
        ys.append(y)
        batches[f"data_batch_{i}"] = cifar_batch_bytes(x, y)
    x_test, y_test = random_split(n_test, (32, 32, 3), seed=seed + 9)
    batches["test_batch"] = cifar_batch_bytes(x_test, y_test)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    batches["batches.meta"] = pickle.dumps({b"label_names": names, b"num_vis": 3072}, protocol=2)
    if as_tar:
        path = folder / "cifar-10-python.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            for name, raw in batches.items():
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    else:
        path = folder / "cifar-10-batches-py"
        path.mkdir()
        for name, raw in batches.items():
            (path / name).write_bytes(raw)
    return path, (np.concatenate(xs), np.concatenate(ys)), (x_test, y_test)


@pytest.fixture
def mnist_dir(tmp_path):
    write_mnist_npz(tmp_path)
    return tmp_path


@pytest.fixture
def cifar_dir(tmp_path):
    write_cifar10(tmp_path)
    return tmp_path


ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=1200):
    """``python run_all.py ARGS`` in a subprocess; returns (CompletedProcess, seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run_all.py"), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    return proc, time.perf_counter() - t0


# Run with pytest-xdist (two workers, `--dist loadgroup` in pyproject.toml): every test file is one unit of work,
# so module-scoped fixtures build once, and every test that reads the session's smoke run is one more unit, so the
# smoke profile runs once. Units go out longest first (the smoke run starts at once, the cheap files fill in).
LONGEST_FIRST = [
    "smoke",
    "test_backends.py",
    "test_bench.py",
    "test_student_path.py",
    "test_colab.py",
    "test_exercises.py",
    "test_browser.py",
    "test_cluster.py",
    "test_notebooks_static.py",
    "test_training.py",
    "test_resume.py",
]


# The developer's loop (`python -m pytest -m "not slow"`, under 5 minutes on 2 cores) leaves out what executes
# notebooks, trains in subprocesses or builds deep networks: each test below took 15 s or more on 2 cores (the
# suite's durations, 2026-12-08), and every test that reads the session's smoke run. CI runs them all.
SLOW = {
    "test_06_without_runs_says_so_in_one_line",
    "test_a_best_val_run_is_tested_with_its_best_epochs_weights",
    "test_a_best_val_run_whose_best_epoch_is_not_its_last_is_tested_with_that_epochs_weights",
    "test_a_claim_held_from_another_machine_lives_by_its_heartbeat",
    "test_a_disk_that_fills_up_during_training_gives_one_clear_line_and_keeps_the_last_backup",
    "test_a_failing_notebook_is_reported_and_the_others_run",
    "test_a_report_build_killed_leaves_no_half_pdf_and_a_rerun_builds_it",
    "test_a_student_who_refuses_drive_gets_one_line_and_the_notebook_finishes",
    "test_each_documented_parameter_alone_gets_to_training",
    "test_every_badge_and_install_cell_agrees_with_the_one_constant",
    "test_every_model_family_gives_stages_heatmaps_and_filters",
    "test_every_way_of_running_finds_the_same_outputs_folder",
    "test_export_by_hand_with_the_default_template_loses_nothing",
    "test_googlenet_auxiliary_heads_train_only_with_a_nonzero_loss_weight",
    "test_googlenet_trains_with_auxiliary_losses",
    "test_interrupted_training_resumes_from_its_backup",
    "test_kubernetes_indexed_job_on_the_same_folder",
    "test_live_bar_in_a_kernel_saves_one_clean_line_per_epoch",
    "test_mirrored_strategy_on_two_logical_cpus",
    "test_mixed_precision_and_xla_code_paths_run_on_cpu",
    "test_pdf_all_exports_every_executed_notebook",
    "test_publish_refuses_a_malformed_source_in_one_line",
    "test_recipes_bad_variant_is_one_clear_line",
    "test_recipes_table_on_official_files",
    "test_recipes_with_a_variant_and_several_seeds",
    "test_same_seed_same_metrics",
    "test_second_run_skips_finished_experiments",
    "test_sigkill_while_metrics_json_is_written_leaves_no_half_file_and_the_rerun_does_not_train_again",
    "test_sigkilled_training_resumes_from_its_last_epoch",
    "test_slurm_array_with_a_killed_task_trains_each_experiment_once",
    "test_smoke_notebooks_pass_every_check_on_the_solutions",
    "test_smoke_training_notebooks_run_without_tensorflow",
    "test_student_version_command_writes_notebooks_without_solutions",
    "test_student_version_runs_to_the_end_with_polite_checks",
    "test_the_badge_path_works_with_a_fresh_machine_per_notebook",
    "test_the_battery",
    "test_three_workers_without_shards_run_each_experiment_once",
    "test_throughput_table",
    "test_train_writes_a_complete_run_directory",
    "test_tune_scores_several_models_and_shares_a_study",
    "test_tune_writes_a_trials_table",
    "test_wheel_installed_elsewhere_builds_the_pdf",
}
DEEP = re.compile(r"\[(plain|resnet)(110|56|44|34|32)|\[(report_resnet50|resnet50|googlenet|vgg19)\b")  # 10-60 s each


SMOKE_SECONDS = 2400  # the smoke run's limit: ~12 min on 2 cores beside the other worker; CI machines are slower


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    def group(item):
        return "smoke" if "smoke" in item.fixturenames else Path(str(item.fspath)).name

    for item in items:
        item.add_marker(pytest.mark.xdist_group(group(item)))
        if group(item) == "smoke":  # whichever of them comes first waits for the smoke run in its setup
            item.add_marker(pytest.mark.timeout(SMOKE_SECONDS + 300))
            item.add_marker(pytest.mark.slow)  # the developer's loop (-m "not slow") leaves the smoke run out
        deep = item.originalname in (
            "test_builds_with_float32_probabilities",
            "test_one_training_step_gives_a_finite_loss",
        )
        if item.originalname in SLOW or (deep and DEEP.search(item.name)):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group(item), len(rank)))  # stable: a file's tests keep their order


SHARD_ORDER = (3, 8, 1, 6, 2, 7, 5, 4)  # the smoke run's eight shares, in an order of no meaning (issue 36)


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The whole smoke profile once per test session, as a cluster's array runs it: its eight shares
    (``--shard i/8 --pdf``) one after the other in ``SHARD_ORDER``; the last to finish runs the report step (06, then
    the appendix) and builds report.pdf. Returns (output_dir, process, seconds): ``process.stdout`` holds every
    share's console in that order, ``process.shards`` each share's finished process, ``returncode`` the worst."""
    out = tmp_path_factory.mktemp("smoke")
    t0, shards = time.perf_counter(), []
    for i in SHARD_ORDER:
        left = SMOKE_SECONDS - (time.perf_counter() - t0)
        proc, _ = run_cli("--profile", "smoke", "--output-dir", str(out), "--shard", f"{i}/8", "--pdf", timeout=left)
        shards.append(proc)
    seconds = time.perf_counter() - t0
    combined = SimpleNamespace(
        returncode=max(p.returncode for p in shards),
        stdout="".join(p.stdout for p in shards),
        stderr="".join(p.stderr for p in shards),
        shards=shards,
    )
    print(f"smoke profile in 8 shares with --pdf: {seconds:.0f} s")
    return out, combined, seconds


@pytest.fixture(scope="module")
def kit_repo(tmp_path_factory):
    """This working tree as a git repository (file://), committed, like the published one."""
    repo = tmp_path_factory.mktemp("kit") / "cnn-course-kit"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    git = ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci"]
    subprocess.run(git + ["init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "kit"], cwd=repo, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    return repo, commit
