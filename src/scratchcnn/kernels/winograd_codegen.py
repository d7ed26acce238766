"""Writes ``kernels/winograd_generated.py``: the Winograd transforms as straight-line Numba loops.

The transforms are small two-sided matrix products ``out = L in R^T`` on every tile (6x6 or
4x4 values), repeated for every channel and sample. Written as loops over the matrix entries
they run 30x slower than the arithmetic needs (short inner loops, multiplications by 0 and
1). Here each transform is written out as straight-line code (``t_0_1 = d_0_1 - d_2_1`` ...),
zeros skipped, ones not multiplied, the coefficients read once into local scalars (so float32
stays float32), inside one loop over the samples, which are contiguous in the batch-last layout.

Image coordinates are shifted by ``(ph, pw)``: a tile's window starts at ``(m*th - ph,
m*tw - pw)``, so the input's zero padding is never written out (the output kinds get 0, 0).
How a loop runs, for one channel, one tile and ``ROW`` samples at a time:

1. **Gather** the tile's input values into rows of one scratch vector ``S`` (``S[k*ROW + n]``,
   value k of sample n); pixels outside the array (the padding) read as zero.
2. **Core**: one loop over the ``ROW`` samples computes every output value from the input
   values in registers and writes them to the upper rows of ``S``. Every index is a literal
   plus ``n``, so LLVM sees that the rows cannot overlap and vectorizes the loop without
   run-time checks (reading from and writing to many separate arrays, it had to give up).
3. **Scatter** the output rows to their place (a block of the transform domain, or the
   image's pixels that lie inside it, ``=`` or ``+=``).

The file is generated so that Numba can cache the compiled loops on disk (code built with
``exec`` at run time cannot be cached, and compiling all of them took minutes in every new
process). ``python -m scratchcnn.kernels.winograd_codegen`` rewrites it; a test checks that it
is up to date. Kinds (``kernels/winograd_transforms.py`` explains the layouts):

- ``"input"``:   V[block] = L window(Xp) R^T           (L = R = B^T)
- ``"output"``:  Y[tile] = L M[block] R^T + bias        (L = R = A^T)
- ``"output_adjoint"``: dM[block] = L dY[tile] R^T     (L = R = A)
- ``"input_adjoint"``:  dXp[window] += L dV[block] R^T (L = R = B)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

KINDS = ("input", "output", "output_adjoint", "input_adjoint")
ROW = 64  # samples per pass: 72 rows of S are 18 kB in float32, 36 kB in float64 (L1)
OUT_ROW = 36  # the first output row of S (inputs use rows 0 .. 35 at most)
GENERATED = Path(__file__).with_name("winograd_generated.py")
ARGUMENTS = "src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu"


def kind_matrices(kind: str, AT: np.ndarray, BT: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, R) of a transform kind, from F(m, 3)'s A^T and B^T."""
    if kind not in KINDS:
        raise ValueError(f"winograd_codegen: kind must be one of {KINDS}, got {kind!r}")
    if kind == "input":
        return BT, BT
    if kind == "output":
        return AT, AT
    if kind == "output_adjoint":
        return np.ascontiguousarray(AT.T), np.ascontiguousarray(AT.T)
    return np.ascontiguousarray(BT.T), np.ascontiguousarray(BT.T)


def _combination(coefs: np.ndarray, terms: list[str], prefix: str, row: int) -> str:
    """``sum_k coefs[k] * terms[k]`` as an expression, skipping zeros and not multiplying by 1."""
    parts = []
    for k, c in enumerate(coefs):
        if c == 0:
            continue
        if c == 1:
            parts.append(f"+ {terms[k]}")
        elif c == -1:
            parts.append(f"- {terms[k]}")
        else:
            parts.append(f"+ {prefix}_{row}_{k} * {terms[k]}")
    if not parts:
        return "zero"
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _coefficients(L: np.ndarray, R: np.ndarray, indent: str) -> list[str]:
    """Local scalars for the coefficients that are not 0 or +-1 (typed like the arrays)."""
    lines = []
    for name, matrix in (("L", L), ("R", R)):
        for x, row in enumerate(matrix):
            for k, c in enumerate(row):
                if c not in (0, 1, -1):
                    lines.append(f"{indent}{name}_{x}_{k} = {name}m[{x}, {k}]")
    return lines


def _core(L: np.ndarray, R: np.ndarray, indent: str) -> list[str]:
    """The loop out[x][y] = sum_ij L[x, i] in[i][j] R[y, j] over the ROW samples in S."""
    p, q = L.shape
    r, s = R.shape
    inner = indent + "    "
    lines = [f"{indent}for n in range({ROW}):"]
    lines += [f"{inner}d_{i}_{j} = S[{(i * s + j) * ROW} + n]" for i in range(q) for j in range(s)]
    for x in range(p):
        for j in range(s):
            expr = _combination(L[x], [f"d_{i}_{j}" for i in range(q)], "L", x)
            lines.append(f"{inner}t_{x}_{j} = {expr}")
    for x in range(p):
        for y in range(r):
            expr = _combination(R[y], [f"t_{x}_{j}" for j in range(s)], "R", y)
            lines.append(f"{inner}S[{(OUT_ROW + x * r + y) * ROW} + n] = {expr}")
    return lines


def _gather_image(rows: int, cols: int, indent: str) -> list[str]:
    """S's input rows from the tile's window of ``src`` (C, H, W, N); zero outside it."""
    return [
        f"{indent}for i in range({rows}):",
        f"{indent}    for j in range({cols}):",
        f"{indent}        base = (i * {cols} + j) * {ROW}",
        f"{indent}        if 0 <= h0 + i < H and 0 <= w0 + j < W:",
        f"{indent}            pixel = src[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]",
        f"{indent}            for n in range(count):",
        f"{indent}                S[base + n] = pixel[n]",
        f"{indent}            for n in range(count, {ROW}):",
        f"{indent}                S[base + n] = zero",
        f"{indent}        else:",
        f"{indent}            for n in range({ROW}):",
        f"{indent}                S[base + n] = zero",
    ]


def _gather_block(values: int, indent: str) -> list[str]:
    """S's input rows from the tile's columns of ``src`` (alpha², C, cols)."""
    return [
        f"{indent}for k in range({values}):",
        f"{indent}    base = k * {ROW}",
        f"{indent}    part = src[k, c, col + s0 : col + s0 + count]",
        f"{indent}    for n in range(count):",
        f"{indent}        S[base + n] = part[n]",
        f"{indent}    for n in range(count, {ROW}):",
        f"{indent}        S[base + n] = zero",
    ]


def _scatter_block(values: int, indent: str) -> list[str]:
    """S's output rows into the tile's columns of ``dst`` (alpha², C, cols)."""
    return [
        f"{indent}for k in range({values}):",
        f"{indent}    base = ({OUT_ROW} + k) * {ROW}",
        f"{indent}    part = dst[k, c, col + s0 : col + s0 + count]",
        f"{indent}    for n in range(count):",
        f"{indent}        part[n] = S[base + n]",
    ]


def _scatter_image(rows: int, cols: int, store: list[str], indent: str) -> list[str]:
    """S's output rows into the tile's pixels of ``dst`` (C, H, W, N) that lie inside it;
    ``store`` is the body of the loop over n that writes ``pixel[n]``."""
    return [
        f"{indent}for i in range({rows}):",
        f"{indent}    for j in range({cols}):",
        f"{indent}        if 0 <= h0 + i < H and 0 <= w0 + j < W:",
        f"{indent}            base = ({OUT_ROW} + i * {cols} + j) * {ROW}",
        f"{indent}            pixel = dst[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]",
        *[f"{indent}            {line}" for line in store],
    ]


# The output kind adds the bias and, with ``relu``, applies max(y, 0) as ReLU does (NaN
# stays NaN, -0.0 becomes 0): a ReLU after the convolution then costs no pass of its own.
_OUTPUT_STORE = [
    "if relu:",
    "    for n in range(count):",
    "        y = S[base + n] + b",
    "        pixel[n] = y if y > 0 or y != y else zero",
    "else:",
    "    for n in range(count):",
    "        pixel[n] = S[base + n] + b",
]
_ADJOINT_STORE = ["for n in range(count):", "    pixel[n] += S[base + n]"]


def function_name(kind: str, m: int) -> str:
    return f"{kind}_m{m}"


def source(kind: str, L: np.ndarray, R: np.ndarray, m: int) -> str:
    """The Python source of the loop ``kind`` (see the module docstring) of F(m, 3)."""
    if kind not in KINDS:
        raise ValueError(f"winograd_codegen.source: kind must be one of {KINDS}, got {kind!r}")
    p, q = L.shape
    r, s = R.shape
    reads_image = kind in ("input", "output_adjoint")  # else it reads a block, writes an image
    image, block = ("src", "dst") if reads_image else ("dst", "src")
    i4 = " " * 16
    if reads_image:
        gather, scatter = _gather_image(q, s, i4), _scatter_block(p * r, i4)
    else:
        store = _OUTPUT_STORE if kind == "output" else _ADJOINT_STORE
        gather, scatter = _gather_block(q * s, i4), _scatter_image(p, r, store, i4)
    return (
        "\n".join(
            [
                f"def {function_name(kind, m)}(" + ARGUMENTS + "):",
                f'    """{kind} transform of F({m}x{m}, 3x3): {p * r} values per tile '
                f'from {q * s}."""',
                "    zero = Lm[0, 0] * 0",
                f"    S = np.empty({(OUT_ROW + p * r) * ROW}, dtype=Lm.dtype)",
                f"    nn = {block}.shape[2] // ntiles",
                f"    h0 = {m} * th - ph",
                f"    C, H, W = {block}.shape[1], {image}.shape[1], {image}.shape[2]",
                *_coefficients(L, R, "    "),
                "    for c in range(C):",
                "        b = bias[c]" if kind == "output" else "        b = zero",
                "        for t in range(ntiles):",
                f"            w0 = {m} * (tw0 + t) - pw",
                "            col = t * nn",
                f"            for s0 in range(0, nn, {ROW}):",
                f"                count = min({ROW}, nn - s0)",
                *gather,
                *_core(L, R, i4),
                *scatter,
            ]
        )
        + "\n"
    )


def module_source() -> str:
    """The whole text of ``winograd_generated.py``: every kind for every tile size."""
    from scratchcnn.kernels.winograd import TILE_SIZES, matrices

    header = [
        '"""The Winograd transforms as straight-line loops. GENERATED: do not edit.',
        "",
        "Written by ``python -m scratchcnn.kernels.winograd_codegen`` from the matrices in",
        "``kernels/winograd.py``; ``kernels/winograd_codegen.py`` explains the loops. Plain",
        "Python: ``kernels/winograd_transforms.py`` compiles them with Numba (cached on disk).",
        '"""',
        "",
        "# ruff: noqa",
        "import numpy as np",
        "",
    ]
    parts = ["\n".join(header)]
    for m in TILE_SIZES:
        mats = matrices(m)
        for kind in KINDS:
            parts.append("\n" + source(kind, *kind_matrices(kind, mats.AT, mats.BT), m))
    return "\n".join(parts)


def write(path: Path = GENERATED) -> None:
    """Rewrite the generated file (atomically: a killed run leaves the old one whole)."""
    from scratchcnn.atomic import atomic_write_text

    atomic_write_text(path, module_source())


if __name__ == "__main__":
    write()
    print(f"wrote {GENERATED}")
