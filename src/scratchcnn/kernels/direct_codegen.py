"""Writes ``kernels/direct_generated.py``: the direct convolution's loops, one per kernel width.

In the batch-last layout an image row ``X[c, h]`` (W, N) is one contiguous run of ``W*N``
numbers, and for stride 1 the input that output column ``w`` reads at kernel offset ``j`` is
column ``w + j*D``: the same run shifted by ``j*D*N`` numbers. So a whole output row is a sum
of shifted input rows (``kernels/direct.py`` gives the formulas):

    out[o, h, u] = bias[o] + sum_c sum_i sum_j Wk[o, c, i, j] * inp[c, h + i*DH - shift, u + j*DWN]

for ``u`` over the row (``DWN = DW*N``). With a column stride SW > 1 the run breaks into
segments of ``seg = N`` numbers (one output column each), and segment k of the output reads
from ``k*SSTEP`` (``SSTEP = SW*N``) on; for stride 1 the whole row is one segment. Rows
step by ``SH``. Both loops here keep the inner loop over ``u``, the contiguous axis, and
block it in registers:

- ``rows_k{KW}_o{OB}``: ``OB`` output channels at once, all ``KW`` offsets of one kernel row
  at once: each pass over a chunk of ``CHUNK`` numbers loads ``KW`` shifted inputs and
  updates ``OB`` outputs with ``OB*KW`` multiply-adds. Kernel rows that fall outside ``inp``
  (``shift`` > 0, the input gradient) are skipped.
- ``wgrad_k{KW}_o{OB}``: the weight gradient ``dW[o, c, i, j] = sum_h dot(dY[o, h], shifted
  input row)``: ``OB*KW`` dot products at once over the same loads, accumulated in scalars.

Every slice starts at index 0 of a fresh view, so LLVM proves the indices non-negative and
vectorizes the ``u`` loop (indexing a row at ``u + j*DWN`` directly kept it scalar: 3 GFLOP/s
against 30-60). Widths up to ``MAX_WIDTH`` and blocks up to ``MAX_BLOCK`` are written out;
``kernels/direct.py`` calls the widest block that fits and then the remainder.

Generated (not built with ``exec``) so that Numba caches the compiled loops on disk.
``python -m scratchcnn.kernels.direct_codegen`` rewrites the file; a test checks that it is up
to date.
"""

from __future__ import annotations

from pathlib import Path

MAX_WIDTH = 7  # kernel widths 1..7 (wider kernels use im2col)
MAX_BLOCK = 4  # output channels per pass (4 x 5 offsets: 20 multiply-adds per 5 + 4 loads)
CHUNK = 512  # numbers of an output row per pass: 4 rows of 2 kB stay in L1
GENERATED = Path(__file__).with_name("direct_generated.py")
ROWS_ARGUMENTS = "inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu"
WGRAD_ARGUMENTS = "inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1"


def rows_name(width: int, block: int) -> str:
    return f"rows_k{width}_o{block}"


def wgrad_name(width: int, block: int) -> str:
    return f"wgrad_k{width}_o{block}"


def _sum(terms: list[str]) -> str:
    return " + ".join(terms)


def rows_source(width: int, block: int) -> str:
    """The loop ``rows_k{width}_o{block}`` (see the module docstring)."""
    os_, js = range(block), range(width)
    lines = [
        f"def {rows_name(width, block)}({ROWS_ARGUMENTS}):",
        f'    """out[o0:o1, h0:h1] for kernel width {width}, {block} output channels a pass."""',
        "    C, H_in, _ = inp.shape",
        "    L = out.shape[2]",
        "    KH = Wk.shape[2]",
        "    for h in range(h0, h1):",
        f"        for o in range(o0, o1, {block}):",
        *[f"            b{o} = bias[o + {o}]" for o in os_],
        "            p = 0",
        "            while p < L:",
        "                k = p // seg",
        "                q = p - k * seg + k * SSTEP",
        f"                n = min(L - p, {CHUNK}, (k + 1) * seg - p)",
        *[f"                y{o} = out[o + {o}, h, p : p + n]" for o in os_],
        "                for u in range(n):",
        *[f"                    y{o}[u] = b{o}" for o in os_],
        "                for c in range(C):",
        "                    for i in range(KH):",
        "                        r = h * SH + i * DH - shift",
        "                        if r < 0 or r >= H_in:",
        "                            continue",
        "                        row = inp[c, r]",
        *[f"                        x{j} = row[q + {j} * DWN : q + {j} * DWN + n]" for j in js],
        *[f"                        w{o}_{j} = Wk[o + {o}, c, i, {j}]" for o in os_ for j in js],
        "                        for u in range(n):",
        *[f"                            s{j} = x{j}[u]" for j in js],
        *[
            f"                            y{o}[u] += " + _sum([f"w{o}_{j} * s{j}" for j in js])
            for o in os_
        ],
        "                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache",
        "                    for u in range(n):",
        *[
            line
            for o in os_
            for line in (f"                        if y{o}[u] <= 0:", f"{' ' * 28}y{o}[u] = 0")
        ],
        "                p += n",
    ]
    return "\n".join(lines) + "\n"


def wgrad_source(width: int, block: int) -> str:
    """The loop ``wgrad_k{width}_o{block}`` (see the module docstring)."""
    os_, js = range(block), range(width)
    accumulators = [f"a{o}_{j}" for o in os_ for j in js]
    lines = [
        f"def {wgrad_name(width, block)}({WGRAD_ARGUMENTS}):",
        f'    """dW[o0:o1, :, i0:i1] for kernel width {width}, {block} output channels a pass."""',
        "    C = inp.shape[0]",
        "    _, OH, L = dY.shape",
        f"    for o in range(o0, o1, {block}):",
        "        for c in range(C):",
        "            for i in range(i0, i1):",
        *[f"                {a} = zero" for a in accumulators],
        "                for h in range(OH):",
        "                    row = inp[c, h * SH + i * DH]",
        "                    for k in range(L // seg):",
        "                        q = k * SSTEP",
        *[f"                        x{j} = row[q + {j} * DWN : q + {j} * DWN + seg]" for j in js],
        *[f"                        g{o} = dY[o + {o}, h, k * seg : (k + 1) * seg]" for o in os_],
        "                        for u in range(seg):",
        *[f"                            s{j} = x{j}[u]" for j in js],
        *[f"                            d{o} = g{o}[u]" for o in os_],
        *[f"                            a{o}_{j} += d{o} * s{j}" for o in os_ for j in js],
        *[f"                dW[o + {o}, c, i, {j}] = a{o}_{j}" for o in os_ for j in js],
    ]
    return "\n".join(lines) + "\n"


def module_source() -> str:
    """The whole text of ``direct_generated.py``."""
    header = [
        '"""The direct convolution\'s loops, one per kernel width and block. GENERATED, do not',
        "edit: written by ``python -m scratchcnn.kernels.direct_codegen``, whose docstring",
        "explains the loops. Plain Python: ``kernels/direct.py`` compiles them with Numba.",
        '"""',
        "",
        "# ruff: noqa",
        "",
    ]
    parts = ["\n".join(header)]
    for width in range(1, MAX_WIDTH + 1):
        for block in range(1, MAX_BLOCK + 1):
            parts.append("\n" + rows_source(width, block))
            parts.append("\n" + wgrad_source(width, block))
    return "\n".join(parts)


def write(path: Path = GENERATED) -> None:
    """Rewrite the generated file (atomically: a killed run leaves the old one whole)."""
    from scratchcnn.atomic import atomic_write_text

    atomic_write_text(path, module_source())


if __name__ == "__main__":
    write()
    print(f"wrote {GENERATED}")
