"""helpers.report.tables and pages: the report's tables and pictures from run directories, with missing runs kept
visible."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from helpers import figures as plots  # noqa: E402
from helpers.experiments import EXPERIMENTS, degradation_experiments, experiments_for  # noqa: E402
from helpers.report import architectures  # noqa: E402
from helpers.report import display as report_display  # noqa: E402
from helpers.report import tables as appendix  # noqa: E402
from helpers.report.display import show_table  # noqa: E402
from helpers.report.pages import run_page  # noqa: E402
from helpers.runs import RunDir, finished_runs  # noqa: E402


def fake_history(epochs=3, start=0.5, step=0.1):
    """A history.csv frame as training writes it (columns of helpers.training's history)."""
    e = np.arange(1, epochs + 1)
    return pd.DataFrame(
        {
            "epoch": e,
            "loss": 1.0 / e + 0.0123456,
            "accuracy": start + step * e - 0.00494,
            "val_loss": 1.2 / e,
            "val_accuracy": start + step * e - 0.05,
            "lr": 1e-3,
            "epoch_seconds": 12.345 - e,
            "images_per_s": 400.0,
        }
    )


def fake_run(out, name, model, dataset, acc, history=None, finished=True, **metrics):
    """A run directory of experiment ``name``; ``history`` (a frame) becomes history.csv; unfinished: no metrics."""
    run = RunDir(out, name).create()
    run.write_json(
        "config.json",
        {
            "experiment": name,
            "model": model,
            "dataset": dataset,
            "recipe": "report2",
            "data": {"input_shape": [28, 28, 1]},
        },
    )
    if history is not None:
        run.write_csv("history.csv", history)
    if finished:
        run.write_json(
            "metrics.json",
            {
                "test_accuracy": acc,
                "epochs_run": 2,
                "train_seconds": 10.0,
                "train_images_per_s": 50.0,
                "inference_images_per_s": 500.0,
                "params": {"total": 2_000_000, "trainable": 1_990_000},
                "flops_per_image": 3e8,
                **metrics,
            },
        )
    run.write_text("summary.txt", f"Model: {model}\n")


def test_results_table_keeps_missing_runs(tmp_path):
    fake_run(tmp_path, "r1_exp1_vgg16_mnist", "report_vgg16_mnist", "mnist", 0.9951)
    finished = finished_runs(tmp_path)
    expected = [e for e in experiments_for("quick") if "model" in e.params]
    table = appendix.results_table(finished, expected).set_index("experiment")
    headline = [e for e in EXPERIMENTS.values() if e.report == "report1"]
    assert len(table) == len(expected) + len([e for e in headline if e not in expected])
    row = table.loc["r1_exp1_vgg16_mnist"]
    assert row["reported (%)"] == 99.33 and row["ours (%)"] == 99.51 and row["difference"] == 0.18
    assert row["status"] == "finished" and row["source"] == "report1 Exp. 1"
    # Report 1's rows stay in the table whether or not the profile runs them (quick runs Exp. 3 only).
    names = {e.name for e in expected}
    others = table.drop("r1_exp1_vgg16_mnist")
    assert (others.loc[others.index.isin(names), "status"] == "missing").all()
    assert (others.loc[~others.index.isin(names), "status"] == "not run in this profile").all()
    missing = appendix.missing_experiments(finished, expected)
    assert len(missing) == len(expected) - ("r1_exp1_vgg16_mnist" in names)


def test_results_table_keeps_experiments_running_elsewhere_marked_as_running(tmp_path, monkeypatch):
    """run_all passes the experiments other workers still train (``running``): each keeps its row, with the report's
    number and no result of ours yet, marked "running elsewhere", neither "missing" nor dropped."""
    fake_run(tmp_path, "r1_exp3_resnet50_mnist", "report_resnet50", "mnist", 0.9712)
    finished = finished_runs(tmp_path)
    expected = [e for e in experiments_for("quick") if "model" in e.params]
    running = ["r2_vgg11_mnist", "best_vgg16_cifar10", "r1_exp1_vgg16_mnist"]  # the last: not in quick
    assert set(running[:2]) <= {e.name for e in expected} and running[2] not in {e.name for e in expected}
    table = appendix.results_table(finished, expected, running=running)
    without = appendix.results_table(finished, expected)
    assert table["experiment"].tolist() == without["experiment"].tolist()  # the same rows, in the same order
    rows = table.set_index("experiment")
    for name in running:
        row = rows.loc[name]
        assert row["status"] == appendix.RUNNING == "running elsewhere", (name, row["status"])
        assert np.isnan(row["ours (%)"]) and np.isnan(row["difference"])
        reported = EXPERIMENTS[name].reported  # None for our own recipe's runs
        assert np.isnan(row["reported (%)"]) if reported is None else row["reported (%)"] == reported
    assert rows.loc["r1_exp3_resnet50_mnist", "status"] == "finished"
    assert rows.loc["r1_exp3_resnet50_mnist", "ours (%)"] == 97.12
    others = rows.drop([*running, "r1_exp3_resnet50_mnist"])
    assert set(others["status"]) == {"missing", appendix.NOT_IN_PROFILE}
    assert (without.set_index("experiment").loc[running[:2], "status"] == "missing").all()
    # What the notebook displays: the rows survive show_table too, marked.
    shown = []
    monkeypatch.setattr(report_display, "display", shown.append)
    show_table(table)
    lines = {line.split("|")[1].strip(): line for line in shown[0].data.splitlines() if line.startswith("| ")}
    assert all("running elsewhere" in lines[name] for name in running)


def test_ablation_tables_follow_report_2():
    finished = pd.DataFrame(columns=["test_accuracy"])
    tables = appendix.ablation_tables(finished)
    assert [k.split(".")[0] for k in tables] == ["Table I", "Table II", "Table III", "Table IV", "Table V", "Table VI"]
    t4 = next(v for k, v in tables.items() if k.startswith("Table IV"))
    assert t4["setting"].tolist()[:3] == ["VGG16", "VGG11", "VGG19"]
    assert t4.set_index("setting").loc["VGG16 with ADAM", "report 2 (%)"] == 82.3
    assert t4["ours (%)"].isna().all()
    assert sum(len(v) for v in tables.values()) == sum(e.report == "report2" for e in EXPERIMENTS.values())


def test_model_table_and_architectures(tmp_path):
    fake_run(tmp_path, "a", "vgg11", "mnist", 0.9)
    fake_run(tmp_path, "b", "resnet18", "mnist", 0.8)
    finished = finished_runs(tmp_path)
    table = architectures.model_table(finished).set_index("model")
    assert table.loc["vgg11", "params (M)"] == 2.0 and table.loc["vgg11", "GFLOPs"] == 0.3
    assert table.loc["resnet18", "s/epoch"] == 5.0 and table.loc["resnet18", "inference img/s"] == 500.0
    summaries = architectures.architecture_summaries(finished, tmp_path)
    assert list(summaries) == ["resnet18 on mnist (28, 28, 1)", "vgg11 on mnist (28, 28, 1)"]
    assert architectures.model_table(finished_runs(tmp_path / "none")).empty
    only = appendix.results_table(finished, [EXPERIMENTS["r2_vgg16_mnist"]]).set_index("experiment")
    assert np.isnan(only.loc["r2_vgg16_mnist", "ours (%)"]) and only.loc["r2_vgg16_mnist", "status"] == "missing"


def test_results_table_always_lists_report_1s_four_experiments(tmp_path):
    fake_run(tmp_path, "r1_exp1_vgg16_mnist", "report_vgg16_mnist", "mnist", 0.99)
    expected = [e for e in experiments_for("smoke") if "model" in e.params]  # smoke: experiments 1 and 3 only
    assert {"r1_exp2_vgg16_cifar10", "r1_exp4_resnet50_cifar10"}.isdisjoint(e.name for e in expected)
    table = appendix.results_table(finished_runs(tmp_path), expected)
    head = table.iloc[:4].set_index("experiment")
    assert head.index.tolist() == [
        "r1_exp1_vgg16_mnist",
        "r1_exp2_vgg16_cifar10",
        "r1_exp3_resnet50_mnist",
        "r1_exp4_resnet50_cifar10",
    ]
    assert head["reported (%)"].tolist() == [99.33, 85.17, 98.96, 70.0]
    assert head["reported (%)"].tolist() == [EXPERIMENTS[n].reported for n in head.index]  # one source
    assert head["status"].tolist() == ["finished", appendix.NOT_IN_PROFILE, "missing", appendix.NOT_IN_PROFILE]
    assert appendix.NOT_IN_PROFILE == "not run in this profile"
    assert head["source"].tolist() == ["report1 Exp. 1", "report1 Exp. 2", "report1 Exp. 3", "report1 Exp. 4"]
    assert len(table) == len(expected) + 2 and table["experiment"].is_unique
    assert (table.iloc[4:]["status"] == "missing").all()
    assert [e.name for e in appendix.missing_experiments(finished_runs(tmp_path), expected)][
        0
    ] == "r1_exp3_resnet50_mnist"  # "not run in this profile" is not missing


def test_degradation_study_is_the_papers_cifar_experiment_drawn_from_what_finished(tmp_path):
    study = degradation_experiments()
    assert {kind: list(by_depth) for kind, by_depth in study.items()} == {
        "plain": [20, 32, 44, 56],
        "residual": [20, 32, 44, 56, 110],
    }
    assert (
        study["plain"][56].name == "degradation_plain56_cifar10"
        and study["residual"][110].params["model"] == "resnet110"
    )
    assert {e.params["recipe"] for by_depth in study.values() for e in by_depth.values()} == {"best"}  # one recipe
    fake_run(tmp_path, "degradation_plain20_cifar10", "plain20", "cifar10", 0.5, fake_history(4, 0.3))
    fake_run(tmp_path, "degradation_plain56_cifar10", "plain56", "cifar10", 0.2, fake_history(4, 0.1))
    fake_run(tmp_path, "degradation_resnet20_cifar10", "resnet20", "cifar10", 0.6, fake_history(4, 0.4))
    fake_run(tmp_path, "degradation_resnet56_cifar10", "resnet56", "cifar10", 0.0, fake_history(2), finished=False)
    quick = {"degradation_plain20_cifar10", "degradation_plain56_cifar10", "degradation_resnet20_cifar10",
             "degradation_resnet56_cifar10"}  # fmt: skip
    histories, notes = appendix.degradation_histories(finished_runs(tmp_path), tmp_path, expected=quick)
    assert {kind: list(by_depth) for kind, by_depth in histories.items()} == {"plain": [20, 56], "residual": [20]}
    assert notes == ["Not drawn, not finished: degradation_resnet56_cifar10."]  # 32, 44, 110: not expected
    np.testing.assert_allclose(histories["plain"][56]["accuracy"], fake_history(4, 0.1)["accuracy"])
    fig = plots.plot_degradation(histories)
    plain, residual = fig.axes
    assert [line.get_label() for line in plain.lines] == [
        "plain-20 train",
        "plain-20 val",
        "plain-56 train",
        "plain-56 val",
    ]
    assert [line.get_label() for line in residual.lines] == ["ResNet-20 train", "ResNet-20 val"]
    np.testing.assert_allclose(plain.lines[2].get_ydata(), 100 * (1 - fake_history(4, 0.1)["accuracy"]))
    _, notes = appendix.degradation_histories(finished_runs(tmp_path / "none"), tmp_path / "none")
    assert notes[0].count("degradation_") == 9  # the whole study when no profile is given


def test_ablation_curves_one_line_per_finished_run_labelled_as_in_report_2(tmp_path):
    fake_run(tmp_path, "r2_vgg16_cifar10", "vgg16", "cifar10", 0.7, fake_history(3, 0.4))
    fake_run(tmp_path, "r2_vgg16_adam_cifar10", "vgg16", "cifar10", 0.8, fake_history(3, 0.5))
    fake_run(tmp_path, "r2_vgg11_cifar10", "vgg11", "cifar10", 0.0, fake_history(1), finished=False)
    fake_run(tmp_path, "r2_resnet18_mnist", "resnet18", "mnist", 0.99, fake_history(2, 0.8))
    finished = finished_runs(tmp_path)
    curves = appendix.ablation_histories(finished, tmp_path)
    assert list(curves) == list(appendix.ablation_tables(finished))  # same captions, same order
    by_table = {caption.split(".")[0]: runs for caption, runs in curves.items()}
    assert (
        list(by_table["Table IV"])
        == [EXPERIMENTS["r2_vgg16_cifar10"].label, EXPERIMENTS["r2_vgg16_adam_cifar10"].label]
        == ["VGG16", "VGG16 with ADAM"]
    )
    assert list(by_table["Table II"]) == ["ResNet18"]
    assert all(not by_table[t] for t in ("Table I", "Table III", "Table V", "Table VI"))
    fig = plots.plot_ablation_curves(by_table["Table IV"], title="Table IV: validation accuracy per epoch")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["VGG16", "VGG16 with ADAM"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), fake_history(3, 0.5)["val_accuracy"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["VGG16", "VGG16 with ADAM"]


def test_run_page_includes_the_per_epoch_table(tmp_path, monkeypatch):
    classes = ["zero", "one"]
    run = RunDir(tmp_path, "best_vgg16_mnist").create()
    run.write_json(
        "config.json",
        {
            "experiment": "best_vgg16_mnist",
            "model": "vgg16",
            "dataset": "mnist",
            "recipe": "best",
            "seed": 0,
            "val_size": 10,
            "optimizer": "sgd_momentum",
            "lr": 0.02,
            "batch_size": 128,
            "epochs": 3,
            "environment": {"hardware": {"accelerator": "CPU"}},
            "data": {
                "source": str(tmp_path / "nowhere"),
                "class_names": classes,
                "test": 4,
                "input_shape": [28, 28, 1],
            },
        },
    )
    run.write_csv("history.csv", fake_history(3))
    report_dict = {
        "zero": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 2},
        "one": {"precision": 0.667, "recall": 1.0, "f1-score": 0.8, "support": 2},
        "accuracy": 0.75,
        "macro avg": {"precision": 0.833, "recall": 0.75, "f1-score": 0.733, "support": 4},
        "weighted avg": {"precision": 0.833, "recall": 0.75, "f1-score": 0.733, "support": 4},
    }
    run.write_json(
        "metrics.json",
        {
            "test_accuracy": 0.75,
            "epochs_run": 3,
            "confusion_matrix": [[1, 1], [0, 2]],
            "classification_report": report_dict,
        },
    )
    run.write_npz("predictions.npz", y_true=np.array([0, 0, 1, 1]), y_pred=np.array([0, 1, 1, 1]))
    items = run_page(tmp_path, "best_vgg16_mnist", "best_vgg16_mnist")
    tables = [item for item in items if item[0] == "table"]
    per_epoch = next(item for item in tables if "val_accuracy" in item[1].columns)
    frame = per_epoch[1]
    assert frame.columns.tolist() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    assert frame["epoch"].tolist() == [1, 2, 3]
    assert frame.loc[0, "loss"] == 1.0123 and frame.loc[2, "accuracy"] == 0.7951 and frame.loc[0, "seconds"] == 11.3
    names = [item[1] if item[0] == "figure" else item[0] for item in items]
    where = next(i for i, item in enumerate(items) if item is per_epoch)
    assert names.index("best_vgg16_mnist-history") < where < names.index("best_vgg16_mnist-confusion_matrix")
    assert any(item[0] == "text" and "Galleries skipped" in item[1] for item in items)
    settings = next(item for item in tables if "optimizer" in item[1].columns)
    assert settings[1].loc[0, "lr"] == 0.02 and settings[2] == "g"  # a learning rate of 1e-4 must not read 0.00
    shown = []  # what the notebook's show_table(*item[1:]) displays: a Markdown table with Keras' 4 decimals
    monkeypatch.setattr(report_display, "display", shown.append)
    show_table(*per_epoch[1:])
    markdown = shown[0].data
    assert " 1.0123 " in markdown and " 0.7951 " in markdown and " 11.3 " in markdown and " 0.80 " not in markdown
    for item in items:
        if item[0] == "figure":
            plt.close(item[2])


def test_architecture_figures_once_per_model_and_shape_with_the_blocks(tmp_path):
    import matplotlib.text

    fake_run(tmp_path, "a", "vgg11", "mnist", 0.9)
    fake_run(tmp_path, "b", "resnet18", "mnist", 0.8)
    fake_run(tmp_path, "c", "plain18", "mnist", 0.7)
    fake_run(tmp_path, "d", "googlenet", "mnist", 0.7)
    fake_run(tmp_path, "e", "report_resnet50", "mnist", 0.7)  # no stage picture for the replica: its summary
    figures = architectures.architecture_figures(finished_runs(tmp_path), tmp_path)
    names = [name for _, name, _ in figures]
    assert sorted(names) == sorted(
        [
            "arch_vgg11_28x28x1",
            "arch_resnet18_28x28x1",
            "arch_residual_blocks",
            "arch_plain18_28x28x1",
            "arch_googlenet_28x28x1",
            "arch_inception_3a",
        ]
    )
    vgg = next(fig for _, name, fig in figures if name == "arch_vgg11_28x28x1")
    texts = " ".join(t.get_text() for t in vgg.findobj(matplotlib.text.Text))
    assert "512" in texts and "64" in texts
