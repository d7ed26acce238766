"""The direct convolution's loops, one per kernel width and block. GENERATED, do not
edit: written by ``python -m scratchcnn.kernels.direct_codegen``, whose docstring
explains the loops. Plain Python: ``kernels/direct.py`` compiles them with Numba.
"""

# ruff: noqa


def rows_k1_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 1, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        for u in range(n):
                            s0 = x0[u]
                            y0[u] += w0_0 * s0
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k1_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 1, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                dW[o + 0, c, i, 0] = a0_0


def rows_k1_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 1, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w1_0 = Wk[o + 1, c, i, 0]
                        for u in range(n):
                            s0 = x0[u]
                            y0[u] += w0_0 * s0
                            y1[u] += w1_0 * s0
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k1_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 1, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a1_0 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a1_0 += d1 * s0
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 1, c, i, 0] = a1_0


def rows_k1_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 1, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w2_0 = Wk[o + 2, c, i, 0]
                        for u in range(n):
                            s0 = x0[u]
                            y0[u] += w0_0 * s0
                            y1[u] += w1_0 * s0
                            y2[u] += w2_0 * s0
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k1_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 1, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a1_0 = zero
                a2_0 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a1_0 += d1 * s0
                            a2_0 += d2 * s0
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 2, c, i, 0] = a2_0


def rows_k1_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 1, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w3_0 = Wk[o + 3, c, i, 0]
                        for u in range(n):
                            s0 = x0[u]
                            y0[u] += w0_0 * s0
                            y1[u] += w1_0 * s0
                            y2[u] += w2_0 * s0
                            y3[u] += w3_0 * s0
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k1_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 1, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a1_0 = zero
                a2_0 = zero
                a3_0 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a1_0 += d1 * s0
                            a2_0 += d2 * s0
                            a3_0 += d3 * s0
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 3, c, i, 0] = a3_0


def rows_k2_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 2, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k2_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 2, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1


def rows_k2_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 2, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1
                            y1[u] += w1_0 * s0 + w1_1 * s1
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k2_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 2, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a1_0 = zero
                a1_1 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1


def rows_k2_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 2, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1
                            y1[u] += w1_0 * s0 + w1_1 * s1
                            y2[u] += w2_0 * s0 + w2_1 * s1
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k2_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 2, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a1_0 = zero
                a1_1 = zero
                a2_0 = zero
                a2_1 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1


def rows_k2_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 2, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w3_0 = Wk[o + 3, c, i, 0]
                        w3_1 = Wk[o + 3, c, i, 1]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1
                            y1[u] += w1_0 * s0 + w1_1 * s1
                            y2[u] += w2_0 * s0 + w2_1 * s1
                            y3[u] += w3_0 * s0 + w3_1 * s1
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k2_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 2, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a1_0 = zero
                a1_1 = zero
                a2_0 = zero
                a2_1 = zero
                a3_0 = zero
                a3_1 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a3_0 += d3 * s0
                            a3_1 += d3 * s1
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 3, c, i, 0] = a3_0
                dW[o + 3, c, i, 1] = a3_1


def rows_k3_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 3, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k3_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 3, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2


def rows_k3_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 3, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k3_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 3, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2


def rows_k3_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 3, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k3_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 3, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2


def rows_k3_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 3, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w3_0 = Wk[o + 3, c, i, 0]
                        w3_1 = Wk[o + 3, c, i, 1]
                        w3_2 = Wk[o + 3, c, i, 2]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2
                            y3[u] += w3_0 * s0 + w3_1 * s1 + w3_2 * s2
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k3_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 3, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a3_0 = zero
                a3_1 = zero
                a3_2 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a3_0 += d3 * s0
                            a3_1 += d3 * s1
                            a3_2 += d3 * s2
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 3, c, i, 0] = a3_0
                dW[o + 3, c, i, 1] = a3_1
                dW[o + 3, c, i, 2] = a3_2


def rows_k4_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 4, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k4_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 4, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3


def rows_k4_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 4, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k4_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 4, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3


def rows_k4_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 4, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k4_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 4, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3


def rows_k4_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 4, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w3_0 = Wk[o + 3, c, i, 0]
                        w3_1 = Wk[o + 3, c, i, 1]
                        w3_2 = Wk[o + 3, c, i, 2]
                        w3_3 = Wk[o + 3, c, i, 3]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3
                            y3[u] += w3_0 * s0 + w3_1 * s1 + w3_2 * s2 + w3_3 * s3
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k4_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 4, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a3_0 = zero
                a3_1 = zero
                a3_2 = zero
                a3_3 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a3_0 += d3 * s0
                            a3_1 += d3 * s1
                            a3_2 += d3 * s2
                            a3_3 += d3 * s3
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 3, c, i, 0] = a3_0
                dW[o + 3, c, i, 1] = a3_1
                dW[o + 3, c, i, 2] = a3_2
                dW[o + 3, c, i, 3] = a3_3


def rows_k5_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 5, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k5_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 5, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4


def rows_k5_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 5, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k5_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 5, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4


def rows_k5_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 5, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w2_4 = Wk[o + 2, c, i, 4]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3 + w2_4 * s4
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k5_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 5, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a2_4 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a2_4 += d2 * s4
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 2, c, i, 4] = a2_4


def rows_k5_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 5, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w2_4 = Wk[o + 2, c, i, 4]
                        w3_0 = Wk[o + 3, c, i, 0]
                        w3_1 = Wk[o + 3, c, i, 1]
                        w3_2 = Wk[o + 3, c, i, 2]
                        w3_3 = Wk[o + 3, c, i, 3]
                        w3_4 = Wk[o + 3, c, i, 4]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3 + w2_4 * s4
                            y3[u] += w3_0 * s0 + w3_1 * s1 + w3_2 * s2 + w3_3 * s3 + w3_4 * s4
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k5_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 5, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a2_4 = zero
                a3_0 = zero
                a3_1 = zero
                a3_2 = zero
                a3_3 = zero
                a3_4 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a2_4 += d2 * s4
                            a3_0 += d3 * s0
                            a3_1 += d3 * s1
                            a3_2 += d3 * s2
                            a3_3 += d3 * s3
                            a3_4 += d3 * s4
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 2, c, i, 4] = a2_4
                dW[o + 3, c, i, 0] = a3_0
                dW[o + 3, c, i, 1] = a3_1
                dW[o + 3, c, i, 2] = a3_2
                dW[o + 3, c, i, 3] = a3_3
                dW[o + 3, c, i, 4] = a3_4


def rows_k6_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 6, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k6_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 6, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5


def rows_k6_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 6, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w1_5 = Wk[o + 1, c, i, 5]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4 + w1_5 * s5
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k6_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 6, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a1_5 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a1_5 += d1 * s5
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 1, c, i, 5] = a1_5


def rows_k6_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 6, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w1_5 = Wk[o + 1, c, i, 5]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w2_4 = Wk[o + 2, c, i, 4]
                        w2_5 = Wk[o + 2, c, i, 5]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4 + w1_5 * s5
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3 + w2_4 * s4 + w2_5 * s5
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k6_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 6, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a1_5 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a2_4 = zero
                a2_5 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a1_5 += d1 * s5
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a2_4 += d2 * s4
                            a2_5 += d2 * s5
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 1, c, i, 5] = a1_5
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 2, c, i, 4] = a2_4
                dW[o + 2, c, i, 5] = a2_5


def rows_k6_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 6, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w1_5 = Wk[o + 1, c, i, 5]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w2_4 = Wk[o + 2, c, i, 4]
                        w2_5 = Wk[o + 2, c, i, 5]
                        w3_0 = Wk[o + 3, c, i, 0]
                        w3_1 = Wk[o + 3, c, i, 1]
                        w3_2 = Wk[o + 3, c, i, 2]
                        w3_3 = Wk[o + 3, c, i, 3]
                        w3_4 = Wk[o + 3, c, i, 4]
                        w3_5 = Wk[o + 3, c, i, 5]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4 + w1_5 * s5
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3 + w2_4 * s4 + w2_5 * s5
                            y3[u] += w3_0 * s0 + w3_1 * s1 + w3_2 * s2 + w3_3 * s3 + w3_4 * s4 + w3_5 * s5
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k6_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 6, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a1_5 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a2_4 = zero
                a2_5 = zero
                a3_0 = zero
                a3_1 = zero
                a3_2 = zero
                a3_3 = zero
                a3_4 = zero
                a3_5 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a1_5 += d1 * s5
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a2_4 += d2 * s4
                            a2_5 += d2 * s5
                            a3_0 += d3 * s0
                            a3_1 += d3 * s1
                            a3_2 += d3 * s2
                            a3_3 += d3 * s3
                            a3_4 += d3 * s4
                            a3_5 += d3 * s5
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 1, c, i, 5] = a1_5
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 2, c, i, 4] = a2_4
                dW[o + 2, c, i, 5] = a2_5
                dW[o + 3, c, i, 0] = a3_0
                dW[o + 3, c, i, 1] = a3_1
                dW[o + 3, c, i, 2] = a3_2
                dW[o + 3, c, i, 3] = a3_3
                dW[o + 3, c, i, 4] = a3_4
                dW[o + 3, c, i, 5] = a3_5


def rows_k7_o1(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 7, 1 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 1):
            b0 = bias[o + 0]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w0_6 = Wk[o + 0, c, i, 6]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5 + w0_6 * s6
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                p += n


def wgrad_k7_o1(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 7, 1 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 1):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a0_6 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            d0 = g0[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a0_6 += d0 * s6
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 0, c, i, 6] = a0_6


def rows_k7_o2(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 7, 2 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 2):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w0_6 = Wk[o + 0, c, i, 6]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w1_5 = Wk[o + 1, c, i, 5]
                        w1_6 = Wk[o + 1, c, i, 6]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5 + w0_6 * s6
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4 + w1_5 * s5 + w1_6 * s6
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                p += n


def wgrad_k7_o2(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 7, 2 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 2):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a0_6 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a1_5 = zero
                a1_6 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a0_6 += d0 * s6
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a1_5 += d1 * s5
                            a1_6 += d1 * s6
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 0, c, i, 6] = a0_6
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 1, c, i, 5] = a1_5
                dW[o + 1, c, i, 6] = a1_6


def rows_k7_o3(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 7, 3 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 3):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w0_6 = Wk[o + 0, c, i, 6]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w1_5 = Wk[o + 1, c, i, 5]
                        w1_6 = Wk[o + 1, c, i, 6]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w2_4 = Wk[o + 2, c, i, 4]
                        w2_5 = Wk[o + 2, c, i, 5]
                        w2_6 = Wk[o + 2, c, i, 6]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5 + w0_6 * s6
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4 + w1_5 * s5 + w1_6 * s6
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3 + w2_4 * s4 + w2_5 * s5 + w2_6 * s6
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                p += n


def wgrad_k7_o3(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 7, 3 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 3):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a0_6 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a1_5 = zero
                a1_6 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a2_4 = zero
                a2_5 = zero
                a2_6 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a0_6 += d0 * s6
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a1_5 += d1 * s5
                            a1_6 += d1 * s6
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a2_4 += d2 * s4
                            a2_5 += d2 * s5
                            a2_6 += d2 * s6
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 0, c, i, 6] = a0_6
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 1, c, i, 5] = a1_5
                dW[o + 1, c, i, 6] = a1_6
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 2, c, i, 4] = a2_4
                dW[o + 2, c, i, 5] = a2_5
                dW[o + 2, c, i, 6] = a2_6


def rows_k7_o4(inp, Wk, bias, out, SH, DH, DWN, shift, seg, SSTEP, h0, h1, o0, o1, relu):
    """out[o0:o1, h0:h1] for kernel width 7, 4 output channels a pass."""
    C, H_in, _ = inp.shape
    L = out.shape[2]
    KH = Wk.shape[2]
    for h in range(h0, h1):
        for o in range(o0, o1, 4):
            b0 = bias[o + 0]
            b1 = bias[o + 1]
            b2 = bias[o + 2]
            b3 = bias[o + 3]
            p = 0
            while p < L:
                k = p // seg
                q = p - k * seg + k * SSTEP
                n = min(L - p, 512, (k + 1) * seg - p)
                y0 = out[o + 0, h, p : p + n]
                y1 = out[o + 1, h, p : p + n]
                y2 = out[o + 2, h, p : p + n]
                y3 = out[o + 3, h, p : p + n]
                for u in range(n):
                    y0[u] = b0
                    y1[u] = b1
                    y2[u] = b2
                    y3[u] = b3
                for c in range(C):
                    for i in range(KH):
                        r = h * SH + i * DH - shift
                        if r < 0 or r >= H_in:
                            continue
                        row = inp[c, r]
                        x0 = row[q + 0 * DWN : q + 0 * DWN + n]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + n]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + n]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + n]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + n]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + n]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + n]
                        w0_0 = Wk[o + 0, c, i, 0]
                        w0_1 = Wk[o + 0, c, i, 1]
                        w0_2 = Wk[o + 0, c, i, 2]
                        w0_3 = Wk[o + 0, c, i, 3]
                        w0_4 = Wk[o + 0, c, i, 4]
                        w0_5 = Wk[o + 0, c, i, 5]
                        w0_6 = Wk[o + 0, c, i, 6]
                        w1_0 = Wk[o + 1, c, i, 0]
                        w1_1 = Wk[o + 1, c, i, 1]
                        w1_2 = Wk[o + 1, c, i, 2]
                        w1_3 = Wk[o + 1, c, i, 3]
                        w1_4 = Wk[o + 1, c, i, 4]
                        w1_5 = Wk[o + 1, c, i, 5]
                        w1_6 = Wk[o + 1, c, i, 6]
                        w2_0 = Wk[o + 2, c, i, 0]
                        w2_1 = Wk[o + 2, c, i, 1]
                        w2_2 = Wk[o + 2, c, i, 2]
                        w2_3 = Wk[o + 2, c, i, 3]
                        w2_4 = Wk[o + 2, c, i, 4]
                        w2_5 = Wk[o + 2, c, i, 5]
                        w2_6 = Wk[o + 2, c, i, 6]
                        w3_0 = Wk[o + 3, c, i, 0]
                        w3_1 = Wk[o + 3, c, i, 1]
                        w3_2 = Wk[o + 3, c, i, 2]
                        w3_3 = Wk[o + 3, c, i, 3]
                        w3_4 = Wk[o + 3, c, i, 4]
                        w3_5 = Wk[o + 3, c, i, 5]
                        w3_6 = Wk[o + 3, c, i, 6]
                        for u in range(n):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            y0[u] += w0_0 * s0 + w0_1 * s1 + w0_2 * s2 + w0_3 * s3 + w0_4 * s4 + w0_5 * s5 + w0_6 * s6
                            y1[u] += w1_0 * s0 + w1_1 * s1 + w1_2 * s2 + w1_3 * s3 + w1_4 * s4 + w1_5 * s5 + w1_6 * s6
                            y2[u] += w2_0 * s0 + w2_1 * s1 + w2_2 * s2 + w2_3 * s3 + w2_4 * s4 + w2_5 * s5 + w2_6 * s6
                            y3[u] += w3_0 * s0 + w3_1 * s1 + w3_2 * s2 + w3_3 * s3 + w3_4 * s4 + w3_5 * s5 + w3_6 * s6
                if relu:  # max(y, 0) as ReLU gives it (NaN stays), while in cache
                    for u in range(n):
                        if y0[u] <= 0:
                            y0[u] = 0
                        if y1[u] <= 0:
                            y1[u] = 0
                        if y2[u] <= 0:
                            y2[u] = 0
                        if y3[u] <= 0:
                            y3[u] = 0
                p += n


def wgrad_k7_o4(inp, dY, dW, zero, SH, DH, DWN, seg, SSTEP, o0, o1, i0, i1):
    """dW[o0:o1, :, i0:i1] for kernel width 7, 4 output channels a pass."""
    C = inp.shape[0]
    _, OH, L = dY.shape
    for o in range(o0, o1, 4):
        for c in range(C):
            for i in range(i0, i1):
                a0_0 = zero
                a0_1 = zero
                a0_2 = zero
                a0_3 = zero
                a0_4 = zero
                a0_5 = zero
                a0_6 = zero
                a1_0 = zero
                a1_1 = zero
                a1_2 = zero
                a1_3 = zero
                a1_4 = zero
                a1_5 = zero
                a1_6 = zero
                a2_0 = zero
                a2_1 = zero
                a2_2 = zero
                a2_3 = zero
                a2_4 = zero
                a2_5 = zero
                a2_6 = zero
                a3_0 = zero
                a3_1 = zero
                a3_2 = zero
                a3_3 = zero
                a3_4 = zero
                a3_5 = zero
                a3_6 = zero
                for h in range(OH):
                    row = inp[c, h * SH + i * DH]
                    for k in range(L // seg):
                        q = k * SSTEP
                        x0 = row[q + 0 * DWN : q + 0 * DWN + seg]
                        x1 = row[q + 1 * DWN : q + 1 * DWN + seg]
                        x2 = row[q + 2 * DWN : q + 2 * DWN + seg]
                        x3 = row[q + 3 * DWN : q + 3 * DWN + seg]
                        x4 = row[q + 4 * DWN : q + 4 * DWN + seg]
                        x5 = row[q + 5 * DWN : q + 5 * DWN + seg]
                        x6 = row[q + 6 * DWN : q + 6 * DWN + seg]
                        g0 = dY[o + 0, h, k * seg : (k + 1) * seg]
                        g1 = dY[o + 1, h, k * seg : (k + 1) * seg]
                        g2 = dY[o + 2, h, k * seg : (k + 1) * seg]
                        g3 = dY[o + 3, h, k * seg : (k + 1) * seg]
                        for u in range(seg):
                            s0 = x0[u]
                            s1 = x1[u]
                            s2 = x2[u]
                            s3 = x3[u]
                            s4 = x4[u]
                            s5 = x5[u]
                            s6 = x6[u]
                            d0 = g0[u]
                            d1 = g1[u]
                            d2 = g2[u]
                            d3 = g3[u]
                            a0_0 += d0 * s0
                            a0_1 += d0 * s1
                            a0_2 += d0 * s2
                            a0_3 += d0 * s3
                            a0_4 += d0 * s4
                            a0_5 += d0 * s5
                            a0_6 += d0 * s6
                            a1_0 += d1 * s0
                            a1_1 += d1 * s1
                            a1_2 += d1 * s2
                            a1_3 += d1 * s3
                            a1_4 += d1 * s4
                            a1_5 += d1 * s5
                            a1_6 += d1 * s6
                            a2_0 += d2 * s0
                            a2_1 += d2 * s1
                            a2_2 += d2 * s2
                            a2_3 += d2 * s3
                            a2_4 += d2 * s4
                            a2_5 += d2 * s5
                            a2_6 += d2 * s6
                            a3_0 += d3 * s0
                            a3_1 += d3 * s1
                            a3_2 += d3 * s2
                            a3_3 += d3 * s3
                            a3_4 += d3 * s4
                            a3_5 += d3 * s5
                            a3_6 += d3 * s6
                dW[o + 0, c, i, 0] = a0_0
                dW[o + 0, c, i, 1] = a0_1
                dW[o + 0, c, i, 2] = a0_2
                dW[o + 0, c, i, 3] = a0_3
                dW[o + 0, c, i, 4] = a0_4
                dW[o + 0, c, i, 5] = a0_5
                dW[o + 0, c, i, 6] = a0_6
                dW[o + 1, c, i, 0] = a1_0
                dW[o + 1, c, i, 1] = a1_1
                dW[o + 1, c, i, 2] = a1_2
                dW[o + 1, c, i, 3] = a1_3
                dW[o + 1, c, i, 4] = a1_4
                dW[o + 1, c, i, 5] = a1_5
                dW[o + 1, c, i, 6] = a1_6
                dW[o + 2, c, i, 0] = a2_0
                dW[o + 2, c, i, 1] = a2_1
                dW[o + 2, c, i, 2] = a2_2
                dW[o + 2, c, i, 3] = a2_3
                dW[o + 2, c, i, 4] = a2_4
                dW[o + 2, c, i, 5] = a2_5
                dW[o + 2, c, i, 6] = a2_6
                dW[o + 3, c, i, 0] = a3_0
                dW[o + 3, c, i, 1] = a3_1
                dW[o + 3, c, i, 2] = a3_2
                dW[o + 3, c, i, 3] = a3_3
                dW[o + 3, c, i, 4] = a3_4
                dW[o + 3, c, i, 5] = a3_5
                dW[o + 3, c, i, 6] = a3_6
