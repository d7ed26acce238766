"""What a trained model looks at: feature maps, saliency and class activation maps.

All three run on a float64 copy of the model in evaluation mode (the model is not touched).
``saliency_map`` is the gradient of a class score (the logit, before softmax) with respect
to the input pixels (Simonyan et al. 2014). ``class_activation_map`` is Grad-CAM (Selvaraju
et al. 2017) on the last convolutional block: the block's feature maps weighted by the mean
gradient of the class score over each map, summed over channels and clipped at 0; for a
network that ends in global average pooling and one Dense layer this is exactly the CAM of
Zhou et al. 2016.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import numpy as np

from scratchcnn.grad_mode import no_grad
from scratchcnn.gradcheck import backward_to_input
from scratchcnn.layers import LeakyReLU, ReLU, Sigmoid, Tanh
from scratchcnn.layers.conv import _ConvNd

_ACTIVATIONS = (ReLU, LeakyReLU, Tanh, Sigmoid)


def as_batch(model: Any, X: Any, owner: str) -> np.ndarray:
    """X as a float64 batch (N, *sample_shape); one sample without the batch axis is allowed."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: X must be an array of numbers, but got dtype {X.dtype}")
    try:  # one sample without the batch axis fits the model as a sample shape
        model.output_shape(X.shape, owner)
        X = X[None]
    except (ValueError, TypeError):
        pass
    model._check_X(X, owner)
    return np.array(X, dtype=np.float64)


def _eval_copy(model: Any) -> Any:
    """A float64 deep copy of ``model`` in evaluation mode."""
    net = deepcopy(model)
    net.dtype = np.dtype(np.float64)
    net.eval()
    for layer in net.layers:
        layer._adopt_dtype(np.dtype(np.float64))
    return net


def _targets(logits: np.ndarray, target: Any, owner: str) -> np.ndarray:
    """Class indices (N,): the predicted classes, or ``target`` (an int or one per sample)."""
    if target is None:
        return logits.argmax(axis=1)
    classes = np.broadcast_to(np.asarray(target), (logits.shape[0],)).astype(np.int64)
    if classes.min() < 0 or classes.max() >= logits.shape[1]:
        raise ValueError(
            f"{owner}: target must be a class in [0, {logits.shape[1]}), but got {target!r}"
        )
    return classes


def _score_gradient(logits: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """d(sum over samples of logit[n, class_n]) / d logits: one-hot rows."""
    grad = np.zeros_like(logits)
    grad[np.arange(logits.shape[0]), classes] = 1.0
    return grad


def saliency_map(model: Any, X: Any, target: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of each sample's class score w.r.t. its input: returns ``(grad, classes)``.

    ``grad`` has X's batched shape; ``classes`` (N,) are the classes explained: the predicted
    ones, or ``target``. The class score is the logit, as in Simonyan et al.
    """
    owner = "saliency_map"
    X = as_batch(model, X, owner)
    net = _eval_copy(model)
    logits = net.forward(X.copy())
    if logits.ndim != 2:
        raise ValueError(f"{owner}: expected class scores (N, K), but got shape {logits.shape}")
    classes = _targets(logits, target, owner)
    dX = backward_to_input(net, _score_gradient(logits, classes))
    return np.asarray(dX), classes


def last_conv_block(model: Any) -> int:
    """Index of the last convolution's block output: its activation if one follows it."""
    convs = [i for i, layer in enumerate(model.layers) if isinstance(layer, _ConvNd)]
    if not convs:
        raise ValueError("class_activation_map: the model has no convolution layer")
    i = convs[-1]
    if i + 1 < len(model.layers) and isinstance(model.layers[i + 1], _ACTIVATIONS):
        return i + 1
    return i


def class_activation_map(
    model: Any, X: Any, target: Any = None, layer: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM maps (N, *spatial) at the feature layer's resolution, and the classes.

    ``layer`` is the index of the layer whose output is used (default: the last
    convolution, after its activation).
    """
    owner = "class_activation_map"
    X = as_batch(model, X, owner)
    net = _eval_copy(model)
    index = last_conv_block(net) if layer is None else int(layer)
    A = X.copy()  # layers run alone keep no shared buffers, so ``features`` stays ours
    for i, current in enumerate(net.layers):
        A = current.forward(A)
        if i == index:
            features = np.array(A)
    logits = A
    classes = _targets(logits, target, owner)
    dA = _score_gradient(logits, classes)
    for current in reversed(net.layers[index + 1 :]):
        dA = current.backward(dA)
    spatial_axes = tuple(range(2, features.ndim))
    weights = np.asarray(dA).mean(axis=spatial_axes)  # (N, C): alpha_k
    cam = np.einsum("nc...,nc->n...", features, weights)
    return np.maximum(cam, 0.0), classes


def unit_centres(
    layers: Any, input_shape: tuple[int, ...], upto: int
) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """Where layer ``upto``'s output units sit on the input: ``(start, jump)`` per axis.

    Unit ``o`` along an axis is centred on input pixel ``start + o * jump``: each
    convolution or pooling window moves the centre by ``(reach - 1) / 2 - left padding``
    input steps of the layer below, and multiplies the jump by its stride.
    """
    from scratchcnn.layers.pooling import _Pool

    n = len(input_shape) - 1
    start, jump = [0.0] * n, [1] * n
    for layer in layers[: upto + 1]:
        if isinstance(layer, (_ConvNd, _Pool)):
            conv = isinstance(layer, _ConvNd)
            dilation = layer.dilation if conv else (1,) * n
            pads = layer.pads if conv else tuple((p, p) for p in layer.padding)
            for i in range(n):
                reach = dilation[i] * (layer.kernel_size[i] - 1) + 1
                start[i] += jump[i] * ((reach - 1) / 2 - pads[i][0])
                jump[i] *= layer.stride[i]
    return tuple(start), tuple(jump)


def place_on_input(
    maps: np.ndarray, start: tuple[float, ...], jump: tuple[int, ...], size: tuple[int, ...]
) -> np.ndarray:
    """Resample (N, h, w) unit maps onto the (N, *size) input pixels they are centred on.

    Linear interpolation between unit centres; beyond the outermost centres the map fades
    to 0 over one jump (no unit is centred there).
    """
    out = maps
    for axis, (first, step, target) in enumerate(zip(start, jump, size, strict=True), start=1):
        count = out.shape[axis]
        centres = first + step * np.arange(-1, count + 1)
        pixels = np.arange(target, dtype=np.float64)
        moved = np.moveaxis(out, axis, -1)
        flat = moved.reshape(-1, count)
        padded = np.pad(flat, ((0, 0), (1, 1)))
        resampled = np.stack([np.interp(pixels, centres, row) for row in padded])
        out = np.moveaxis(resampled.reshape((*moved.shape[:-1], target)), -1, axis)
    return out


def feature_maps(model: Any, x: Any) -> list[tuple[int, str, np.ndarray]]:
    """Each convolution block's output for one sample: ``(index, label, maps (C, *S))``.

    The block's output is the convolution's, after the activation that follows it.
    """
    owner = "feature_maps"
    X = as_batch(model, x, owner)[:1]
    net = _eval_copy(model)
    from scratchcnn.summary import layer_names

    names = layer_names([type(layer).__name__ for layer in net.layers])
    wanted = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, _ConvNd):
            after = (
                i + 1
                if i + 1 < len(net.layers) and isinstance(net.layers[i + 1], _ACTIVATIONS)
                else i
            )
            label = names[i] if after == i else f"{names[i]} + {names[after]}"
            wanted[after] = label
    out = []
    A = X
    with no_grad():
        for i, layer in enumerate(net.layers):
            A = layer.forward(A)
            if i in wanted:
                out.append((i, wanted[i], np.array(A[0])))
    return out
