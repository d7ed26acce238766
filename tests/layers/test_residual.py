"""Residual and PadChannelsShortcut against PyTorch twins (torch_twins.py), in float64.

Each twin is written with ``torch.nn`` modules and our (randomized) weights copied in; outputs,
input gradients, every parameter gradient and BatchNorm's running statistics must agree to
1e-10, alone and inside a Sequential (whose reuse/overwrite flags the blocks pass on).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch_twins import (
    assert_close,
    assert_same_step,
    model_and_twin,
    our_grads,
    torch_grads,
    twin,
)

from scratchcnn import no_grad
from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.layers import (
    LAYER_REGISTRY,
    BatchNorm2d,
    Concat,
    Conv2d,
    Dense,
    GlobalAvgPool2d,
    PadChannelsShortcut,
    ReLU,
    Residual,
)
from scratchcnn.model import Sequential
from scratchcnn.optimizers import Adam


# -- blocks ------------------------------------------------------------------------------------
def basic_body(c_in: int, c_out: int, stride: int = 1, relu_last: bool = False) -> list:
    body = [
        Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), BatchNorm2d(c_out),
        ReLU(inplace=True), Conv2d(c_out, c_out, 3, padding=1, bias=False), BatchNorm2d(c_out),
    ]  # fmt: skip
    return [*body, ReLU(inplace=True)] if relu_last else body


def make_block(kind: str, c: int = 3, relu_last: bool = False) -> Residual:
    if kind == "identity":
        return Residual(basic_body(c, c, relu_last=relu_last))
    if kind == "projection":
        shortcut = [Conv2d(c, 2 * c, 1, stride=2, bias=False), BatchNorm2d(2 * c)]
        return Residual(basic_body(c, 2 * c, 2, relu_last), shortcut)
    if kind == "option_a":
        return Residual(basic_body(c, 2 * c, 2, relu_last), [PadChannelsShortcut(c, 2 * c, 2)])
    raise AssertionError(kind)


KINDS = ["identity", "projection", "option_a"]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("kind", KINDS)
def test_block_matches_pytorch(rng, kind, training):
    block = make_block(kind)
    module = twin(block, rng)
    block.train(training)
    module.train(training)
    for step in range(2):  # the second step uses the running statistics the first updated
        X = rng.standard_normal((4, 3, 7, 7)) + step
        out_shape = (4, *block.output_shape((3, 7, 7)))
        assert_same_step(block, module, X, rng.standard_normal(out_shape))


@pytest.mark.parametrize("kind", KINDS)
def test_block_gradients_match_finite_differences(rng, kind):
    block = make_block(kind, c=2)
    twin(block, rng)  # randomized BatchNorm parameters
    errors = layer_gradient_errors(block.eval(), rng.standard_normal((2, 2, 5, 5)))
    assert set(errors) == {"X", *block.param_names}
    assert max(errors.values()) < 1e-7, errors
    errors = layer_gradient_errors(block.train(), rng.standard_normal((3, 2, 5, 5)))
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("relu_last", [False, True], ids=["bn_last", "relu_last"])
@pytest.mark.parametrize("first", ["conv", "block"])
def test_blocks_inside_a_sequential_match_pytorch(rng, first, relu_last):
    """The model's flags (reused outputs, gradients overwritten in place, no input gradient
    for the first trainable layer) keep every gradient exact; a body ending in ReLU must not
    write over the gradient the shortcut still needs."""
    stem = (
        [Conv2d(3, 3, 3, padding=1), BatchNorm2d(3), ReLU(inplace=True)] if first == "conv" else []
    )
    layers = [
        *stem,
        make_block("identity", relu_last=relu_last), ReLU(inplace=True),
        make_block("projection", relu_last=relu_last), ReLU(inplace=True),
        make_block("option_a", c=6, relu_last=relu_last), ReLU(inplace=True),
        GlobalAvgPool2d(), Dense(12, 4),
    ]  # fmt: skip
    model, module = model_and_twin(rng, layers)
    for _ in range(2):
        X = rng.standard_normal((5, 3, 8, 8))
        logits = model.forward(X)
        logits_t = module(torch.tensor(X))
        assert_close(logits, logits_t)
        dA = rng.standard_normal(logits.shape)
        model.backward(dA.copy())
        logits_t.backward(torch.tensor(dA))
        grads = list(our_grads(model).values())
        for g, g_t in zip(grads, torch_grads(module), strict=True):
            assert_close(g, g_t)
        module.zero_grad(set_to_none=True)


def test_inner_flags_are_set_only_while_the_block_runs(rng):
    block = make_block("identity", relu_last=True)
    block.overwrite_dA = True
    flags = block.inner_flags()
    assert all(f["reuse_output"] for f in flags.values())
    # the identity still needs dA after the body: the body's last ReLU must not overwrite it
    assert flags["body.4"]["overwrite_dA"] and not flags["body.5"]["overwrite_dA"]
    projection = make_block("projection", relu_last=True)
    projection.overwrite_dA = True
    assert projection.inner_flags()["body.5"]["overwrite_dA"]
    assert not projection.inner_flags()["shortcut.1"]["overwrite_dA"]
    block.forward(rng.standard_normal((2, 3, 4, 4)))
    assert "output" in block.body[0]._workspace  # the convolution reused its output buffer
    for layer in block.body:  # used alone afterwards, a layer behaves as its own
        assert (layer.compute_input_grad, layer.reuse_output, layer.overwrite_dA) == (
            True, False, False,
        )  # fmt: skip


def test_in_place_first_layer_does_not_change_what_the_shortcut_reads(rng):
    """ReLU(inplace=True) opening the body gets a read-only view and computes a new array."""
    block = Residual([ReLU(inplace=True), Conv2d(3, 3, 3, padding=1)])
    X = rng.standard_normal((2, 3, 5, 5))
    kept = X.copy()
    assert_same_step(block, twin(block), X, rng.standard_normal((2, 3, 5, 5)))
    np.testing.assert_array_equal(X, kept)


def test_output_survives_the_next_forward_when_reused(rng):
    model = Sequential([Conv2d(2, 2, 3, padding=1), Residual([Conv2d(2, 2, 3, padding=1)])])
    X = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    first = model.forward(X)
    kept = first.copy()
    model.forward(X + 1)
    np.testing.assert_array_equal(first, kept)
    # inside the model a block adds the shortcut into its body's reused output buffer (the
    # conv owns it and never reads it again), or into its own when the body's last layer
    # keeps its output (an out-of-place ReLU keeps it for backward)
    inner = Sequential([Residual([Conv2d(2, 2, 3, padding=1)]), ReLU()])
    out = inner.layers[0].forward(X)  # a layer alone: a new array
    assert not inner.layers[0]._workspace
    assert not np.shares_memory(out, inner.layers[0].body[0]._workspace.get("output", X))
    A = inner.forward(X)  # ReLU of the block's output, which is in the conv's buffer
    conv_buffer = inner.layers[0].body[0]._workspace["output"]
    assert inner.layer_flags[0]["reuse_output"] and not inner.layers[0]._workspace
    np.testing.assert_array_equal(A, np.maximum(conv_buffer.transpose(3, 0, 1, 2), 0))
    keeps = Sequential([Residual([Conv2d(2, 2, 3, padding=1), ReLU()]), ReLU()])
    keeps.forward(X)
    assert keeps.layers[0]._workspace  # its own buffer: the body's ReLU keeps its output


def test_compute_input_grad_false_still_gives_parameter_gradients(rng):
    block = make_block("projection")
    module = twin(block, rng)
    block.compute_input_grad = False
    flags = block.inner_flags()
    assert not flags["body.0"]["compute_input_grad"]
    assert not flags["shortcut.0"]["compute_input_grad"]
    assert flags["body.1"]["compute_input_grad"]
    X = rng.standard_normal((3, 3, 6, 6))
    A = block.forward(X)
    assert block.backward(rng.standard_normal(A.shape)) is None
    module(torch.tensor(X)).backward(torch.tensor(rng.standard_normal(A.shape)))
    assert all(g is not None for g in block.grads().values())


# -- PadChannelsShortcut -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("c_in", "c_out", "stride", "size"), [(3, 6, 2, 7), (4, 8, 2, 8), (2, 5, 1, 3), (3, 3, 3, 5)]
)
def test_pad_channels_matches_pytorch(rng, c_in, c_out, stride, size):
    layer = PadChannelsShortcut(c_in, c_out, stride)
    X = rng.standard_normal((2, c_in, size, size))
    out_shape = (2, *layer.output_shape((c_in, size, size)))
    conv_size = (size + 2 - 3) // stride + 1  # the 3x3 / padding 1 convolution beside it
    assert out_shape == (2, c_out, conv_size, conv_size)
    A = assert_same_step(layer, twin(layer), X, rng.standard_normal(out_shape))
    assert A.dtype == np.float64
    unbatched = layer.forward(X[0])
    np.testing.assert_array_equal(unbatched, A[0])
    assert layer.backward(np.ones(unbatched.shape)).shape == X[0].shape


def test_pad_channels_errors():
    with pytest.raises(ValueError, match=r"PadChannelsShortcut: out_channels must be at least"):
        PadChannelsShortcut(8, 4)
    with pytest.raises(TypeError, match=r"PadChannelsShortcut: stride must be a positive int"):
        PadChannelsShortcut(2, 4, stride=1.5)
    with pytest.raises(ValueError, match=r"expected input with 2 channels \(in_channels\), but"):
        PadChannelsShortcut(2, 4).forward(np.zeros((1, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"expected 3D \(unbatched\) or 4D \(batched\) input"):
        PadChannelsShortcut(2, 4).forward(np.zeros((2, 4)))


# -- parameters, config, modes -----------------------------------------------------------------
def test_nested_keys_and_arrays():
    inner = Residual([Conv2d(2, 2, 1), BatchNorm2d(2)])
    block = Residual([inner, Conv2d(2, 4, 3, padding=1)], [Conv2d(2, 4, 1)])
    assert block.param_names == (
        "body.0.body.0.W", "body.0.body.0.b", "body.0.body.1.W", "body.0.body.1.b",
        "body.1.W", "body.1.b", "shortcut.0.W", "shortcut.0.b",
    )  # fmt: skip
    assert block.buffer_names == ("body.0.body.1.running_mean", "body.0.body.1.running_var")
    assert block.num_params() == 6 + 4 + 76 + 12
    assert block._get_array("body.0.body.0.W") is inner.body[0].W
    block._set_array("shortcut.0.b", np.ones(4))
    np.testing.assert_array_equal(block.params()["shortcut.0.b"], np.ones(4))
    with pytest.raises(KeyError, match=r"no inner array named 'body\.7\.W'"):
        block._get_array("body.7.W")


def test_config_rebuilds_the_block_through_the_registry(rng):
    block = Residual([Conv2d(2, 4, 3, stride=2, padding=1), ReLU()], [PadChannelsShortcut(2, 4)])
    config = json.loads(json.dumps(block.get_config()))
    rebuilt = LAYER_REGISTRY["Residual"](**config)
    assert repr(rebuilt) == repr(block)
    for name, value in block.params().items():
        rebuilt._get_array(name)[...] = value
    X = rng.standard_normal((2, 2, 6, 6))
    np.testing.assert_array_equal(rebuilt.forward(X), block.forward(X))
    concat = Concat([[Conv2d(2, 3, 1)], []], dim=1)
    again = Concat(**json.loads(json.dumps(concat.get_config())))
    assert repr(again) == repr(concat) and again.output_shape((2, 4, 4)) == (5, 4, 4)


def test_train_eval_and_dtype_reach_inner_layers(rng):
    block = make_block("projection")
    block.eval()
    assert not any(layer.training for layer in [*block.body, *block.shortcut])
    block.train()
    assert all(layer.training for layer in [*block.body, *block.shortcut])
    A = block.forward(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    assert A.dtype == np.float32
    assert all(p.dtype == np.float32 for p in block.params().values())
    block.forward(rng.standard_normal((2, 3, 6, 6)))
    assert all(p.dtype == np.float64 for p in block.params().values())


def test_trainable_reaches_every_inner_layer():
    block = make_block("projection")
    block.trainable = False  # freezing (optimizers skip frozen layers) acts on the inner layers
    assert not block.trainable
    assert all(getattr(layer, "trainable", True) is False for layer in block.shortcut)
    block.body[0].trainable = True
    assert block.trainable  # not every inner layer is frozen
    with pytest.raises(TypeError, match=r"Residual\(.*\): trainable must be True or False"):
        block.trainable = "no"


def test_optimizer_state_keys_round_trip(rng):
    model = Sequential(
        [Conv2d(2, 2, 3), make_block("identity", c=2), GlobalAvgPool2d(), Dense(2, 3)],
        optimizer=Adam(lr=1e-2),
    )
    X = rng.standard_normal((4, 2, 6, 6)).astype(np.float32)
    model.train_step(X, rng.integers(0, 3, 4))
    state = model.optimizer.state_dict(model.layers)
    assert {"1.body.0.W.m", "1.body.0.W.v", "1.body.4.b.step", "3.W.m"} <= set(state)
    other = Adam(lr=1e-2)
    other.load_state_dict(model.layers, state)
    assert set(other.state_dict(model.layers)) == set(state)
    with pytest.raises(ValueError, match=r"unexpected key '1\.body\.9\.W\.step'"):
        other.load_state_dict(model.layers, {"1.body.9.W.step": 1})


def test_summary_lists_the_insides():
    model = Sequential([make_block("option_a", c=2), ReLU(), GlobalAvgPool2d(), Dense(4, 2)])
    text = model.summary((2, 8, 8))
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith("residual (Residual)"))
    assert "(None, 4, 4, 4)" in row and row.endswith(f"{model.layers[0].num_params():,}")
    assert any(line.startswith("  body.0 (Conv2d)") and "(None, 4, 4, 4)" in line for line in lines)
    assert any(line.startswith("  shortcut.0 (PadChannelsShortcut)") for line in lines)
    assert f"Trainable params: {model.num_params():,}" in text
    identity = Sequential([make_block("identity", c=2), GlobalAvgPool2d()]).summary((2, 4, 4))
    assert "  shortcut (identity)" in identity
    assert "(3): Conv2d" in repr(model) and "\n    (body): [" in repr(model)


# -- errors ------------------------------------------------------------------------------------
def test_shapes_that_disagree_name_the_block():
    block = Residual([Conv2d(3, 6, 3, stride=2, padding=1)])
    message = (
        r"Residual\(body=\[Conv2d\], shortcut=identity\): the body's output shape \(6, 4, 4\) "
        r"and the identity shortcut's \(the input's\) \(3, 8, 8\) must be equal to be added"
    )
    with pytest.raises(ValueError, match=message):
        block.output_shape((3, 8, 8))
    batched = message.replace(r"\(6, 4, 4\)", r"\(2, 6, 4, 4\)").replace("(3, 8", "(2, 3, 8")
    with pytest.raises(ValueError, match=batched):
        block.forward(np.zeros((2, 3, 8, 8)))
    projection = Residual([Conv2d(3, 6, 3, padding=1)], [Conv2d(3, 6, 1, stride=2)])
    with pytest.raises(ValueError, match=r"body's output shape \(6, 8, 8\) and the shortcut's"):
        projection.output_shape((3, 8, 8))


def test_inner_errors_name_the_block_and_the_position():
    block = Residual([Conv2d(3, 3, 3, padding=1), BatchNorm2d(4)])
    with pytest.raises(
        ValueError,
        match=r"Residual\(.*\): body\[1\] does not fit its input of "
        r"shape \(3, 5, 5\): BatchNorm2d\(4\): expected input with 4 channels",
    ):
        block.output_shape((3, 5, 5))
    with pytest.raises(ValueError, match=r"Residual\(.*\): body\[1\]: BatchNorm2d\(4\)"):
        block.forward(np.zeros((2, 3, 5, 5)))
    model = Sequential([Conv2d(1, 3, 1), block])
    with pytest.raises(ValueError, match=r"do not fit layer 1: Residual\(body=\[Conv2d, Batch"):
        model.summary((1, 5, 5))


def test_construction_errors():
    with pytest.raises(TypeError, match=r"Residual: body must be a list of layers, but got Conv2d"):
        Residual(Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match=r"Residual: body must hold at least one layer"):
        Residual([])
    with pytest.raises(TypeError, match=r"Residual: shortcut\[1\] must be a scratchcnn Layer, but"):
        Residual([ReLU()], [ReLU(), 3])
    with pytest.raises(ValueError, match=r"Residual: body\[0\] has unknown layer class 'Evil'"):
        Residual([{"class": "Evil", "config": {}}])
    with pytest.raises(TypeError, match=r"Residual: cannot build body\[0\] Conv2d"):
        Residual([{"class": "Conv2d", "config": {"in_channels": 1}}])
    with pytest.raises(ValueError, match=r"body\[0\] Conv2d.* carries its own optimizer"):
        Residual([Conv2d(1, 1, 1, optimizer=Adam())])
    relu = ReLU()
    with pytest.raises(
        ValueError, match=r"the same layer object ReLU\(\) is body\[0\] and shortcut"
    ):
        Residual([relu], [relu])
    with pytest.raises(TypeError, match=r"Concat: branches must be a list of lists of layers"):
        Concat("abc")
    with pytest.raises(ValueError, match=r"Concat: dim must not be 0 \(the batch axis\)"):
        Concat([[ReLU()]], dim=0)
    with pytest.raises(ValueError, match=r"Concat: expected at least one branch"):
        Concat([])


def test_a_layer_inside_a_block_cannot_also_be_in_the_model():
    conv = Conv2d(2, 2, 3, padding=1)
    with pytest.raises(ValueError, match=r"Sequential: the same layer object appears twice"):
        Sequential([conv, Residual([conv])])


def test_backward_errors(rng):
    block = make_block("identity")
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        block.backward(np.zeros((2, 3, 4, 4)))
    with no_grad():
        block.forward(rng.standard_normal((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        block.backward(np.zeros((2, 3, 4, 4)))
    block.forward(rng.standard_normal((2, 3, 4, 4)))
    with pytest.raises(
        ValueError, match=r"backward expected a gradient dA of shape \(2, 3, 4, 4\)"
    ):
        block.backward(np.zeros((2, 3, 4, 5)))



def test_a_basic_block_in_a_model_reuses_its_buffers_for_the_sum_and_gradients(rng):
    """Inside a model the shortcut is added into the last BatchNorm's output buffer, and
    BatchNorm and the Winograd convolutions write dX into their own (dead) output buffers:
    a training step allocates 3.9 activations beyond the kept buffers here (5.9 before: the
    block's own output buffer and a fresh dX per layer). That the gradients stay exact is
    checked against torchvision-style ResNets in tests/test_zoo_resnet.py."""
    import tracemalloc

    c = 16  # enough channels for the Winograd path
    body = [
        Conv2d(c, c, 3, padding=1, bias=False), BatchNorm2d(c), ReLU(inplace=True),
        Conv2d(c, c, 3, padding=1, bias=False), BatchNorm2d(c),
    ]  # fmt: skip
    model = Sequential([Residual(body), ReLU(inplace=True), GlobalAvgPool2d(), Dense(c, 4)])
    X = rng.standard_normal((128, c, 16, 16)).astype(np.float32)
    y = rng.integers(0, 4, 128)
    model.train_step(X, y)  # makes the buffers, which the next step reuses
    tracemalloc.start()
    try:
        model.train_step(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 4.5 * X.nbytes, peak / X.nbytes
    assert not model.layers[0]._workspace  # no output buffer of the block's own
