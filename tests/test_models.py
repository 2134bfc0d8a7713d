"""Tests of helpers.models: the registry, the reports' parameter parity, and that every model builds and trains."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from functools import cache  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.models import MODEL_NAMES, REPORT_PARAMS, build_model, count_params, inference_model  # noqa: E402

SHAPES = [(28, 28, 1), (32, 32, 3)]
# Combinations that cannot exist: Appendix B's five 'valid' pools need at least 32 px (28 -> 14-7-3-1-0).
UNSUPPORTED = {("report_vgg16_cifar10", (28, 28, 1))}
GOOGLENET_OUTPUTS = ("main", "aux1", "aux2")


@cache
def built(name, shape):
    """Build each (name, shape) once for the read-only tests (building everything twice costs ~15 s)."""
    return build_model(name, shape)


def batch(shape, n=4, num_classes=10, seed=0):
    """A small synthetic batch: images in [0, 1) and one-hot labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, *shape), dtype=np.float32)
    y = keras.utils.to_categorical(np.arange(n) % num_classes, num_classes)
    return x, y


def compile_for_test(model, aux_weight=0.3):
    """Compile with plain SGD (no momentum, no decay): a zero gradient then leaves a weight exactly unchanged."""
    if len(model.outputs) > 1:
        model.compile(
            optimizer="sgd",
            loss=dict.fromkeys(GOOGLENET_OUTPUTS, "categorical_crossentropy"),
            loss_weights={"main": 1.0, "aux1": aux_weight, "aux2": aux_weight},
        )
    else:
        model.compile(optimizer="sgd", loss="categorical_crossentropy")


def targets(model, y):
    return dict.fromkeys(GOOGLENET_OUTPUTS, y) if len(model.outputs) > 1 else y


@pytest.fixture
def mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


# --- registry --------------------------------------------------------------------------------------------------


def test_model_names_course_models_first_then_report_replicas():
    report = [n.startswith("report_") for n in MODEL_NAMES]
    assert report == sorted(report) and any(report) and not all(report)
    assert len(set(MODEL_NAMES)) == len(MODEL_NAMES)
    for name in (
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "resnet18",
        "resnet34",
        "resnet50",
        "plain18",
        "plain34",
        "resnet20",
        "resnet56",
        "resnet110",
        "plain20",
        "plain56",
        "googlenet",
        "report_vgg16_mnist",
        "report_vgg16_cifar10",
        "report_resnet50",
    ):
        assert name in MODEL_NAMES


def test_unknown_name_raises_value_error_listing_valid_names():
    with pytest.raises(ValueError, match="Unknown model 'vgg17'") as info:
        build_model("vgg17", (32, 32, 3))
    for name in MODEL_NAMES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="Valid names"):
        build_model(None, (32, 32, 3))


@pytest.mark.parametrize(
    "shape",
    [
        (28, 28),
        (28, 28, 1, 1),
        (15, 28, 1),
        (28, 8, 3),
        (28, 28, 0),
        (28.0, 28, 1),
        (None, 28, 1),
        "28x28",
        None,
        28,
    ],
)
def test_bad_input_shape_raises_value_error(shape):
    with pytest.raises(ValueError, match="input_shape"):
        build_model("vgg11", shape)


def test_input_shape_accepts_lists_and_numpy_ints():
    model = build_model("report_vgg16_mnist", [np.int64(28), 28, 1])
    assert model.input_shape == (None, 28, 28, 1)


def test_bad_num_classes_raises_value_error():
    with pytest.raises(ValueError, match="num_classes"):
        build_model("vgg11", (32, 32, 3), num_classes=1)


@pytest.mark.parametrize("name, shape", sorted(UNSUPPORTED))
def test_unsupported_replica_shape_raises_clear_value_error(name, shape):
    with pytest.raises(ValueError, match=rf"{name}.*{shape[0]}, {shape[1]}, {shape[2]}"):
        build_model(name, shape)


# --- every model on both shapes --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_builds_with_float32_probabilities(name, shape):
    if (name, shape) in UNSUPPORTED:
        pytest.skip("documented as unsupported; see test_unsupported_replica_shape_raises_clear_value_error")
    model = built(name, shape)
    assert model.name == name
    assert model.input_shape == (None, *shape)
    expected_outputs = 3 if name == "googlenet" else 1
    assert len(model.outputs) == expected_outputs
    for out in model.outputs:
        assert tuple(out.shape) == (None, 10)
        assert out.dtype == "float32"
    assert model.layers[-1].get_config()["activation"] == "softmax"
    x, _ = batch(shape, n=2)
    probs = inference_model(model).predict(x, verbose=0)
    assert probs.dtype == np.float32 and probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_count_params_matches_keras():
    model = built("resnet18", (32, 32, 3))
    counts = count_params(model)
    assert counts["total"] == model.count_params() == counts["trainable"] + counts["non_trainable"]
    assert all(type(v) is int for v in counts.values())


@pytest.mark.parametrize("name, shape", sorted(REPORT_PARAMS))
def test_report_replicas_have_exact_parameter_counts(name, shape):
    model = built(name, shape)
    expected = REPORT_PARAMS[(name, shape)]
    assert count_params(model) == expected
    assert model.count_params() == expected["total"]


# Independent counts, from the papers' tables and a hand-written formula (not from the kit's numbers): the course
# models are Conv (3x3 unless said, no bias) -> BatchNorm (gamma, beta trainable; mean, variance not) -> ReLU.
CONV_LAYERS = {  # Conv2D layers, shortcut projections included
    "vgg11": 8,  # VGG-11 = 8 conv + 3 FC in the paper; the course head is one Dense
    "vgg13": 10,
    "vgg16": 13,
    "vgg19": 16,
    "resnet18": 17 + 3,  # 1 stem + 8 blocks x 2, and a 1x1 projection at the start of stages 3, 4, 5
    "resnet34": 33 + 3,
    "resnet50": 49 + 4,  # 1 + 16 bottlenecks x 3; the first stage's first block projects 64 -> 256 too
    "plain18": 17,
    "plain34": 33,
    **{f"resnet{d}": d - 1 for d in (20, 32, 44, 56, 110)},  # 6n+2 layers: all but the Dense are convs (option A)
    **{f"plain{d}": d - 1 for d in (20, 32, 44, 56, 110)},
    "googlenet": 1 + 9 * 6 + 2,  # stem, 6 convs an Inception module, one 1x1 conv an auxiliary head
}


def conv_bn(cin, cout, k=3):
    """(trainable, non-trainable) parameters of a bias-free k x k conv and its batch norm."""
    return k * k * cin * cout + 2 * cout, 2 * cout


def dense(cin, cout):
    return cin * cout + cout, 0


def summed(parts):
    trainable, frozen = (sum(p[i] for p in parts) for i in (0, 1))
    return {"total": trainable + frozen, "trainable": trainable, "non_trainable": frozen}


def vgg_expected(widths, channels):
    parts, cin = [], channels
    for w in widths:
        parts.append(conv_bn(cin, w))
        cin = w
    return summed([*parts, dense(512, 10)])


def resnet18_expected(channels):
    parts, cin = [conv_bn(channels, 64)], 64
    for stage, filters in enumerate((64, 128, 256, 512)):
        for block in range(2):
            parts += [conv_bn(cin, filters), conv_bn(filters, filters)]
            if block == 0 and stage > 0:
                parts.append(conv_bn(cin, filters, k=1))  # the projection shortcut
            cin = filters
    return summed([*parts, dense(512, 10)])


def cifar_resnet_expected(depth, channels):
    n, parts, cin = (depth - 2) // 6, [conv_bn(channels, 16)], 16
    for filters in (16, 32, 64):
        for _ in range(n):
            parts += [conv_bn(cin, filters), conv_bn(filters, filters)]
            cin = filters
    return summed([*parts, dense(64, 10)])


VGG11 = [64, 128, 256, 256, 512, 512, 512, 512]
VGG16 = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
HAND_COUNTED = {
    ("vgg11", (32, 32, 3)): vgg_expected(VGG11, 3),
    ("vgg11", (28, 28, 1)): vgg_expected(VGG11, 1),
    ("vgg16", (32, 32, 3)): vgg_expected(VGG16, 3),
    ("vgg16", (28, 28, 1)): vgg_expected(VGG16, 1),
    ("resnet18", (32, 32, 3)): resnet18_expected(3),
    ("plain18", (32, 32, 3)): summed(
        [conv_bn(3, 64)]
        + [conv_bn(c, f) for c, f in [(64, 64)] * 4 + [(64, 128), (128, 128), (128, 128), (128, 128)]]
        + [conv_bn(c, f) for c, f in [(128, 256), (256, 256), (256, 256), (256, 256)]]
        + [conv_bn(c, f) for c, f in [(256, 512), (512, 512), (512, 512), (512, 512)]]
        + [dense(512, 10)]
    ),
    ("resnet20", (32, 32, 3)): cifar_resnet_expected(20, 3),
    ("resnet20", (28, 28, 1)): cifar_resnet_expected(20, 1),
    ("resnet56", (32, 32, 3)): cifar_resnet_expected(56, 3),
}


@pytest.mark.parametrize("name", sorted(CONV_LAYERS))
def test_course_models_have_their_papers_number_of_conv_layers(name):
    model = built(name, (32, 32, 3))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == CONV_LAYERS[name]
    projections = [c for c in convs if c.kernel_size == (1, 1) and c.name.endswith("_0_conv")]
    assert len(projections) == {"resnet18": 3, "resnet34": 3, "resnet50": 4}.get(name, 0)


def test_course_models_cover_every_course_name():
    assert set(CONV_LAYERS) == {n for n in MODEL_NAMES if not n.startswith("report_")}


def test_the_hand_count_agrees_with_published_counts():
    """The formula itself, against counts published elsewhere: kuangliu/pytorch-cifar's ResNet18 (the course model's
    reference: 11,173,962 parameters as PyTorch counts them, batch-norm statistics aside) and He et al.'s ResNet-20
    (Table 6: 0.27M)."""
    assert HAND_COUNTED[("resnet18", (32, 32, 3))]["trainable"] == 11_173_962
    assert round(HAND_COUNTED[("resnet20", (32, 32, 3))]["trainable"] / 1e6, 2) == 0.27


@pytest.mark.parametrize("name, shape", sorted(HAND_COUNTED))
def test_course_model_parameters_equal_a_hand_count(name, shape):
    assert count_params(built(name, shape)) == HAND_COUNTED[(name, shape)]


def test_report_params_cover_every_replica():
    replicas = {n for n in MODEL_NAMES if n.startswith("report_")}
    assert {name for name, _ in REPORT_PARAMS} == replicas


def test_report_resnet50_uses_the_reports_layer_names():
    model = built("report_resnet50", (32, 32, 3))
    names = {layer.name for layer in model.layers}
    for name in (
        "conv1",
        "bn_conv1",
        "res2a_branch2a",
        "bn2a_branch2a",
        "res2a_branch1",
        "bn2a_branch1",
        "res3d_branch2c",
        "res4f_branch2c",
        "res5c_branch2c",
        "bn5c_branch2c",
        "fc10",
    ):
        assert name in names
    # The ImageNet stem leaves 7x7 of a 32x32 image (Appendix D: 16-7-4-2-1).
    assert model.get_layer("res2a_branch2a").output.shape[1:3] == (7, 7)
    assert model.get_layer("res5c_branch2c").output.shape[1:3] == (1, 1)


def test_course_models_use_a_small_image_stem():
    for name in ("vgg11", "resnet18", "resnet50", "plain18", "googlenet"):
        model = built(name, (32, 32, 3))
        first_conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
        assert first_conv.kernel_size == (3, 3) and first_conv.strides == (1, 1), name
        assert first_conv.output.shape[1:3] == (32, 32), name
        assert not first_conv.use_bias, name


def test_the_papers_cifar_networks_match_its_table_6_and_their_plain_twins_exactly():
    """He et al. 2016, Sec. 4.2 and Table 6: 6n+2 layers, 16/32/64 filters on 32/16/8 maps, option A shortcuts
    (no parameters), so each plain twin has exactly its ResNet's parameters; 0.27M, 0.46M, 0.66M, 0.85M, 1.7M."""
    table6 = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}
    for depth, millions in table6.items():
        resnet = built(f"resnet{depth}", (32, 32, 3))
        assert round(count_params(resnet)["trainable"] / 1e6, 2 if depth < 110 else 1) == millions, depth
        convs = [layer for layer in resnet.layers if isinstance(layer, keras.layers.Conv2D)]
        assert len(convs) + 1 == depth  # every conv is a weight layer: the shortcuts have none
        assert {c.filters for c in convs} == {16, 32, 64} and resnet.get_layer("avg_pool").input.shape[1:3] == (8, 8)
        if depth in (20, 56):
            plain = built(f"plain{depth}", (32, 32, 3))
            assert count_params(plain) == count_params(resnet)
            assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
            assert sum(isinstance(layer, keras.layers.Add) for layer in resnet.layers) == (depth - 2) // 2


def test_option_a_shortcut_subsamples_pads_with_zeros_and_survives_a_save(tmp_path):
    from helpers.models.resnet import ZeroPadShortcut

    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    out = np.asarray(ZeroPadShortcut(5, 2)(x))
    np.testing.assert_array_equal(out[..., :3], x[:, ::2, ::2, :])
    assert out.shape == (2, 2, 2, 5) and not out[..., 3:].any()
    model = built("resnet20", (28, 28, 1))  # MNIST: 28 -> 14 -> 7, as the convolutions
    assert model.get_layer("conv4_block1_0_pad").output.shape[1:] == (7, 7, 64)
    model.save(tmp_path / "m.keras")
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(again(images)), np.asarray(model(images)), atol=1e-6)


def test_course_vgg_pads_mnist_to_32():
    model = built("vgg11", (28, 28, 1))
    assert model.get_layer("pad_to_32").output.shape[1:3] == (32, 32)
    # Same network on both datasets: only the first conv's input channels differ (1 vs 3 -> 2 * 9 * 64 weights).
    diff = count_params(built("vgg11", (32, 32, 3)))["total"] - count_params(model)["total"]
    assert diff == 2 * 9 * 64


def test_plain_networks_have_no_shortcuts():
    for depth in (18, 34):
        plain, resnet = built(f"plain{depth}", (32, 32, 3)), built(f"resnet{depth}", (32, 32, 3))
        assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
        assert any(isinstance(layer, keras.layers.Add) for layer in resnet.layers)
        assert plain.count_params() <= resnet.count_params()
        # Same residual branches: the only difference is the projection shortcuts (names ending in _0_conv/_0_bn).
        projection = sum(layer.count_params() for layer in resnet.layers if "_0_" in layer.name)
        assert plain.count_params() == resnet.count_params() - projection


def test_googlenet_has_nine_inception_modules_and_named_outputs():
    model = built("googlenet", (32, 32, 3))
    modules = [layer.name for layer in model.layers if layer.name.endswith("_output")]
    assert len(modules) == 9
    assert list(model.output_names) == list(GOOGLENET_OUTPUTS)
    assert model.get_layer("inception_3a_output").output.shape[-1] == 256
    assert model.get_layer("inception_5b_output").output.shape[-1] == 1024


# --- training --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_one_training_step_gives_a_finite_loss(name):
    # Report replicas train on their report's shape, course models on MNIST's (exercising the 28 px paths).
    shape = (32, 32, 3) if name == "report_vgg16_cifar10" else (28, 28, 1)
    model = built(name, shape)
    compile_for_test(model)
    x, y = batch(shape)
    loss = model.train_on_batch(x, targets(model, y))
    assert np.all(np.isfinite(loss)), loss


def _aux_dense_kernels(model):
    return {
        name: model.get_layer(name).kernel.numpy().copy()
        for name in ("aux1_fc", "aux1_logits", "aux2_fc", "aux2_logits")
    }


def test_googlenet_auxiliary_heads_train_only_with_a_nonzero_loss_weight():
    model = build_model("googlenet", (28, 28, 1))
    x, y = batch((28, 28, 1))

    compile_for_test(model, aux_weight=0.0)
    before, main_before = _aux_dense_kernels(model), model.get_layer("logits").kernel.numpy().copy()
    model.train_on_batch(x, targets(model, y))
    for name, kernel in _aux_dense_kernels(model).items():
        np.testing.assert_array_equal(kernel, before[name], err_msg=f"{name} changed with aux loss weight 0")
    assert not np.array_equal(model.get_layer("logits").kernel.numpy(), main_before)

    compile_for_test(model, aux_weight=0.3)
    before = _aux_dense_kernels(model)
    losses = model.train_on_batch(x, targets(model, y))
    total, main, aux1, aux2 = losses  # Keras reports the weighted total, then each output's own loss
    np.testing.assert_allclose(total, main + 0.3 * (aux1 + aux2), rtol=1e-4)
    for name, kernel in _aux_dense_kernels(model).items():
        assert not np.array_equal(kernel, before[name]), f"{name} did not change with aux loss weight 0.3"


def test_inference_model_keeps_the_main_output_and_shares_weights():
    model = built("googlenet", (32, 32, 3))
    inference = inference_model(model)
    assert len(inference.outputs) == 1 and inference.output_shape == (None, 10)
    assert inference.get_layer("logits") is model.get_layer("logits")
    assert {id(v) for v in inference.weights} <= {id(v) for v in model.weights}
    assert count_params(inference)["total"] < count_params(model)["total"]
    x, _ = batch((32, 32, 3))
    main, _, _ = model(x, training=False)
    np.testing.assert_allclose(inference(x, training=False), main, rtol=1e-5, atol=1e-6)
    single = built("vgg11", (32, 32, 3))
    assert inference_model(single) is single


# --- mixed precision -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vgg11", "resnet18", "googlenet", "report_vgg16_mnist"])
def test_outputs_stay_float32_under_mixed_precision(name, mixed_precision):
    model = build_model(name, (28, 28, 1))
    assert model.get_layer("logits" if name != "report_vgg16_mnist" else "fc1").compute_dtype == "float16"
    for out in model.outputs:
        assert out.dtype == "float32"
    x, _ = batch((28, 28, 1))
    outputs = model(x, training=False)
    for out in outputs if isinstance(outputs, list | tuple) else [outputs]:
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
    # No training step here: float16 kernels are emulated on CPU (one GoogLeNet step took ~60 s).
