"""The exercises of 06_what_cnns_see: feature maps and Grad-CAM."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from helpers.course.judges import FRACTION, Exercise, number, shape
from helpers.evaluation import gradcam, gradcam_layer
from helpers.evaluation.graph import activation_model, logits_model
from helpers.evaluation.interpret import gradient
from helpers.models.vgg import vgg_features

NOTEBOOK = "06_what_cnns_see.ipynb"


def center_share_of(heatmap) -> float:
    """The share of a heatmap's mass in the middle half of the image (rows and columns H//4 to H - H//4)."""
    h = np.asarray(heatmap, dtype=float)
    rows, cols = h.shape[0] // 4, h.shape[1] // 4
    return float(h[rows : h.shape[0] - rows, cols : h.shape[1] - cols].sum() / h.sum())


def center_share(answer):
    """The student's center_share(heatmap) against center_share_of on four heatmaps."""
    if not callable(answer):
        return f"expected a function center_share(heatmap), got {answer!r}"
    corner, middle = np.zeros((32, 32)), np.zeros((32, 32))
    corner[:4, :4], middle[14:18, 14:18] = 1, 1
    cases = {
        "a uniform 32x32 heatmap": np.ones((32, 32)),
        "a heatmap lit only in its top-left corner": corner,
        "a heatmap lit only in the middle": middle,
        "a random 28x28 heatmap": np.random.default_rng(0).random((28, 28)),
    }
    for what, heat in cases.items():
        got, want = answer(heat.copy()), center_share_of(heat)
        if got is None:
            return "your center_share returns None: end it with `return` and the share"
        if math.isclose(float(got), want, abs_tol=1e-6):
            continue
        if math.isclose(float(got), 1 - want, abs_tol=1e-6):
            return f"for {what} you give {float(got):.3f}: that is the border's share, not the middle's"
        if math.isclose(float(got), 100 * want, abs_tol=1e-4):
            return f"for {what} you give {float(got):.3f}: that is a percentage; {FRACTION}"
        middle = (heat.shape[0] - 2 * (heat.shape[0] // 4)) * (heat.shape[1] - 2 * (heat.shape[1] // 4))
        if math.isclose(float(got), want * heat.size / middle, abs_tol=1e-6):
            return f"for {what} you give {float(got):.3f}: that compares means; the share is the middle's sum / the sum"
        if float(got) > 1:
            return f"for {what} you give {float(got):.3f}, more than 1: divide by the whole heatmap's sum"
        return (
            f"for {what} you give {float(got):.3f}, expected {want:.3f} (the middle: rows and columns H//4 to H - H//4)"
        )
    return None


def _maps_and_gradients(model, images, layer):
    """A layer's maps for ``images`` and the gradient of each image's predicted-class score with respect to them."""
    maps = np.asarray(activation_model(model, layer)(images, training=False))
    head = logits_model(model, layer)
    pick = ops.one_hot(np.asarray(head(maps, training=False)).argmax(-1), head.output.shape[-1])
    return maps, gradient(lambda a: ops.sum(head(a, training=False) * pick, axis=-1), maps)[1]


def _normalised(cam):
    return cam / np.maximum(np.abs(cam).max(axis=(1, 2), keepdims=True), 1e-12)


def vgg_probe():
    """A small untrained VGG (the kit's ``vgg_features``) whose Grad-CAM layer feeds Flatten and a dense layer, with
    16 images: its gradients differ from position to position, so a Grad-CAM that does not average them shows (on a
    ResNet, whose layer feeds global average pooling, it would not), and its weighted sums change sign."""
    rng = np.random.default_rng(1)
    x = keras.Input((8, 8, 3))
    y = vgg_features(x, [8, "M", 8], batch_norm=False, prefix="probe")
    model = keras.Model(x, layers.Dense(10)(layers.Flatten()(y)))
    for w in model.weights:
        w.assign(rng.normal(0.0, 0.5, w.shape).astype("float32"))
    return model, rng.normal(0.0, 1.0, (16, 8, 8, 3)).astype("float32")


def _compare_gradcam(answer, model, images) -> str | None:
    """The student's Grad-CAM against the kit's on one model and its images: None, or what is off."""
    layer = gradcam_layer(model)
    want = gradcam(model, images, layer=layer, upsample=False)
    got = answer(model, images, layer)
    if got is None:
        return "your gradcam returns None: return the heatmaps, one (h, w) map per image"
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        return f"heatmaps of shape {got.shape}, expected {want.shape}: one map per image, at the layer's size"
    if np.allclose(got, want, atol=1e-3):
        return None
    if np.isnan(got).any():
        return "your maps hold NaN: a map with no positive evidence is all zeros; divide by max(its maximum, 1e-12)"
    maps, grads = _maps_and_gradients(model, images, layer)
    weighted = (maps * grads.mean(axis=(1, 2), keepdims=True)).sum(-1)
    mistakes = {
        "keep only the positive part (a ReLU on the weighted sum): negative evidence is for other classes": (
            _normalised(weighted)
        ),
        "weigh each channel by its gradient *averaged over the positions*, not position by position": _normalised(
            np.maximum((maps * grads).sum(-1), 0)
        ),
        "divide each map by its own maximum, so that it lies in [0, 1]": np.maximum(weighted, 0),
        "divide each map by its own maximum, not by the largest of all the maps": np.maximum(weighted, 0)
        / max(np.maximum(weighted, 0).max(), 1e-12),
    }
    for hint, wrong in mistakes.items():
        if np.allclose(got, wrong, atol=1e-3):
            return hint
    return f"your maps differ from the kit's by up to {np.abs(got - want).max():.3f}: check each step of Grad-CAM"


def gradcam_code(answer, against):
    """The student's gradcam(model, images, layer) against the kit's: on the run's own model and 16 of its test
    images, then on ``vgg_probe`` (a layer whose positions matter, whatever the run's network)."""
    if not callable(answer):
        return f"expected a function gradcam(model, images, layer), got {answer!r}"
    if against.x_test is None:
        return f"this run's test images cannot be reloaded here ({against.note}), so there is nothing to check on"
    # 16 images: on a few, every position's weighted sum can be positive, and a missing ReLU would go unseen.
    problem = _compare_gradcam(answer, against.model, against.inputs(against.x_test[:16]))
    if problem:
        return problem
    problem = _compare_gradcam(answer, *vgg_probe())
    return problem and f"on a small VGG, whose maps feed a dense layer (so positions differ): {problem}"


EXERCISES = [
    Exercise(
        "block3_pool_shape",
        NOTEBOOK,
        "predict",
        shape((4, 4, 256), "VGG-16's block3_pool output on a 32x32 image"),
        "Three 2x2 pools: 32 -> 16 -> 8 -> 4, and block 3 has 256 channels.",
    ),
    Exercise(
        "gradcam_cell_pixels",
        NOTEBOOK,
        "predict",
        number(
            8,
            "the image pixels between the centres of neighbouring cells of ResNet-18's 4x4 Grad-CAM map on 32x32 "
            "(its stride)",
            {
                64: "64 is 8 x 8, an area: the question asks how far apart neighbouring cells are along one side",
                4: "4 is the map's size: how many image pixels apart are its cells?",
                0.125: "0.125 is 4 / 32, the map's side over the image's: how many image pixels apart are its cells?",
                16: "16 is the number of cells (4 x 4): how many image pixels apart are neighbouring ones?",
            },
        ),
        "32 / 4 = 8: neighbouring cells are 8 pixels apart (the map's stride), so the heatmap is a coarse 4x4 grid "
        "enlarged; each cell still sees far more than 8x8 pixels (its receptive field covers the whole image).",
    ),
    Exercise(
        "gradcam",
        NOTEBOOK,
        "code",
        gradcam_code,
        "Maps, the gradient of the class score averaged over positions as channel weights, their weighted sum, "
        "its positive part, scaled to [0, 1]: Grad-CAM, the same maps as the kit's.",
        compare=True,
        kit=(gradcam,),
    ),
    Exercise(
        "center_share",
        NOTEBOOK,
        "code",
        center_share,
        "The middle half (in height and width) holds a quarter of the pixels: a share far below 0.25 means "
        "the network looked around the object rather than at it.",
        kit=(center_share_of,),
    ),
]
