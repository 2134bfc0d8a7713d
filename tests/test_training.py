"""helpers.training and helpers.runs: recipes, schedules, a real (tiny) training run, resume, atomic files."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data import load_dataset
from helpers.evaluation import evaluate_run
from helpers.experiments.budget import split_count
from helpers.experiments.recipes import (
    MIDDLE_BUDGET,
    MIDDLE_BUDGET_SETTINGS,
    RECIPES,
    SMALL_BUDGET,
    SMALL_BUDGET_RULES,
    SMALL_BUDGET_SETTINGS,
)
from helpers.models import build_model
from helpers.report.display import budget_table
from helpers.runs import RunDir, atomic_write, load_runs
from helpers.training import budget_bands, budget_settings, make_config, train
from helpers.training.optim import keras_weight_decay, make_optimizer, make_schedule
from helpers.training.selection import KeepBest, kept_best, selected_epoch


@pytest.fixture(scope="module")
def tiny_mnist():
    return load_dataset("mnist", synthetic=True, train_size=96, val_size=48, test_size=64)


def test_recipes_hold_the_reports_settings():
    c = make_config("report1", "report_vgg16_mnist", "mnist")
    assert (c["optimizer"], c["lr"], c["loss"], c["epochs"]) == ("rmsprop", 1e-4, "binary_crossentropy", 50)
    assert split_count(c["val_size"], 60_000, "val_size") == 15_000  # report 1's 45,000 / 15,000 on full MNIST
    c = make_config("report1", "report_resnet50", "cifar10")
    assert (c["optimizer"], c["lr"], c["batch_size"]) == ("adam", 1e-3, 32)
    assert split_count(c["val_size"], 50_000, "val_size") == 12_500  # Exp. 4: 37,500 / 12,500
    assert split_count(make_config("report1", "report_vgg16_cifar10", "cifar10")["val_size"], 50_000, "") == 5_000
    assert make_config("report1", "report_resnet50", "mnist")["batch_size"] == 128
    c = make_config("report2", "vgg16", "cifar10")
    assert (c["epochs"], c["lr"], c["batch_size"]) == (10, 1e-3, 64)
    b = make_config("best", "resnet18", "cifar10")
    assert b["augment"] == "flip_crop" and b["optimizer"] == "sgd_momentum" and b["label_smoothing"] > 0
    assert make_config("best", "resnet18", "mnist")["augment"] == "shift_rotate"
    assert set(RECIPES) == {"report1", "report2", "best"}


def test_weight_decay_has_the_references_meaning():
    """Keras decays ``w -= lr * wd * w`` outside the momentum; PyTorch's coupled L2 runs through it (x 1/(1-m))."""
    sgd = make_config("best", "vgg11", "cifar10", optimizer="sgd_momentum", weight_decay=5e-4, momentum=0.9)
    assert keras_weight_decay(sgd) == pytest.approx(5e-3)  # per step at lr 0.1: 5e-4, as kuangliu/pytorch-cifar
    assert keras_weight_decay({**sgd, "optimizer": "sgd"}) == pytest.approx(5e-4)  # no momentum: the same thing
    adamw = make_config("best", "vgg11", "cifar10", optimizer="adam", weight_decay=0.05)
    assert keras_weight_decay(adamw) == pytest.approx(0.05)  # AdamW's coefficient, as PyTorch's AdamW
    opt = make_optimizer(sgd, steps_per_epoch=10)
    assert float(opt.weight_decay) == pytest.approx(5e-3)
    assert make_optimizer({**sgd, "weight_decay": 0.0}, 10).weight_decay is None


def test_report1_rmsprop_steps_as_keras2_did():
    """Keras 2's RMSprop stepped lr * g / (sqrt(v) + 1e-7); Keras 3's steps lr * g / sqrt(v + epsilon). Report 1
    (Keras 2) gets epsilon 1e-14: a tiny gradient then moves its weight as far as it did in Keras 2."""
    import keras

    c = make_config("report1", "report_vgg16_mnist", "mnist")
    assert c["epsilon"] == 1e-14 and make_config("report2", "vgg16", "mnist")["epsilon"] == 1e-7

    def first_step(config, g=1e-8):
        w = keras.Variable(np.zeros(1, "float32"))
        make_optimizer(config, 10).apply_gradients([(keras.ops.convert_to_tensor(np.full(1, g, "float32")), w)])
        return -float(w.numpy()[0])

    keras2 = 1e-4 * 1e-8 / (np.sqrt(0.1 * 1e-16) + 1e-7)  # rho 0.9: v = 0.1 g^2 after one step
    assert first_step(c) == pytest.approx(keras2, rel=0.1)
    assert first_step({**c, "epsilon": 1e-7}) < keras2 / 1000  # Keras 3's default: the step all but vanishes
    with pytest.raises(ValueError, match="epsilon must be a number > 0"):
        make_config("report1", "report_vgg16_mnist", "mnist", epsilon=0)


def test_best_picks_its_settings_by_budget():
    bands = RECIPES["best"]["budget"]
    assert bands and bands[-1][0] is None  # every budget falls in a band
    # The budget is images seen: epochs x training images (the official set less the validation split by default).
    full = make_config("best", "vgg11", "cifar10")
    assert full["epochs"] == 30 and full["images_seen"] == 30 * 45_000
    assert full["optimizer"] == "sgd_momentum" and full["batch_size"] == 128 and full["weight_decay"] == 5e-4
    small = make_config("best", "vgg11", "cifar10", train_size=1200, epochs=8)
    assert small["images_seen"] == 9_600 <= SMALL_BUDGET
    assert {k: small[k] for k in SMALL_BUDGET_SETTINGS} == SMALL_BUDGET_SETTINGS == budget_settings("best", 9_600)
    # Fractions and counts as load_dataset takes them; a run of many epochs on few images leaves the small band.
    assert make_config("best", "vgg11", "mnist", train_size=0.5, val_size=10_000)["images_seen"] == 15 * 25_000
    # Three bands: the 8-epoch search's AdamW, issue 13's stronger AdamW for longer runs, the references' SGD.
    assert [band[0] for band in bands] == [SMALL_BUDGET, MIDDLE_BUDGET, None] == [16_000, 100_000, None]
    vgg8, vgg30 = (make_config("best", "vgg11", "cifar10", train_size=1853, epochs=e) for e in (8, 30))
    assert vgg8["images_seen"] == 14_824 and (vgg8["lr"], vgg8["batch_size"]) == (1e-3, 32)
    # The small band's rules: flips without crops on CIFAR-10, except for the ResNet family and its plain twins
    # (one recipe for both nets of a degradation pair), which keep the crops; MNIST keeps shifts and rotations (a
    # flipped 2 is not a 2); the other bands keep the recipe's own augmentation.
    assert SMALL_BUDGET_RULES == [
        ("*/cifar10", {"augment": "flip"}),
        ("resnet*/cifar10", {"augment": "flip_crop"}),
        ("plain*/cifar10", {"augment": "flip_crop"}),
    ]
    pair = [make_config("best", m, "cifar10", train_size=1200, epochs=8) for m in ("plain18", "resnet18")]
    assert pair[0] == {**pair[1], "model": "plain18"} and pair[1]["augment"] == "flip_crop"
    assert make_config("best", "googlenet", "cifar10", train_size=400, epochs=8)["augment"] == "flip"
    assert (vgg8["augment"], vgg30["augment"], full["augment"]) == ("flip", "flip_crop", "flip_crop")
    mnist8 = make_config("best", "vgg11", "mnist", train_size=1200, epochs=8)
    assert mnist8["augment"] == "shift_rotate" and mnist8["lr"] == 1e-3
    assert budget_settings("best", 9_600, "vgg11/cifar10") == {**SMALL_BUDGET_SETTINGS, "augment": "flip"}
    assert budget_settings("best", 9_600, "vgg11/mnist") == SMALL_BUDGET_SETTINGS
    assert budget_bands("best", "resnet18/cifar10")[0][1]["augment"] == "flip_crop"
    assert budget_bands("best", "vgg16/cifar10")[0][1]["augment"] == "flip"
    assert all("augment" not in b for _, b in budget_bands("best", "resnet18/mnist"))  # no band sets it there
    assert vgg30["images_seen"] == 55_590 and {k: vgg30[k] for k in MIDDLE_BUDGET_SETTINGS} == MIDDLE_BUDGET_SETTINGS
    assert (vgg30["optimizer"], vgg30["lr"], vgg30["weight_decay"], vgg30["batch_size"]) == ("adam", 3e-3, 0.05, 64)
    assert budget_settings("best", SMALL_BUDGET) == SMALL_BUDGET_SETTINGS
    assert budget_settings("best", SMALL_BUDGET + 1) == MIDDLE_BUDGET_SETTINGS == budget_settings("best", MIDDLE_BUDGET)
    assert make_config("best", "vgg11", "cifar10", train_size=1200, epochs=90)["optimizer"] == "sgd_momentum"
    assert budget_settings("best", MIDDLE_BUDGET + 1) == {}
    # Each band with its full settings (what a band leaves out is the recipe's default), and the table notebooks show.
    bands_full = budget_bands("best")
    assert [b for _, b in bands_full[:2]] == [SMALL_BUDGET_SETTINGS, MIDDLE_BUDGET_SETTINGS]
    assert bands_full[2] == (
        None,
        {
            "optimizer": "sgd_momentum",
            "lr": 0.02,
            "weight_decay": 5e-4,
            "label_smoothing": 0.1,
            "batch_size": 128,
            "warmup_fraction": 0.15,
        },
    )
    assert budget_bands("report2") == []
    table = budget_table(vgg30)
    assert list(table["this run"] != "") == [False, True, False] and "55,590" in table.loc[1, "this run"]
    assert table.loc[0, "settings"].endswith("augment=flip") and "augment=flip_crop" in table.loc[1, "settings"]
    assert "lr=0.003" in table.loc[1, "settings"] and "optimizer=sgd_momentum" in table.loc[2, "settings"]
    # An explicit setting beats the budget rule.
    assert (
        make_config("best", "vgg11", "cifar10", train_size=1200, epochs=8, optimizer="rmsprop")["optimizer"]
        == "rmsprop"
    )
    assert make_config("best", "vgg11", "cifar10", train_size=1200, epochs=8, batch_size=64)["batch_size"] == 64
    assert make_config("best", "resnet18", "mnist")["epochs"] == 15
    assert budget_settings("report2", 8) == {}
    assert make_config("report2", "vgg11", "cifar10", train_size=100)["optimizer"] == "rmsprop"
    with pytest.raises(ValueError, match="train_size=0 must be"):
        make_config("best", "vgg11", "cifar10", train_size=0)
    with pytest.raises(ValueError, match="Unknown setting.*images_seen"):
        make_config("best", "vgg11", "cifar10", images_seen=5)


def test_overrides_win_and_none_keeps_the_recipe():
    c = make_config("report2", "vgg11", "mnist", lr=0.01, epochs=None, optimizer="sgd")
    assert c["lr"] == 0.01 and c["epochs"] == 10 and c["optimizer"] == "sgd"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"recipe": "fast"}, "Unknown recipe 'fast'; valid: report1, report2, best"),
        ({"model": "vgg17"}, "Unknown model 'vgg17'; valid: .*vgg16"),
        ({"dataset": "svhn"}, "Unknown dataset 'svhn'; valid: mnist, cifar10"),
        ({"optimizer": "adamw"}, "Unknown optimizer 'adamw'; valid: sgd, sgd_momentum, adam, rmsprop"),
        ({"schedule": "linear"}, "Unknown schedule 'linear'"),
        ({"augment": "mixup"}, "Unknown augment 'mixup'; valid: none, flip_crop, flip, shift_rotate"),
        ({"epochs": 0}, "epochs must be a whole number >= 1, got 0"),
        ({"lr": 0}, "lr must be a number > 0, got 0"),
        ({"lr": -0.1}, "lr must be a number > 0"),
        ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
        ({"steps_per_execution": 0}, "steps_per_execution must be a whole number >= 1"),
        ({"cache": "yes"}, "Unknown cache 'yes'"),
        ({"learning_rate": 0.1}, "Unknown setting.*learning_rate"),
    ],
)
def test_bad_settings_get_one_line_errors(kwargs, match):
    args = {"recipe": "best", "model": "vgg11", "dataset": "mnist"}
    over = {k: v for k, v in kwargs.items() if k not in args}
    args.update({k: v for k, v in kwargs.items() if k in args})
    with pytest.raises(ValueError, match=match):
        make_config(args.pop("recipe"), args.pop("model"), args.pop("dataset"), **over)


@pytest.mark.parametrize("kind", ["constant", "step", "cosine", "onecycle"])
def test_schedules(kind):
    cfg = make_config("best", "vgg11", "mnist", schedule=kind, lr=0.1, epochs=10)
    sched = make_schedule(cfg, steps_per_epoch=10)
    lrs = [float(sched) if isinstance(sched, float) else float(sched(s)) for s in (0, 15, 50, 80, 99)]
    if kind == "constant":
        assert lrs == [0.1] * 5
    elif kind == "step":
        assert lrs[0] == pytest.approx(0.1) and lrs[3] == pytest.approx(0.001)
    elif kind == "cosine":
        assert lrs[0] == pytest.approx(0.1) and lrs[2] == pytest.approx(0.05, rel=0.05) and lrs[4] < 0.001
    else:  # warm-up to the peak at 15% of the steps, then decay
        assert lrs[0] == pytest.approx(0.1 / 25) and lrs[1] == pytest.approx(0.1, rel=0.02) and lrs[4] < 0.001


def test_train_writes_a_complete_run_directory(tmp_path, tiny_mnist, capsys):
    cfg = make_config("best", "vgg11", "mnist", epochs=2, batch_size=32, experiment="unit")
    run = RunDir(tmp_path, "unit_vgg11")
    result = train(cfg, tiny_mnist, run)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 2 and "\b" not in out and "\r" not in out  # one line per epoch, no progress bar
    hist = pd.read_csv(run / "history.csv")
    assert list(hist.columns) == [
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "epoch_seconds",
        "images_per_s",
    ]
    assert hist["epoch"].tolist() == [1, 2] and np.isfinite(hist["loss"]).all() and (hist["images_per_s"] > 0).all()
    assert hist["lr"].iloc[0] > hist["lr"].iloc[1]  # one-cycle decays after warm-up
    config = json.loads((run / "config.json").read_text())
    assert config["lr"] == cfg["lr"] and config["environment"]["versions"]["tensorflow"]
    assert config["data"]["source"] == "synthetic" and config["environment"]["hardware"]["accelerator"] == "CPU"
    assert (run / "model.keras").is_file() and not (run / "backup").exists()
    assert "Total params" in (run / "summary.txt").read_text()
    metrics = evaluate_run(result, tiny_mnist)
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["test_accuracy"] == pytest.approx(metrics["accuracy"]) and 0 <= saved["test_accuracy"] <= 1
    assert np.array(saved["confusion_matrix"]).sum() == 64
    assert saved["params"]["total"] == result.model.count_params() and saved["inference_images_per_s"] > 0
    preds = np.load(run / "predictions.npz")
    assert preds["y_pred"].shape == (64,) and preds["probs"].shape == (64, 10)
    assert not list(run.path.glob(".*tmp*"))  # atomic writes leave no temporaries
    runs = load_runs(tmp_path)
    assert runs.loc[0, "run_name"] == "unit_vgg11" and runs.loc[0, "status"] == "finished"
    assert runs.loc[0, "test_accuracy"] == pytest.approx(saved["test_accuracy"])


def test_interrupted_training_resumes_from_its_backup(tmp_path, tiny_mnist):
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("simulated disconnect")

    cfg = make_config("report2", "vgg11", "mnist", epochs=4, batch_size=32)
    run = RunDir(tmp_path, "resume")
    import helpers.training as T

    model = T.build_for(cfg, tiny_mnist)
    real_fit = model.fit

    def fit_with_interrupt(*a, **kw):
        kw["callbacks"] = list(kw["callbacks"]) + [Interrupt()]
        return real_fit(*a, **kw)

    model.fit = fit_with_interrupt
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tiny_mnist, run, model=model)
    assert pd.read_csv(run / "history.csv")["epoch"].tolist() == [1, 2]
    assert (run / "backup").is_dir() and not run.finished
    result = train(cfg, tiny_mnist, run)  # a fresh process would do the same: new model, same run directory
    assert result.resumed_from_epoch == 2
    assert pd.read_csv(run / "history.csv")["epoch"].tolist() == [1, 2, 3, 4]  # each epoch once


def test_googlenet_trains_with_auxiliary_losses(tmp_path):
    ds = load_dataset("cifar10", synthetic=True, train_size=32, val_size=16, test_size=16)
    cfg = make_config("report2", "googlenet", "cifar10", epochs=1, batch_size=16)
    result = train(cfg, ds, RunDir(tmp_path, "g"))
    assert len(result.model.outputs) == 3
    assert result.model._compile_config.config["loss_weights"] == {"main": 1.0, "aux1": 0.3, "aux2": 0.3}
    hist = result.history
    assert np.isfinite(hist["loss"]).all() and np.isfinite(hist["accuracy"]).all()
    metrics = evaluate_run(result, ds)
    assert len(metrics["confusion_matrix"]) == 10


def test_model_for_the_wrong_input_shape_is_refused(tmp_path, tiny_mnist):
    from helpers.models import build_model

    cfg = make_config("report2", "vgg11", "mnist", epochs=1)
    with pytest.raises(ValueError, match=r"built for input shape \(32, 32, 3\).*\(28, 28, 1\)"):
        train(cfg, tiny_mnist, RunDir(tmp_path, "x"), model=build_model("vgg11", (32, 32, 3)))
    assert not (tmp_path / "runs").exists()  # nothing written


def test_unwritable_output_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(PermissionError, match="cannot be written"):
        RunDir(blocker, "r").create()


def test_atomic_write_replaces_whole_files(tmp_path):
    p = tmp_path / "a" / "m.json"
    atomic_write(p, "1")
    atomic_write(p, "22")
    assert p.read_text() == "22" and [f.name for f in p.parent.iterdir()] == ["m.json"]


def test_load_runs_marks_unfinished_runs(tmp_path):
    RunDir(tmp_path, "half").create().write_json("config.json", {"model": "vgg11", "dataset": "mnist"})
    runs = load_runs(tmp_path)
    assert runs.loc[0, "status"] == "unfinished" and runs.loc[0, "model"] == "vgg11"
    assert load_runs(tmp_path / "nothing").empty


def test_mixed_precision_and_xla_code_paths_run_on_cpu(tmp_path, tiny_mnist):
    """The GPU speed-ups are guarded switches; forced on here, a step runs and outputs stay float32."""
    cfg = make_config(
        "best", "vgg11", "mnist", epochs=1, batch_size=32, mixed_precision=True, jit_compile=True, steps_per_execution=2
    )
    result = train(cfg, tiny_mnist, RunDir(tmp_path, "mp"))
    assert result.model.dtype_policy.name == "mixed_float16"
    assert result.model.outputs[0].dtype == "float32"
    assert type(result.model.optimizer).__name__ == "LossScaleOptimizer"  # loss scaling against fp16 underflow
    assert result.model.jit_compile is True and result.model.steps_per_execution == 2
    assert np.isfinite(result.history["loss"]).all()
    config = json.loads((tmp_path / "runs" / "mp" / "config.json").read_text())
    assert config["resolved"] == {"mixed_precision": True, "jit_compile": True, "distribute": False, "replicas": 1}
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"  # the global policy is restored


def test_auto_switches_stay_off_on_cpu():
    from helpers.environment import resolve_acceleration

    cfg = make_config("best", "vgg11", "mnist")
    assert resolve_acceleration(cfg) == {"mixed_precision": False, "jit_compile": False, "distribute": False}
    with pytest.raises(ValueError, match="Unknown distribute 'tpu'"):
        make_config("best", "vgg11", "mnist", distribute="tpu")


MIRRORED = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from helpers.data import load_dataset
from helpers.training import make_config
from helpers.runs import RunDir
from helpers.training import train
ds = load_dataset("mnist", synthetic=True, train_size=64, val_size=32, test_size=32)
cfg = make_config("report2", "vgg11", "mnist", epochs=1, batch_size=16, distribute="mirrored")
result = train(cfg, ds, RunDir(sys.argv[1], "mirrored"))
print(json.dumps({"replicas": result.model.distribute_strategy.num_replicas_in_sync,
                  "loss": float(result.history["loss"].iloc[-1])}))
"""


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and np.isfinite(out["loss"])
    config = json.loads((tmp_path / "runs" / "mirrored" / "config.json").read_text())
    assert config["resolved"]["replicas"] == 2 and config["batch_size"] == 16  # per replica; global batch 32


def test_batchnorm_recalibration_sets_the_data_statistics():
    import keras
    import tensorflow as tf

    from helpers.training import recalibrate_batchnorm

    inputs = keras.Input((4,))
    x = keras.layers.Dropout(0.5)(inputs)
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.99)(x))
    data = np.random.default_rng(0).normal(3.0, 2.0, size=(512, 4)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((data, data)).batch(64)
    assert recalibrate_batchnorm(model, ds, max_batches=100) == 8
    bn = model.layers[-1]
    np.testing.assert_allclose(bn.moving_mean.numpy(), data.mean(0), rtol=1e-5)  # the plain average, no lag
    batch_vars = np.mean([data[i : i + 64].var(0) for i in range(0, 512, 64)], axis=0)
    np.testing.assert_allclose(bn.moving_variance.numpy(), batch_vars, rtol=1e-4)  # dropout was off
    assert bn.momentum == 0.99 and model.layers[1].rate == 0.5  # restored


def _lagging_batchnorm_model():
    """Input -> BatchNormalization -> a fixed Dense: right only with the data's statistics (mean 100), which the
    running averages (momentum 0.99, starting at 0) are far from after one step."""
    import keras

    inputs = keras.Input((1,))
    x = keras.layers.BatchNormalization(momentum=0.99, center=False, scale=False)(inputs)
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(x))
    dense.set_weights([np.array([[-10.0, 10.0]], "float32"), np.zeros(2, "float32")])
    model.compile(keras.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("recalibrate", [False, True])
def test_validation_sees_recalibrated_batchnorm_statistics(recalibrate):
    from helpers.training import RecalibrateBeforeValidation

    rng = np.random.default_rng(0)
    x = rng.normal(100.0, 1.0, size=(256, 1)).astype("float32")
    y = (x[:, 0] > 100.0).astype("int64")  # the class is the sign of the standardised input
    model = _lagging_batchnorm_model()
    callbacks = (
        [RecalibrateBeforeValidation([(x[i : i + 64], y[i : i + 64]) for i in range(0, 256, 64)], 4)]
        if recalibrate
        else []
    )
    history = model.fit(x, y, batch_size=256, epochs=1, validation_data=(x, y), callbacks=callbacks, verbose=0)
    train_acc, val_acc = history.history["accuracy"][0], history.history["val_accuracy"][0]
    assert train_acc > 0.95  # training normalises with each batch's own statistics
    if recalibrate:
        assert val_acc > 0.95  # the statistics of the training images, re-estimated before validation
    else:
        assert val_acc < 0.6  # running averages one step from 0: every input looks large, one class wins


def test_the_kept_epoch_is_the_first_best_validation_or_the_last():
    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "val_accuracy": [0.5, 0.9, 0.9, 0.7]})
    assert selected_epoch(history, "best_val") == 2 and selected_epoch(history, "last") == 4
    assert selected_epoch(history.drop(columns="val_accuracy"), "best_val") == 4  # no validation: the last
    assert selected_epoch(history.iloc[:0], "best_val") is None


def test_a_best_val_run_is_tested_with_its_best_epochs_weights(tmp_path, tiny_mnist):
    cfg = make_config("best", "vgg11", "mnist", epochs=3, batch_size=32, experiment="unit", select_epoch="best_val")
    run = RunDir(tmp_path, "kept")
    result = train(cfg, tiny_mnist, run)
    history = pd.read_csv(run / "history.csv")
    assert result.selected_epoch == selected_epoch(history, "best_val") and (run / RunDir.BEST).is_file()
    best = build_model("vgg11", (28, 28, 1))
    best.load_weights(run / RunDir.BEST)
    for kept, saved in zip(result.model.trainable_weights, best.trainable_weights):  # batch-norm statistics aside
        np.testing.assert_array_equal(np.asarray(kept), np.asarray(saved))
    evaluate_run(result, tiny_mnist)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["select_epoch"] == "best_val" and metrics["selected_epoch"] == result.selected_epoch
    assert 0 <= metrics["last_epoch_test_accuracy"] <= 1


def test_a_best_val_run_whose_best_epoch_is_not_its_last_is_tested_with_that_epochs_weights(tmp_path, tiny_mnist):
    """The restore branch of ``train``: the validation accuracy the callbacks see peaks at epoch 2 of 4 (scripted,
    so the run cannot fall back to a best epoch that is also its last), training goes on for two epochs, and the
    model that is saved and tested holds epoch 2's weights (``best.weights.h5``), not epoch 4's."""
    import keras

    scripted = [0.5, 0.9, 0.6, 0.7]  # what validation "measured" after epochs 1-4

    class ScriptedValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_accuracy"] = scripted[epoch]  # the logs every later callback (log, KeepBest) reads

    cfg = make_config("best", "vgg11", "mnist", epochs=4, batch_size=32, experiment="unit", select_epoch="best_val")
    run = RunDir(tmp_path, "kept_early")
    model = build_model("vgg11", (28, 28, 1))
    real_fit = model.fit

    def fit_with_scripted_validation(*a, **kw):
        kw["callbacks"] = [ScriptedValidation(), *kw["callbacks"]]
        return real_fit(*a, **kw)

    model.fit = fit_with_scripted_validation
    result = train(cfg, tiny_mnist, run, model=model)
    history = pd.read_csv(run / "history.csv")
    assert history["val_accuracy"].tolist() == scripted and history["epoch"].tolist() == [1, 2, 3, 4]
    assert kept_best(run / RunDir.BEST) == (2, 0.9)
    assert result.selected_epoch == 2 < int(history["epoch"].iloc[-1])  # the kept epoch is not the last
    best = build_model("vgg11", (28, 28, 1))
    best.load_weights(run / RunDir.BEST)
    kept = [np.asarray(w) for w in best.trainable_weights]  # batch-norm statistics aside: they are re-estimated
    index = {id(v): i for i, v in enumerate(result.model.weights)}
    last = [result.last_weights[index[id(v)]] for v in result.model.trainable_weights]
    assert any(not np.array_equal(k, w) for k, w in zip(kept, last))  # epochs 3 and 4 moved the weights
    saved = keras.models.load_model(run / RunDir.MODEL)
    for tested in (result.model, saved):  # what evaluate_run tests, and what model.keras keeps
        for want, got in zip(kept, tested.trainable_weights):
            np.testing.assert_array_equal(np.asarray(got), want)
    metrics = evaluate_run(result, tiny_mnist)
    assert metrics["selected_epoch"] == 2 and metrics["val_accuracy"] == 0.9
    assert metrics["last_epoch_val_accuracy"] == 0.7
    probs = np.load(run / RunDir.PREDICTIONS)["probs"].astype(np.float32)
    x_test = result.preprocessing(tiny_mnist.x_test)
    np.testing.assert_allclose(probs, saved.predict(x_test, verbose=0), atol=2e-3)  # the saved model was tested


def small_model(seed):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])


def test_keep_best_replaces_only_on_a_better_epoch_and_says_which(tmp_path):
    path = tmp_path / RunDir.BEST
    keep = KeepBest(path)
    keep.set_model(small_model(0))
    keep.on_epoch_end(0, {"val_accuracy": 0.5})
    first = keep.model.get_weights()
    keep.model.set_weights([w + 1 for w in first])
    keep.on_epoch_end(1, {"val_accuracy": 0.5})  # a tie keeps the earlier epoch
    keep.on_epoch_end(2, {"val_accuracy": float("nan")})  # a diverged epoch is never the best
    assert kept_best(path) == (1, 0.5)
    keep.on_epoch_end(3, {"val_accuracy": 0.75})
    assert kept_best(path) == (4, 0.75) and sorted(p.name for p in tmp_path.iterdir()) == [RunDir.BEST]
    resumed = KeepBest(path)  # a resumed run starts from the file: only a better epoch replaces it
    resumed.set_model(small_model(1))
    resumed.on_epoch_end(4, {"val_accuracy": 0.7})
    assert kept_best(path) == (4, 0.75)
    check = small_model(2)
    check.load_weights(path)  # still a Keras weights file
    for a, b in zip(check.get_weights(), [w + 1 for w in first]):
        np.testing.assert_array_equal(a, b)


def test_a_kill_while_keeping_the_best_leaves_the_file_before(tmp_path, monkeypatch):
    path = tmp_path / RunDir.BEST
    keep = KeepBest(path)
    keep.set_model(small_model(0))
    keep.on_epoch_end(0, {"val_accuracy": 0.5})

    def dies_halfway(filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"\x89HDF\r\n half a file")
        raise KeyboardInterrupt  # what a kill looks like from inside the writer

    monkeypatch.setattr(keep.model, "save_weights", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        keep.on_epoch_end(1, {"val_accuracy": 0.9})
    assert kept_best(path) == (1, 0.5) and sorted(p.name for p in tmp_path.iterdir()) == [RunDir.BEST]


def test_a_missing_metric_is_named_once(tmp_path):
    keep = KeepBest(tmp_path / RunDir.BEST, monitor="val_main_accuracy")
    keep.set_model(small_model(0))
    with pytest.warns(UserWarning, match="no 'val_main_accuracy' among \\['val_accuracy'\\]") as caught:
        keep.on_epoch_end(0, {"val_accuracy": 0.5})
        keep.on_epoch_end(1, {"val_accuracy": 0.6})
    assert len(caught) == 1 and kept_best(tmp_path / RunDir.BEST) is None


def test_an_unreadable_best_file_is_named_and_replaced(tmp_path):
    path = tmp_path / RunDir.BEST
    path.write_bytes(b"\x89HDF\r\n bad object header")
    assert kept_best(path) is None
    with pytest.warns(UserWarning, match="cannot be read"):
        keep = KeepBest(path)
    keep.set_model(small_model(0))
    keep.on_epoch_end(0, {"val_accuracy": 0.1})
    assert kept_best(path) == (1, 0.1)
