"""Straight-line Numba loops for the Winograd transforms, written out from the matrices.

The transforms are small two-sided matrix products ``out = L in R^T`` on every tile (6x6 or
4x4 values), repeated for every channel and sample. Written as loops over the matrix entries
they run 30x slower than the arithmetic needs (short inner loops, array views created in
the loop, multiplications by 0 and 1). Here each transform is written out as straight-line
code for one sample (``t_0_1 = d_0_1 - d_2_1`` ...), with zeros skipped, ones not multiplied,
and the coefficients read once into local scalars (so float32 stays float32); the loop over
samples, which are contiguous in the batch-last layout, then vectorizes as a whole.

``source(kind, L, R)`` returns the Python source of one such loop (print it to read it);
``compile_loop`` turns it into a Numba function. Border tiles, whose window leaves the
array, are copied through a zero-filled scratch tile first, so the straight-line code never
reads or writes outside an array. Kinds (``kernels/winograd_transforms.py`` explains the
layouts):

- ``"input"``:   V[block] = L window(Xp) R^T           (L = R = B^T)
- ``"output"``:  Y[tile] = L M[block] R^T + bias        (L = R = A^T)
- ``"output_adjoint"``: dM[block] = L dY[tile] R^T     (L = R = A)
- ``"input_adjoint"``:  dXp[window] += L dV[block] R^T (L = R = B)
"""

from __future__ import annotations

import numpy as np

KINDS = ("input", "output", "output_adjoint", "input_adjoint")


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


def _body(L: np.ndarray, R: np.ndarray, load, store, indent: str) -> list[str]:
    """Loops computing out[x][y] = sum_ij L[x, i] in[i][j] R[y, j] for every sample.

    ``load(i, j)`` and ``store(x, y)`` give the 1-D view (over the block's samples) that an
    input or output value lives in. Two stages through the scratch rows ``mid`` (in L1):
    ``mid[x, j] = sum_i L[x, i] in[i, j]``, then ``out[x, y] = sum_j mid[x, j] R[y, j]``, each
    output row its own short loop over ``n``. Short loops with a handful of arrays are what
    LLVM vectorizes: one loop over all 36 values of a tile touches 72 arrays that might
    overlap, too many to check at run time, and stays scalar (measured 10x slower). The loops
    index the views by ``n`` alone, which Numba knows is not negative (``n0 + n`` would add
    wrap-around checks that turn vector loads into gathers).
    """
    p, q = L.shape
    r, s = R.shape
    inner = indent + "    "
    lines = [f"{indent}src_{i}_{j} = {load(i, j)}" for i in range(q) for j in range(s)]
    for x in range(p):
        for j in range(s):
            expr = _combination(L[x], [f"src_{i}_{j}[n]" for i in range(q)], "L", x)
            lines += [
                f"{indent}mid_{x}_{j} = mid[{x * s + j}]",
                f"{indent}for n in range(nn):",
                f"{inner}mid_{x}_{j}[n] = {expr}",
            ]
    for x in range(p):
        for y in range(r):
            expr = _combination(R[y], [f"mid_{x}_{j}[n]" for j in range(s)], "R", y)
            lines += [
                f"{indent}out = {store(x, y)}",
                f"{indent}for n in range(nn):",
                f"{inner}out[n] {{op}} {expr}{{offset}}",
            ]
    return lines


def _coefficients(L: np.ndarray, R: np.ndarray, indent: str) -> list[str]:
    """Local scalars for the coefficients that are not 0 or +-1 (typed like the arrays)."""
    lines = []
    for name, matrix in (("L", L), ("R", R)):
        for x, row in enumerate(matrix):
            for k, c in enumerate(row):
                if c not in (0, 1, -1):
                    lines.append(f"{indent}{name}_{x}_{k} = {name}m[{x}, {k}]")
    return lines


def source(kind: str, L: np.ndarray, R: np.ndarray) -> str:
    """The Python source of the loop ``kind`` (see the module docstring) for matrices L, R."""
    if kind not in KINDS:
        raise ValueError(f"winograd_codegen.source: kind must be one of {KINDS}, got {kind!r}")
    p, q = L.shape
    r, s = R.shape
    i4 = " " * 16
    reads_image = kind in ("input", "output_adjoint")  # else it reads a block, writes an image
    image_array = "src" if reads_image else "dst"
    H, W = f"{image_array}.shape[1]", f"{image_array}.shape[2]"
    rows, cols = (q, s) if reads_image else (p, r)  # the image tile's size
    lines = [
        f"def {kind}_loop(src, Lm, Rm, bias, m, th, tw0, ntiles, n0, dst, scratch, mid):",
        "    zero = Lm[0, 0] * 0",
        "    nn = scratch.shape[2]",
        "    h0 = m * th",
        f"    C = {'src.shape[0]' if reads_image else 'src.shape[1]'}",
        *_coefficients(L, R, "    "),
        "    for c in range(C):",
        "        for t in range(ntiles):",
        "            w0 = m * (tw0 + t)",
        "            col = t * nn",
        f"            inside = h0 + {rows} <= {H} and w0 + {cols} <= {W}",
    ]

    op = "+=" if kind == "input_adjoint" else "="
    offset = " + bias[c]" if kind == "output" else ""

    block_array = "dst" if reads_image else "src"  # the transform-domain side

    def block(i, j, width):
        return f"{block_array}[{i * width + j}, c, col : col + nn]"

    def image(i, j):
        return f"{image_array}[c, h0 + {i}, w0 + {j}, n0 : n0 + nn]"

    def scratch(i, j, width):
        return f"scratch[{i * width + j}, 0]"

    def body(load, store, store_op):
        text = _body(L, R, load, store, i4)
        return [line.replace("{op}", store_op).replace("{offset}", offset) for line in text]

    copy_tile = [
        f"{i4}for i in range({rows}):",
        f"{i4}    for j in range({cols}):",
        f"{i4}        if h0 + i < {H} and w0 + j < {W}:",
        f"{i4}            for n in range(nn):",
    ]
    if reads_image:
        to_block = lambda x, y: block(x, y, r)  # noqa: E731
        lines += [
            "            if inside:",
            *body(image, to_block, "="),
            "            else:  # copy the window, zero outside the array",
            f"{i4}scratch[:] = zero",
            *copy_tile,
            f"{i4}                scratch[i * {s} + j, 0, n] = src[c, h0 + i, w0 + j, n0 + n]",
            *body(lambda i, j: scratch(i, j, s), to_block, "="),
        ]
    else:
        from_block = lambda i, j: block(i, j, s)  # noqa: E731
        lines += [
            "            if inside:",
            *body(from_block, image, op),
            "            else:  # keep only the pixels inside the array",
            *body(from_block, lambda x, y: scratch(x, y, r), "="),
            *copy_tile,
            f"{i4}                dst[c, h0 + i, w0 + j, n0 + n] {op} scratch[i * {r} + j, 0, n]",
        ]
    return "\n".join(lines) + "\n"


def compile_loop(kind: str, L: np.ndarray, R: np.ndarray):
    """The Numba-compiled loop for :func:`source` (kind, L, R); releases the GIL."""
    import numba

    namespace: dict = {}
    exec(compile(source(kind, L, R), f"<winograd {kind} {L.shape}>", "exec"), namespace)
    return numba.njit(fastmath=False, nogil=True)(namespace[f"{kind}_loop"])
