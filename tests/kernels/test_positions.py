"""The position-major 1-D convolution (kernels/positions.py) against PyTorch and im2col.

float64 must match torch.nn.functional.conv1d to 1e-10 (relative to the largest value) over a
grid of strides, paddings and lengths that make every edge case: windows that reach into the
padding on either side, outputs that see only padding, strides larger than the kernel (input
positions no output reads), a batch of one. float32 must match the im2col route to 2e-5, and
the results must not depend on the thread count.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratchcnn.kernels import compiled, conv, layout, positions

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _relative(got: np.ndarray, expected: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    return float(np.abs(got - expected).max(initial=0.0)) / scale


def _torch_reference(X, W, b, dY, pads, stride):
    """(Y, dX, dW, db) from torch in float64 for X (N, C, L) and dY (N, C_out, L_out)."""
    Xt = torch.from_numpy(X).requires_grad_()
    Wt = torch.from_numpy(W).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    Yt = F.conv1d(F.pad(Xt, pads), Wt, bt, stride=stride)
    Yt.backward(torch.from_numpy(dY))
    return Yt.detach().numpy(), Xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


def _grid():
    """(L, C, C_out, K, stride, pads, N): every edge of the windows, kept small."""
    cases = []
    for L, K, stride, pads in itertools.product(
        (1, 2, 5, 9), (1, 2, 3, 5), (1, 2, 3, 4), ((0, 0), (1, 1), (2, 0), (0, 3), (4, 4))
    ):
        if L + sum(pads) >= K:
            cases.append((L, 2, 3, K, stride, pads, 3))
    cases += [(40, 1, 25, 5, 2, (1, 1), 4), (19, 25, 25, 3, 2, (1, 1), 2)]
    cases.append((7, 3, 2, 3, 1, (1, 1), 1))  # a batch of one
    return cases


@pytest.mark.parametrize("case", _grid(), ids=lambda c: "L{}-C{}-O{}-K{}-s{}-p{}-N{}".format(*c))
def test_matches_torch_in_float64(case, rng: np.random.Generator, kernel_path: str) -> None:
    L, C, C_out, K, stride, pads, N = case
    X = rng.standard_normal((N, C, L))
    W = rng.standard_normal((C_out, C, K))
    b = rng.standard_normal(C_out)
    L_out = positions.output_length(L, K, pads, stride)
    dY = rng.standard_normal((N, C_out, L_out))
    Y_t, dX_t, dW_t, db_t = _torch_reference(X, W, b, dY, pads, stride)

    Xk = layout.to_position_major(X)
    Y = positions.forward(Xk, W, b, pads, stride)
    dX, dW, db = positions.backward(layout.to_position_major(dY), Xk, W, pads, stride)
    assert _relative(layout.from_position_major(Y), Y_t) <= 1e-10
    assert _relative(layout.from_position_major(dX), dX_t) <= 1e-10
    assert _relative(dW, dW_t) <= 1e-10
    assert _relative(db, db_t) <= 1e-10


@pytest.mark.parametrize(
    "shape", [(40, 1, 25, 5, 2, (1, 1)), (19, 25, 25, 3, 2, (1, 1)), (12, 6, 8, 7, 1, (3, 3))]
)
def test_float32_matches_the_im2col_route(shape, rng: np.random.Generator) -> None:
    """MNIST-1D's layers and a stride-1 one, at batch 64, against conv.py's batch-last path."""
    L, C, C_out, K, stride, pads = shape
    N = 64
    X = rng.standard_normal((C, L, N)).astype(np.float32)  # batch-last
    W = rng.standard_normal((C_out, C, K)).astype(np.float32)
    b = rng.standard_normal(C_out).astype(np.float32)
    Y_ref, cols = conv.conv_forward(X, W, b, (pads,), (stride,), (1,))
    dY = rng.standard_normal(Y_ref.shape).astype(np.float32)
    dX_ref, dW_ref, db_ref = conv.conv_backward(dY, cols, W, X.shape, (pads,), (stride,), (1,))

    Xk = np.ascontiguousarray(X.transpose(1, 0, 2))  # (L, C, N)
    Y = positions.forward(Xk, W, b, pads, stride)
    dYk = np.ascontiguousarray(dY.transpose(1, 0, 2))
    dX, dW, db = positions.backward(dYk, Xk, W, pads, stride)
    assert Y.dtype == dX.dtype == dW.dtype == np.float32
    assert _relative(Y.transpose(1, 0, 2), Y_ref) <= 2e-5
    assert _relative(dX.transpose(1, 0, 2), dX_ref) <= 2e-5
    assert _relative(dW, dW_ref) <= 2e-5
    assert _relative(db, db_ref) <= 2e-5


def test_results_do_not_depend_on_the_thread_count(monkeypatch, rng: np.random.Generator) -> None:
    """Y, dX and dW bit for bit on one and two threads (MNIST-1D's middle layer, batch 128)."""
    X = rng.standard_normal((19, 25, 128)).astype(np.float32)
    W = rng.standard_normal((25, 25, 3)).astype(np.float32)
    b = rng.standard_normal(25).astype(np.float32)
    dY = rng.standard_normal((10, 25, 128)).astype(np.float32)
    results = []
    for threads in (1, 2):
        monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", str(threads))
        with threadpool_limits(threads):
            Y = positions.forward(X, W, b, (1, 1), 2)
            results.append((Y, *positions.backward(dY, X, W, (1, 1), 2)))
    for first, second in zip(*results, strict=True):
        np.testing.assert_array_equal(first, second)


def test_backward_leaves_out_what_is_not_asked(rng: np.random.Generator) -> None:
    X = rng.standard_normal((9, 2, 3))
    W = rng.standard_normal((4, 2, 3))
    dY = rng.standard_normal((4, 4, 3))
    dX, dW, db = positions.backward(dY, X, W, (0, 0), 2, has_bias=False, compute_dx=False)
    assert dX is None and db is None and dW.shape == W.shape
    dX, dW, db = positions.backward(dY, X, W, (0, 0), 2, compute_dw=False)
    assert dW is None and db is None and dX.shape == X.shape


def test_applies_to_plain_1d_layers_only() -> None:
    W = np.zeros((4, 2, 3), dtype=np.float32)
    assert positions.applies(W, (2,), (1,), 1, "zeros")
    assert not positions.applies(W, (2,), (2,), 1, "zeros")  # dilation
    assert not positions.applies(W, (1,), (1,), 2, "zeros")  # groups
    assert not positions.applies(W, (1,), (1,), 1, "reflect")
    assert not positions.applies(np.zeros((4, 2, 3, 3)), (1, 1), (1, 1), 1, "zeros")  # 2-D
    assert not positions.applies(W.astype(np.float16), (1,), (1,), 1, "zeros")


@pytest.mark.parametrize("relu", [False, True])
def test_add_bias_matches_numpy(relu: bool, rng: np.random.Generator, kernel_path: str) -> None:
    for shape in [(3, 4, 5), (40, 25, 1200)]:  # the second runs in parts on the threads
        Y = rng.standard_normal(shape).astype(np.float32)
        Y[0, 0, :2] = (np.nan, -0.0)
        b = rng.standard_normal(shape[1]).astype(np.float32)
        b[0] = 0
        expected = Y + b[:, None]
        if relu:
            expected = np.maximum(expected, 0)
        positions.add_bias(Y, b, relu)
        np.testing.assert_array_equal(Y, expected)
        assert np.signbit(Y[0, 0, 1]) == np.signbit(expected[0, 0, 1])
    if kernel_path == "numba":
        assert compiled.usable()


@pytest.mark.parametrize("memory", ["pytorch", "batch-last", "position-major", "strided"])
def test_to_position_major_takes_any_layout(memory: str, rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 3, 7)).astype(np.float32)  # (N, C, L)
    if memory == "batch-last":
        view = layout.from_batch_last(np.ascontiguousarray(X.transpose(1, 2, 0)))
    elif memory == "position-major":
        view = layout.from_position_major(np.ascontiguousarray(X.transpose(2, 1, 0)))
    elif memory == "strided":
        view = np.repeat(X, 2, axis=2)[:, :, ::2]
    else:
        view = X
    np.testing.assert_array_equal(view, X)
    converted = layout.to_position_major(view)
    assert converted.flags.c_contiguous and converted.shape == (7, 3, 5)
    np.testing.assert_array_equal(converted, X.transpose(2, 1, 0))
    if memory == "position-major":  # a layer's output goes on to the next with no copy
        assert np.shares_memory(converted, view)


def test_small_products_run_on_one_blas_thread():
    """Products under SMALL_PRODUCT_FLOPS hold BLAS to one thread; larger ones keep its count."""
    from scratchcnn.kernels import threads

    libraries = threads.blas_libraries(threads.blas_controller())  # those NumPy's products use

    def blas_threads() -> list[int]:
        return [library.get_num_threads() for library in libraries]

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        with positions._blas_threads_for(25, 75, 1000):  # MNIST-1D's 25->25 layer: 3.75 MFLOP
            assert set(blas_threads()) == {1}
        assert blas_threads() == before
        with positions._blas_threads_for(64, 192, 1000):  # 24.6 MFLOP
            assert blas_threads() == before
