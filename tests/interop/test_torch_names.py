"""state_dict / load_state_dict: torch's names and layouts, and torch's error wording.

These need no torch: the names are checked against ``torch.nn.Sequential.state_dict()`` in
test_torch_convert.py (``to_torch`` loads with ``strict=True``).
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.interop import load_state_dict, state_dict
from scratchcnn.layers import BatchNorm2d, Conv2d, Dense, Flatten, Layer, ReLU
from scratchcnn.model import Sequential


def _model() -> Sequential:
    return Sequential(
        [Conv2d(1, 2, 3, bias=False), BatchNorm2d(2), ReLU(), Flatten(), Dense(8, 3)],
        dtype=np.float64,
    )


def test_names_and_layouts() -> None:
    model = _model()
    sd = state_dict(model)
    assert list(sd) == [
        "0.weight",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "4.weight",
        "4.bias",
    ]
    assert sd["0.weight"].shape == (2, 1, 3, 3)
    np.testing.assert_array_equal(sd["4.weight"], model.layers[4].W.T)  # Linear is (out, in)
    assert sd["1.num_batches_tracked"].dtype == np.int64
    sd["4.weight"][...] = 0  # a copy: the model keeps its weights
    assert np.abs(model.layers[4].W).sum() > 0


def test_load_round_trip_and_transpose(rng: np.random.Generator) -> None:
    source, target = _model(), _model()
    for value in source.params().values():
        value[...] = rng.standard_normal(value.shape)
    result = load_state_dict(target, state_dict(source))
    assert result == ([], [])
    for key, value in source.params().items():
        np.testing.assert_array_equal(target.params()[key], value)


def test_num_batches_tracked_is_optional() -> None:
    sd = state_dict(_model())
    del sd["1.num_batches_tracked"]
    assert load_state_dict(_model(), sd).missing_keys == []


def test_missing_keys_in_torch_wording() -> None:
    sd = state_dict(_model())
    del sd["0.weight"], sd["4.bias"]
    with pytest.raises(
        ValueError,
        match=r"load_state_dict: Error\(s\) in loading state_dict for Sequential:\n\t"
        r'Missing key\(s\) in state_dict: "0.weight", "4.bias"',
    ):
        load_state_dict(_model(), sd)


def test_unexpected_keys_in_torch_wording() -> None:
    sd = state_dict(_model())
    sd["5.weight"] = np.zeros(3)
    with pytest.raises(ValueError, match=r'Unexpected key\(s\) in state_dict: "5.weight"'):
        load_state_dict(_model(), sd)


def test_size_mismatch_in_torch_wording() -> None:
    sd = state_dict(_model())
    sd["4.weight"] = np.zeros((3, 9))
    with pytest.raises(
        ValueError,
        match=r"size mismatch for 4.weight: copying a param with shape \(3, 9\) from checkpoint, "
        r"the shape in current model is \(3, 8\)\.",
    ):
        load_state_dict(_model(), sd)


def test_non_strict_returns_the_keys_but_still_checks_sizes() -> None:
    sd = state_dict(_model())
    del sd["0.weight"]
    sd["extra"] = np.zeros(1)
    model = _model()
    before = model.layers[0].W.copy()
    result = load_state_dict(model, sd, strict=False)
    assert result.missing_keys == ["0.weight"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model.layers[0].W, before)
    sd["4.bias"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"size mismatch for 4.bias"):
        load_state_dict(model, sd, strict=False)


def test_a_failed_load_changes_nothing() -> None:
    model, sd = _model(), state_dict(_model())
    sd["4.weight"] = np.zeros((3, 9))
    before = {k: v.copy() for k, v in model.params().items()}
    with pytest.raises(ValueError):
        load_state_dict(model, sd)
    for key, value in model.params().items():
        np.testing.assert_array_equal(value, before[key])


def test_state_dict_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match=r"load_state_dict: expected a state dict .* but got list"):
        load_state_dict(_model(), [1, 2])


def test_values_must_be_numbers() -> None:
    sd = state_dict(_model())
    sd["0.weight"] = "weights"
    with pytest.raises(
        TypeError, match=r"load_state_dict: the value of '0.weight' must be a tensor"
    ):
        load_state_dict(_model(), sd)


def test_model_must_be_a_sequential() -> None:
    with pytest.raises(TypeError, match="state_dict: expected a scratchcnn Sequential, but got"):
        state_dict(Dense(2, 2))


class NamelessScale(Layer):
    param_names = ("W",)

    def __init__(self) -> None:
        super().__init__()
        self.W = np.ones(1)


def test_a_custom_layer_with_parameters_has_no_torch_names() -> None:
    with pytest.raises(TypeError, match=r"NamelessScale\(\): no PyTorch state-dict names are"):
        state_dict(Sequential([NamelessScale()]))
