"""A model's performance flags belong to the model: its layers work alone and in other models."""

from __future__ import annotations

import numpy as np

from scratchcnn.initializers import DefaultInitializer
from scratchcnn.layers import Conv1d, Conv2d, Dense, Flatten, ReLU
from scratchcnn.model import Sequential


def test_a_layer_run_alone_after_a_model_returns_its_own_array(rng: np.random.Generator) -> None:
    conv = Conv2d(1, 2, 3)
    model = Sequential([conv, ReLU(), Flatten(), Dense(72, 3)])
    X1, X2 = rng.standard_normal((2, 4, 1, 8, 8)).astype(np.float32)
    model.train_step(X1, np.array([0, 1, 2, 0]))
    first = conv.forward(X1)
    kept = first.copy()
    conv.forward(X2)  # inside the model this would write over a reused buffer
    np.testing.assert_array_equal(first, kept)
    assert (conv.reuse_output, conv.overwrite_dA, conv.compute_input_grad) == (False, False, True)


def test_a_layer_first_in_one_model_trains_inside_another(rng: np.random.Generator) -> None:
    init = DefaultInitializer(seed=0)
    dense = Dense(6, 4, initializer=init)
    Sequential([dense, ReLU(), Dense(4, 2)]).train_step(
        rng.standard_normal((3, 6)), np.array([0, 1, 0])
    )  # model A: dense is its first trainable layer and skips its input gradient there
    twin = Dense(6, 4)
    twin.W[...], twin.b[...] = dense.W, dense.b
    head = DefaultInitializer(seed=1)
    X, y = rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    b = Sequential(
        [Dense(3, 6, initializer=head), ReLU(), dense, ReLU(), Dense(4, 2)],
        dtype=np.float64,
        optimizer="sgd",
    )
    head = DefaultInitializer(seed=1)
    reference = Sequential(
        [Dense(3, 6, initializer=head), ReLU(), twin, ReLU(), Dense(4, 2)],
        dtype=np.float64,
        optimizer="sgd",
    )
    reference.layers[-1].W[...], reference.layers[-1].b[...] = b.layers[-1].W, b.layers[-1].b
    assert b.train_step(X, y) == reference.train_step(X, y)  # model B needs dense's dX
    for key, value in b.params().items():
        np.testing.assert_array_equal(value, reference.params()[key], err_msg=key)


def test_the_model_keeps_a_layers_own_settings_outside_its_runs(rng: np.random.Generator) -> None:
    dense = Dense(4, 2)
    dense.compute_input_grad = False  # set by the user, for the layer alone
    model = Sequential([Flatten(), Dense(16, 4), ReLU(), dense])
    model.train_step(rng.standard_normal((2, 1, 4, 4)), np.array([0, 1]))
    assert dense.compute_input_grad is False
    assert model.layer_flags[3] == {
        "compute_input_grad": True,
        "reuse_output": False,
        "overwrite_dA": False,
        "grad_in_output_buffer": False,
    }


def _layer_by_layer(model: Sequential, X: np.ndarray) -> np.ndarray:
    """The model's eval output computed one layer at a time (no model flags, no fusion)."""
    A = X
    for layer in model.layers:
        A = layer.forward(A)
    return A


def test_inference_fuses_conv1d_and_relu_with_the_same_result(rng: np.random.Generator) -> None:
    """Position-major Conv1d applies the next in-place ReLU in its bias pass, bit for bit."""
    from scratchcnn import no_grad, zoo

    model = zoo.mnist1d_cnn(seed=0).eval()
    X = rng.standard_normal((50, 1, 40)).astype(np.float32)
    X[3, 0, 5] = np.nan  # NaN stays NaN through the fused ReLU, as through ReLU alone
    assert model._relu_fusions() == [0, 2, 4]
    with no_grad():
        fused = model.forward(X)
        separate = _layer_by_layer(model, X)
    np.testing.assert_array_equal(fused, separate)
    assert np.isnan(fused[3]).all() and np.isfinite(np.delete(fused, 3, axis=0)).all()
    for layer in model.layers:  # the flags last only for the pass
        assert layer.rectify_output is False
        assert getattr(layer, "input_rectified", False) is False
    seen: list[bool] = []
    conv = model.layers[0]
    inner = conv._forward_position_major
    conv._forward_position_major = lambda *a: (seen.append(conv.rectify_output), inner(*a))[1]
    with no_grad():
        model.forward(X)
    model.forward(X)  # with gradients (training) too: the ReLU overwrites the output anyway
    assert seen == [True, True]
    hooked = conv.forward  # a hook on forward (as lab.Diagnostics installs) must see the
    conv.forward = lambda A: hooked(A)  # layer's own output: no fusion for that layer
    model.forward(X)
    assert seen == [True, True, False] and model._relu_fusions() == [2, 4]



def _gradients_of(model: Sequential, X: np.ndarray, dY: np.ndarray, alone: bool) -> list:
    """Every layer's parameter gradients after one forward and backward: through the model,
    or with ``alone`` the layers one at a time (no model flags, no fusion)."""
    if alone:
        A = X
        for layer in model.layers:
            A = layer.forward(A)
        dA = dY.copy()
        for layer in reversed(model.layers):
            dA = layer.backward(dA)
    else:
        model.forward(X)
        model.backward(dY.copy())
    return [
        {name: grad.copy() for name, grad in layer.grads().items() if grad is not None}
        for layer in model.layers
    ]


def test_training_max_pool_applies_the_relu_gradient_before_it(
    rng: np.random.Generator, kernel_path: str
) -> None:
    """ReLU -> MaxPool: the pool's backward applies the ReLU's gradient too, and the model
    skips the ReLU's own pass; every gradient equals the layers' run one at a time."""
    from scratchcnn import zoo
    from scratchcnn.layers import MaxPool1d

    unpooled = Sequential([Flatten(), Dense(12, 24), ReLU(), Dense(24, 24)])
    assert unpooled._relu_pool_pairs() == []
    seed = zoo.seed_cnn(input_shape=(1, 10, 10), seed=0, dtype=np.float64)
    pooled_1d = Sequential(
        [Conv1d(2, 2, 3, padding=1), ReLU(), MaxPool1d(2), Flatten(), Dense(8, 2)],
        dtype=np.float64,
    )
    assert seed._relu_pool_pairs() == [3] and pooled_1d._relu_pool_pairs() == [1]
    cases = [(seed, (6, 1, 10, 10), 10, 3), (pooled_1d, (3, 2, 8), 2, 1)]
    for model, shape, classes, relu_index in cases:
        X, dY = rng.standard_normal(shape), rng.standard_normal((shape[0], classes))
        relu = model.layers[relu_index]
        calls = []
        original = relu.backward_applied
        relu.backward_applied = lambda dA, o=original, c=calls: (c.append(1), o(dA))[1]
        fused = _gradients_of(model, X, dY, alone=False)
        assert calls == [1] and model.layers[relu_index + 1].rectified_input is False
        apart = _gradients_of(model, X, dY, alone=True)
        assert calls == [1]  # alone, the ReLU ran its own backward
        for i, (mine, reference) in enumerate(zip(fused, apart, strict=True)):
            assert mine.keys() == reference.keys()
            for name in mine:
                np.testing.assert_array_equal(mine[name], reference[name], f"layer {i} d{name}")
