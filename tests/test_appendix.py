"""helpers.appendix: the report's tables from run directories, with missing runs kept visible."""

import numpy as np
import pandas as pd

from helpers import appendix
from helpers.experiments import EXPERIMENTS, experiments_for
from helpers.runs import RunDir


def fake_run(out, name, model, dataset, acc, **metrics):
    run = RunDir(out, name).create()
    run.write_json("config.json", {"experiment": name, "model": model, "dataset": dataset, "recipe": "report2",
                                   "data": {"input_shape": [28, 28, 1]}})
    run.write_json("metrics.json", {"test_accuracy": acc, "epochs_run": 2, "train_seconds": 10.0,
                                    "train_images_per_s": 50.0, "inference_images_per_s": 500.0,
                                    "params": {"total": 2_000_000, "trainable": 1_990_000}, "flops_per_image": 3e8,
                                    **metrics})
    run.write_text("summary.txt", f"Model: {model}\n")


def test_results_table_keeps_missing_runs(tmp_path):
    fake_run(tmp_path, "r1_exp1_vgg16_mnist", "report_vgg16_mnist", "mnist", 0.9951)
    finished = appendix.finished_runs(tmp_path)
    expected = [e for e in experiments_for("quick") if "model" in e.params]
    table = appendix.results_table(finished, expected).set_index("experiment")
    assert len(table) == len(expected)
    row = table.loc["r1_exp1_vgg16_mnist"]
    assert row["reported (%)"] == 99.33 and row["ours (%)"] == 99.51 and row["difference"] == 0.18
    assert row["status"] == "finished" and row["source"] == "report1 Exp. 1"
    assert (table.drop("r1_exp1_vgg16_mnist")["status"] == "missing").all()
    missing = appendix.missing_experiments(finished, expected)
    assert len(missing) == len(expected) - 1


def test_ablation_tables_follow_report_2():
    finished = pd.DataFrame(columns=["test_accuracy"])
    tables = appendix.ablation_tables(finished)
    assert [k.split(".")[0] for k in tables] == ["Table I", "Table II", "Table III", "Table IV", "Table V",
                                                  "Table VI"]
    t4 = next(v for k, v in tables.items() if k.startswith("Table IV"))
    assert t4["setting"].tolist()[:3] == ["VGG16", "VGG11", "VGG19"]
    assert t4.set_index("setting").loc["VGG16 with ADAM", "report 2 (%)"] == 82.3
    assert t4["ours (%)"].isna().all()
    assert sum(len(v) for v in tables.values()) == sum(e.report == "report2" for e in EXPERIMENTS.values())


def test_model_table_and_architectures(tmp_path):
    fake_run(tmp_path, "a", "vgg11", "mnist", 0.9)
    fake_run(tmp_path, "b", "resnet18", "mnist", 0.8)
    finished = appendix.finished_runs(tmp_path)
    table = appendix.model_table(finished).set_index("model")
    assert table.loc["vgg11", "params (M)"] == 2.0 and table.loc["vgg11", "GFLOPs"] == 0.3
    assert table.loc["resnet18", "s/epoch"] == 5.0 and table.loc["resnet18", "inference img/s"] == 500.0
    summaries = appendix.architecture_summaries(finished, tmp_path)
    assert list(summaries) == ["resnet18 on mnist (28, 28, 1)", "vgg11 on mnist (28, 28, 1)"]
    assert appendix.model_table(appendix.finished_runs(tmp_path / "none")).empty
    assert np.isnan(appendix.results_table(finished, [EXPERIMENTS["r2_vgg16_mnist"]]).loc[0, "ours (%)"])
