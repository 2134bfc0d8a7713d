"""The appendix's pages on the architectures of the finished runs: the model table (parameters, FLOPs, speed),
each model's summary as in the reports' Appendices A-D, and its pictures drawn from the model (``figures.diagrams``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.figures import (
    googlenet_figure,
    inception_figure,
    residual_blocks_figure,
    resnet_stages_figure,
    vgg_figure,
)
from helpers.runs import RunDir

__all__ = ["architecture_figures", "architecture_summaries", "model_table"]


def model_table(finished: pd.DataFrame) -> pd.DataFrame:
    """Per model and dataset: parameters, FLOPs per image, training and inference images/s, seconds per epoch."""
    if finished.empty:
        return pd.DataFrame(
            columns=[
                "model",
                "dataset",
                "params (M)",
                "trainable (M)",
                "GFLOPs",
                "train img/s",
                "inference img/s",
                "s/epoch",
                "accelerator",
            ]
        )
    rows = []
    for (model, dataset), group in finished.groupby(["model", "dataset"], sort=False):
        r = group.iloc[-1]
        per_epoch = (r["train_seconds"] / r["epochs_run"]) if r["epochs_run"] else np.nan
        flops = r.get("flops_per_image")
        rows.append(
            {
                "model": model,
                "dataset": dataset,
                "params (M)": round(r["params_total"] / 1e6, 2),
                "trainable (M)": round(r["params_trainable"] / 1e6, 2),
                "GFLOPs": round(flops / 1e9, 3) if flops and not pd.isna(flops) else np.nan,
                "train img/s": round(r["train_images_per_s"], 1) if r["train_images_per_s"] else np.nan,
                "inference img/s": round(r["inference_images_per_s"], 1) if r["inference_images_per_s"] else np.nan,
                "s/epoch": round(per_epoch, 1),
                "accelerator": r["accelerator"],
            }
        )
    return pd.DataFrame(rows).sort_values(["dataset", "model"]).reset_index(drop=True)


def architecture_summaries(finished: pd.DataFrame, output_dir: str | Path) -> dict[str, str]:
    """Each model's summary (as in the reports' Appendices A-D), once per model and input shape."""
    out = {}
    for _, r in finished.iterrows():
        run = RunDir(output_dir, r["run_name"])
        shape = tuple(run.read_json(RunDir.CONFIG)["data"]["input_shape"])
        key = f"{r['model']} on {r['dataset']} {shape}"
        if key not in out and (run / RunDir.SUMMARY).is_file():
            out[key] = (run / RunDir.SUMMARY).read_text(encoding="utf-8")
    return dict(sorted(out.items()))


def architecture_figures(finished: pd.DataFrame, output_dir: str | Path) -> list[tuple[str, str, object]]:
    """Pictures of the finished runs' architectures, drawn from the models (helpers.figures.diagrams): each model's
    stages once per input shape, and the building blocks (residual blocks, inception module) once. (title, name,
    figure)."""
    figures, seen = [], set()
    for _, r in finished.iterrows():
        shape = tuple(RunDir(output_dir, r["run_name"]).read_json(RunDir.CONFIG)["data"]["input_shape"])
        model = r["model"]
        if (model, shape) in seen:
            continue
        seen.add((model, shape))
        tag = f"{model}_{shape[0]}x{shape[1]}x{shape[2]}"
        if model.startswith(("vgg", "report_vgg")):
            figures.append((f"{model}: stages on {shape}", f"arch_{tag}", vgg_figure(model, shape)))
        elif model.startswith(("resnet", "plain")):
            figures.append((f"{model}: stages on {shape}", f"arch_{tag}", resnet_stages_figure(model, shape)))
            if "residual blocks" not in seen:
                seen.add("residual blocks")
                figures.append(("Residual blocks", "arch_residual_blocks", residual_blocks_figure()))
        elif model == "googlenet":
            figures.append((f"GoogLeNet on {shape}", f"arch_{tag}", googlenet_figure(shape)))
            if "inception" not in seen:
                seen.add("inception")
                figures.append(("Inception module 3a", "arch_inception_3a", inception_figure("3a")))
    return figures
