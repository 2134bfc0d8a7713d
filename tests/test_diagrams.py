"""Tests for helpers.figures.diagrams: every figure renders to PNG, and what it shows comes from the models' code."""

import io
import re

import keras
import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text

from helpers.figures import diagrams
from helpers.models import googlenet, resnet, vgg


def text_objects(fig):
    return [t for t in fig.findobj(Text) if t.get_text()]


def texts(fig):
    return [t.get_text() for t in text_objects(fig)]


def edges(fig):
    """The gids of the figure's arrows ("model:source->target" in draw_graph)."""
    return [a.get_gid() for a in fig.findobj(FancyArrowPatch) if a.get_gid()]


def check_png(fig):
    """The figure is a detached Figure of printable width that renders to a non-trivial PNG."""
    assert isinstance(fig, Figure)
    assert fig.canvas.manager is None  # made without pyplot: nothing to close, shown once in a notebook
    assert fig.get_size_inches()[0] <= 11
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and len(buffer.getvalue()) > 5_000
    pixels = matplotlib.image.imread(io.BytesIO(buffer.getvalue()))
    assert abs(pixels.shape[1] - fig.get_size_inches()[0] * 50) <= 1
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20  # drawn, not blank


def residual_model(channels=64, filters=128, stride=2):
    x = keras.Input((8, 8, channels), name="input")
    return keras.Model(x, resnet.basic_block(x, filters, stride, name="block"), name="residual")


def test_draw_graph_residual_block_one_add_with_two_incoming_arrows():
    model = residual_model()
    fig = diagrams.draw_graph(model, title="a basic block")
    check_png(fig)
    adds = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 1 and texts(fig).count("Add") == 1
    assert len([e for e in edges(fig) if e.endswith(f"->{adds[0]}")]) == 2
    # An arrow per connection: 6 on the main path, 3 on the shortcut, add -> relu; plus one to the output.
    assert len(edges(fig)) == 10 + 1
    shown = texts(fig)
    assert {
        "a basic block",
        "Input",
        "8x8x64",
        "Conv2D 3x3, 128, /2",
        "Conv2D 1x1, 128, /2",
        "BatchNorm",
        "ReLU",
        "4x4x128",
        "output",
    } <= set(shown)


def test_draw_graph_labels_sequential_and_functional_layers():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(16, 3, strides=2, padding="same"),
            keras.layers.MaxPooling2D(3, strides=1, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10),
        ],
        name="tiny",
    )
    fig = diagrams.draw_graph(model)
    check_png(fig)
    assert {
        "tiny",
        "Conv2D 3x3, 16, /2",
        "16x16x16",
        "MaxPool 3x3",
        "Flatten",
        "4096",
        "Dropout 0.5",
        "Dense 10",
        "10",
    } <= set(texts(fig))
    assert len(edges(fig)) == len(model.layers)  # a chain: n - 1 connections + the output arrow


def test_draw_graph_keeps_boxes_apart_with_two_inputs():
    a, b = keras.Input((8, 8, 3), name="a"), keras.Input((8, 8, 5), name="b")
    side = keras.layers.Conv2D(4, 3, padding="same", name="side")(a)
    merged = keras.layers.Conv2D(4, 1, name="mix")(keras.layers.Concatenate(name="concat")([a, b]))
    fig = diagrams.draw_graph(keras.Model([a, b], keras.layers.Add(name="add")([merged, side])))
    check_png(fig)
    assert "Concatenate 3+5" in texts(fig)
    boxes = [p.get_extents() for p in fig.findobj(FancyBboxPatch)]
    assert len(boxes) == 6
    assert not any(p.overlaps(q) for i, p in enumerate(boxes) for q in boxes[i + 1 :])


def test_residual_blocks_figure_has_the_shortcut_on_the_side():
    fig = diagrams.residual_blocks_figure()
    check_png(fig)
    titles = [t for t in texts(fig) if "block\n" in t]
    assert [t.split("\n")[:2] for t in titles] == [
        ["basic block", "identity shortcut"],
        ["basic block", "projection shortcut"],
        ["bottleneck block", "identity shortcut"],
        ["bottleneck block", "projection shortcut"],
    ]
    by_gid = {t.get_gid(): t for t in fig.findobj(Text) if t.get_gid()}
    for panel in ("basic_identity", "basic_projection", "bottleneck_identity", "bottleneck_projection"):
        main_x = by_gid[f"{panel}:block_out"].get_position()[0]  # the block's final ReLU, on the main path
        side = [
            t.get_text()
            for gid, t in by_gid.items()  # boxes of the right-hand lane only
            if gid.startswith(f"{panel}:") and t.get_position()[0] > main_x + 1.0
        ]
        if panel.endswith("identity"):
            assert side == []
        else:  # the 1x1 projection conv (and its BatchNorm) on the side branch
            assert len(side) == 2 and re.fullmatch(r"Conv2D 1x1, \d+, /2", side[0]) and side[1] == "BatchNorm"
        assert len([e for e in edges(fig) if e.startswith(f"{panel}:") and e.endswith("->block_add")]) == 2
    assert texts(fig).count("shortcut") == 4


def test_inception_figure_shows_the_paper_filters_and_their_sum():
    fig = diagrams.inception_figure("3a")
    check_png(fig)
    shown = texts(fig)
    f1, f3r, f3, f5r, f5, fp = googlenet.INCEPTION["3a"]
    assert {
        f"Conv2D 1x1, {f1}",
        f"Conv2D 1x1, {f3r}",
        f"Conv2D 3x3, {f3}",
        f"Conv2D 1x1, {f5r}",
        f"Conv2D 5x5, {f5}",
        f"Conv2D 1x1, {fp}",
        "MaxPool 3x3",
    } <= set(shown)
    assert "Concatenate 64+128+32+32" in shown and "32x32x256" in shown
    assert "32x32x192" in shown  # 3a's input in the kit's GoogLeNet: the stem's 192 channels
    assert len([e for e in edges(fig) if e.endswith("->inception_3a_output")]) == 4


def test_inception_figure_follows_the_table(monkeypatch):
    monkeypatch.setitem(googlenet.INCEPTION, "3a", (8, 4, 16, 2, 6, 10))
    shown = texts(diagrams.inception_figure("3a", input_shape=(8, 8, 12)))
    assert "Concatenate 8+16+6+10" in shown and "8x8x40" in shown and "Conv2D 5x5, 6" in shown


def conv_channels(fig):
    """The channels of the 3x3 conv boxes, in reading order (columns left to right, each top to bottom)."""
    boxes = sorted(text_objects(fig), key=lambda t: (round(t.get_position()[0], 2), -t.get_position()[1]))
    return [int(m[1]) for t in boxes if (m := re.fullmatch(r"Conv2D 3x3, (\d+)", t.get_text()))]


def test_vgg_figure_shows_the_config():
    fig = diagrams.vgg_figure("vgg11")
    check_png(fig)
    assert conv_channels(fig) == [v for v in vgg.CFG["vgg11"] if v != "M"]
    shown = texts(fig)
    assert shown.count("MaxPool 2x2, /2") == vgg.CFG["vgg11"].count("M")
    assert ["32x32x3", "16x16x64", "8x8x128", "4x4x256", "2x2x512", "1x1x512"] == [
        t for t in shown if re.fullmatch(r"\d+x\d+x\d+", t)
    ]


def test_vgg_figure_is_drawn_from_cfg(monkeypatch):
    monkeypatch.setitem(vgg.CFG, "vgg11", [32, "M", 48, 48, "M"])
    fig = diagrams.vgg_figure("vgg11")
    assert conv_channels(fig) == [32, 48, 48]
    assert "8x8x48" in texts(fig)


def test_vgg_figure_report_replica_on_mnist():
    fig = diagrams.vgg_figure("report_vgg16_mnist", (28, 28, 1))
    check_png(fig)
    shown = texts(fig)
    assert any("(28-14-7-3-1 px)" in t for t in shown)
    assert conv_channels(fig) == [v for v in vgg.CFG["report_vgg16_mnist"] if v != "M"]
    assert {"14x14x64", "7x7x128", "3x3x256", "1x1x512", "Flatten", "Dense 256"} <= set(shown)


def block_boxes(fig):
    return [t for t in texts(fig) if re.match(r"(3x3|1x1), \d+", t)]


def test_resnet_stages_figure_follows_configs(monkeypatch):
    fig = diagrams.resnet_stages_figure("resnet18")
    check_png(fig)
    blocks = block_boxes(fig)
    assert len(blocks) == sum(resnet.CONFIGS["resnet18"][1])
    strided = [b for b in blocks if ", /2" in b.split("\n")[0]]
    assert len(strided) == sum(s > 1 for s in resnet.STAGE_STRIDES)
    assert all("shortcut 1x1" in b for b in strided)
    shown = {"conv2_x: 2 blocks", "32x32x64", "16x16x128", "8x8x256", "4x4x512", "GlobalAvgPool", "Dense 10"}
    assert shown <= set(texts(fig))
    monkeypatch.setitem(resnet.CONFIGS, "resnet18", ("basic", (1, 1, 1, 1)))
    assert len(block_boxes(diagrams.resnet_stages_figure("resnet18"))) == 4


def test_resnet_stages_figure_shows_bottleneck_widths(monkeypatch):
    monkeypatch.setitem(resnet.CONFIGS, "resnet50", ("bottleneck", (2, 1, 1, 1)))  # ResNet-50's blocks, fewer
    fig = diagrams.resnet_stages_figure("resnet50")
    shown = texts(fig)
    assert "1x1, 64\n3x3, 64\n1x1, 256\nshortcut 1x1, 256" in shown  # 64 -> 256, a projection without stride
    assert "1x1, 128\n3x3, 128, /2\n1x1, 512\nshortcut 1x1, 512, /2" in shown
    assert len(block_boxes(fig)) == sum(resnet.CONFIGS["resnet50"][1])
    assert "4x4x2048" in shown


def test_plain_vs_residual_figure_arcs_only_on_the_residual_side():
    fig = diagrams.plain_vs_residual_figure(18)
    check_png(fig)
    n_blocks = sum(resnet.CONFIGS["resnet18"][1])
    arcs = [a for a in fig.findobj(FancyArrowPatch) if (a.get_gid() or "").startswith("shortcut:")]
    assert len(arcs) == n_blocks
    assert sum(a.get_linestyle() == "--" for a in arcs) == sum(s > 1 for s in resnet.STAGE_STRIDES)
    convs = [t for t in texts(fig) if t.startswith("Conv2D")]
    assert len(convs) == 2 * (1 + 2 * n_blocks)  # stem + two convs a block, on each side
    assert {"plain-18", "ResNet-18", "1x1, 128, /2"} <= set(texts(fig))
    x = {t.get_text(): t.get_position()[0] for t in text_objects(fig) if t.get_text().endswith("-18")}
    plus = [t.get_position()[0] for t in text_objects(fig) if t.get_text() == "+"]
    assert x["plain-18"] < x["ResNet-18"] and len(plus) == n_blocks
    assert all(p == pytest.approx(x["ResNet-18"]) for p in plus)  # every addition sits on the residual side


def test_googlenet_figure_attaches_the_aux_heads_after_4a_and_4d():
    fig = diagrams.googlenet_figure()
    check_png(fig)
    shown = texts(fig)
    for module, aux in googlenet.AUX_AFTER.items():
        assert any(re.fullmatch(rf"inception_{module}_\w+->{aux}_\w+", e) for e in edges(fig)), (module, aux)
        assert f"{aux} output: training only,\nloss weight 0.3" in shown
    assert [t for t in shown if t.startswith("Inception ")] == [f"Inception {m}" for m in googlenet.INCEPTION]
    assert "64+128+32+32 -> 32x32x256" in shown
    assert {"AvgPool 5x5, /3", "Conv2D 1x1, 128", "Dense 1024", "Dropout 0.7", "Dropout 0.4"} <= set(shown)


def segment_counts(fig):
    found = (re.fullmatch(r"(train|not used|validation|test)\n([\d,]+) \(.*%\)", t) for t in texts(fig))
    return {m[1]: int(m[2].replace(",", "")) for m in found if m}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((60_000, 0.1, 10_000), {"train": 54_000, "validation": 6_000, "test": 10_000}),
        ((50_000, 5_000, 10_000), {"train": 45_000, "validation": 5_000, "test": 10_000}),
        ((60_000, 15_000, 10_000, 0.5), {"train": 22_500, "not used": 22_500, "validation": 15_000, "test": 10_000}),
    ],
)
def test_split_figure_counts_add_up(args, expected):
    fig = diagrams.split_figure(*args)
    check_png(fig)
    counts = segment_counts(fig)
    assert counts == expected
    assert sum(v for k, v in counts.items() if k != "test") == args[0]
    shown = texts(fig)
    assert f"training set: {args[0]:,}" in shown
    assert "validation: split off the training set, stratified, seeded" in shown
    assert "test: touched once, at the end" in shown


@pytest.mark.parametrize("val_size", [60_000, 0, 1.5, -0.1])
def test_split_figure_rejects_impossible_splits(val_size):
    with pytest.raises(ValueError):
        diagrams.split_figure(60_000, val_size, 10_000)
