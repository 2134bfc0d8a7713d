"""Layers picked from a model's graph, not by name, for looking into any of the kit's models: a *cut* layer is one
that every path from the image to the prediction passes through (a VGG layer, a ResNet block's output, an inception
module's output), so the rest of the network can run from it alone; and models of a network's parts."""

from __future__ import annotations

import keras

from helpers.models import inference_model
from helpers.models.summary import tensor_sources

__all__ = ["activation_model", "cut_layers", "first_conv", "gradcam_layer", "logits_model", "stage_layers"]


def cut_layers(model) -> list[str]:
    """Names of the layers with a (H, W, C) output that every path from the input to the output passes through,
    in order. From a cut layer the rest of the network runs on its output alone (``keras.Model(layer.output, ...)``).
    """
    model = inference_model(model)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    position = {layer.name: i for i, layer in enumerate(layers)}
    inbound = {entry["name"]: entry.get("inbound_nodes", []) for entry in model.get_config()["layers"]}
    reach = list(range(len(layers)))  # the furthest layer that reads each layer's output
    for i, layer in enumerate(layers):
        for source in tensor_sources(inbound[layer.name]):  # the graph as get_config() describes it (public)
            j = position.get(source.split("[")[0])
            if j is not None:
                reach[j] = max(reach[j], i)
    cuts, furthest = [], -1
    for i, layer in enumerate(layers):
        if furthest <= i and len(layer.output.shape) == 4:
            cuts.append(layer.name)
        furthest = max(furthest, reach[i])
    return cuts


def _shape(model, name: str) -> tuple[int, ...]:
    return tuple(int(d) for d in model.get_layer(name).output.shape[1:])


def stage_layers(model) -> list[str]:
    """One layer per stage: the last cut layer of each run of equal output shape (VGG's convs and pools, ResNet's
    stages, GoogLeNet's inception modules): where the stride and channel arithmetic shows."""
    model = inference_model(model)
    cuts = cut_layers(model)
    image_channels = int(model.input.shape[-1])  # padding or reshaping the image is no stage
    return [
        name
        for name, after in zip(cuts, cuts[1:] + [None], strict=True)
        if (after is None or _shape(model, after) != _shape(model, name)) and _shape(model, name)[-1] != image_channels
    ]


def gradcam_layer(model, min_size: int = 4) -> str:
    """The layer Grad-CAM looks at: the deepest cut layer whose maps are at least ``min_size`` pixels high (VGG
    and ResNet end in 1x1 or 2x2 maps on 32x32 images: too coarse to say where)."""
    model = inference_model(model)
    cuts = cut_layers(model)
    big = [name for name in cuts if _shape(model, name)[0] >= min_size]
    return (big or cuts)[-1]


def first_conv(model):
    """The model's first convolution layer (the one that looks at pixels)."""
    return next(layer for layer in inference_model(model).layers if isinstance(layer, keras.layers.Conv2D))


def activation_model(model, layer_names):
    """A Keras model from the image to the outputs of ``layer_names`` (a list, in that order), or to the output
    of one layer when given one name."""
    model = inference_model(model)
    if isinstance(layer_names, str):
        return keras.Model(model.input, model.get_layer(layer_names).output)
    return keras.Model(model.input, [model.get_layer(n).output for n in layer_names])


def logits_model(model, layer_name: str | None = None):
    """A Keras model from the output of the cut layer ``layer_name`` (None: the image) to the class scores
    before the softmax (the softmax squashes the gradients of confident predictions)."""
    model = inference_model(model)
    last = model.layers[-1]
    scores = last.input if getattr(last, "activation", None) is keras.activations.softmax else model.output
    start = model.input if layer_name is None else model.get_layer(layer_name).output
    return keras.Model(start, scores)
