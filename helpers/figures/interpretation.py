"""The pictures of what a network sees (``06_what_cnns_see``, the report's Grad-CAM galleries), built on
``images.image_grid``, so they share the reports' gallery layout: true and predicted class over each image, green if
right, red if wrong."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from helpers.evaluation import (
    OpenedRun,
    filter_images,
    gradcam,
    most_active_channels,
    overlay,
    sample_indices,
)
from helpers.figures.images import image_grid
from helpers.figures.style import CORRECT_COLOR, WRONG_COLOR

__all__ = [
    "gradcam_gallery",
    "plot_comparison",
    "plot_feature_maps",
    "plot_filter_patterns",
    "plot_filters",
    "run_gradcam_gallery",
]


def plot_filters(trained, untrained, n: int = 32, ncols: int = 16) -> Figure:
    """The first ``n`` filters of a first convolution, trained (top rows) against untrained (bottom rows)."""
    a, b = filter_images(trained, n), filter_images(untrained, n)
    rows = -(-len(a) // ncols)
    pad = [None] * (rows * ncols - len(a))
    labels = ["trained"] + [""] * (rows - 1) + ["untrained"] + [""] * (rows - 1)
    k = np.asarray(trained).shape
    return image_grid(
        [*a, *pad, *b, *pad],
        ncols=ncols,
        row_labels=labels,
        title=f"First convolution: {k[3]} filters of {k[0]}x{k[1]}x{k[2]} (first {len(a)} shown)",
    )


def _stretch(image) -> np.ndarray:
    """An activation map in [0, 1] (its own minimum to its own maximum; a constant map stays dark)."""
    image = np.asarray(image, np.float32) - np.min(image)
    return image / max(float(image.max()), 1e-12)


def plot_feature_maps(maps: dict[str, np.ndarray], channels: int = 8) -> Figure:
    """One row per layer: the first image's maps of its ``channels`` most active channels, the row named with the
    layer and its output shape (height x width x channels)."""
    images, labels = [], []
    for name, m in maps.items():
        m = np.asarray(m)[0]
        picked = most_active_channels(m[None], channels)
        images += [_stretch(m[..., c]) for c in picked] + [None] * (channels - len(picked))
        labels.append(f"{name}\n{m.shape[0]}x{m.shape[1]}x{m.shape[2]}")
    return image_grid(
        images,
        ncols=channels,
        row_labels=labels,
        cmap="viridis",
        title="Feature maps after each stage (most active channels)",
    )


def plot_filter_patterns(patterns: dict[str, tuple[list[int], np.ndarray]]) -> Figure:
    """One row per layer: the images that excite each of its chosen channels most (gradient ascent)."""
    ncols = max(len(ch) for ch, _ in patterns.values())
    images, titles, labels = [], [], []
    for name, (channels, pics) in patterns.items():
        images += list(pics) + [None] * (ncols - len(pics))
        titles += [f"channel {c}" for c in channels] + [""] * (ncols - len(pics))
        labels.append(name)
    return image_grid(
        images,
        titles=titles,
        ncols=ncols,
        row_labels=labels,
        title="What excites a channel: early, middle and late layers",
    )


def gradcam_gallery(images, heatmaps, y_true, y_pred, probs, class_names, title=None) -> Figure:
    """Grad-CAM heatmaps over their images, each titled with the true and predicted class and the confidence."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    titles = [
        f"true: {class_names[t]}\npred: {class_names[p]} {c:.0%}"
        for t, p, c in zip(y_true, y_pred, np.asarray(probs).max(-1), strict=True)
    ]
    colors = [CORRECT_COLOR if t == p else WRONG_COLOR for t, p in zip(y_true, y_pred, strict=True)]
    return image_grid(
        [overlay(x, h) for x, h in zip(images, heatmaps, strict=True)], titles=titles, title=title, title_colors=colors
    )


def run_gradcam_gallery(run: OpenedRun, correct: bool, n: int = 16, seed: int = 0, title: str | None = None) -> Figure:
    """A run's gallery of right (or wrong) test predictions with Grad-CAM for the predicted class: the same images
    as the reports' galleries (``evaluation.sample_indices`` with the same seed)."""
    idx = sample_indices(run.y_true, run.y_pred, correct=correct, n=n, seed=seed)
    if not len(idx):
        return image_grid([], title=title or "Grad-CAM")
    heat = gradcam(run.model, run.inputs(run.x_test[idx]), classes=run.y_pred[idx])
    return gradcam_gallery(
        run.x_test[idx], heat, run.y_true[idx], run.y_pred[idx], run.probs[idx], run.class_names, title=title
    )


def plot_comparison(runs: dict[str, OpenedRun], indices, title=None) -> Figure:
    """The same test images under several runs' Grad-CAM (one row per run, the images in the first row)."""
    first = next(iter(runs.values()))
    images = [first.x_test[i] for i in indices]
    titles = [f"true: {first.class_names[first.y_true[i]]}" for i in indices]
    colors = ["black"] * len(indices)
    labels = ["image"]
    for label, run in runs.items():
        heat = gradcam(run.model, run.inputs(first.x_test[indices]), classes=run.y_pred[indices])
        images += [overlay(first.x_test[i], h) for i, h in zip(indices, heat, strict=True)]
        titles += [f"{run.class_names[run.y_pred[i]]} {run.probs[i].max():.0%}" for i in indices]
        colors += [CORRECT_COLOR if run.y_pred[i] == run.y_true[i] else WRONG_COLOR for i in indices]
        labels.append(label)
    return image_grid(images, titles=titles, ncols=len(indices), title=title, title_colors=colors, row_labels=labels)
