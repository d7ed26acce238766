"""Winograd F(m x m, 3 x 3) against PyTorch (float64), its NumPy twin, and its float32 bound."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from scratchcnn.kernels import winograd
from scratchcnn.kernels.conv import WinogradSaved, conv_backward, conv_forward, uses_winograd
from scratchcnn.kernels.winograd_codegen import GENERATED, module_source, source
from scratchcnn.kernels.winograd_transforms import TRANSFORMS, transforms

torch = pytest.importorskip("torch")


def _torch_conv(Xp: np.ndarray, W: np.ndarray, b: np.ndarray | None, dY: np.ndarray):
    """PyTorch's valid conv2d of batch-last Xp, and its gradients for dY (all batch-last)."""
    Xt = torch.tensor(Xp.transpose(3, 0, 1, 2), requires_grad=True)
    Wt = torch.tensor(W, requires_grad=True)
    bt = None if b is None else torch.tensor(b)
    Y = torch.nn.functional.conv2d(Xt, Wt, bt)
    Y.backward(torch.tensor(dY.transpose(3, 0, 1, 2)))
    back = lambda t: t.detach().numpy().transpose(1, 2, 3, 0)  # noqa: E731
    return back(Y), back(Xt.grad), Wt.grad.numpy()


@pytest.fixture(params=["numpy", "numba"])
def use_compiled(request: pytest.FixtureRequest) -> bool:
    """Both paths: the NumPy twin and the Numba loops (seconds to compile, cached on disk)."""
    if request.param == "numba":
        pytest.importorskip("numba")
    return request.param == "numba"


@pytest.fixture
def winograd_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(winograd, "ENABLED", True)


@pytest.mark.parametrize("m", winograd.TILE_SIZES)
def test_one_dimensional_minimal_filtering_is_correlation(m: int) -> None:
    """A^T [(G g) * (B^T d)] equals the m outputs of correlating d with g, in exact arithmetic."""
    mats = winograd.matrices(m)
    rng = np.random.default_rng(m)
    d, g = rng.standard_normal(m + 2), rng.standard_normal(3)
    expected = np.correlate(d, g, mode="valid")
    np.testing.assert_allclose(mats.AT @ ((mats.G @ g) * (mats.BT @ d)), expected, atol=1e-13)


@pytest.mark.parametrize("m", winograd.TILE_SIZES)
@pytest.mark.parametrize(
    "shape",
    [
        (3, 5, 7, 9, 3),  # border tiles on both axes
        (8, 8, 10, 10, 130),  # tiles that fit exactly, two sample blocks
        (4, 2, 3, 3, 1),  # one output pixel
        (16, 4, 6, 13, 2),
    ],
)
def test_forward_and_backward_equal_torch(use_compiled: bool, m: int, shape, rng) -> None:
    C, C_out, H, W_, N = shape
    Xp = rng.standard_normal((C, H, W_, N))
    W = rng.standard_normal((C_out, C, 3, 3))
    b = rng.standard_normal(C_out)
    Y = winograd.winograd_forward(Xp, W, b, m=m, use_compiled=use_compiled)
    dY = rng.standard_normal(Y.shape)
    Y_ref, dX_ref, dW_ref = _torch_conv(Xp, W, b, dY)
    np.testing.assert_allclose(Y, Y_ref, rtol=0, atol=1e-10)
    dXp, dW = winograd.winograd_backward(dY, Xp, W, m=m, use_compiled=use_compiled)
    np.testing.assert_allclose(dXp, dX_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dW, dW_ref, rtol=0, atol=1e-10)
    _, dW_only = winograd.winograd_backward(
        dY, Xp, W, compute_dx=False, m=m, use_compiled=use_compiled
    )
    np.testing.assert_array_equal(dW_only, dW)


@pytest.mark.parametrize("nn", [5, 70])  # fewer samples than one pass of the loop; more
def test_compiled_transforms_equal_numpy_twin(nn: int, rng) -> None:
    """Each straight-line Numba loop against the NumPy reference, border tile included."""
    pytest.importorskip("numba")
    m, alpha, C, ntiles = 4, 6, 3, 2
    mats = winograd.matrices(m)
    fast = transforms(m, use_compiled=True)
    Xp = rng.standard_normal((C, 9, 11, nn + 2))
    block = (m, 1, 1, ntiles, 2)  # tile row 1, tiles 1-2 (the second leaves the array)
    V = [np.zeros((alpha * alpha, C, ntiles * nn)) for _ in range(2)]
    for ops, out in zip((TRANSFORMS, fast), V, strict=True):
        ops.input_transform(Xp, mats.BT, *block, out)
    np.testing.assert_allclose(V[1], V[0], rtol=1e-12, atol=1e-12)

    bias = rng.standard_normal(C)
    Y = [np.full((C, 7, 9, nn + 2), 5.0) for _ in range(2)]
    for ops, out in zip((TRANSFORMS, fast), Y, strict=True):
        ops.output_transform(V[0], mats.AT, bias, *block, out)
    np.testing.assert_allclose(Y[1], Y[0], rtol=1e-12, atol=1e-12)

    dM = [np.zeros((alpha * alpha, C, ntiles * nn)) for _ in range(2)]
    for ops, out in zip((TRANSFORMS, fast), dM, strict=True):
        ops.output_transform_adjoint(Y[0], mats.AT, *block, out)
    np.testing.assert_allclose(dM[1], dM[0], rtol=1e-12, atol=1e-12)

    dX = [np.ones((C, 9, 11, nn + 2)) for _ in range(2)]
    for ops, out in zip((TRANSFORMS, fast), dX, strict=True):
        ops.input_transform_adjoint(V[0], mats.BT, *block, out)
    np.testing.assert_allclose(dX[1], dX[0], rtol=1e-12, atol=1e-12)


def test_float32_error_is_bounded(use_compiled: bool, rng) -> None:
    """float32 error <= FLOAT32_TOLERANCE x sum |w x| per output, against float64."""
    C, C_out, H, N = 32, 16, 18, 8
    Xp = rng.standard_normal((C, H, H, N)).astype(np.float32)
    W = (rng.standard_normal((C_out, C, 3, 3)) / 10).astype(np.float32)
    Y = winograd.winograd_forward(Xp, W, None, use_compiled=use_compiled)
    assert Y.dtype == np.float32
    Y64, _, _ = _torch_conv(Xp.astype(np.float64), W.astype(np.float64), None, np.zeros(Y.shape))
    scale, _, _ = _torch_conv(np.abs(Xp).astype(np.float64), np.abs(W).astype(float), None, Y64)
    assert np.all(np.abs(Y - Y64) <= winograd.FLOAT32_TOLERANCE * scale)


def test_results_do_not_depend_on_thread_count(monkeypatch: pytest.MonkeyPatch, rng) -> None:
    """Blocks are planned from the shapes alone and partial dW summed in a fixed order."""
    Xp = rng.standard_normal((8, 10, 10, 150)).astype(np.float32)
    W = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    results = []
    for threads in ("1", "2"):
        monkeypatch.setenv("SCRATCHCNN_NUM_THREADS", threads)
        Y = winograd.winograd_forward(Xp, W, None)
        results.append((Y, *winograd.winograd_backward(np.ones_like(Y), Xp, W)))
    for first, second in zip(*results, strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "circular"])
def test_conv_kernels_pick_winograd_and_match_im2col(
    padding_mode: str, monkeypatch: pytest.MonkeyPatch, rng, winograd_on
) -> None:
    """``conv_forward``/``conv_backward`` route 3x3 layers to Winograd, equal to im2col."""
    from scratchcnn.kernels import compiled

    if not compiled.HAVE_NUMBA:
        pytest.skip("Winograd layers need Numba (not installed, or SCRATCHCNN_NO_NUMBA is set)")
    X = rng.standard_normal((8, 9, 12, 4))
    W = rng.standard_normal((8, 8, 3, 3))
    b = rng.standard_normal(8)
    args = (((1, 1), (1, 1)), (1, 1), (1, 1), 1, padding_mode)
    assert uses_winograd(W, (1, 1), (1, 1), 1)
    Y, saved = conv_forward(X, W, b, *args)
    assert isinstance(saved, WinogradSaved)
    dY = rng.standard_normal(Y.shape)
    grads = conv_backward(dY, saved, W, X.shape, *args)
    monkeypatch.setattr(winograd, "ENABLED", False)
    Y_ref, cols = conv_forward(X, W, b, *args)
    assert not isinstance(cols, WinogradSaved)
    grads_ref = conv_backward(dY, cols, W, X.shape, *args)
    np.testing.assert_allclose(Y, Y_ref, rtol=0, atol=1e-11)
    for got, want in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-11)


def test_winograd_is_on_by_default_and_the_environment_turns_it_off() -> None:
    import subprocess
    import sys

    code = "from scratchcnn.kernels import winograd; print(winograd.ENABLED)"
    for value, expected in ((None, "True"), ("0", "False"), ("1", "True")):
        env = {k: v for k, v in os.environ.items() if k != "SCRATCHCNN_WINOGRAD"}
        if value is not None:
            env["SCRATCHCNN_WINOGRAD"] = value
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert done.stdout.strip() == expected, (value, done.stderr)


def test_thin_and_strided_layers_keep_im2col(winograd_on) -> None:
    W = np.zeros((32, 3, 3, 3))
    assert not uses_winograd(W, (1, 1), (1, 1), 1)  # 3 input channels
    W = np.zeros((16, 16, 3, 3))
    assert not uses_winograd(W, (2, 2), (1, 1), 1)
    assert not uses_winograd(W, (1, 1), (2, 2), 1)
    assert not uses_winograd(np.zeros((16, 16, 5, 5)), (1, 1), (1, 1), 1)


def test_generated_loops_skip_zeros_and_ones() -> None:
    mats = winograd.matrices(2)
    text = source("input", mats.BT, mats.BT, 2)
    assert "* d_" not in text and "* t_" not in text  # F(2, 3)'s B^T: only 0 and +-1
    mats = winograd.matrices(4)
    text = source("input", mats.BT, mats.BT, 4)
    assert "L_0_0 * d_0_" in text and "L_0_1" not in text  # B^T[0] = 4, 0, -5, 0, 1, 0
    with pytest.raises(ValueError, match="kind must be one of"):
        source("sideways", mats.BT, mats.BT, 4)


def test_generated_module_is_up_to_date() -> None:
    """winograd_generated.py is what the generator writes now (rerun it after a change)."""
    assert GENERATED.read_text() == module_source(), (
        "kernels/winograd_generated.py is stale: run python -m scratchcnn.kernels.winograd_codegen"
    )


def test_unknown_tile_size_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="winograd: tile size m must be one of"):
        winograd.matrices(3)


@pytest.mark.parametrize("pads", [((1, 1), (1, 1)), ((2, 0), (0, 3)), ((1, 2), (2, 1))])
def test_zero_padding_left_to_the_transforms_equals_torch(use_compiled: bool, pads, rng) -> None:
    """With ``pads`` nothing padded is written; dX comes back at the input's own shape."""
    X = rng.standard_normal((8, 7, 9, 5))
    W = rng.standard_normal((8, 8, 3, 3))
    b = rng.standard_normal(8)
    Y = winograd.winograd_forward(X, W, b, pads=pads, use_compiled=use_compiled)
    Xp = np.pad(X, ((0, 0), *pads, (0, 0)))
    dY = rng.standard_normal(Y.shape)
    Y_ref, dXp_ref, dW_ref = _torch_conv(Xp, W, b, dY)
    np.testing.assert_allclose(Y, Y_ref, rtol=0, atol=1e-10)
    dX, dW = winograd.winograd_backward(dY, X, W, pads=pads, use_compiled=use_compiled)
    (top, _), (left, _) = pads
    dX_ref = dXp_ref[:, top : top + X.shape[1], left : left + X.shape[2]]
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX, dX_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dW, dW_ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "out_size, N", [((24, 24), 128), ((32, 32), 128), ((8, 8), 150), ((26, 26), 100), ((3, 5), 7)]
)
def test_block_plan_covers_every_tile_and_sample_once(out_size, N) -> None:
    """Every (tile, sample) in exactly one block; within a phase no two groups of the same
    samples are neighbouring tile rows (their dX windows would overlap)."""
    m = winograd.DEFAULT_TILE
    groups = winograd.plan_blocks(out_size, N, 64, m, 4)
    rows, cols = -(-out_size[0] // m), -(-out_size[1] // m)
    seen = np.zeros((rows, cols, N), dtype=int)
    for group in groups:
        for blk in group.blocks:
            seen[blk.th, blk.tw0 : blk.tw0 + blk.ntiles, blk.n0 : blk.n0 + blk.nn] += 1
    assert (seen == 1).all()
    for a, b in itertools.combinations(groups, 2):
        if a.phase != b.phase:
            continue
        samples_a = {blk.n0 for blk in a.blocks}
        if samples_a & {blk.n0 for blk in b.blocks}:
            rows_a, rows_b = {blk.th for blk in a.blocks}, {blk.th for blk in b.blocks}
            assert min(abs(x - y) for x in rows_a for y in rows_b) >= 2


def test_seed_cnn_layer_plan_gives_two_threads_equal_work() -> None:
    """seed_cnn's 32->64 layer (6 tile rows, batch 128): each phase has equal groups."""
    groups = winograd.plan_blocks((24, 24), 128, 64, winograd.DEFAULT_TILE, 4)
    for phase in (0, 1):
        sizes = {
            sum(blk.ntiles * blk.nn for blk in g.blocks) for g in groups if g.phase == phase
        }
        assert len(sizes) == 1
