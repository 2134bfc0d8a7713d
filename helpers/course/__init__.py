"""The course: what a student imports (this module gathers it in one place), the exercises and their checks
(``exercises``, ``judges``), the student version of the notebooks (``student``; ``python -m helpers.course
student DIR``) and publishing (``publish``; ``python -m helpers.course.publish OWNER/REPO@REF``).

A notebook imports from two places: ``from helpers import figures`` (every picture) and ``from helpers.course
import ...`` (everything else it calls), before Keras (the kit imports Keras without TensorFlow's start-up lines).
The top layer: it may import every other package of the kit; nothing in ``helpers`` imports it.
"""

from helpers.environment import import_keras_quietly

import_keras_quietly()  # before any module imports Keras (TensorFlow's start-up lines go nowhere)

from helpers.course.exercises import EXERCISES, check  # noqa: E402
from helpers.course.predict import EFFECTS, explain, observe, predict  # noqa: E402
from helpers.data import (  # noqa: E402
    DATASET_NAMES,
    Preprocessing,
    augment_batch,
    load_dataset,
    make_pipeline,
)
from helpers.environment import in_colab, resolve_output_dir, setup  # noqa: E402
from helpers.evaluation import (  # noqa: E402
    NoRunError,
    activation_model,
    classification_report_frame,
    evaluate_run,
    feature_maps,
    filter_patterns,
    first_conv,
    gradcam,
    gradcam_layer,
    gradient,
    logits_model,
    most_active_channels,
    open_run,
    plain_residual_pairs,
    sample_indices,
    stage_layers,
    untrained_model,
)
from helpers.experiments import EXPERIMENTS, PROFILES, experiments_for  # noqa: E402
from helpers.models import REPORT_PARAMS, build_model, count_params, inference_model, summary_text  # noqa: E402
from helpers.models.googlenet import INCEPTION, inception  # noqa: E402
from helpers.models.vgg import CFG  # noqa: E402
from helpers.report.architectures import architecture_figures, architecture_summaries, model_table  # noqa: E402
from helpers.report.display import (  # noqa: E402
    budget_table,
    compare_with_reports,
    figure_saver,
    reports_table,
    show_figure,
    show_items,
    show_table,
    test_summary,
)
from helpers.report.notebook_pdf import make_pdf  # noqa: E402
from helpers.report.pages import run_page, show_evaluation  # noqa: E402
from helpers.report.tables import (  # noqa: E402
    ablation_histories,
    ablation_tables,
    degradation_histories,
    missing_experiments,
    results_table,
)
from helpers.runs import RunDir, finished_runs  # noqa: E402
from helpers.training import RECIPES, make_config, tensorboard_help, train  # noqa: E402

__all__ = [
    "activation_model",
    "gradient",
    "logits_model",
    "CFG",
    "DATASET_NAMES",
    "EFFECTS",
    "EXERCISES",
    "EXPERIMENTS",
    "INCEPTION",
    "PROFILES",
    "RECIPES",
    "REPORT_PARAMS",
    "NoRunError",
    "Preprocessing",
    "RunDir",
    "ablation_histories",
    "ablation_tables",
    "architecture_figures",
    "architecture_summaries",
    "augment_batch",
    "budget_table",
    "build_model",
    "check",
    "classification_report_frame",
    "compare_with_reports",
    "count_params",
    "degradation_histories",
    "evaluate_run",
    "explain",
    "experiments_for",
    "feature_maps",
    "figure_saver",
    "filter_patterns",
    "finished_runs",
    "first_conv",
    "gradcam",
    "gradcam_layer",
    "in_colab",
    "inception",
    "inference_model",
    "load_dataset",
    "make_config",
    "make_pdf",
    "make_pipeline",
    "missing_experiments",
    "model_table",
    "observe",
    "most_active_channels",
    "open_run",
    "plain_residual_pairs",
    "predict",
    "reports_table",
    "resolve_output_dir",
    "results_table",
    "run_page",
    "sample_indices",
    "setup",
    "show_evaluation",
    "show_figure",
    "show_items",
    "show_table",
    "stage_layers",
    "summary_text",
    "tensorboard_help",
    "test_summary",
    "train",
    "untrained_model",
]
