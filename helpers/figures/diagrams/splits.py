"""A dataset's train / validation / test split as one stacked bar."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.experiments.budget import split_count
from helpers.figures.diagrams import drawing as draw


def split_figure(n_train_full, val_size, n_test, train_size=None) -> Figure:
    """A dataset's train / validation / test split as one stacked bar with counts and percentages;
    ``val_size`` and ``train_size`` are counts or fractions (of the training set, then of the rest), as in
    ``load_dataset``."""
    n_val = split_count(val_size, n_train_full, "val_size")
    rest = n_train_full - n_val
    n_train = rest if train_size is None else split_count(train_size, rest, "train_size")
    if rest < 1 or n_train > rest:
        raise ValueError(
            f"{n_train_full:,} training images cannot give {n_val:,} for validation and {n_train:,} for training."
        )
    parts = [
        ("train", n_train, "#6baed6"),
        ("not used", rest - n_train, "#e5e5e5"),
        ("validation", n_val, "#fdae6b"),
        ("test", n_test, "#74c476"),
    ]
    total, x0, bar = n_train_full + n_test, 0.3, 1.6
    scale = 9.4 / total
    fig, ax = draw.canvas(10, 2.9)
    draw.title(
        ax,
        f"{total:,} images: {n_train:,} train / {n_val:,} validation "
        f"({100 * n_val / n_train_full:.3g}% of the training set) / {n_test:,} test",
        2.82,
    )
    left, centers = x0, {}
    for name, n, color in (part for part in parts if part[1]):
        w, label = n * scale, f"{name}\n{n:,} ({100 * n / total:.1f}%)"
        ax.add_patch(Rectangle((left, bar), w, 0.55, fc=color, ec="white", lw=1.5, gid=f"split:{name}"))
        inside = w > 0.075 * len(label.split("\n")[1])  # else the label goes above the bar
        ax.text(
            left + w / 2,
            bar + (0.275 if inside else 0.6),
            label,
            ha="center",
            va="center" if inside else "bottom",
            fontsize=draw.FONT + 1,
        )
        centers[name], left = left + w / 2, left + w
    a, b = x0 + 0.03, x0 + n_train_full * scale - 0.03  # a bracket under the training set
    ax.plot([a, a, b, b], [bar - 0.08, bar - 0.15, bar - 0.15, bar - 0.08], color="0.3", lw=1)
    ax.text((a + b) / 2, bar - 0.2, f"training set: {n_train_full:,}", ha="center", va="top", fontsize=draw.FONT + 1)
    for name, note, y in (
        ("validation", "validation: split off the training set, stratified, seeded", 0.85),
        ("test", "test: touched once, at the end", 0.35),
    ):
        ax.annotate(
            note,
            xy=(centers[name], bar - 0.02),
            xytext=(centers[name] + 0.05, y),
            ha="right",
            va="center",
            fontsize=draw.FONT + 1.5,
            arrowprops={"arrowstyle": "-|>", "color": "0.3", "relpos": (1, 0.5)},
        )
    return fig
