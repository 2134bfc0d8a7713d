"""Figures of images (matplotlib): grids, one row per class, galleries of predictions, pixel histograms. Built
like every figure of the kit on ``helpers.figures.style`` (one style, figures detached from pyplot, A4 widths)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from helpers.evaluation import to_labels
from helpers.figures.style import CORRECT_COLOR, MAX_WIDTH, WRONG_COLOR, new_figure

__all__ = ["display_image", "image_grid", "plot_class_samples", "plot_pixel_histogram", "plot_predictions"]


def display_image(image) -> np.ndarray:
    """Return an image ready for imshow: (H, W) or (H, W, 3), uint8 kept, floats mapped into [0, 1]."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    if low >= 0 and 1 < high <= 255:  # raw pixel values stored as floats
        return image / 255.0
    if low < 0 or high > 1:  # standardised images: stretch each to the full range
        return (image - low) / (high - low)
    return image


def image_grid(
    images, titles=None, ncols: int = 8, cmap=None, title=None, title_colors=None, row_labels=None
) -> Figure:
    """Return a grid of images without ticks; a None entry leaves its cell empty, row_labels name the rows."""
    n = len(images)
    if n == 0:
        fig, (ax,) = new_figure(figsize=(4, 1))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"{title or 'images'}: none to show", ha="center", va="center")
        return fig
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    label_width = 1.3 if row_labels is not None else 0.0
    cell = min(1.4, (MAX_WIDTH - label_width) / ncols)
    title_lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    height = nrows * (cell + 0.17 * title_lines) + (0.4 if title else 0)
    fig, axes = new_figure(nrows, ncols, figsize=(ncols * cell + label_width, height))
    for i, ax in enumerate(axes):
        if i >= n:
            fig.delaxes(ax)
            continue
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if images[i] is not None:
            image = display_image(images[i])
            gray = image.ndim == 2
            vmax = 255 if image.dtype == np.uint8 else 1.0
            ax.imshow(image, cmap=(cmap or "gray") if gray else None, vmin=0, vmax=vmax, interpolation="nearest")
        if titles is not None:
            color = {"color": title_colors[i]} if title_colors is not None else {}
            ax.set_title(titles[i], fontsize=8, **color)
    for row, label in enumerate(row_labels if row_labels is not None else []):
        axes[row * ncols].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def plot_class_samples(x, y, class_names, per_class: int = 8, seed: int = 0) -> Figure:
    """Return a grid with one row of `per_class` random samples for each class, rows labelled by class name."""
    y = to_labels(y)
    rng = np.random.default_rng(seed)
    images = []
    for c in range(len(class_names)):
        chosen = np.sort(rng.permutation(np.flatnonzero(y == c))[:per_class])
        images += [x[i] for i in chosen] + [None] * (per_class - len(chosen))
    return image_grid(images, ncols=per_class, row_labels=list(class_names))


def plot_predictions(x, y_true, y_pred, class_names, indices, title=None) -> Figure:
    """Return a gallery of the samples at `indices` titled "true: ... / pred: ...", green if right, red if wrong."""
    y_true, y_pred, indices = to_labels(y_true), to_labels(y_pred), np.asarray(indices, dtype=np.int64)
    titles = [f"true: {class_names[y_true[i]]}\npred: {class_names[y_pred[i]]}" for i in indices]
    colors = [CORRECT_COLOR if y_true[i] == y_pred[i] else WRONG_COLOR for i in indices]
    return image_grid([x[i] for i in indices], titles=titles, title=title, title_colors=colors)


def plot_pixel_histogram(x, channel_names=None) -> Figure:
    """Return per-channel histograms of pixel values (fraction of pixels), with each channel's mean and std."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    n_channels = x.shape[-1]
    default_names = {1: ["gray"], 3: ["red", "green", "blue"]}
    names = channel_names or default_names.get(n_channels) or [f"channel {c}" for c in range(n_channels)]
    colors = ["0.3"] if n_channels == 1 else ["tab:red", "tab:green", "tab:blue"] if n_channels == 3 else None
    edges = np.arange(257) if x.dtype == np.uint8 else np.linspace(float(x.min()), float(x.max()), 65)
    fig, (ax,) = new_figure(figsize=(8, 4))
    for c, name in enumerate(names):
        values = x[..., c].ravel()
        counts, _ = np.histogram(values, bins=edges)
        label = f"{name} (mean {values.mean(dtype=np.float64):.4g}, std {values.std(dtype=np.float64):.4g})"
        ax.stairs(
            counts / max(counts.sum(), 1),
            edges,
            label=label,
            linewidth=1.5,
            color=colors[c] if colors else None,
        )
    ax.set(xlabel="pixel value", ylabel="fraction of pixels", title="Pixel value distribution")
    ax.legend()
    return fig
