"""Evaluation: test results and ``evaluate_run`` (``metrics``), what a model costs (``speed``: images/s, FLOPs),
finished runs opened again (``trained``), and what a trained network sees (``graph`` picks layers, ``interpret``
computes feature maps, Grad-CAM and filter patterns).

Imports ``data``, ``models``, ``experiments``, ``runs`` and ``environment``; ``figures`` and above import it.
"""

from helpers.environment import import_keras_quietly

import_keras_quietly()  # before any module here imports Keras (TensorFlow's start-up lines go nowhere)

from helpers.evaluation.graph import (  # noqa: E402
    activation_model,
    cut_layers,
    first_conv,
    gradcam_layer,
    logits_model,
    stage_layers,
)
from helpers.evaluation.interpret import (  # noqa: E402
    feature_maps,
    filter_images,
    filter_patterns,
    gradcam,
    gradient,
    most_active_channels,
    overlay,
    untrained_model,
)
from helpers.evaluation.metrics import (  # noqa: E402
    REPORT_COLUMNS,
    classification_report_frame,
    evaluate_predictions,
    evaluate_run,
    predict,
    sample_indices,
    to_labels,
    top_confusions,
)
from helpers.evaluation.speed import count_flops, inference_throughput  # noqa: E402
from helpers.evaluation.trained import NoRunError, OpenedRun, best_run, open_run, plain_residual_pairs  # noqa: E402

__all__ = [
    "activation_model",
    "gradient",
    "logits_model",
    "REPORT_COLUMNS",
    "NoRunError",
    "OpenedRun",
    "best_run",
    "classification_report_frame",
    "count_flops",
    "cut_layers",
    "evaluate_predictions",
    "evaluate_run",
    "feature_maps",
    "filter_images",
    "filter_patterns",
    "first_conv",
    "gradcam",
    "gradcam_layer",
    "inference_throughput",
    "most_active_channels",
    "open_run",
    "overlay",
    "plain_residual_pairs",
    "predict",
    "sample_indices",
    "stage_layers",
    "to_labels",
    "top_confusions",
    "untrained_model",
]
