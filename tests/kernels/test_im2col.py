"""im2col against a naive loop over every column entry; col2im as its adjoint."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scratchcnn.kernels.im2col import col2im, conv_output_size, im2col

# (padded spatial shape, kernel, stride, dilation); windows that don't fit evenly included.
CASES = [
    ((9,), (3,), (1,), (1,)),
    ((10,), (4,), (3,), (2,)),
    ((7,), (1,), (2,), (1,)),
    ((6, 7), (3, 2), (1, 1), (1, 1)),
    ((9, 8), (3, 3), (2, 3), (2, 1)),
    ((5, 5), (5, 5), (1, 1), (1, 1)),
    ((8, 6), (1, 1), (1, 1), (1, 1)),
    ((8, 6), (1, 2), (3, 2), (1, 3)),
]


def naive_im2col(Xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """cols[c, *k, *o, n] = Xp[c, *(o*stride + k*dilation), n], one element at a time."""
    C, N = Xp.shape[0], Xp.shape[-1]
    out_size = conv_output_size(Xp.shape[1:-1], kernel, stride, dilation)
    cols = np.zeros((C, *kernel, *out_size, N))
    for c, n in itertools.product(range(C), range(N)):
        for k in itertools.product(*(range(x) for x in kernel)):
            for o in itertools.product(*(range(x) for x in out_size)):
                source = tuple(
                    oi * s + ki * d for oi, ki, s, d in zip(o, k, stride, dilation, strict=True)
                )
                cols[(c, *k, *o, n)] = Xp[(c, *source, n)]
    return cols


@pytest.mark.parametrize(("spatial", "kernel", "stride", "dilation"), CASES)
def test_im2col_matches_naive_loop(
    spatial: tuple, kernel: tuple, stride: tuple, dilation: tuple, rng: np.random.Generator
) -> None:
    Xp = rng.standard_normal((3, *spatial, 2))
    np.testing.assert_array_equal(
        im2col(Xp, kernel, stride, dilation), naive_im2col(Xp, kernel, stride, dilation)
    )


@pytest.mark.parametrize(("spatial", "kernel", "stride", "dilation"), CASES)
def test_col2im_is_the_adjoint_of_im2col(
    spatial: tuple, kernel: tuple, stride: tuple, dilation: tuple, rng: np.random.Generator
) -> None:
    x = rng.standard_normal((3, *spatial, 2))
    cols = im2col(x, kernel, stride, dilation)
    y = rng.standard_normal(cols.shape)
    back = col2im(y, x.shape, kernel, stride, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-12)


def test_col2im_counts_window_overlaps() -> None:
    """Folding ones gives how many windows cover each input element."""
    cols = np.ones((1, 3, 3, 1))  # C=1, K=3, OL=3, N=1 over a length-5 input
    np.testing.assert_array_equal(
        col2im(cols, (1, 5, 1), (3,), (1,), (1,)).ravel(), [1, 2, 3, 2, 1]
    )


def test_buffers_are_used_and_overwritten(rng: np.random.Generator) -> None:
    Xp = rng.standard_normal((2, 7, 7, 3)).astype(np.float32)
    cols_out = np.full((2, 3, 3, 3, 3, 3), np.nan, dtype=np.float32)
    cols = im2col(Xp, (3, 3), (2, 2), (1, 1), out=cols_out)
    assert cols is cols_out
    np.testing.assert_array_equal(cols, naive_im2col(Xp, (3, 3), (2, 2), (1, 1)))
    folded_out = np.full(Xp.shape, np.nan, dtype=np.float32)
    folded = col2im(cols, Xp.shape, (3, 3), (2, 2), (1, 1), out=folded_out)
    assert folded is folded_out
    np.testing.assert_array_equal(folded, col2im(cols, Xp.shape, (3, 3), (2, 2), (1, 1)))
    assert cols.dtype == folded.dtype == np.float32


def test_conv_output_size() -> None:
    assert conv_output_size((28, 28), (5, 5), (1, 1), (1, 1)) == (24, 24)
    assert conv_output_size((10,), (3,), (3,), (2,)) == (2,)
    assert conv_output_size((8, 9), (2, 3), (2, 2), (1, 1)) == (4, 4)


def test_implicit_zero_padding_equals_a_padded_input() -> None:
    """im2col(X, pads=...) writes the padding's zeros itself: same columns as from pad(X)."""
    from scratchcnn.kernels.padding import pad

    draw = np.random.default_rng(7)
    checked = 0
    for _ in range(400):
        nd = int(draw.integers(1, 3))
        spatial = tuple(int(n) for n in draw.integers(1, 8, nd))
        kernel = tuple(int(k) for k in draw.integers(1, 5, nd))
        stride = tuple(int(s) for s in draw.integers(1, 4, nd))
        dilation = tuple(int(d) for d in draw.integers(1, 3, nd))
        pads = tuple((int(a), int(b)) for a, b in draw.integers(0, 4, (nd, 2)))
        full = [n + a + b for n, (a, b) in zip(spatial, pads, strict=True)]
        if any(f < d * (k - 1) + 1 for f, k, d in zip(full, kernel, dilation, strict=True)):
            continue
        X = draw.standard_normal((2, *spatial, 3))
        expected = im2col(pad(X, pads, "zeros"), kernel, stride, dilation)
        out = np.full(expected.shape, np.nan)  # every entry must be written
        got = im2col(X, kernel, stride, dilation, out=out, pads=pads)
        np.testing.assert_array_equal(got, expected)
        checked += 1
    assert checked > 300
