"""Everything in the kit that needs TensorFlow itself, not just Keras: the tf.data input pipeline, FLOP counting
with TensorFlow's profiler, MirroredStrategy and GPU details.

The rest of ``helpers`` uses ``keras`` and ``keras.ops`` only and imports this module only under Keras' TensorFlow
backend (the kit's default), so the kit also runs where Keras has JAX or PyTorch and TensorFlow is not installed.
"""

from __future__ import annotations

import warnings

from helpers.environment import stderr_fd_silenced

# TensorFlow's C++ start-up lines (oneDNN, CUDA probing) go to fd 2, past any log level: silenced here, once.
with stderr_fd_silenced():
    import tensorflow as tf

    tf.config.list_physical_devices()

__all__ = ["count_flops", "enable_determinism", "gpu_details", "make_strategy", "tf_pipeline"]


def enable_determinism() -> None:
    """Deterministic kernels (slower; exact repeats on CPU)."""
    tf.config.experimental.enable_op_determinism()


def gpu_details() -> list[dict]:
    """Name and compute capability of each GPU TensorFlow sees."""
    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        found.append({"name": details.get("device_name", gpu.name),
                      "compute_capability": details.get("compute_capability")})
    return found


def make_strategy():
    """MirroredStrategy over the GPUs (or, without GPUs, the logical CPUs)."""
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def tf_pipeline(x, y, *, batch_size, num_classes, preprocessing, training, augment, one_hot, output_names, seed,
                drop_remainder, cache):
    """``helpers.pipeline.make_pipeline`` as a tf.data pipeline (arguments checked there): (shuffle) -> batch ->
    (augment whole batches) -> normalise, labels -> (cache) -> prefetch."""
    from helpers.pipeline import augment_with

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if training and augment != "none":
        # One random int64 per batch seeds its stateless draws: deterministic, and new values every epoch.
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def augment_one(xy, s):
            uniform = tf.random.stateless_uniform([tf.shape(xy[0])[0], 4], tf.stack([s, tf.constant(seed, tf.int64)]))
            return augment_with(xy[0], augment, uniform), xy[1]

        ds = tf.data.Dataset.zip((ds, batch_seeds)).map(augment_one, num_parallel_calls=tf.data.AUTOTUNE,
                                                        deterministic=True)

    def finish(images, labels):
        labels = tf.one_hot(labels, num_classes) if one_hot else labels
        if output_names:
            labels = {name: labels for name in output_names}
        return preprocessing(images), labels

    ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE)


def count_flops(model, input_shape=None) -> int | None:
    """Return floating-point operations per image (a multiply-add counts 2) from TensorFlow's profiler.

    The model's first output is traced at batch 1 in inference mode, its variables frozen to constants, and the
    profiler's `float_operation` counts summed: Conv2D/MatMul (2 x MACs) plus the small change of bias adds,
    element-wise arithmetic (batch norm, residual adds), pooling and softmax; ReLU and concatenation count
    nothing. Returns None with a warning where the profiler fails.
    """
    try:
        from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

        from helpers.evaluation import quiet_tensorflow
        from helpers.models import inference_model

        model = inference_model(model)
        shape = tuple(input_shape or model.input_shape[1:])
        # Freezing (grappler) and the profiler print C++ log lines to fd 2 (absl's "WARNING: All log messages
        # before absl::InitializeLog()..."): red text in a notebook that looks like an error but is not one.
        # Failures still arrive as Python exceptions, reported below.
        with quiet_tensorflow(), stderr_fd_silenced():
            forward = tf.function(lambda images: model(images, training=False))
            concrete = forward.get_concrete_function(tf.TensorSpec((1, *shape), tf.float32))
            graph = convert_variables_to_constants_v2(concrete).graph
            options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
            options["output"] = "none"
            profile = tf.compat.v1.profiler.profile(
                graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options
            )
        return int(profile.total_float_ops)
    except Exception as error:  # the v1 profiler is not guaranteed to exist in every TensorFlow build
        warnings.warn(
            f"count_flops: TensorFlow profiler unavailable ({error!r}); returning None", stacklevel=2
        )
        return None
