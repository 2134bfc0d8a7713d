"""Figures: every picture of results and images, each a matplotlib ``Figure`` a notebook shows once (as a PNG in
JupyterLab, Colab and the PDF): ``curves`` (training), ``results`` (confusion matrix, per-class metrics),
``images`` (grids, galleries, histograms), ``interpretation`` (what a network sees), ``diagrams`` (architectures,
drawn from the models themselves) and ``style`` (the theme, A4 widths, saving).

Imports ``evaluation`` and the layers below it; ``report`` and ``course`` import it.
"""

from helpers.environment import import_keras_quietly

import_keras_quietly()  # before any module here imports Keras (TensorFlow's start-up lines go nowhere)

from helpers.figures.curves import (  # noqa: E402
    plot_ablation_curves,
    plot_degradation,
    plot_epoch_times,
    plot_history,
    plot_lr,
)
from helpers.figures.diagrams import (  # noqa: E402
    draw_graph,
    googlenet_figure,
    inception_figure,
    plain_vs_residual_figure,
    residual_blocks_figure,
    resnet_stages_figure,
    split_figure,
    vgg_figure,
)
from helpers.figures.images import (  # noqa: E402
    display_image,
    image_grid,
    plot_class_samples,
    plot_pixel_histogram,
    plot_predictions,
)
from helpers.figures.interpretation import (  # noqa: E402
    gradcam_gallery,
    plot_comparison,
    plot_feature_maps,
    plot_filter_patterns,
    plot_filters,
    run_gradcam_gallery,
)
from helpers.figures.results import plot_confusion_matrix, plot_per_class_metrics  # noqa: E402
from helpers.figures.style import new_figure, save_figure  # noqa: E402

__all__ = [
    "display_image",
    "draw_graph",
    "googlenet_figure",
    "gradcam_gallery",
    "image_grid",
    "inception_figure",
    "new_figure",
    "plain_vs_residual_figure",
    "plot_ablation_curves",
    "plot_class_samples",
    "plot_comparison",
    "plot_confusion_matrix",
    "plot_degradation",
    "plot_epoch_times",
    "plot_feature_maps",
    "plot_filter_patterns",
    "plot_filters",
    "plot_history",
    "plot_lr",
    "plot_per_class_metrics",
    "plot_pixel_histogram",
    "plot_predictions",
    "residual_blocks_figure",
    "resnet_stages_figure",
    "run_gradcam_gallery",
    "save_figure",
    "split_figure",
    "vgg_figure",
]
