"""Optimisers, learning-rate schedules and losses: a config's training settings as Keras objects."""

from __future__ import annotations

import keras

__all__ = ["compile_model", "keras_weight_decay", "make_loss", "make_optimizer", "make_schedule"]


def make_schedule(config: dict, steps_per_epoch: int):
    """The learning rate as a function of the optimizer step (a float for ``constant``)."""
    lr, total = float(config["lr"]), max(1, steps_per_epoch * int(config["epochs"]))
    kind = config["schedule"]
    if kind == "constant":
        return lr
    if kind == "step":  # divide by 10 at 50% and 75% of training (the ResNet paper's CIFAR schedule, scaled)
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            [total // 2, (3 * total) // 4], [lr, lr / 10, lr / 100]
        )
    if kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, decay_steps=total, alpha=0.0)
    # onecycle: linear warm-up from lr/25 to lr, then cosine down to lr x 0.0025 = lr/400 -- fast and forgiving.
    warmup = max(1, int(total * float(config["warmup_fraction"])))
    return keras.optimizers.schedules.CosineDecay(
        lr / 25, decay_steps=max(1, total - warmup), alpha=1e-4 * 25, warmup_target=lr, warmup_steps=warmup
    )


def keras_weight_decay(config: dict) -> float:
    """Keras' ``weight_decay`` argument that gives ``config["weight_decay"]`` the references' meaning.

    Keras 3 decays decoupled and scaled by the learning rate, outside the momentum: every step
    ``w -= lr * wd * w`` (``BaseOptimizer._apply_weight_decay``). The references (kuangliu/pytorch-cifar, PyTorch's
    ``SGD(weight_decay=5e-4)``) add ``wd * w`` to the gradient (coupled L2), which then runs through the momentum
    buffer: in the steady state each step shrinks ``w`` by ``lr * wd / (1 - momentum)`` (Nesterov alike). So for
    SGD with momentum Keras gets ``wd / (1 - momentum)``: 5e-4 at momentum 0.9 becomes 5e-3, i.e. ``lr x 5e-3`` per
    step, the same shrink per step as the references at the same learning rate (0.1 x 5e-4 / 0.1 = 5e-4 per step at
    their lr 0.1). Plain SGD: the two are the same (``lr * wd``). Adam and RMSprop: the value is AdamW's decoupled
    coefficient (PyTorch's ``AdamW(weight_decay=...)`` also shrinks by ``lr * wd``), passed through unchanged;
    coupled L2 would be rescaled away by Adam's per-weight normalisation.
    """
    wd = float(config["weight_decay"])
    if config["optimizer"] == "sgd_momentum":
        return wd / (1.0 - float(config["momentum"]))
    return wd


def make_optimizer(config: dict, steps_per_epoch: int):
    """The config's optimizer with its learning-rate schedule and weight decay (see ``keras_weight_decay``);
    ``adam`` with ``weight_decay > 0`` is AdamW."""
    schedule = make_schedule(config, steps_per_epoch)
    wd = keras_weight_decay(config) or None
    name = config["optimizer"]
    if name == "sgd":
        opt = keras.optimizers.SGD(schedule, weight_decay=wd)
    elif name == "sgd_momentum":
        opt = keras.optimizers.SGD(
            schedule, momentum=float(config["momentum"]), nesterov=bool(config["nesterov"]), weight_decay=wd
        )
    elif name == "adam":
        opt = keras.optimizers.Adam(schedule, epsilon=float(config["epsilon"]), weight_decay=wd)
    else:
        opt = keras.optimizers.RMSprop(schedule, epsilon=float(config["epsilon"]), weight_decay=wd)
    if wd:
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return opt


def make_loss(config: dict):
    """The config's loss with its label smoothing."""
    kind = {
        "binary_crossentropy": keras.losses.BinaryCrossentropy,
        "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    }[config["loss"]]
    return kind(label_smoothing=float(config["label_smoothing"]))


def compile_model(model, config: dict, steps_per_epoch: int, jit_compile: bool = False):
    """Optimizer, loss (with label smoothing) and accuracy; GoogLeNet's auxiliary heads get weight 0.3."""
    loss = make_loss(config)
    # Named explicitly: with binary cross-entropy, Keras' "accuracy" string would silently become
    # per-output binary accuracy (report 1's 96% after one epoch is partly that).
    accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
    names = list(model.output_names)
    if len(names) > 1:
        aux = float(config["aux_loss_weight"])
        losses = {n: loss for n in names}
        weights = {n: (1.0 if i == 0 else aux) for i, n in enumerate(names)}
        metrics = {names[0]: [accuracy]}
        model.compile(
            make_optimizer(config, steps_per_epoch),
            loss=losses,
            loss_weights=weights,
            metrics=metrics,
            jit_compile=jit_compile,
            steps_per_execution=int(config["steps_per_execution"]),
        )
    else:
        model.compile(
            make_optimizer(config, steps_per_epoch),
            loss=loss,
            metrics=[accuracy],
            jit_compile=jit_compile,
            steps_per_execution=int(config["steps_per_execution"]),
        )
    return model
