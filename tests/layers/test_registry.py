"""LAYER_REGISTRY, which load() builds layers from: a user class never replaces another."""

from __future__ import annotations

import pytest

from scratchcnn.layers import activations
from scratchcnn.layers.base import LAYER_REGISTRY, Layer


def test_a_user_class_named_like_a_built_in_is_refused() -> None:
    with pytest.raises(
        TypeError,
        match=r"Layer subclass .*ReLU: the name 'ReLU' is taken by "
        r"scratchcnn\.layers\.activations\.ReLU in LAYER_REGISTRY, which load\(\) uses to "
        r"rebuild saved models; give the class another name",
    ):

        class ReLU(Layer):
            pass

    assert LAYER_REGISTRY["ReLU"] is activations.ReLU


def test_two_user_classes_of_one_name_from_different_places_are_refused() -> None:
    def define() -> type:
        class Doubler(Layer):
            pass

        return Doubler

    define()  # the same class defined again (a notebook cell run twice) replaces itself
    first = define()
    assert LAYER_REGISTRY["Doubler"] is first
    with pytest.raises(
        TypeError, match=r"the name 'Doubler' is taken by .*define.<locals>.Doubler"
    ):
        type("Doubler", (Layer,), {"__module__": "elsewhere"})
    del LAYER_REGISTRY["Doubler"]


def test_private_classes_are_not_registered() -> None:
    class _Helper(Layer):
        pass

    assert "_Helper" not in LAYER_REGISTRY
