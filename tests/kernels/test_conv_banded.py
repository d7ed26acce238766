"""The banded (inference) convolution equals the full im2col convolution.

Every test runs twice: with the direct convolution taking the thin layers it serves, and with
it off, so that im2col's bands and column overwriting are checked on those layers too.
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchcnn.kernels import direct
from scratchcnn.kernels.conv import conv_forward, conv_forward_banded


@pytest.fixture(autouse=True, params=["direct", "im2col"])
def thin_layer_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(direct, "ENABLED", direct.ENABLED and request.param == "direct")
    return request.param

CASES = [
    # (C_in, C_out, spatial, kernel, stride, dilation, pads, groups, mode)
    (3, 4, (9, 11), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 1, "zeros"),
    (4, 6, (10, 7), (2, 3), (2, 1), (1, 2), ((0, 1), (2, 2)), 2, "reflect"),
    (4, 4, (8, 8), (3, 3), (3, 2), (2, 1), ((1, 1), (0, 0)), 4, "circular"),
    (2, 3, (7, 9), (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)), 1, "zeros"),
    (2, 5, (13,), (5,), (2,), (1,), ((2, 2),), 1, "replicate"),
    (6, 6, (12,), (3,), (1,), (3,), ((0, 0),), 3, "zeros"),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("band_bytes", [1, 256, 1 << 30])
def test_banded_matches_full(case: tuple, band_bytes: int, rng: np.random.Generator) -> None:
    C_in, C_out, spatial, kernel, stride, dilation, pads, groups, mode = case
    X = rng.standard_normal((C_in, *spatial, 3))
    W = rng.standard_normal((C_out, C_in // groups, *kernel))
    b = rng.standard_normal(C_out)
    expected, _ = conv_forward(X, W, b, pads, stride, dilation, groups, mode)
    got = conv_forward_banded(
        X, W, b, pads, stride, dilation, groups, mode, workspace={}, band_bytes=band_bytes
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_banded_keeps_float32(rng: np.random.Generator) -> None:
    X = rng.standard_normal((2, 6, 6, 4)).astype(np.float32)
    W = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    Y = conv_forward_banded(X, W, None, ((0, 0), (0, 0)), (1, 1), (1, 1), band_bytes=64)
    assert Y.dtype == np.float32


@pytest.mark.parametrize("groups", [1, 2])
def test_overwriting_cols_gives_the_same_gradients(groups: int, rng: np.random.Generator) -> None:
    from scratchcnn.kernels.conv import conv_backward

    X = rng.standard_normal((4, 7, 6, 3))
    W = rng.standard_normal((6, 4 // groups, 3, 2))
    args = (((1, 0), (0, 1)), (2, 1), (1, 1), groups, "zeros")
    Y, cols = conv_forward(X, W, None, *args)
    dY = rng.standard_normal(Y.shape)
    # the direct path keeps the input, which overwrite_cols must leave alone
    kept_cols = cols.copy() if isinstance(cols, np.ndarray) else cols
    kept = conv_backward(dY, kept_cols, W, X.shape, *args, has_bias=False)
    reused = conv_backward(dY, cols, W, X.shape, *args, has_bias=False, overwrite_cols=True)
    for a, b in zip(kept, reused, strict=True):
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
