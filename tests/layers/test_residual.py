"""Residual, Concat and PadChannelsShortcut against PyTorch twins built here, in float64.

Each twin is written with ``torch.nn`` modules and our (randomized) weights copied in; outputs,
input gradients, every parameter gradient and BatchNorm's running statistics must agree to
1e-10, alone and inside a Sequential (whose reuse/overwrite flags the blocks pass on).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional

from scratchcnn import no_grad
from scratchcnn.gradcheck import layer_gradient_errors
from scratchcnn.layers import (
    LAYER_REGISTRY,
    BatchNorm2d,
    Concat,
    Conv2d,
    Dense,
    GlobalAvgPool2d,
    MaxPool2d,
    PadChannelsShortcut,
    ReLU,
    Residual,
)
from scratchcnn.model import Sequential
from scratchcnn.optimizers import Adam


# -- the twins ---------------------------------------------------------------------------------
class TorchResidual(nn.Module):
    def __init__(self, body: nn.Module, shortcut: nn.Module | None) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


class TorchPadChannels(nn.Module):
    """Option A as the CIFAR ResNets write it: subsample, then F.pad the channel axis."""

    def __init__(self, before: int, after: int, stride: int) -> None:
        super().__init__()
        self.before, self.after, self.stride = before, after, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride
        return functional.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, self.before, self.after))


class TorchConcat(nn.Module):
    def __init__(self, branches: list[nn.Module | None], dim: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList([b if b is not None else nn.Identity() for b in branches])
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim)


def _copy(param: torch.Tensor, array: np.ndarray) -> None:
    with torch.no_grad():
        param.copy_(torch.tensor(np.asarray(array, dtype=np.float64)))


def twin(layer, rng=None) -> nn.Module:
    """The torch module for one of our layers, float64, same weights (BatchNorm's randomized)."""
    name = type(layer).__name__
    if name == "Conv2d":
        module = nn.Conv2d(
            layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
            layer.padding, bias=layer.bias, dtype=torch.float64,
        )  # fmt: skip
        _copy(module.weight, layer.W)
        if layer.bias:
            _copy(module.bias, layer.b)
        return module
    if name == "BatchNorm2d":
        module = nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum, dtype=torch.float64)
        if rng is not None:  # non-trivial gamma, beta and running statistics
            C = layer.num_features
            layer.W[...] = rng.uniform(0.5, 1.5, C)
            layer.b[...] = rng.standard_normal(C)
            layer.running_mean[...] = rng.standard_normal(C)
            layer.running_var[...] = rng.uniform(0.5, 2.0, C)
        for theirs, ours in (
            (module.weight, layer.W), (module.bias, layer.b),
            (module.running_mean, layer.running_mean), (module.running_var, layer.running_var),
        ):  # fmt: skip
            _copy(theirs, ours)
        return module
    if name == "ReLU":
        return nn.ReLU()
    if name == "MaxPool2d":
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding)
    if name == "GlobalAvgPool2d":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if name == "Dense":
        module = nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
        _copy(module.weight, layer.W.T)
        _copy(module.bias, layer.b)
        return module
    if name == "PadChannelsShortcut":
        before = layer.pad_before
        return TorchPadChannels(
            before, layer.out_channels - layer.in_channels - before, layer.stride
        )
    if name == "Residual":
        shortcut = None if layer.shortcut is None else twins(layer.shortcut, rng)
        return TorchResidual(twins(layer.body, rng), shortcut)
    if name == "Concat":
        return TorchConcat([twins(b, rng) if b else None for b in layer.branches], layer.dim)
    raise AssertionError(f"no twin for {layer!r}")


def twins(layers, rng=None) -> nn.Sequential:
    return nn.Sequential(*[twin(layer, rng) for layer in layers])


def our_grads(layer_or_model) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in layer_or_model.grads().items()}


def torch_grads(module: nn.Module) -> list[np.ndarray]:
    """Gradients in our layout: a Linear weight's transposed to Dense's (in, out)."""
    grads = []
    for sub in module.modules():
        for name, p in sub.named_parameters(recurse=False):
            is_linear = isinstance(sub, nn.Linear) and name == "weight"
            grads.append(p.grad.numpy().T if is_linear else p.grad.numpy())
    return grads


def assert_close(ours, theirs, tol: float = 1e-10) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= tol * scale


def assert_same_step(layer, module, X, dA) -> np.ndarray:
    """Forward, backward, every parameter gradient and the running stats of ``layer``."""
    A = layer.forward(X)
    X_t = torch.tensor(X, requires_grad=True)
    A_t = module(X_t)
    assert_close(A, A_t)
    dX = layer.backward(dA.copy())
    A_t.backward(torch.tensor(dA))
    assert_close(dX, X_t.grad)
    ours = list(our_grads(layer).values())
    theirs = torch_grads(module)
    assert len(ours) == len(theirs)
    for g, g_t in zip(ours, theirs, strict=True):
        assert_close(g, g_t)
    buffers = [b for name, b in module.named_buffers() if "num_batches" not in name]
    for b, b_t in zip(layer.buffers().values(), buffers, strict=True):
        assert_close(b, b_t)
    module.zero_grad(set_to_none=True)
    return A


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


def _model_and_twin(rng, layers):
    model = Sequential(layers, optimizer="sgd", dtype=np.float64)
    return model, twins(model.layers, rng)


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
    model, module = _model_and_twin(rng, layers)
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
    # inside the model a block writes into its reused buffer
    inner = Sequential([Residual([Conv2d(2, 2, 3, padding=1)]), ReLU()])
    inner.forward(X)
    assert inner.layer_flags[0]["reuse_output"] and inner.layers[0]._workspace


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


# -- Concat ------------------------------------------------------------------------------------
def inception_like() -> Concat:
    return Concat([
        [Conv2d(3, 2, 1)],
        [Conv2d(3, 2, 1), BatchNorm2d(2), ReLU(inplace=True), Conv2d(2, 4, 3, padding=1)],
        [],
        [MaxPool2d(3, stride=1, padding=1), Conv2d(3, 1, 1), ReLU()],
    ])  # fmt: skip


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_concat_matches_torch_cat(rng, training):
    layer = inception_like()
    module = twin(layer, rng)
    layer.train(training)
    module.train(training)
    X = rng.standard_normal((3, 3, 6, 6))
    assert layer.output_shape((3, 6, 6)) == (10, 6, 6)
    assert_same_step(layer, module, X, rng.standard_normal((3, 10, 6, 6)))


def test_concat_inside_a_sequential_and_other_dims(rng):
    model, module = _model_and_twin(
        rng, [inception_like(), ReLU(), GlobalAvgPool2d(), Dense(10, 3)]
    )
    X = rng.standard_normal((2, 3, 5, 5))
    logits, logits_t = model.forward(X), module(torch.tensor(X))
    assert_close(logits, logits_t)
    dA = rng.standard_normal(logits.shape)
    model.backward(dA)
    logits_t.backward(torch.tensor(dA))
    for g, g_t in zip(our_grads(model).values(), torch_grads(module), strict=True):
        assert_close(g, g_t)
    along_width = Concat([[Conv2d(3, 3, 1)], []], dim=-1)
    assert along_width.output_shape((3, 4, 5)) == (3, 4, 10)
    assert_same_step(along_width, twin(along_width), X, rng.standard_normal((2, 3, 5, 10)))


def test_concat_gradients_match_finite_differences(rng):
    errors = layer_gradient_errors(inception_like().eval(), rng.standard_normal((2, 3, 4, 4)))
    assert max(errors.values()) < 1e-7, errors


def test_concat_errors():
    layer = Concat([[Conv2d(3, 2, 1)], [Conv2d(3, 2, 3)]])
    with pytest.raises(
        ValueError,
        match=r"Sizes of branches must match except in dimension 1: "
        r"branch 0 gives \(2, 5, 5\) but branch 1 gives \(2, 3, 3\)",
    ):
        layer.output_shape((3, 5, 5))
    with pytest.raises(ValueError, match=r"branch 0 gives \(2, 2, 5, 5\) but branch 1 gives"):
        layer.forward(np.zeros((2, 3, 5, 5)))
    with pytest.raises(
        ValueError,
        match=r"dimension out of range \(expected to be in range of "
        r"\[-3, 3\] without the batch axis 0, but got 4\)",
    ):
        Concat([[ReLU()]], dim=4).output_shape((3, 5, 5))
    with pytest.raises(ValueError, match=r"Concat\(.*\): expected batched input \(N, \*S\)"):
        Concat([[ReLU()]]).forward(np.zeros(3))
