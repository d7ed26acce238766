"""Loss options inside a model: saved with it, 'sum' reported per sample, 'none' refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchcnn.layers import Dense, Flatten, ReLU
from scratchcnn.losses import MSE, SoftmaxCrossEntropy
from scratchcnn.model import Sequential, load
from scratchcnn.optimizers import SGD, Adagrad


def mlp(loss, optimizer=None):  # type: ignore[no-untyped-def]
    return Sequential([Flatten(), Dense(8, 6), ReLU(), Dense(6, 3)], loss=loss,
                      optimizer=optimizer or SGD(lr=0.0), dtype=np.float64)


def test_loss_options_survive_save_and_load(tmp_path):
    loss = SoftmaxCrossEntropy("sum", label_smoothing=0.1, weight=[1.0, 2.0, 0.5], ignore_index=2)
    model = mlp(loss, Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1))
    model.save(tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    assert loaded.loss.get_config() == loss.get_config()
    assert type(loaded.optimizer) is Adagrad and loaded.optimizer.lr_decay == 0.01


def test_sum_reduction_reports_the_mean_per_sample(rng):
    X, y = rng.standard_normal((10, 2, 4)), rng.integers(0, 3, 10)
    summed = mlp(SoftmaxCrossEntropy("sum"))
    mean = mlp(SoftmaxCrossEntropy())
    for a, b in zip(mean.layers, summed.layers, strict=True):
        for name, value in a.params().items():
            b.params()[name][...] = value
    history = summed.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)  # lr 0
    expected, _ = mean.evaluate(X, y)
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert summed.evaluate(X, y)[0] == pytest.approx(expected, rel=1e-12)


def test_label_smoothing_training_step_matches_torch(rng):
    X, y = rng.standard_normal((6, 8)), rng.integers(0, 3, 6)
    model = Sequential([Dense(8, 3)], loss=SoftmaxCrossEntropy(label_smoothing=0.2),
                       optimizer=SGD(lr=0.5), dtype=np.float64)
    linear = torch.nn.Linear(8, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(model.layers[0].W.T))
        linear.bias.copy_(torch.tensor(model.layers[0].b))
    loss = model.train_step(X, y)
    expected = torch.nn.functional.cross_entropy(linear(torch.tensor(X)), torch.tensor(y),
                                                 label_smoothing=0.2)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    with torch.no_grad():
        new_weight = linear.weight - 0.5 * linear.weight.grad
    np.testing.assert_allclose(model.layers[0].W, new_weight.numpy().T, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", [SoftmaxCrossEntropy("none"), MSE("none")], ids=repr)
def test_none_reduction_cannot_drive_a_model(loss):
    with pytest.raises(ValueError, match=r"Sequential: the loss .*\(reduction='none'\) returns one "
                       r"value per sample, but training and evaluation need one number per "
                       r"batch; use reduction='mean' or 'sum'"):
        mlp(loss)


def test_optimizer_by_torch_name():
    assert type(mlp("cross_entropy", "Adagrad").optimizer) is Adagrad
