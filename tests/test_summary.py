"""Model summaries keep every column and every per-layer count within a printed line (issue: every number survives)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

from helpers.models import REPORT_PARAMS, build_model, count_params, summary_text  # noqa: E402

FAMILIES = [
    ("report_vgg16_mnist", (28, 28, 1)),
    ("report_vgg16_cifar10", (32, 32, 3)),
    ("vgg11", (32, 32, 3)),
    ("resnet18", (32, 32, 3)),
    ("resnet50", (32, 32, 3)),
    ("plain18", (32, 32, 3)),
    ("googlenet", (32, 32, 3)),
    ("report_resnet50", (28, 28, 1)),
]


def table_rows(text):
    """The header cells and the body lines of the summary table, each line as its raw cells (no borders)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| Layer (type)"))
    body = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        body.append([cell[1:] for cell in line[1:-1].split("|")])  # drop the one space of padding
    return [c.strip() for c in lines[header][1:-1].split("|")], body


def rows_by_layer(body):
    """{layer name: {"params": int, "inputs": [names]}}, joining wrapped pieces (continuations start with 2 spaces)."""
    layers, name = {}, None
    for cells in body:
        first, params = cells[0].rstrip(), cells[2].strip()
        if params:  # a layer's first line holds its count
            name, typed = re.sub(r" \(\w+\)$", "", first), " (" in first
            layers[name] = {"params": int(params.replace(",", "")), "inputs": []}
        elif first.startswith("("):  # the type on a line of its own (it may wrap too)
            typed = True
        elif first.startswith("  ") and not typed:  # the name goes on: "conv2_block1_" + "  1_bn"
            layers[name + first.strip()] = layers.pop(name)
            name = name + first.strip()
        if len(cells) == 4 and cells[3].strip() not in ("", "-"):
            piece, inputs = cells[3].rstrip(), layers[name]["inputs"]
            if piece.startswith("  "):
                inputs[-1] += piece.strip()
            else:
                inputs.append(piece)
    return layers


@pytest.mark.parametrize(("name", "shape"), FAMILIES)
def test_summary_has_every_column_and_count_within_80_characters(name, shape):
    model = build_model(name, shape)
    text = summary_text(model)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.isascii(), "box-drawing characters have no glyphs in nbconvert's default LaTeX fonts"
    header, body = table_rows(text)
    chain = name.startswith(("vgg", "report_vgg", "plain"))  # Keras, too, leaves out "Connected to" for chains
    assert header == ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    layers = rows_by_layer(body)
    assert list(layers) == [layer.name for layer in model.layers]
    for layer in model.layers:
        assert layers[layer.name]["params"] == layer.count_params(), layer.name
    total = int(re.search(r"^Total params: ([\d,]+)", text, re.M).group(1).replace(",", ""))
    counts = count_params(model)
    assert sum(v["params"] for v in layers.values()) == total == counts["total"]
    trainable = int(re.search(r"^Trainable params: ([\d,]+)", text, re.M).group(1).replace(",", ""))
    frozen = int(re.search(r"^Non-trainable params: ([\d,]+)", text, re.M).group(1).replace(",", ""))
    assert (trainable, frozen) == (counts["trainable"], counts["non_trainable"])
    if (name, shape) in REPORT_PARAMS:  # report 1's Appendices A-D, every number
        assert counts == REPORT_PARAMS[(name, shape)]
    if not chain:  # every layer names its inputs, and they are the layers Keras connects it to
        config = {c["name"]: c for c in model.get_config()["layers"]}
        for layer in model.layers[1:]:
            want = re.findall(r'"keras_history": \["([^"]+)"', json.dumps(config[layer.name]))
            assert layers[layer.name]["inputs"] == want, layer.name


def test_residual_blocks_name_both_inputs_of_their_addition():
    layers = rows_by_layer(table_rows(summary_text(build_model("resnet18", (32, 32, 3))))[1])
    assert layers["conv2_block1_add"]["inputs"] == ["conv1_relu", "conv2_block1_2_bn"]  # identity shortcut
    assert layers["conv3_block1_add"]["inputs"] == ["conv3_block1_0_bn", "conv3_block1_2_bn"]  # projection
    assert layers["conv3_block1_0_conv"]["inputs"] == ["conv2_block2_out"]
    plain = rows_by_layer(table_rows(summary_text(build_model("plain18", (32, 32, 3))))[1])
    assert not any(name.endswith("_add") for name in plain)


def test_long_names_wrap_instead_of_being_cut():
    text = summary_text(build_model("googlenet", (32, 32, 3)))
    layers = rows_by_layer(table_rows(text)[1])
    assert layers["inception_3a_output"]["inputs"] == [
        "inception_3a_1x1_relu",
        "inception_3a_3x3_relu",
        "inception_3a_5x5_relu",
        "inception_3a_pool_proj_relu",
    ]
    assert summary_text(build_model("googlenet", (32, 32, 3)), width=100) != text
    assert max(len(line) for line in summary_text(build_model("vgg11", (32, 32, 3)), width=100).splitlines()) <= 100
