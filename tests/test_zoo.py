"""The model zoo: parameter counts and shapes against PyTorch, any input size, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from scratchcnn.layers import Conv1d, Conv2d, Dense, Dropout
from scratchcnn.model import Sequential
from scratchcnn.zoo import MODELS, alexnet, get_model, lenet5, mnist1d_cnn, seed_cnn, vgg16


# -- the PyTorch twins, built in the tests (there is no torchvision here) ---------------------
def torch_lenet5(in_ch: int = 1, flat: int = 256, k: int = 10) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, k),
    )


def torch_seed_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(9216, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def torch_alexnet(k: int = 1000) -> nn.Sequential:
    """torchvision.models.alexnet without the AdaptiveAvgPool2d (identity at 224x224)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Dropout(),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Linear(4096, k),
    )


def torch_vgg16() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    # configuration D, restated here from the VGG paper rather than imported from the zoo
    vgg_d = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
    for item in vgg_d:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
            channels = item
    return nn.Sequential(
        *layers,
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 1000),
    )


def torch_mnist1d_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(125, 10),
    )


def torch_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def torch_shapes(net: nn.Sequential, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Per-sample output shapes of the layers that change shape (on ``net``'s device)."""
    first = next(net.parameters())
    x = torch.zeros((1, *input_shape), device=first.device, dtype=first.dtype)
    shapes = []
    for module in net:
        x = module(x)
        if not isinstance(module, (nn.ReLU, nn.Dropout)):
            shapes.append(tuple(x.shape[1:]))
    return shapes


def our_shapes(model: Sequential, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    shapes = model._trace_shapes(input_shape, "test")
    return [
        s
        for layer, s in zip(model.layers, shapes, strict=True)
        if type(layer).__name__ not in ("ReLU", "Tanh", "Dropout")
    ]


def copy_into_torch(model: Sequential, net: nn.Sequential) -> None:
    ours = [layer for layer in model.layers if layer.param_names]
    theirs = [m for m in net if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    assert len(ours) == len(theirs)
    for layer, module in zip(ours, theirs, strict=True):
        W = layer.W.T if isinstance(layer, Dense) else layer.W
        module.weight.data = torch.from_numpy(np.array(W, dtype=np.float64))
        module.bias.data = torch.from_numpy(np.array(layer.b, dtype=np.float64))


# -- parameter counts -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("factory", "twin", "input_shape", "count"),
    [
        (lenet5, torch_lenet5, (1, 28, 28), 44_426),
        (seed_cnn, torch_seed_cnn, (1, 28, 28), 1_199_882),
        (mnist1d_cnn, torch_mnist1d_cnn, (1, 40), 5_210),
    ],
    ids=["lenet5", "seed_cnn", "mnist1d_cnn"],
)
def test_small_models_match_torch(factory, twin, input_shape, count, rng) -> None:  # type: ignore[no-untyped-def]
    model = factory(dtype=np.float64)
    net = twin().double()
    assert model.num_params() == torch_count(net) == count
    assert our_shapes(model, input_shape) == torch_shapes(net, input_shape)
    copy_into_torch(model, net)
    X = rng.standard_normal((3, *input_shape))
    expected = net(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(
        model.predict_proba(X), torch.softmax(torch.from_numpy(expected), 1), rtol=1e-10, atol=1e-12
    )


def test_alexnet_matches_torch() -> None:
    model = alexnet()
    with torch.device("meta"):
        net = torch_alexnet()
    assert model.num_params() == torch_count(net) == 61_100_840
    assert our_shapes(model, (3, 224, 224)) == torch_shapes(net, (3, 224, 224))
    assert sum(isinstance(layer, Dropout) for layer in model.layers) == 2


def test_vgg16_matches_torch() -> None:
    model = vgg16()  # the one VGG16 of the test run: ~0.55 GB of float32 weights
    with torch.device("meta"):
        net = torch_vgg16()
    assert model.num_params() == torch_count(net) == 138_357_544
    assert our_shapes(model, (3, 224, 224)) == torch_shapes(net, (3, 224, 224))
    assert sum(isinstance(layer, Conv2d) for layer in model.layers) == 13
    assert "Total params: 138,357,544" in model.summary((3, 224, 224))


# -- other input sizes ------------------------------------------------------------------------
def test_lenet5_on_32x32_rgb_matches_torch() -> None:
    model = lenet5(input_shape=(3, 32, 32), num_classes=7)
    assert model.num_params() == torch_count(torch_lenet5(3, 16 * 5 * 5, 7))
    assert model.output_shape((3, 32, 32)) == (7,)


def test_alexnet_on_a_smaller_input() -> None:
    model = alexnet(input_shape=(3, 64, 64), num_classes=10, dropout=0.0)
    with torch.device("meta"):
        net = torch_alexnet(10)
    net[-6] = nn.Linear(256, 4096, device="meta")  # 256 * 1 * 1 features at 64x64
    assert model.num_params() == torch_count(net)
    assert not any(isinstance(layer, Dropout) for layer in model.layers)


def test_mnist1d_cnn_on_a_longer_signal() -> None:
    model = mnist1d_cnn(input_shape=(2, 72), num_classes=4)
    first = model.layers[0]
    assert isinstance(first, Conv1d) and first.in_channels == 2
    assert model.layers[-1].W.shape == (25 * 9, 4)


def test_tanh_lenet5() -> None:
    model = lenet5(activation="tanh")
    assert [type(layer).__name__ for layer in model.layers].count("Tanh") == 4
    assert model.num_params() == 44_426


def test_seed_cnn_with_dropout_has_the_same_count() -> None:
    model = seed_cnn(dropout=True)
    assert [layer.p for layer in model.layers if isinstance(layer, Dropout)] == [0.25, 0.5]
    assert model.num_params() == 1_199_882


def test_seed_makes_weights_reproducible() -> None:
    a, b, c = lenet5(seed=3), lenet5(seed=3), lenet5(seed=4)
    for key, value in a.params().items():
        np.testing.assert_array_equal(value, b.params()[key])
    assert not np.array_equal(a.params()["0.W"], c.params()["0.W"])


def test_model_kwargs_reach_sequential() -> None:
    model = mnist1d_cnn(optimizer="sgd", loss="mse", dtype=np.float64)
    assert type(model.optimizer).__name__ == "SGD"
    assert model.dtype == np.float64


# -- errors -----------------------------------------------------------------------------------
def test_too_small_input() -> None:
    with pytest.raises(
        ValueError,
        match=r"alexnet: input_shape \(3, 32, 32\) is too small for "
        r"this architecture: layer 12 MaxPool2d",
    ):
        alexnet(input_shape=(3, 32, 32))


def test_too_small_input_1d() -> None:
    with pytest.raises(ValueError, match=r"mnist1d_cnn: input_shape \(1, 2\) is too small"):
        mnist1d_cnn(input_shape=(1, 2))


def test_wrong_input_rank() -> None:
    with pytest.raises(
        ValueError,
        match=r"lenet5: input_shape must be a tuple \(C, H, W\) of 3 "
        r"ints, but got \(28, 28\)",
    ):
        lenet5(input_shape=(28, 28))


def test_bad_num_classes() -> None:
    with pytest.raises(ValueError, match=r"seed_cnn: num_classes must be positive"):
        seed_cnn(num_classes=0)


def test_bad_activation() -> None:
    with pytest.raises(ValueError, match=r"lenet5: activation must be 'relu' or 'tanh'"):
        lenet5(activation="gelu")


def test_get_model() -> None:
    assert get_model("LeNet5").num_params() == 44_426
    assert get_model("mnist1d-cnn").num_params() == 5_210
    classic = {"lenet5", "seed_cnn", "alexnet", "vgg16", "mnist1d_cnn"}
    resnets = {"resnet18", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"}
    assert set(MODELS) == classic | resnets


def test_get_model_unknown_name() -> None:
    with pytest.raises(
        ValueError,
        match=r"get_model: unknown model 'resnet'; expected one of "
        r"'lenet5', 'seed_cnn', 'alexnet', 'vgg16', 'mnist1d_cnn'",
    ):
        get_model("resnet")
