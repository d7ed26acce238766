"""The zoo's ResNets against PyTorch ResNets written here (torchvision's BasicBlock layout).

There is no torchvision in the test environment, so the twins are written out below the way
torchvision (ResNet-18) and the CIFAR ResNets of He et al. (option A: subsample and zero-pad)
write them. Our weights are copied in parameter order; counts, outputs, every gradient and a
few SGD steps must agree, in float64, to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional

from scratchcnn.cli import main
from scratchcnn.model import Sequential, load
from scratchcnn.optimizers import SGD
from scratchcnn.zoo import MODELS, cifar_resnet, get_model, resnet18, resnet20


# -- the PyTorch twins -------------------------------------------------------------------------
class PadShortcut(nn.Module):
    """Option A: x[:, :, ::2, ::2] with the new channels zero-padded half before, half after."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.before = (c_out - c_in) // 2
        self.after = c_out - c_in - self.before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, shortcut: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = (
                PadShortcut(c_in, c_out)
                if shortcut == "A"
                else nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
                )
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TorchResNet(nn.Module):
    """``imagenet=True``: torchvision's ResNet-18; else He et al.'s CIFAR ResNet."""

    def __init__(
        self, in_ch: int, num_classes: int, imagenet: bool, n: int = 2, shortcut: str = "B"
    ) -> None:
        super().__init__()
        if imagenet:
            widths, first = (64, 128, 256, 512), 64
            self.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.maxpool: nn.Module = nn.MaxPool2d(3, 2, 1)
        else:
            widths, first = (16, 32, 64), 16
            self.conv1 = nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.maxpool = nn.Identity()
        blocks, c_in = [], first
        for i, width in enumerate(widths):
            for k in range(n):
                stride = 2 if i > 0 and k == 0 else 1
                blocks.append(BasicBlock(c_in, width, stride, shortcut))
                c_in = width
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(torch.flatten(functional.adaptive_avg_pool2d(x, 1), 1))


def copy_weights(model: Sequential, net: nn.Module, rng: np.random.Generator) -> None:
    """Our parameters and buffers into ``net``, in order (BatchNorm's randomized first)."""
    for name, value in {**model.params(), **model.buffers()}.items():
        if name.endswith(".W") and value.ndim == 1:  # BatchNorm's gamma (conv W is 4-D)
            value[...] = rng.uniform(0.5, 1.5, value.shape)
        elif name.endswith((".b", "running_mean")):
            value[...] = 0.1 * rng.standard_normal(value.shape)
        elif name.endswith("running_var"):
            value[...] = rng.uniform(0.5, 2.0, value.shape)
    ours = [*model.params().values(), *model.buffers().values()]
    theirs = [*net.parameters(), *(b for k, b in net.named_buffers() if "num_batches" not in k)]
    assert len(ours) == len(theirs)
    with torch.no_grad():
        for value, tensor in zip(ours, theirs, strict=True):
            value = value.T if value.ndim == 2 else value  # Dense (in, out) vs Linear (out, in)
            assert value.shape == tuple(tensor.shape)
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float64)))


def torch_grads(net: nn.Module) -> list[np.ndarray]:
    return [p.grad.numpy().T if p.ndim == 2 else p.grad.numpy() for p in net.parameters()]


def assert_close(ours: np.ndarray, theirs: np.ndarray, tol: float = 1e-10) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.max(np.abs(theirs))))
    assert float(np.max(np.abs(ours - theirs))) <= tol * scale


# -- parameter counts --------------------------------------------------------------------------
def test_resnet18_has_torchvisions_parameter_count() -> None:
    model = resnet18()
    net = TorchResNet(3, 1000, imagenet=True)
    assert model.num_params() == sum(p.numel() for p in net.parameters()) == 11_689_512
    shapes = [v.T.shape if v.ndim == 2 else v.shape for v in model.params().values()]
    assert shapes == [tuple(p.shape) for p in net.parameters()]
    assert model.output_shape((3, 224, 224)) == (1000,)


@pytest.mark.parametrize(
    ("depth", "count"), [(20, 269_722), (32, 464_154), (56, 853_018), (110, 1_727_962)]
)
def test_cifar_resnet_parameter_counts(depth: int, count: int) -> None:
    model = cifar_resnet(depth)
    net = TorchResNet(3, 10, imagenet=False, n=(depth - 2) // 6, shortcut="A")
    assert model.num_params() == sum(p.numel() for p in net.parameters()) == count
    assert get_model(f"resnet{depth}").num_params() == count
    assert resnet20().num_params() == 269_722


def test_option_b_adds_projection_parameters() -> None:
    # two 1x1 convolutions with BatchNorm: 16*32 + 64 and 32*64 + 128
    assert cifar_resnet(20, shortcut="B").num_params() == 269_722 + 576 + 2176


# -- equality with PyTorch ---------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(
    ("factory", "imagenet", "n", "shortcut", "input_shape"),
    [
        (lambda **kw: resnet20(**kw), False, 3, "A", (1, 28, 28)),  # 28 -> 14 -> 7
        (lambda **kw: cifar_resnet(8, shortcut="B", **kw), False, 1, "B", (3, 12, 12)),
        (lambda **kw: resnet18(**kw), True, 2, "B", (3, 32, 32)),
    ],
    ids=["resnet20_28x28", "resnet8_option_b", "resnet18_32x32"],
)
def test_forward_and_backward_match_pytorch(
    rng, factory, imagenet, n, shortcut, input_shape, training
) -> None:
    model = factory(input_shape=input_shape, num_classes=5, seed=0, dtype=np.float64)
    net = TorchResNet(input_shape[0], 5, imagenet, n, shortcut).double()
    copy_weights(model, net, rng)
    model.train(training)
    net.train(training)
    X = rng.standard_normal((3, *input_shape))
    logits = model.forward(X)
    X_t = torch.tensor(X)
    logits_t = net(X_t)
    assert_close(logits, logits_t.detach().numpy())
    dA = rng.standard_normal(logits.shape)
    assert model.backward(dA) is None  # the first convolution skips its input gradient
    logits_t.backward(torch.tensor(dA))
    grads = list(model.grads().values())
    assert len(grads) == len(list(net.parameters()))
    for g, g_t in zip(grads, torch_grads(net), strict=True):
        assert_close(g, g_t)
    buffers = [b for k, b in net.named_buffers() if "num_batches" not in k]
    for b, b_t in zip(model.buffers().values(), buffers, strict=True):
        assert_close(b, b_t.numpy())


def test_sgd_momentum_training_steps_match_pytorch(rng) -> None:
    optimizer = SGD(lr=0.1, momentum=0.9, weight_decay=5e-4)
    model = resnet20(input_shape=(3, 16, 16), seed=1, optimizer=optimizer, dtype=np.float64)
    net = TorchResNet(3, 10, imagenet=False, n=3, shortcut="A").double()
    copy_weights(model, net, rng)
    torch_sgd = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss()
    for _ in range(3):
        X = rng.standard_normal((8, 3, 16, 16))
        y = rng.integers(0, 10, 8)
        loss = model.train_step(X, y)
        torch_sgd.zero_grad()
        loss_t = criterion(net(torch.tensor(X)), torch.tensor(y))
        loss_t.backward()
        torch_sgd.step()
        assert abs(loss - loss_t.item()) <= 1e-10 * max(1.0, abs(loss))
    for value, p in zip(model.params().values(), net.parameters(), strict=True):
        assert_close(value.T if value.ndim == 2 else value, p.detach().numpy())
    net.eval()
    with torch.no_grad():
        X = rng.standard_normal((4, 3, 16, 16))
        assert_close(model.predict_proba(X), torch.softmax(net(torch.tensor(X)), 1).numpy())


# -- saving and resuming -----------------------------------------------------------------------
def test_save_load_gives_the_same_predictions_and_resumes_bit_for_bit(rng, tmp_path) -> None:
    model = resnet20(input_shape=(1, 12, 12), num_classes=4, seed=3, optimizer=SGD(0.05, 0.9))
    X = rng.standard_normal((16, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 4, 16)
    for _ in range(2):
        model.train_step(X, y)
    path = tmp_path / "resnet20.npz"
    model.save(path)
    loaded = load(path)
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    state = model.optimizer.state_dict(model.layers)
    assert "3.body.0.W.momentum_buffer" in state
    assert set(loaded.optimizer.state_dict(loaded.layers)) == set(state)
    for _ in range(2):
        assert loaded.train_step(X, y) == model.train_step(X, y)
    for mine, theirs in (
        (model.params(), loaded.params()), (model.buffers(), loaded.buffers())
    ):  # fmt: skip
        assert mine.keys() == theirs.keys()
        for key in mine:
            np.testing.assert_array_equal(mine[key], theirs[key])


def test_fit_trains_a_resnet_on_28x28_images(rng) -> None:
    X = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = (X[:, 0, :14].mean(axis=(1, 2)) > X[:, 0, 14:].mean(axis=(1, 2))).astype(np.int64)
    model = cifar_resnet(8, input_shape=(1, 28, 28), num_classes=2, seed=0)
    assert model.output_shape((1, 28, 28)) == (2,)
    history = model.fit(X, y, epochs=4, batch_size=16, seed=0, verbose=0)
    assert history["loss"][-1] < history["loss"][0]
    assert model.predict(X).shape == (64,)
    assert "(None, 64, 7, 7)" in model.summary((1, 28, 28))


# -- arguments and the command line ------------------------------------------------------------
def test_seed_makes_weights_reproducible() -> None:
    first, second = resnet20(seed=5), resnet20(seed=5)
    for a, b in zip(first.params().values(), second.params().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    W = resnet18(seed=0).layers[0].W  # He normal, fan_out = 64 * 7 * 7
    assert abs(W.std() / np.sqrt(2 / (64 * 49)) - 1) < 0.05


def test_depth_and_shortcut_errors() -> None:
    with pytest.raises(ValueError, match=r"cifar_resnet: depth must be 6n \+ 2 for n >= 1 .* but "
                       r"got depth=21"):  # fmt: skip
        cifar_resnet(21)
    with pytest.raises(ValueError, match=r"got depth=2$"):
        cifar_resnet(2)
    with pytest.raises(TypeError, match=r"cifar_resnet: depth must be an int, but got '20'"):
        cifar_resnet("20")
    with pytest.raises(ValueError, match=r"cifar_resnet: shortcut must be 'A' or 'B', but got 'C'"):
        cifar_resnet(20, shortcut="C")
    with pytest.raises(ValueError, match=r"resnet18: input_shape must be a tuple \(C, H, W\)"):
        resnet18(input_shape=(28, 28))


def test_cli_knows_the_resnets(tmp_path, capsys) -> None:
    assert {"resnet18", "resnet20", "resnet56", "resnet110"} <= set(MODELS)
    assert main(["summary", "--model", "resnet20", "--input-shape", "3", "32", "32"]) == 0
    out = capsys.readouterr().out
    assert "Trainable params: 269,722" in out and "  shortcut.0 (PadChannelsShortcut)" in out
    run = tmp_path / "run"
    argv = ["train", "--model", "resnet20", "--epochs", "1", "--limit", "120", "--out", str(run)]
    assert main(argv) == 0
    assert load(run / "model.npz").num_params() == 269_434  # one input channel (8x8 digits)
