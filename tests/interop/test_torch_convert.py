"""to_torch / from_torch against torch itself, in float64 at 1e-10.

Outputs are compared with torch running the converted module, in train and eval mode, for
every zoo model and for two models that use every option the converters know; gradients of
every parameter and of the input for LeNet-5 and the 2-D options model; and a model built
in torch (not by to_torch) goes through from_torch.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from interop_models import OPTION_MODELS, ZOO_CASES, zoo_model  # noqa: E402

from scratchcnn.interop import from_torch, load_state_dict, state_dict, to_torch  # noqa: E402
from scratchcnn.interop.torch_names import model_entries  # noqa: E402
from scratchcnn.layers import BatchNorm2d, Dropout, Layer, ReLU, SimpleConv1d  # noqa: E402
from scratchcnn.model import Sequential  # noqa: E402

TOLERANCE = 1e-10


def _torch_out(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(X.copy())).numpy()


def _assert_close(ours: np.ndarray, theirs: np.ndarray) -> None:
    scale = max(1.0, float(np.abs(theirs).max()))
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= TOLERANCE * scale


def _batch(rng: np.random.Generator, shape: tuple[int, ...], n: int = 3) -> np.ndarray:
    return rng.standard_normal((n, *shape))


def _without_dropout(*models: Sequential | torch.nn.Module) -> None:
    """p = 0 in every Dropout, ours and torch's: train-mode masks come from two generators."""
    for model in models:
        layers = model.layers if isinstance(model, Sequential) else model.modules()
        for layer in layers:
            if isinstance(layer, (Dropout, torch.nn.Dropout)):
                layer.p = 0.0


@pytest.mark.parametrize("name", list(ZOO_CASES))
def test_zoo_round_trips_in_eval_and_train_mode(name: str, rng: np.random.Generator) -> None:
    model = zoo_model(name, np.float64).eval()
    X = _batch(rng, ZOO_CASES[name][1])
    module = to_torch(model)
    assert not module.training
    assert all(p.dtype == torch.float64 for p in module.parameters())
    back = from_torch(module)
    assert not back.training and back.dtype == np.float64
    assert back.get_config()["layers"] == model.get_config()["layers"]  # every option kept
    ours = model.forward(X)
    _assert_close(ours, _torch_out(module, X))
    _assert_close(back.forward(X), ours)
    # train mode: batch statistics in BatchNorm (the ResNets), Dropout with p = 0
    _without_dropout(model, module, back)
    for each in (model, module, back):
        each.train()
    ours = model.forward(X)
    _assert_close(ours, _torch_out(module, X))
    _assert_close(back.forward(X), ours)


@pytest.mark.parametrize("name", list(OPTION_MODELS))
def test_every_option_round_trips_in_train_then_eval(name: str, rng: np.random.Generator) -> None:
    build, shape = OPTION_MODELS[name]
    model = build(np.float64, rng).train()
    module = to_torch(model)
    assert module.training
    X = _batch(rng, shape, n=4)
    _assert_close(model.forward(X), _torch_out(module, X))  # batch statistics
    # one training forward moved both sides' running statistics the same way
    theirs = module.state_dict()
    for key, value in state_dict(model).items():
        if not key.endswith("num_batches_tracked"):  # torch counts batches, we do not
            _assert_close(value, theirs[key].numpy())
    model.eval()
    module.eval()
    _assert_close(model.forward(X), _torch_out(module, X))
    back = from_torch(module, loss=model.loss)
    _assert_close(back.eval().forward(X), model.forward(X))
    assert back.get_config()["layers"] == model.get_config()["layers"]


def _our_grads(model: Sequential, X: np.ndarray, G: np.ndarray) -> tuple[dict, np.ndarray]:
    """Parameter gradients in torch's names and layout, and dX, of sum(model(X) * G)."""
    model.layers[0].compute_input_grad = True
    model.forward(X)
    dA = G
    for layer in reversed(model.layers):
        dA = layer.backward(dA)
    grads = {}
    for key, entry in model_entries(model).items():
        if entry.attr is not None and entry.attr in entry.layer.param_names:
            grad = getattr(entry.layer, "d" + entry.attr)
            grads[key] = grad.T if entry.transposed else grad
    return grads, dA


def _torch_grads(module: torch.nn.Module, X: np.ndarray, G: np.ndarray) -> tuple[dict, np.ndarray]:
    Xt = torch.from_numpy(X.copy()).requires_grad_()
    (module(Xt) * torch.from_numpy(G)).sum().backward()
    return {k: p.grad.numpy() for k, p in module.named_parameters()}, Xt.grad.numpy()


@pytest.mark.parametrize("name", ["lenet5", "options_2d", "branching"])
def test_gradients_match_torch(name: str, rng: np.random.Generator) -> None:
    if name == "lenet5":
        model, shape = zoo_model("lenet5", np.float64), ZOO_CASES["lenet5"][1]
    else:
        build, shape = OPTION_MODELS[name]
        model = build(np.float64, rng)
    module = to_torch(model)
    # in-place ReLU after BatchNorm is fine for us and for torch's autograd alike
    X = _batch(rng, shape)
    G = rng.standard_normal((3, *model.output_shape(shape)))
    ours, dX = _our_grads(model, X, G)
    theirs, dX_torch = _torch_grads(module, X, G)
    assert ours.keys() == theirs.keys()
    for key in ours:
        _assert_close(ours[key], theirs[key])
    _assert_close(dX, dX_torch)


def test_from_torch_of_a_model_built_in_torch(rng: np.random.Generator) -> None:
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, (3, 1), stride=(2, 1), dilation=(1, 2), groups=2, bias=False),
        nn.LeakyReLU(0.1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(8, 3),
    ).double()
    X = _batch(rng, (2, 10, 10), n=5)
    module.train()
    module(torch.from_numpy(X))  # moves the running statistics away from (0, 1)
    model = from_torch(module.eval(), optimizer="sgd")
    assert not model.training and model.dtype == np.float64
    _assert_close(model.forward(X), _torch_out(module, X))
    model.train()
    module.train()
    model.layers[8].p = module[8].p = 0.0  # equal outputs in train mode need no dropout
    _assert_close(model.forward(X), _torch_out(module, X))


def test_from_torch_float32_module_gives_float32_model(rng: np.random.Generator) -> None:
    module = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Tanh())
    model = from_torch(module)
    assert model.dtype == np.float32 and model.layers[0].W.dtype == np.float32
    X = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(model.forward(X), _torch_out(module, X), rtol=1e-6, atol=1e-6)


def test_to_torch_copies_and_shares_no_memory() -> None:
    model = zoo_model("lenet5", np.float32)
    module = to_torch(model)
    assert all(p.dtype == torch.float32 for p in module.parameters())
    with torch.no_grad():
        module[0].weight.zero_()
    assert np.abs(model.layers[0].W).sum() > 0
    np.testing.assert_array_equal(module[7].weight.detach().numpy(), model.layers[7].W.T)


def test_from_torch_keeps_inplace_relu_only_where_safe() -> None:
    nn = torch.nn
    module = nn.Sequential(
        nn.ReLU(inplace=True),  # would write over the caller's array
        nn.Linear(3, 3),
        nn.ReLU(inplace=True),  # after Linear: safe
        nn.Sigmoid(),
        nn.ReLU(inplace=True),  # Sigmoid keeps its output for backward
    ).double()
    model = from_torch(module)
    assert [layer.inplace for layer in model.layers if isinstance(layer, ReLU)] == [
        False,
        True,
        False,
    ]
    X = np.array([[-1.0, 2.0, -3.0]])
    model.forward(X)
    assert X[0, 0] == -1.0


# -- errors ----------------------------------------------------------------------------------
def test_to_torch_needs_a_model() -> None:
    with pytest.raises(TypeError, match="to_torch: expected a scratchcnn Sequential, but got"):
        to_torch(torch.nn.Linear(2, 2))


def test_to_torch_names_a_layer_torch_lacks() -> None:
    model = Sequential([SimpleConv1d(3)])
    with pytest.raises(TypeError, match=r"to_torch: layer 0 SimpleConv1d\(filter_size=3\) has no"):
        to_torch(model)


class TorchlessDoubler(Layer):
    def forward(self, X: np.ndarray) -> np.ndarray:
        return 2 * X


def test_to_torch_of_a_custom_layer_names_it() -> None:
    with pytest.raises(TypeError, match=r"layer 0 TorchlessDoubler\(\) has no PyTorch equivalent"):
        to_torch(Sequential([TorchlessDoubler()]))


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (
            torch.nn.GELU(),
            r"from_torch: module 1 GELU\(approximate='none'\) \(torch.nn.*GELU\) "
            "is not supported; supported torch.nn modules: AdaptiveAvgPool2d, AvgPool1d",
        ),
        (torch.nn.Bilinear(2, 2, 2), "module 1 Bilinear.* is not supported"),
    ],
)
def test_from_torch_names_an_unsupported_module(module: torch.nn.Module, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        from_torch(torch.nn.Sequential(torch.nn.Flatten(), module))


def test_from_torch_rejects_subclasses_that_may_compute_otherwise() -> None:
    class MyConv(torch.nn.Conv2d):
        pass

    with pytest.raises(TypeError, match=r"module 0 MyConv\(1, 1.*\(.*MyConv\) is not supported"):
        from_torch(torch.nn.Sequential(MyConv(1, 1, 1)))


@pytest.mark.parametrize(
    ("module", "match"),
    [
        (torch.nn.MaxPool2d(2, dilation=2), "dilation other than 1 is not supported"),
        (torch.nn.MaxPool2d(2, return_indices=True), "return_indices=True is not supported"),
        (torch.nn.AvgPool2d(2, divisor_override=3), "divisor_override is not supported"),
        (torch.nn.Linear(2, 2, bias=False), r"bias=False is not supported \(Dense has a bias\)"),
        (torch.nn.BatchNorm2d(2, momentum=None), "momentum=None .* is not supported"),
        (torch.nn.Flatten(2), r"only Flatten\(start_dim=1, end_dim=-1\) is supported"),
        (torch.nn.AdaptiveAvgPool2d(2), r"only AdaptiveAvgPool2d\(1\) followed by Flatten"),
        (torch.nn.Softmax(), r"dim=None \(implicit dim\) is not supported"),
        (
            torch.nn.Sequential(torch.nn.ReLU()),
            r"a nested Sequential is supported only as \(AdaptiveAvgPool2d\(1\), Flatten\(\)\)",
        ),
    ],
)
def test_from_torch_names_an_unsupported_option(module: torch.nn.Module, match: str) -> None:
    with pytest.raises(ValueError, match=r"from_torch: module 0: .*" + match):
        from_torch(torch.nn.Sequential(module))


def test_from_torch_needs_a_sequential() -> None:
    with pytest.raises(
        TypeError, match=r"from_torch: expected a torch.nn.Sequential, but got Linear"
    ):
        from_torch(torch.nn.Linear(2, 2))


def test_from_torch_of_an_empty_sequential() -> None:
    with pytest.raises(ValueError, match=r"from_torch: the torch.nn.Sequential is empty"):
        from_torch(torch.nn.Sequential())


def test_from_torch_needs_float32_or_float64() -> None:
    with pytest.raises(
        ValueError,
        match="from_torch: scratchcnn computes in float32 or float64, but the module is float16",
    ):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2)).half())


def test_from_torch_rejects_mixed_dtypes() -> None:
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2).double())
    with pytest.raises(ValueError, match=r"from_torch: the module mixes dtypes \['torch.float32'"):
        from_torch(module)


def test_missing_torch_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    with pytest.raises(
        ImportError,
        match=r"to_torch needs the optional package 'torch', which is "
        r"not installed; install it with: pip install torch",
    ):
        to_torch(zoo_model("lenet5", np.float32))


def test_importing_interop_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, scratchcnn.interop; print('torch' in sys.modules, 'onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_load_state_dict_of_a_torch_module_built_independently(rng: np.random.Generator) -> None:
    model = zoo_model("lenet5", np.float64)
    torch.manual_seed(3)
    module = to_torch(zoo_model("lenet5", np.float64))
    for p in module.parameters():  # different weights from the model's
        torch.nn.init.normal_(p)
    result = load_state_dict(model, module.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    X = _batch(rng, (1, 28, 28))
    _assert_close(model.eval().forward(X), _torch_out(module.eval(), X))


def test_load_state_dict_keeps_parameter_arrays_and_dtype() -> None:
    model = Sequential([BatchNorm2d(2)], dtype=np.float32)
    W = model.layers[0].W
    load_state_dict(
        model,
        {
            "0.weight": torch.tensor([2.0, 3.0], dtype=torch.float64),
            "0.bias": np.zeros(2),
            "0.running_mean": [1, 2],
            "0.running_var": np.ones(2),
        },
    )
    assert model.layers[0].W is W and W.dtype == np.float32
    np.testing.assert_array_equal(W, [2.0, 3.0])
    np.testing.assert_array_equal(model.layers[0].running_mean, [1.0, 2.0])
