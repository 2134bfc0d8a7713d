#!/usr/bin/env python
"""Throughput of every model on this machine: training and inference images/s, FLOPs per image, the kit's
overhead (``train()`` with its pipeline, augmentation and callbacks vs a bare ``model.fit`` on in-memory tensors),
the share of this machine's measured matmul FLOP/s that training reaches, and the epoch floor on a T4.

    python bench/throughput.py                      # all course models, CIFAR-10-shaped synthetic images
    python bench/throughput.py --models vgg16 resnet18 --images 1024 --batch-size 128 --out bench/throughput.csv

Synthetic images are enough here: speed depends on shapes, not pixels. The kit and the bare fit are measured
in turns (kit, bare, bare, kit, ...) ``--repeats`` times and compared by their medians, so that a slow spell of a
shared machine hits both alike; the table also gives the lowest and highest ratio of a kit/bare pair.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.environment import environment_info, import_keras_quietly  # noqa: E402

import_keras_quietly()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from keras import ops  # noqa: E402

from helpers.data import (  # noqa: E402
    Preprocessing,
    load_dataset,  # noqa: E402
    make_pipeline,
)
from helpers.environment import resolve_acceleration  # noqa: E402
from helpers.evaluation import count_flops, inference_throughput  # noqa: E402
from helpers.models import inference_model  # noqa: E402
from helpers.runs import RunDir  # noqa: E402
from helpers.training import (  # noqa: E402
    build_for,
    make_config,  # noqa: E402
    train,
)
from helpers.training.optim import compile_model  # noqa: E402

T4_FP16_FLOPS = 65e12  # NVIDIA T4 tensor-core peak, FP16
CIFAR_TRAIN_IMAGES = 50_000
DEFAULT_MODELS = [
    "vgg11",
    "vgg16",
    "resnet18",
    "resnet50",
    "plain18",
    "googlenet",
    "report_vgg16_cifar10",
    "report_resnet50",
]


def matmul_flops(dtype: str = "float32", n: int = 2048, repeats: int = 10) -> float:
    """This machine's matmul FLOP/s in ``dtype`` (the practical peak that convolutions are compared with), through
    the Keras backend in use (TensorFlow, JAX or PyTorch), on its default device."""
    a = keras.random.normal((n, n), dtype=dtype, seed=1)
    b = keras.random.normal((n, n), dtype=dtype, seed=2)
    ops.convert_to_numpy(ops.matmul(a, b)[0, 0])  # warm-up (and compilation); converting waits for the device
    t0 = time.perf_counter()
    for _ in range(repeats):
        c = ops.matmul(a, b)
    ops.convert_to_numpy(c[0, 0])
    return 2 * n**3 * repeats / (time.perf_counter() - t0)


class EpochTimer(keras.callbacks.Callback):
    """Seconds of each epoch's training phase (validation excluded), as the kit's own logger measures it."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.t0)


def bare_images_per_s(name, ds, cfg, epochs: int) -> float:
    """A bare ``model.fit`` on in-memory float tensors: no augmentation, no callbacks but a timer."""
    keras.utils.set_random_seed(0)
    accel = resolve_acceleration(cfg)  # the same mixed precision and XLA as the kit's train()
    model = build_for({**cfg, "model": name}, ds, accel["mixed_precision"])
    x = ops.convert_to_numpy(Preprocessing.fit(ds.x_train, cfg["normalization"])(ds.x_train))
    y = np.eye(ds.num_classes, dtype=np.float32)[ds.y_train]
    if len(model.outputs) > 1:
        y = {n: y for n in model.output_names}
    compile_model(
        model, cfg, steps_per_epoch=int(np.ceil(len(ds.y_train) / cfg["batch_size"])), jit_compile=accel["jit_compile"]
    )
    timer = EpochTimer()
    model.fit(x, y, batch_size=cfg["batch_size"], epochs=epochs, shuffle=True, callbacks=[timer], verbose=0)
    return len(ds.y_train) / float(np.median(timer.seconds[1:]))  # epoch 1 includes tracing


def kit_images_per_s(name, ds, cfg, epochs: int) -> tuple[float, object]:
    """The kit's ``train()``: tf.data pipeline, batched augmentation, logger, backups; its own epoch timings."""
    with tempfile.TemporaryDirectory() as out:
        result = train({**cfg, "epochs": epochs}, ds, RunDir(out, name), stream=open("/dev/null", "w"))
        return float(result.history["images_per_s"].iloc[1:].median()), result.model


def pipeline_images_per_s(ds, cfg, epochs: int = 3) -> float:
    """The input pipeline alone (shuffle, batched augmentation, normalisation, one-hot, prefetch), no model:
    how many images/s the CPU can feed a device."""
    prep = Preprocessing.fit(ds.x_train, cfg["normalization"])
    pipe = make_pipeline(
        ds.x_train,
        ds.y_train,
        batch_size=cfg["batch_size"],
        num_classes=ds.num_classes,
        preprocessing=prep,
        training=True,
        augment=cfg["augment"],
    )
    seconds = []
    for _ in range(epochs + 1):
        t0 = time.perf_counter()
        for _batch in pipe:  # eager iteration: each batch is finished when it arrives
            pass
        seconds.append(time.perf_counter() - t0)
    return len(ds.y_train) / float(np.median(seconds[1:]))


def kit_and_bare(name, ds, cfg, epochs: int, repeats: int):
    """Median images/s of the kit and of the bare fit, measured in alternating order, the per-pair ratios, and
    the last kit model."""
    kit, bare, model = [], [], None
    for r in range(repeats):
        for which in ("kit", "bare") if r % 2 == 0 else ("bare", "kit"):
            if which == "kit":
                speed, model = kit_images_per_s(name, ds, cfg, epochs)
                kit.append(speed)
            else:
                bare.append(bare_images_per_s(name, ds, cfg, epochs))
    ratios = [k / b for k, b in zip(kit, bare)]
    return float(np.median(kit)), float(np.median(bare)), ratios, model


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    p.add_argument("--images", type=int, default=512, help="training images per epoch")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per measurement (+ 1 warm-up epoch)")
    p.add_argument("--repeats", type=int, default=3, help="kit and bare-fit measurements per model, interleaved")
    p.add_argument("--dataset", default="cifar10", choices=["cifar10", "mnist"])
    p.add_argument(
        "--mixed-precision",
        default="auto",
        choices=["auto", "on", "off"],
        help="float16 compute (auto: on GPUs with tensor cores, as in train())",
    )
    p.add_argument("--out", default="bench/throughput.csv")
    args = p.parse_args(argv)

    info = environment_info()
    hw = info["hardware"]
    mixed = {"auto": "auto", "on": True, "off": False}[args.mixed_precision]
    accel = resolve_acceleration({"mixed_precision": mixed, "jit_compile": "auto", "distribute": "off"})
    dtype = "float16" if accel["mixed_precision"] else "float32"
    peak = matmul_flops(dtype, n=8192 if hw["gpus"] else 2048)
    print(
        f"Machine: {hw['accelerator']} ({hw['processor']}, {hw['cpu_count']} cores), Keras "
        f"{info['versions']['keras']} on {info['versions']['keras_backend']}; matmul {peak / 1e9:,.0f} GFLOP/s "
        f"{dtype}; mixed precision {accel['mixed_precision']}, XLA {accel['jit_compile']}"
    )
    # Inference is timed on at least 512 test images (2 batches of 256), more when the epochs are larger.
    ds = load_dataset(
        args.dataset,
        synthetic=True,
        synthetic_size=(args.images + 64, max(512, min(args.images, 4096))),
        val_size=64,
        train_size=args.images,
    )
    # The pipeline is the same for every model of a dataset: measured once, with the first model's settings.
    feed = pipeline_images_per_s(
        ds, make_config("best", args.models[0], args.dataset, batch_size=args.batch_size, mixed_precision=mixed)
    )
    print(f"Input pipeline alone (shuffle, augmentation, normalisation, batch {args.batch_size}): {feed:,.0f} img/s")
    x_test = ops.convert_to_numpy(Preprocessing.fit(ds.x_train)(ds.x_test))  # inference input, the same for all
    rows = []
    for name in args.models:
        cfg = make_config(
            "best", name, args.dataset, batch_size=args.batch_size, epochs=args.epochs + 1, mixed_precision=mixed
        )
        kit, bare, ratios, model = kit_and_bare(name, ds, cfg, args.epochs + 1, args.repeats)
        net = inference_model(model)
        flops = count_flops(net) or float("nan")  # counted from the layers, on any backend
        achieved = 3 * flops * kit  # forward + backward ~ 3 forward passes
        rows.append(
            {
                "model": name,
                "mixed precision": accel["mixed_precision"],
                "params (M)": round(model.count_params() / 1e6, 2),
                "GFLOPs/image": round(flops / 1e9, 3),
                "train img/s (kit)": round(kit, 1),
                "train img/s (bare fit)": round(bare, 1),
                "kit/bare": round(kit / bare, 3),
                "kit/bare pairs": f"{min(ratios):.2f}-{max(ratios):.2f}",
                "inference img/s": round(inference_throughput(net, x_test, batch_size=256), 1),
                "achieved / matmul FLOP/s": round(achieved / peak, 3),  # matmul in the dtype training computes in
                "T4 epoch floor (s)": round(CIFAR_TRAIN_IMAGES * 3 * flops / T4_FP16_FLOPS, 1),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(args.out, index=False)  # after every model: a stopped run keeps its rows
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False))
    print(
        f"\nwritten to {args.out}; batch {args.batch_size}, {args.images} images/epoch; kit and bare fit each "
        f"measured {args.repeats} times in turns, {args.epochs} timed epochs each, medians compared; "
        f"input pipeline alone {feed:,.0f} img/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
