"""The direct row convolution (kernels/direct.py): both twins against PyTorch and im2col.

Every check runs on the NumPy reference and on the generated Numba loops. float64 must match
torch.nn.functional to 1e-10 (relative to the largest value); float32 to 2e-5, which is the
tolerance this path guarantees (its sums have at most C_in * KH * KW terms per output, and the
weight gradient's long sums run in vector-width partial sums).
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels import compiled, conv, direct
from scratchcnn.kernels.direct_codegen import GENERATED, MAX_BLOCK, module_source

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}


@pytest.fixture(params=["numba", "numpy"])
def use_compiled(request: pytest.FixtureRequest) -> bool:
    if request.param == "numba" and not compiled.HAVE_NUMBA:
        pytest.skip("Numba is not installed (or SCRATCHCNN_NO_NUMBA is set)")
    return request.param == "numba"


def _relative(got: np.ndarray, expected: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    return float(np.abs(got - expected).max(initial=0.0)) / scale


def _torch_reference(X, W, b, dY, dilation, stride=None):
    """(Y, dX, dW) from torch in float64, for batch-last X (C, *S, N), dY (C_out, *OS, N)."""
    nd = W.ndim - 2
    order = (nd + 1, *range(nd + 1))  # batch-last -> batch-first
    Xt = torch.from_numpy(X.transpose(order).astype(np.float64)).requires_grad_()
    Wt = torch.from_numpy(W.astype(np.float64)).requires_grad_()
    bt = None if b is None else torch.from_numpy(b.astype(np.float64))
    conv_fn = F.conv1d if nd == 1 else F.conv2d
    Yt = conv_fn(Xt, Wt, bt, stride=stride or (1,) * nd, dilation=dilation)
    Yt.backward(torch.from_numpy(dY.transpose(order).astype(np.float64)))
    back = (*range(1, nd + 2), 0)
    return (
        Yt.detach().numpy().transpose(back),
        Xt.grad.numpy().transpose(back),
        Wt.grad.numpy(),
    )


CASES = [
    # (C_in, C_out, kernel, dilation, spatial, batch): LeNet-5's layers, widths 1..7,
    # every remainder of MAX_BLOCK output channels, dilation, 1-D, a batch of one.
    (1, 6, (5, 5), (1, 1), (12, 11), 5),
    (6, 16, (5, 5), (1, 1), (9, 9), 3),
    (3, 9, (3, 3), (1, 1), (7, 8), 4),
    (2, 7, (3, 2), (2, 1), (9, 7), 2),
    (4, 3, (2, 7), (1, 2), (5, 16), 3),
    (5, 2, (1, 6), (1, 1), (3, 9), 2),
    (2, 5, (4, 1), (1, 1), (6, 4), 3),
    (1, 1, (3, 3), (3, 3), (9, 10), 1),
    (3, 4, (5,), (1,), (17,), 6),
    (2, 6, (3,), (2,), (11,), 3),
]
# (C_in, C_out, kernel, stride, dilation, spatial, batch): strided forward and weight
# gradient, including samples that do not fill a chunk (batch 600 > CHUNK) and MNIST-1D's.
STRIDED = [
    (1, 25, (5,), (2,), (1,), (42,), 7),
    (25, 25, (3,), (2,), (1,), (21,), 3),
    (3, 5, (3, 3), (2, 2), (1, 1), (9, 10), 4),
    (2, 6, (3, 2), (1, 3), (2, 1), (11, 12), 2),
    (2, 3, (3, 3), (3, 2), (1, 2), (10, 9), 600),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-d{c[3]}")
def test_forward_and_gradients_match_torch(
    case: tuple, dtype: type, use_compiled: bool, rng: np.random.Generator
) -> None:
    C_in, C_out, kernel, dilation, spatial, batch = case
    X = rng.standard_normal((C_in, *spatial, batch)).astype(dtype)
    W = rng.standard_normal((C_out, C_in, *kernel)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    out_size = conv.conv_output_size(spatial, kernel, (1,) * len(kernel), dilation)
    dY = rng.standard_normal((C_out, *out_size, batch)).astype(dtype)
    Y_ref, dX_ref, dW_ref = _torch_reference(X, W, b, dY, dilation)

    ones = (1,) * len(kernel)
    Y = direct.direct_forward(X, W, b, ones, dilation, np.empty_like(dY), use_compiled)
    dX, dW = direct.direct_backward(dY, X, W, ones, dilation, use_compiled=use_compiled)
    for name, got, expected in (("Y", Y, Y_ref), ("dX", dX, dX_ref), ("dW", dW, dW_ref)):
        assert got.shape == expected.shape and got.dtype == dtype, name
        error = _relative(got, expected)
        assert error <= TOLERANCE[dtype], f"{name}: relative error {error:.2e}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", STRIDED, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-s{c[3]}")
def test_strided_forward_and_weight_gradient_match_torch(
    case: tuple, dtype: type, use_compiled: bool, rng: np.random.Generator
) -> None:
    C_in, C_out, kernel, stride, dilation, spatial, batch = case
    X = rng.standard_normal((C_in, *spatial, batch)).astype(dtype)
    W = rng.standard_normal((C_out, C_in, *kernel)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    out_size = conv.conv_output_size(spatial, kernel, stride, dilation)
    dY = rng.standard_normal((C_out, *out_size, batch)).astype(dtype)
    Y_ref, _, dW_ref = _torch_reference(X, W, b, dY, dilation, stride)
    Y = direct.direct_forward(X, W, b, stride, dilation, np.empty_like(dY), use_compiled)
    dX, dW = direct.direct_backward(
        dY, X, W, stride, dilation, compute_dx=False, use_compiled=use_compiled
    )
    assert dX is None
    for name, got, expected in (("Y", Y, Y_ref), ("dW", dW, dW_ref)):
        assert got.shape == expected.shape and got.dtype == dtype, name
        error = _relative(got, expected)
        assert error <= TOLERANCE[dtype], f"{name}: relative error {error:.2e}"
    with pytest.raises(ValueError, match="direct_backward: the input gradient needs stride 1"):
        direct.direct_backward(dY, X, W, stride, dilation, use_compiled=use_compiled)


def test_backward_parts_and_no_bias(use_compiled: bool, rng: np.random.Generator) -> None:
    """compute_dx / compute_dw skip their part; no bias means zero bias."""
    X = rng.standard_normal((2, 8, 8, 3))
    W = rng.standard_normal((5, 2, 3, 3))
    dY = rng.standard_normal((5, 6, 6, 3))
    Y = direct.direct_forward(X, W, None, (1, 1), (1, 1), np.empty_like(dY), use_compiled)
    expected, dX_ref, dW_ref = _torch_reference(X, W, None, dY, (1, 1))
    assert _relative(Y, expected) <= 1e-12
    dX, dW = direct.direct_backward(
        dY, X, W, (1, 1), (1, 1), compute_dw=False, use_compiled=use_compiled
    )
    assert dW is None and _relative(dX, dX_ref) <= 1e-12
    dX, dW = direct.direct_backward(
        dY, X, W, (1, 1), (1, 1), compute_dx=False, use_compiled=use_compiled
    )
    assert dX is None and _relative(dW, dW_ref) <= 1e-12


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")
def test_workspace_keeps_zero_borders(rng: np.random.Generator) -> None:
    """The padded dY buffer is reused: its zero columns must stay zero between calls."""
    X = rng.standard_normal((3, 10, 10, 4)).astype(np.float32)
    W = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    workspace: dict[str, np.ndarray] = {}
    for _ in range(3):
        dY = rng.standard_normal((4, 6, 6, 4)).astype(np.float32) * 100
        dX, _ = direct.direct_backward(dY, X, W, (1, 1), (1, 1), workspace=workspace)
        _, dX_ref, _ = _torch_reference(X, W, None, dY, (1, 1))
        assert _relative(dX, dX_ref) <= 2e-5
    assert "direct_dy" in workspace


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")
def test_results_do_not_depend_on_the_thread_count(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    """Each number is computed by one thread in one order: 1 and 2 threads agree bit for bit."""
    X = rng.standard_normal((6, 12, 12, 32)).astype(np.float32)
    W = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    dY = rng.standard_normal((16, 8, 8, 32)).astype(np.float32)
    results = []
    for threads in ("1", "2"):
        monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", threads)
        Y = direct.direct_forward(X, W, b, (1, 1), (1, 1), out=np.empty_like(dY))
        results.append((Y, *direct.direct_backward(dY, X, W, (1, 1), (1, 1), workspace={})))
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")
@pytest.mark.parametrize(
    "shape, stride, groups, expected",
    [
        ((6, 1, 5, 5), (1, 1), 1, True),  # LeNet-5's first layer
        ((16, 6, 5, 5), (1, 1), 1, True),  # and its second
        ((32, 3, 3, 3), (1, 1), 1, True),  # an RGB stem
        ((25, 1, 5), (1,), 1, True),  # 1-D
        ((25, 25, 3), (2,), 1, False),  # MNIST-1D's strided layers: im2col is faster
        ((6, 1, 5, 5), (2, 2), 1, False),  # stride 2
        ((6, 2, 5, 5), (1, 1), 2, False),  # groups
        ((8, 4, 1, 1), (1, 1), 1, False),  # 1x1: BLAS on the input itself
        ((16, 8, 9, 9), (1, 1), 1, False),  # wider than the generated loops
        ((32, 32, 5, 5), (1, 1), 1, False),  # 800 inputs per output: im2col + BLAS
        ((128, 1, 3, 3), (1, 1), 1, False),  # many output channels
    ],
)
def test_which_layers_take_it(shape: tuple, stride: tuple, groups: int, expected: bool) -> None:
    W = np.zeros(shape, dtype=np.float32)
    assert direct.applies(W, stride, (1,) * len(stride), groups) is expected
    assert direct.applies(W.astype(np.float16), stride, (1,) * len(stride), groups) is False


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="Numba is not installed")
@pytest.mark.parametrize("stride", [(1, 1), (2, 1)])
def test_conv_routes_thin_layers_and_padding(
    stride: tuple, monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    """conv_forward keeps a DirectSaved; padded layers give dX at the input's shape.

    Strided layers are routed here only when MAX_STRIDE allows; their dX comes from col2im.
    """
    monkeypatch.setattr(direct, "MAX_STRIDE", max(stride))
    X = rng.standard_normal((2, 10, 9, 4))
    W = rng.standard_normal((6, 2, 5, 5))
    b = rng.standard_normal(6)
    pads = ((2, 2), (1, 3))
    Y, saved = conv.conv_forward(X, W, b, pads, stride, (1, 1), padding_mode="reflect")
    assert isinstance(saved, direct.DirectSaved)
    dY = rng.standard_normal(Y.shape)
    dX, dW, db = conv.conv_backward(
        dY, saved, W, X.shape, pads, stride, (1, 1), padding_mode="reflect"
    )
    direct_results = (Y, dX, dW, db)
    original = direct.ENABLED
    try:
        direct.ENABLED = False
        Y2, cols = conv.conv_forward(X, W, b, pads, stride, (1, 1), padding_mode="reflect")
        assert isinstance(cols, np.ndarray)
        reference = (
            Y2,
            *conv.conv_backward(dY, cols, W, X.shape, pads, stride, (1, 1), padding_mode="reflect"),
        )
    finally:
        direct.ENABLED = original
    for got, expected in zip(direct_results, reference, strict=True):
        assert got.shape == expected.shape
        assert _relative(got, expected) <= 1e-12
    Y3 = conv.conv_forward_banded(X, W, b, pads, stride, (1, 1), padding_mode="reflect")
    assert _relative(Y3, Y) <= 1e-12


def test_generated_file_is_up_to_date() -> None:
    assert GENERATED.read_text() == module_source(), (
        "kernels/direct_generated.py is stale: run python -m scratchcnn.kernels.direct_codegen"
    )


def test_channel_blocks_cover_every_channel() -> None:
    for channels in range(1, 3 * MAX_BLOCK + 2):
        runs = direct._channel_blocks(channels)
        assert [c for first, end, _ in runs for c in range(first, end)] == list(range(channels))
        for first, end, block in direct._channel_blocks(channels):
            assert (end - first) % block == 0 and 1 <= block <= MAX_BLOCK
