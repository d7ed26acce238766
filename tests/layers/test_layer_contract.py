"""What every layer promises, checked over all of them (issue 8: PyTorch's own module inputs).

0-d input through every element-wise layer, constructor errors that name the concrete class,
and initializers of the wrong type.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratchcnn.layers as layers_module
from scratchcnn.initializers import SimpleInitializer
from scratchcnn.layers import (
    LAYER_REGISTRY,
    Conv1d,
    Conv2d,
    Dropout,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SimpleConv1d,
    Softmax,
    Tanh,
)

ELEMENTWISE = [
    (ReLU(), torch.nn.ReLU()),
    (ReLU(inplace=True), torch.nn.ReLU()),
    (LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (Tanh(), torch.nn.Tanh()),
    (Sigmoid(), torch.nn.Sigmoid()),
    (Softmax(), torch.nn.Softmax(dim=-1)),
    (Softmax(0), torch.nn.Softmax(dim=0)),
    (Dropout(0.3).eval(), torch.nn.Dropout(0.3).eval()),
    (Dropout(0.0), torch.nn.Dropout(0.0)),
    (Identity(), torch.nn.Identity()),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [0.7, -1.3])
@pytest.mark.parametrize(("layer", "module"), ELEMENTWISE, ids=lambda x: repr(x))
def test_zero_dim_input_matches_torch(layer, module, value, dtype):
    X = np.array(value, dtype=dtype)
    A = layer.forward(X.copy())
    X_t = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    A_t = module(X_t)
    assert isinstance(A, np.ndarray) and A.shape == () and A.dtype == dtype
    np.testing.assert_allclose(A, A_t.detach().numpy(), rtol=1e-6 if dtype == np.float32 else 1e-12)
    dA = np.array(2.5, dtype=dtype)
    dX = layer.backward(dA)
    A_t.backward(torch.tensor(2.5, dtype=torch.float64))
    assert isinstance(dX, np.ndarray) and dX.shape == () and dX.dtype == dtype
    np.testing.assert_allclose(dX, X_t.grad.numpy(), rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-12)


def test_training_dropout_on_zero_dim_input():
    layer = Dropout(0.5, seed=3)
    A = layer.forward(np.array(2.0))
    assert A.shape == () and float(A) in (0.0, 4.0)
    dX = layer.backward(np.array(1.0))
    assert dX.shape == () and float(dX) == float(A) / 2


# the smallest valid arguments of every built-in layer: a new layer must be added here
REQUIRED = {
    "AdaptiveAvgPool1d": (2,), "AdaptiveAvgPool2d": (2,), "AvgPool1d": (2,), "AvgPool2d": (2,),
    "BatchNorm1d": (3,), "BatchNorm2d": (3,), "Conv1d": (1, 2, 3), "Conv2d": (1, 2, 3),
    "Dense": (2, 3), "Dropout": (), "Flatten": (), "GlobalAvgPool2d": (), "GlobalMaxPool2d": (),
    "LeakyReLU": (), "MaxPool1d": (2,), "MaxPool2d": (2,), "ReLU": (), "Sigmoid": (),
    "SimpleConv1d": (3,), "Softmax": (), "Tanh": (),
    # the blocks of the residual-network work (layers/residual.py, concat.py)
    "Residual": lambda: ([ReLU()],), "Concat": lambda: ([[ReLU()], []],),
    "PadChannelsShortcut": (2, 4),
}
BUILT_IN = sorted(name for name in layers_module.__all__
                  if name in LAYER_REGISTRY and name != "Identity")  # Identity takes anything


def required(name: str) -> tuple:
    """Fresh valid positional arguments for the layer ``name``."""
    args = REQUIRED[name]
    return args() if callable(args) else args


def test_every_built_in_layer_is_covered():
    assert set(BUILT_IN) <= set(REQUIRED), set(BUILT_IN) - set(REQUIRED)


@pytest.mark.parametrize("name", BUILT_IN)
def test_unexpected_keyword_names_the_layer(name):
    cls = LAYER_REGISTRY[name]
    cls(*required(name))  # the arguments are valid
    with pytest.raises(TypeError, match=rf"^{name}\.__init__\(\) got an unexpected keyword "
                       r"argument 'kernal_size'$"):
        cls(*required(name), kernal_size=3)


@pytest.mark.parametrize("name", ["MaxPool2d", "AvgPool1d", "Tanh", "GlobalMaxPool2d"])
def test_too_many_positional_arguments_name_the_layer(name):
    with pytest.raises(TypeError, match=rf"^{name}\.__init__\(\) too many positional arguments$"):
        LAYER_REGISTRY[name](*required(name), *range(9))


def test_missing_argument_names_the_layer():
    with pytest.raises(TypeError, match=r"^MaxPool2d\.__init__\(\) missing a required argument: "
                       r"'kernel_size'$"):
        LAYER_REGISTRY["MaxPool2d"]()


@pytest.mark.parametrize(
    ("build", "owner"),
    [
        (lambda init: Conv2d(1, 2, 3, initializer=init), r"Conv2d\(1, 2, kernel_size=\(3, 3\)"),
        (lambda init: Conv1d(1, 2, 3, initializer=init), r"Conv1d\(1, 2, kernel_size=\(3,\)"),
        (lambda init: SimpleConv1d(3, initializer=init), r"SimpleConv1d\(filter_size=3\)"),
    ],
)
@pytest.mark.parametrize("bad", ["he", 0.01])
def test_wrong_typed_initializer_in_convolutions(build, owner, bad):
    with pytest.raises(TypeError, match=owner + r".*: initializer must be None or an object with "
                       r"W\(\)"):
        build(bad)


def test_conv_without_bias_needs_no_B_method():
    class WeightsOnly:
        def W(self, *shape: int) -> np.ndarray:
            return np.ones(shape, dtype=np.float32)

    layer = Conv2d(1, 2, 3, bias=False, initializer=WeightsOnly())
    assert layer.b is None and float(layer.W.sum()) == 18
    Conv2d(1, 2, 3, initializer=SimpleInitializer(0.1))  # a full initializer works
