"""Tests for helpers.figures: each figure draws what it should, and save_figure writes PNG + PDF atomically."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import evaluation  # noqa: E402
from helpers import figures as plots  # noqa: E402
from helpers.figures import images as image_plots  # noqa: E402
from helpers.figures import style  # noqa: E402

CLASS_NAMES = ["cat", "dog", "ship"]
RNG = np.random.default_rng(0)


def n_images(fig):
    return sum(len(ax.images) for ax in fig.axes)


def history_frame(with_val=True):
    frame = pd.DataFrame(
        {
            "epoch": [1, 2, 3, 4],
            "loss": [1.0, 0.7, 0.5, 0.4],
            "accuracy": [0.5, 0.7, 0.8, 0.85],
            "lr": [1e-3, 1e-3, 1e-4, 1e-5],
            "epoch_seconds": [10.0, 8.0, 8.5, 8.2],
        }
    )
    if with_val:
        frame["val_loss"], frame["val_accuracy"] = [1.1, 0.8, 0.6, 0.6], [0.45, 0.65, 0.75, 0.8]
    return frame


@pytest.fixture(autouse=True)
def no_open_figures():
    yield
    assert plt.get_fignums() == []  # figures are detached: notebooks display each returned figure once


def test_image_grid_draws_every_image_without_ticks():
    gray = RNG.integers(0, 256, (10, 28, 28, 1), dtype=np.uint8)
    fig = image_plots.image_grid(gray, titles=[f"#{i}" for i in range(10)], ncols=4, title="digits")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 10 and n_images(fig) == 10
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    assert fig.axes[0].get_xticks().size == 0 and fig.axes[0].get_yticks().size == 0
    assert [ax.get_title() for ax in fig.axes] == [f"#{i}" for i in range(10)]
    assert fig.get_suptitle() == "digits"
    assert fig.get_size_inches()[0] <= 12


def test_image_grid_rgb_floats_and_colors():
    rgb = RNG.normal(size=(3, 32, 32, 3)).astype(np.float32)  # standardised images are rescaled for display
    fig = image_plots.image_grid(rgb, titles=["x", "y", "z"], title_colors=["red", "green", "red"])
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (32, 32, 3) and shown.min() >= 0 and shown.max() <= 1
    assert to_hex(fig.axes[1].title.get_color()) == to_hex("green")


def test_image_grid_with_no_images_still_returns_a_figure():
    fig = image_plots.image_grid(np.zeros((0, 8, 8, 1)), title="misclassified")
    assert isinstance(fig, Figure) and n_images(fig) == 0
    assert "misclassified" in fig.axes[0].texts[0].get_text()


def test_plot_class_samples_one_labelled_row_per_class():
    y = np.array([0] * 6 + [1] * 2 + [2] * 5)  # "dog" has only 2 samples: its row keeps 2 empty cells
    x = RNG.integers(0, 256, (len(y), 28, 28, 1), dtype=np.uint8)
    fig = image_plots.plot_class_samples(x, y, CLASS_NAMES, per_class=4)
    assert len(fig.axes) == 12 and n_images(fig) == 4 + 2 + 4
    assert [fig.axes[row * 4].get_ylabel() for row in range(3)] == CLASS_NAMES


def test_plot_predictions_titles_and_colors():
    x = RNG.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1])
    fig = image_plots.plot_predictions(x, y_true, y_pred, CLASS_NAMES, indices=[0, 1], title="some predictions")
    assert n_images(fig) == 2
    assert fig.axes[0].get_title() == "true: cat\npred: cat"
    assert fig.axes[1].get_title() == "true: dog\npred: ship"
    assert to_hex(fig.axes[0].title.get_color()) == to_hex(style.CORRECT_COLOR)
    assert to_hex(fig.axes[1].title.get_color()) == to_hex(style.WRONG_COLOR)


@pytest.mark.parametrize("with_val, lines", [(True, 2), (False, 1)])
def test_plot_history_two_panels(with_val, lines):
    fig = plots.plot_history(history_frame(with_val))
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert all(len(ax.lines) == lines for ax in fig.axes)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [1.0, 0.7, 0.5, 0.4])


def test_plot_epoch_times_and_lr():
    fig = plots.plot_epoch_times(history_frame())
    assert [p.get_height() for p in fig.axes[0].patches] == [10.0, 8.0, 8.5, 8.2]
    fig = plots.plot_lr(history_frame())
    assert fig.axes[0].get_yscale() == "log"
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [1e-3, 1e-3, 1e-4, 1e-5])


def test_a_single_epoch_gets_one_tick():
    one = history_frame().iloc[:1]  # the smoke profile trains 1 epoch
    figures = [
        plots.plot_history(one),
        plots.plot_epoch_times(one),
        plots.plot_lr(one),
        plots.plot_ablation_curves({"a": one}),
        plots.plot_degradation({"plain": {20: one}, "residual": {20: one}}),
    ]
    for ax in (ax for fig in figures for ax in fig.axes):
        assert ax.get_xticks().tolist() == [1.0] and ax.get_xlim() == (0.0, 2.0)
    ticks = plots.plot_history(history_frame()).axes[0].get_xticks()  # several epochs: whole numbers, no forced range
    assert len(ticks) > 1 and all(t == int(t) for t in ticks)


def test_plot_degradation_is_fig_6_plain_left_residual_right_one_colour_per_depth():
    shallow, deep = history_frame(), history_frame().assign(accuracy=[0.4, 0.5, 0.55, 0.6])
    fig = plots.plot_degradation({"plain": {56: deep, 20: shallow}, "residual": {20: shallow, 56: deep, 110: deep}})
    plain, residual = fig.axes
    assert [plain.get_title(), residual.get_title()] == ["plain networks", "ResNet networks"]
    assert [line.get_label() for line in plain.lines] == [
        "plain-20 train",
        "plain-20 val",
        "plain-56 train",
        "plain-56 val",
    ]
    assert [line.get_linestyle() for line in plain.lines] == ["--", "-", "--", "-"]  # the paper: dashed training
    colors = {line.get_label(): to_hex(line.get_color()) for ax in fig.axes for line in ax.lines}
    assert colors["plain-56 train"] == colors["ResNet-56 val"] != colors["ResNet-20 train"] == colors["plain-20 val"]
    assert len({colors["ResNet-110 val"], colors["ResNet-56 val"], colors["ResNet-20 val"]}) == 3
    np.testing.assert_allclose(plain.lines[2].get_ydata(), [60, 50, 45, 40])  # error in %, from the accuracy
    assert plain.get_ylabel() == "error (%)" and fig.get_size_inches()[0] <= 12
    # Without validation columns only the training curves are drawn, rather than failing.
    fig = plots.plot_degradation({"plain": {20: history_frame(False)}, "residual": {}})
    assert [len(ax.lines) for ax in fig.axes] == [1, 0]
    assert "no finished run" in plots.plot_degradation({"plain": {}, "residual": {}}).axes[0].texts[0].get_text()


def test_plot_ablation_curves_one_line_per_run_with_its_label():
    runs = {
        "VGG16": history_frame(),
        "VGG16 with ADAM": history_frame().assign(val_accuracy=[0.5, 0.6, 0.7, 0.9]),
        "no validation": history_frame(False),
    }
    fig = plots.plot_ablation_curves(runs, title="Table IV: validation accuracy per epoch")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["VGG16", "VGG16 with ADAM"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.5, 0.6, 0.7, 0.9])
    assert ax.get_title() == "Table IV: validation accuracy per epoch" and ax.get_ylabel() == "validation accuracy"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["VGG16", "VGG16 with ADAM"]
    assert len({to_hex(line.get_color()) for line in ax.lines}) == 2
    fig = plots.plot_ablation_curves(runs, metric="loss")
    assert len(fig.axes[0].lines) == 3 and fig.axes[0].get_ylabel() == "training loss"
    assert "no run" in plots.plot_ablation_curves({}).axes[0].texts[0].get_text()


@pytest.mark.parametrize("normalize", [True, False])
def test_plot_confusion_matrix_annotations_match(normalize):
    cm = np.array([[5, 1, 0], [2, 6, 2], [0, 0, 0]])  # an empty row must not give NaN
    fig = plots.plot_confusion_matrix(cm, CLASS_NAMES, normalize=normalize)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert [t.get_text() for t in ax.get_xticklabels()] == CLASS_NAMES
    expected = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    assert len(ax.texts) == 9
    for text in ax.texts:
        col, row = (int(v) for v in text.get_position())
        assert text.get_text() == (f"{expected[row, col]:.2f}" if normalize else str(cm[row, col]))


def test_plot_per_class_metrics_from_dict_and_frame():
    report = evaluation.evaluate_predictions([0, 0, 1, 2], [0, 1, 1, 2], CLASS_NAMES)["classification_report"]
    for source in (report, evaluation.classification_report_frame(report)):
        ax = plots.plot_per_class_metrics(source, CLASS_NAMES).axes[0]
        assert len(ax.containers) == 3 and all(len(bars) == 3 for bars in ax.containers)
        precision = [bar.get_height() for bar in ax.containers[0]]
        np.testing.assert_allclose(precision, [1.0, 0.5, 1.0], atol=1e-3)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["precision", "recall", "f1-score"]


def test_plot_pixel_histogram_one_curve_per_channel():
    fig = image_plots.plot_pixel_histogram(RNG.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8))
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split()[0] for label in labels] == ["red", "green", "blue"]
    counts = ax.patches[0].get_data().values
    assert counts.sum() == pytest.approx(1.0)
    fig = image_plots.plot_pixel_histogram(RNG.random((5, 8, 8)).astype(np.float32), channel_names=["intensity"])
    assert len(fig.axes[0].patches) == 1 and "intensity" in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_save_figure_writes_png_and_pdf_atomically(tmp_path):
    fig = plots.plot_history(history_frame())
    out_dir = tmp_path / "figures" / "run"
    for _ in range(2):  # overwriting works too
        paths = plots.save_figure(fig, out_dir, "history")
    assert paths == [out_dir / "history.png", out_dir / "history.pdf"]
    assert paths[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out_dir.iterdir()) == ["history.pdf", "history.png"]
