"""The Winograd transforms as straight-line loops. GENERATED: do not edit.

Written by ``python -m scratchcnn.kernels.winograd_codegen`` from the matrices in
``kernels/winograd.py``; ``kernels/winograd_codegen.py`` explains the loops. Plain
Python: ``kernels/winograd_transforms.py`` compiles them with Numba (cached on disk).
"""

# ruff: noqa
import numpy as np


def input_m2(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """input transform of F(2x2, 3x3): 16 values per tile from 16."""
    zero = Lm[0, 0] * 0
    S = np.empty(3328, dtype=Lm.dtype)
    nn = dst.shape[2] // ntiles
    h0 = 2 * th - ph
    C, H, W = dst.shape[1], src.shape[1], src.shape[2]
    for c in range(C):
        b = zero
        for t in range(ntiles):
            w0 = 2 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for i in range(4):
                    for j in range(4):
                        base = (i * 4 + j) * 64
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            pixel = src[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            for n in range(count):
                                S[base + n] = pixel[n]
                            for n in range(count, 64):
                                S[base + n] = zero
                        else:
                            for n in range(64):
                                S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_1_0 = S[256 + n]
                    d_1_1 = S[320 + n]
                    d_1_2 = S[384 + n]
                    d_1_3 = S[448 + n]
                    d_2_0 = S[512 + n]
                    d_2_1 = S[576 + n]
                    d_2_2 = S[640 + n]
                    d_2_3 = S[704 + n]
                    d_3_0 = S[768 + n]
                    d_3_1 = S[832 + n]
                    d_3_2 = S[896 + n]
                    d_3_3 = S[960 + n]
                    t_0_0 = d_0_0 - d_2_0
                    t_0_1 = d_0_1 - d_2_1
                    t_0_2 = d_0_2 - d_2_2
                    t_0_3 = d_0_3 - d_2_3
                    t_1_0 = d_1_0 + d_2_0
                    t_1_1 = d_1_1 + d_2_1
                    t_1_2 = d_1_2 + d_2_2
                    t_1_3 = d_1_3 + d_2_3
                    t_2_0 = -d_1_0 + d_2_0
                    t_2_1 = -d_1_1 + d_2_1
                    t_2_2 = -d_1_2 + d_2_2
                    t_2_3 = -d_1_3 + d_2_3
                    t_3_0 = d_1_0 - d_3_0
                    t_3_1 = d_1_1 - d_3_1
                    t_3_2 = d_1_2 - d_3_2
                    t_3_3 = d_1_3 - d_3_3
                    S[2304 + n] = t_0_0 - t_0_2
                    S[2368 + n] = t_0_1 + t_0_2
                    S[2432 + n] = -t_0_1 + t_0_2
                    S[2496 + n] = t_0_1 - t_0_3
                    S[2560 + n] = t_1_0 - t_1_2
                    S[2624 + n] = t_1_1 + t_1_2
                    S[2688 + n] = -t_1_1 + t_1_2
                    S[2752 + n] = t_1_1 - t_1_3
                    S[2816 + n] = t_2_0 - t_2_2
                    S[2880 + n] = t_2_1 + t_2_2
                    S[2944 + n] = -t_2_1 + t_2_2
                    S[3008 + n] = t_2_1 - t_2_3
                    S[3072 + n] = t_3_0 - t_3_2
                    S[3136 + n] = t_3_1 + t_3_2
                    S[3200 + n] = -t_3_1 + t_3_2
                    S[3264 + n] = t_3_1 - t_3_3
                for k in range(16):
                    base = (36 + k) * 64
                    part = dst[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        part[n] = S[base + n]


def output_m2(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """output transform of F(2x2, 3x3): 4 values per tile from 16."""
    zero = Lm[0, 0] * 0
    S = np.empty(2560, dtype=Lm.dtype)
    nn = src.shape[2] // ntiles
    h0 = 2 * th - ph
    C, H, W = src.shape[1], dst.shape[1], dst.shape[2]
    for c in range(C):
        b = bias[c]
        for t in range(ntiles):
            w0 = 2 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for k in range(16):
                    base = k * 64
                    part = src[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        S[base + n] = part[n]
                    for n in range(count, 64):
                        S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_1_0 = S[256 + n]
                    d_1_1 = S[320 + n]
                    d_1_2 = S[384 + n]
                    d_1_3 = S[448 + n]
                    d_2_0 = S[512 + n]
                    d_2_1 = S[576 + n]
                    d_2_2 = S[640 + n]
                    d_2_3 = S[704 + n]
                    d_3_0 = S[768 + n]
                    d_3_1 = S[832 + n]
                    d_3_2 = S[896 + n]
                    d_3_3 = S[960 + n]
                    t_0_0 = d_0_0 + d_1_0 + d_2_0
                    t_0_1 = d_0_1 + d_1_1 + d_2_1
                    t_0_2 = d_0_2 + d_1_2 + d_2_2
                    t_0_3 = d_0_3 + d_1_3 + d_2_3
                    t_1_0 = d_1_0 - d_2_0 - d_3_0
                    t_1_1 = d_1_1 - d_2_1 - d_3_1
                    t_1_2 = d_1_2 - d_2_2 - d_3_2
                    t_1_3 = d_1_3 - d_2_3 - d_3_3
                    S[2304 + n] = t_0_0 + t_0_1 + t_0_2
                    S[2368 + n] = t_0_1 - t_0_2 - t_0_3
                    S[2432 + n] = t_1_0 + t_1_1 + t_1_2
                    S[2496 + n] = t_1_1 - t_1_2 - t_1_3
                for i in range(2):
                    for j in range(2):
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            base = (36 + i * 2 + j) * 64
                            pixel = dst[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            if relu:
                                for n in range(count):
                                    y = S[base + n] + b
                                    pixel[n] = y if y > 0 or y != y else zero
                            else:
                                for n in range(count):
                                    pixel[n] = S[base + n] + b


def output_adjoint_m2(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """output_adjoint transform of F(2x2, 3x3): 16 values per tile from 4."""
    zero = Lm[0, 0] * 0
    S = np.empty(3328, dtype=Lm.dtype)
    nn = dst.shape[2] // ntiles
    h0 = 2 * th - ph
    C, H, W = dst.shape[1], src.shape[1], src.shape[2]
    for c in range(C):
        b = zero
        for t in range(ntiles):
            w0 = 2 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for i in range(2):
                    for j in range(2):
                        base = (i * 2 + j) * 64
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            pixel = src[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            for n in range(count):
                                S[base + n] = pixel[n]
                            for n in range(count, 64):
                                S[base + n] = zero
                        else:
                            for n in range(64):
                                S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_1_0 = S[128 + n]
                    d_1_1 = S[192 + n]
                    t_0_0 = d_0_0
                    t_0_1 = d_0_1
                    t_1_0 = d_0_0 + d_1_0
                    t_1_1 = d_0_1 + d_1_1
                    t_2_0 = d_0_0 - d_1_0
                    t_2_1 = d_0_1 - d_1_1
                    t_3_0 = -d_1_0
                    t_3_1 = -d_1_1
                    S[2304 + n] = t_0_0
                    S[2368 + n] = t_0_0 + t_0_1
                    S[2432 + n] = t_0_0 - t_0_1
                    S[2496 + n] = -t_0_1
                    S[2560 + n] = t_1_0
                    S[2624 + n] = t_1_0 + t_1_1
                    S[2688 + n] = t_1_0 - t_1_1
                    S[2752 + n] = -t_1_1
                    S[2816 + n] = t_2_0
                    S[2880 + n] = t_2_0 + t_2_1
                    S[2944 + n] = t_2_0 - t_2_1
                    S[3008 + n] = -t_2_1
                    S[3072 + n] = t_3_0
                    S[3136 + n] = t_3_0 + t_3_1
                    S[3200 + n] = t_3_0 - t_3_1
                    S[3264 + n] = -t_3_1
                for k in range(16):
                    base = (36 + k) * 64
                    part = dst[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        part[n] = S[base + n]


def input_adjoint_m2(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """input_adjoint transform of F(2x2, 3x3): 16 values per tile from 16."""
    zero = Lm[0, 0] * 0
    S = np.empty(3328, dtype=Lm.dtype)
    nn = src.shape[2] // ntiles
    h0 = 2 * th - ph
    C, H, W = src.shape[1], dst.shape[1], dst.shape[2]
    for c in range(C):
        b = zero
        for t in range(ntiles):
            w0 = 2 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for k in range(16):
                    base = k * 64
                    part = src[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        S[base + n] = part[n]
                    for n in range(count, 64):
                        S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_1_0 = S[256 + n]
                    d_1_1 = S[320 + n]
                    d_1_2 = S[384 + n]
                    d_1_3 = S[448 + n]
                    d_2_0 = S[512 + n]
                    d_2_1 = S[576 + n]
                    d_2_2 = S[640 + n]
                    d_2_3 = S[704 + n]
                    d_3_0 = S[768 + n]
                    d_3_1 = S[832 + n]
                    d_3_2 = S[896 + n]
                    d_3_3 = S[960 + n]
                    t_0_0 = d_0_0
                    t_0_1 = d_0_1
                    t_0_2 = d_0_2
                    t_0_3 = d_0_3
                    t_1_0 = d_1_0 - d_2_0 + d_3_0
                    t_1_1 = d_1_1 - d_2_1 + d_3_1
                    t_1_2 = d_1_2 - d_2_2 + d_3_2
                    t_1_3 = d_1_3 - d_2_3 + d_3_3
                    t_2_0 = -d_0_0 + d_1_0 + d_2_0
                    t_2_1 = -d_0_1 + d_1_1 + d_2_1
                    t_2_2 = -d_0_2 + d_1_2 + d_2_2
                    t_2_3 = -d_0_3 + d_1_3 + d_2_3
                    t_3_0 = -d_3_0
                    t_3_1 = -d_3_1
                    t_3_2 = -d_3_2
                    t_3_3 = -d_3_3
                    S[2304 + n] = t_0_0
                    S[2368 + n] = t_0_1 - t_0_2 + t_0_3
                    S[2432 + n] = -t_0_0 + t_0_1 + t_0_2
                    S[2496 + n] = -t_0_3
                    S[2560 + n] = t_1_0
                    S[2624 + n] = t_1_1 - t_1_2 + t_1_3
                    S[2688 + n] = -t_1_0 + t_1_1 + t_1_2
                    S[2752 + n] = -t_1_3
                    S[2816 + n] = t_2_0
                    S[2880 + n] = t_2_1 - t_2_2 + t_2_3
                    S[2944 + n] = -t_2_0 + t_2_1 + t_2_2
                    S[3008 + n] = -t_2_3
                    S[3072 + n] = t_3_0
                    S[3136 + n] = t_3_1 - t_3_2 + t_3_3
                    S[3200 + n] = -t_3_0 + t_3_1 + t_3_2
                    S[3264 + n] = -t_3_3
                for i in range(4):
                    for j in range(4):
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            base = (36 + i * 4 + j) * 64
                            pixel = dst[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            for n in range(count):
                                pixel[n] += S[base + n]


def input_m4(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """input transform of F(4x4, 3x3): 36 values per tile from 36."""
    zero = Lm[0, 0] * 0
    S = np.empty(4608, dtype=Lm.dtype)
    nn = dst.shape[2] // ntiles
    h0 = 4 * th - ph
    C, H, W = dst.shape[1], src.shape[1], src.shape[2]
    L_0_0 = Lm[0, 0]
    L_0_2 = Lm[0, 2]
    L_1_1 = Lm[1, 1]
    L_1_2 = Lm[1, 2]
    L_2_1 = Lm[2, 1]
    L_2_2 = Lm[2, 2]
    L_3_1 = Lm[3, 1]
    L_3_3 = Lm[3, 3]
    L_4_1 = Lm[4, 1]
    L_4_3 = Lm[4, 3]
    L_5_1 = Lm[5, 1]
    L_5_3 = Lm[5, 3]
    R_0_0 = Rm[0, 0]
    R_0_2 = Rm[0, 2]
    R_1_1 = Rm[1, 1]
    R_1_2 = Rm[1, 2]
    R_2_1 = Rm[2, 1]
    R_2_2 = Rm[2, 2]
    R_3_1 = Rm[3, 1]
    R_3_3 = Rm[3, 3]
    R_4_1 = Rm[4, 1]
    R_4_3 = Rm[4, 3]
    R_5_1 = Rm[5, 1]
    R_5_3 = Rm[5, 3]
    for c in range(C):
        b = zero
        for t in range(ntiles):
            w0 = 4 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for i in range(6):
                    for j in range(6):
                        base = (i * 6 + j) * 64
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            pixel = src[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            for n in range(count):
                                S[base + n] = pixel[n]
                            for n in range(count, 64):
                                S[base + n] = zero
                        else:
                            for n in range(64):
                                S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_0_4 = S[256 + n]
                    d_0_5 = S[320 + n]
                    d_1_0 = S[384 + n]
                    d_1_1 = S[448 + n]
                    d_1_2 = S[512 + n]
                    d_1_3 = S[576 + n]
                    d_1_4 = S[640 + n]
                    d_1_5 = S[704 + n]
                    d_2_0 = S[768 + n]
                    d_2_1 = S[832 + n]
                    d_2_2 = S[896 + n]
                    d_2_3 = S[960 + n]
                    d_2_4 = S[1024 + n]
                    d_2_5 = S[1088 + n]
                    d_3_0 = S[1152 + n]
                    d_3_1 = S[1216 + n]
                    d_3_2 = S[1280 + n]
                    d_3_3 = S[1344 + n]
                    d_3_4 = S[1408 + n]
                    d_3_5 = S[1472 + n]
                    d_4_0 = S[1536 + n]
                    d_4_1 = S[1600 + n]
                    d_4_2 = S[1664 + n]
                    d_4_3 = S[1728 + n]
                    d_4_4 = S[1792 + n]
                    d_4_5 = S[1856 + n]
                    d_5_0 = S[1920 + n]
                    d_5_1 = S[1984 + n]
                    d_5_2 = S[2048 + n]
                    d_5_3 = S[2112 + n]
                    d_5_4 = S[2176 + n]
                    d_5_5 = S[2240 + n]
                    t_0_0 = L_0_0 * d_0_0 + L_0_2 * d_2_0 + d_4_0
                    t_0_1 = L_0_0 * d_0_1 + L_0_2 * d_2_1 + d_4_1
                    t_0_2 = L_0_0 * d_0_2 + L_0_2 * d_2_2 + d_4_2
                    t_0_3 = L_0_0 * d_0_3 + L_0_2 * d_2_3 + d_4_3
                    t_0_4 = L_0_0 * d_0_4 + L_0_2 * d_2_4 + d_4_4
                    t_0_5 = L_0_0 * d_0_5 + L_0_2 * d_2_5 + d_4_5
                    t_1_0 = L_1_1 * d_1_0 + L_1_2 * d_2_0 + d_3_0 + d_4_0
                    t_1_1 = L_1_1 * d_1_1 + L_1_2 * d_2_1 + d_3_1 + d_4_1
                    t_1_2 = L_1_1 * d_1_2 + L_1_2 * d_2_2 + d_3_2 + d_4_2
                    t_1_3 = L_1_1 * d_1_3 + L_1_2 * d_2_3 + d_3_3 + d_4_3
                    t_1_4 = L_1_1 * d_1_4 + L_1_2 * d_2_4 + d_3_4 + d_4_4
                    t_1_5 = L_1_1 * d_1_5 + L_1_2 * d_2_5 + d_3_5 + d_4_5
                    t_2_0 = L_2_1 * d_1_0 + L_2_2 * d_2_0 - d_3_0 + d_4_0
                    t_2_1 = L_2_1 * d_1_1 + L_2_2 * d_2_1 - d_3_1 + d_4_1
                    t_2_2 = L_2_1 * d_1_2 + L_2_2 * d_2_2 - d_3_2 + d_4_2
                    t_2_3 = L_2_1 * d_1_3 + L_2_2 * d_2_3 - d_3_3 + d_4_3
                    t_2_4 = L_2_1 * d_1_4 + L_2_2 * d_2_4 - d_3_4 + d_4_4
                    t_2_5 = L_2_1 * d_1_5 + L_2_2 * d_2_5 - d_3_5 + d_4_5
                    t_3_0 = L_3_1 * d_1_0 - d_2_0 + L_3_3 * d_3_0 + d_4_0
                    t_3_1 = L_3_1 * d_1_1 - d_2_1 + L_3_3 * d_3_1 + d_4_1
                    t_3_2 = L_3_1 * d_1_2 - d_2_2 + L_3_3 * d_3_2 + d_4_2
                    t_3_3 = L_3_1 * d_1_3 - d_2_3 + L_3_3 * d_3_3 + d_4_3
                    t_3_4 = L_3_1 * d_1_4 - d_2_4 + L_3_3 * d_3_4 + d_4_4
                    t_3_5 = L_3_1 * d_1_5 - d_2_5 + L_3_3 * d_3_5 + d_4_5
                    t_4_0 = L_4_1 * d_1_0 - d_2_0 + L_4_3 * d_3_0 + d_4_0
                    t_4_1 = L_4_1 * d_1_1 - d_2_1 + L_4_3 * d_3_1 + d_4_1
                    t_4_2 = L_4_1 * d_1_2 - d_2_2 + L_4_3 * d_3_2 + d_4_2
                    t_4_3 = L_4_1 * d_1_3 - d_2_3 + L_4_3 * d_3_3 + d_4_3
                    t_4_4 = L_4_1 * d_1_4 - d_2_4 + L_4_3 * d_3_4 + d_4_4
                    t_4_5 = L_4_1 * d_1_5 - d_2_5 + L_4_3 * d_3_5 + d_4_5
                    t_5_0 = L_5_1 * d_1_0 + L_5_3 * d_3_0 + d_5_0
                    t_5_1 = L_5_1 * d_1_1 + L_5_3 * d_3_1 + d_5_1
                    t_5_2 = L_5_1 * d_1_2 + L_5_3 * d_3_2 + d_5_2
                    t_5_3 = L_5_1 * d_1_3 + L_5_3 * d_3_3 + d_5_3
                    t_5_4 = L_5_1 * d_1_4 + L_5_3 * d_3_4 + d_5_4
                    t_5_5 = L_5_1 * d_1_5 + L_5_3 * d_3_5 + d_5_5
                    S[2304 + n] = R_0_0 * t_0_0 + R_0_2 * t_0_2 + t_0_4
                    S[2368 + n] = R_1_1 * t_0_1 + R_1_2 * t_0_2 + t_0_3 + t_0_4
                    S[2432 + n] = R_2_1 * t_0_1 + R_2_2 * t_0_2 - t_0_3 + t_0_4
                    S[2496 + n] = R_3_1 * t_0_1 - t_0_2 + R_3_3 * t_0_3 + t_0_4
                    S[2560 + n] = R_4_1 * t_0_1 - t_0_2 + R_4_3 * t_0_3 + t_0_4
                    S[2624 + n] = R_5_1 * t_0_1 + R_5_3 * t_0_3 + t_0_5
                    S[2688 + n] = R_0_0 * t_1_0 + R_0_2 * t_1_2 + t_1_4
                    S[2752 + n] = R_1_1 * t_1_1 + R_1_2 * t_1_2 + t_1_3 + t_1_4
                    S[2816 + n] = R_2_1 * t_1_1 + R_2_2 * t_1_2 - t_1_3 + t_1_4
                    S[2880 + n] = R_3_1 * t_1_1 - t_1_2 + R_3_3 * t_1_3 + t_1_4
                    S[2944 + n] = R_4_1 * t_1_1 - t_1_2 + R_4_3 * t_1_3 + t_1_4
                    S[3008 + n] = R_5_1 * t_1_1 + R_5_3 * t_1_3 + t_1_5
                    S[3072 + n] = R_0_0 * t_2_0 + R_0_2 * t_2_2 + t_2_4
                    S[3136 + n] = R_1_1 * t_2_1 + R_1_2 * t_2_2 + t_2_3 + t_2_4
                    S[3200 + n] = R_2_1 * t_2_1 + R_2_2 * t_2_2 - t_2_3 + t_2_4
                    S[3264 + n] = R_3_1 * t_2_1 - t_2_2 + R_3_3 * t_2_3 + t_2_4
                    S[3328 + n] = R_4_1 * t_2_1 - t_2_2 + R_4_3 * t_2_3 + t_2_4
                    S[3392 + n] = R_5_1 * t_2_1 + R_5_3 * t_2_3 + t_2_5
                    S[3456 + n] = R_0_0 * t_3_0 + R_0_2 * t_3_2 + t_3_4
                    S[3520 + n] = R_1_1 * t_3_1 + R_1_2 * t_3_2 + t_3_3 + t_3_4
                    S[3584 + n] = R_2_1 * t_3_1 + R_2_2 * t_3_2 - t_3_3 + t_3_4
                    S[3648 + n] = R_3_1 * t_3_1 - t_3_2 + R_3_3 * t_3_3 + t_3_4
                    S[3712 + n] = R_4_1 * t_3_1 - t_3_2 + R_4_3 * t_3_3 + t_3_4
                    S[3776 + n] = R_5_1 * t_3_1 + R_5_3 * t_3_3 + t_3_5
                    S[3840 + n] = R_0_0 * t_4_0 + R_0_2 * t_4_2 + t_4_4
                    S[3904 + n] = R_1_1 * t_4_1 + R_1_2 * t_4_2 + t_4_3 + t_4_4
                    S[3968 + n] = R_2_1 * t_4_1 + R_2_2 * t_4_2 - t_4_3 + t_4_4
                    S[4032 + n] = R_3_1 * t_4_1 - t_4_2 + R_3_3 * t_4_3 + t_4_4
                    S[4096 + n] = R_4_1 * t_4_1 - t_4_2 + R_4_3 * t_4_3 + t_4_4
                    S[4160 + n] = R_5_1 * t_4_1 + R_5_3 * t_4_3 + t_4_5
                    S[4224 + n] = R_0_0 * t_5_0 + R_0_2 * t_5_2 + t_5_4
                    S[4288 + n] = R_1_1 * t_5_1 + R_1_2 * t_5_2 + t_5_3 + t_5_4
                    S[4352 + n] = R_2_1 * t_5_1 + R_2_2 * t_5_2 - t_5_3 + t_5_4
                    S[4416 + n] = R_3_1 * t_5_1 - t_5_2 + R_3_3 * t_5_3 + t_5_4
                    S[4480 + n] = R_4_1 * t_5_1 - t_5_2 + R_4_3 * t_5_3 + t_5_4
                    S[4544 + n] = R_5_1 * t_5_1 + R_5_3 * t_5_3 + t_5_5
                for k in range(36):
                    base = (36 + k) * 64
                    part = dst[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        part[n] = S[base + n]


def output_m4(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """output transform of F(4x4, 3x3): 16 values per tile from 36."""
    zero = Lm[0, 0] * 0
    S = np.empty(3328, dtype=Lm.dtype)
    nn = src.shape[2] // ntiles
    h0 = 4 * th - ph
    C, H, W = src.shape[1], dst.shape[1], dst.shape[2]
    L_1_3 = Lm[1, 3]
    L_1_4 = Lm[1, 4]
    L_2_3 = Lm[2, 3]
    L_2_4 = Lm[2, 4]
    L_3_3 = Lm[3, 3]
    L_3_4 = Lm[3, 4]
    R_1_3 = Rm[1, 3]
    R_1_4 = Rm[1, 4]
    R_2_3 = Rm[2, 3]
    R_2_4 = Rm[2, 4]
    R_3_3 = Rm[3, 3]
    R_3_4 = Rm[3, 4]
    for c in range(C):
        b = bias[c]
        for t in range(ntiles):
            w0 = 4 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for k in range(36):
                    base = k * 64
                    part = src[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        S[base + n] = part[n]
                    for n in range(count, 64):
                        S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_0_4 = S[256 + n]
                    d_0_5 = S[320 + n]
                    d_1_0 = S[384 + n]
                    d_1_1 = S[448 + n]
                    d_1_2 = S[512 + n]
                    d_1_3 = S[576 + n]
                    d_1_4 = S[640 + n]
                    d_1_5 = S[704 + n]
                    d_2_0 = S[768 + n]
                    d_2_1 = S[832 + n]
                    d_2_2 = S[896 + n]
                    d_2_3 = S[960 + n]
                    d_2_4 = S[1024 + n]
                    d_2_5 = S[1088 + n]
                    d_3_0 = S[1152 + n]
                    d_3_1 = S[1216 + n]
                    d_3_2 = S[1280 + n]
                    d_3_3 = S[1344 + n]
                    d_3_4 = S[1408 + n]
                    d_3_5 = S[1472 + n]
                    d_4_0 = S[1536 + n]
                    d_4_1 = S[1600 + n]
                    d_4_2 = S[1664 + n]
                    d_4_3 = S[1728 + n]
                    d_4_4 = S[1792 + n]
                    d_4_5 = S[1856 + n]
                    d_5_0 = S[1920 + n]
                    d_5_1 = S[1984 + n]
                    d_5_2 = S[2048 + n]
                    d_5_3 = S[2112 + n]
                    d_5_4 = S[2176 + n]
                    d_5_5 = S[2240 + n]
                    t_0_0 = d_0_0 + d_1_0 + d_2_0 + d_3_0 + d_4_0
                    t_0_1 = d_0_1 + d_1_1 + d_2_1 + d_3_1 + d_4_1
                    t_0_2 = d_0_2 + d_1_2 + d_2_2 + d_3_2 + d_4_2
                    t_0_3 = d_0_3 + d_1_3 + d_2_3 + d_3_3 + d_4_3
                    t_0_4 = d_0_4 + d_1_4 + d_2_4 + d_3_4 + d_4_4
                    t_0_5 = d_0_5 + d_1_5 + d_2_5 + d_3_5 + d_4_5
                    t_1_0 = d_1_0 - d_2_0 + L_1_3 * d_3_0 + L_1_4 * d_4_0
                    t_1_1 = d_1_1 - d_2_1 + L_1_3 * d_3_1 + L_1_4 * d_4_1
                    t_1_2 = d_1_2 - d_2_2 + L_1_3 * d_3_2 + L_1_4 * d_4_2
                    t_1_3 = d_1_3 - d_2_3 + L_1_3 * d_3_3 + L_1_4 * d_4_3
                    t_1_4 = d_1_4 - d_2_4 + L_1_3 * d_3_4 + L_1_4 * d_4_4
                    t_1_5 = d_1_5 - d_2_5 + L_1_3 * d_3_5 + L_1_4 * d_4_5
                    t_2_0 = d_1_0 + d_2_0 + L_2_3 * d_3_0 + L_2_4 * d_4_0
                    t_2_1 = d_1_1 + d_2_1 + L_2_3 * d_3_1 + L_2_4 * d_4_1
                    t_2_2 = d_1_2 + d_2_2 + L_2_3 * d_3_2 + L_2_4 * d_4_2
                    t_2_3 = d_1_3 + d_2_3 + L_2_3 * d_3_3 + L_2_4 * d_4_3
                    t_2_4 = d_1_4 + d_2_4 + L_2_3 * d_3_4 + L_2_4 * d_4_4
                    t_2_5 = d_1_5 + d_2_5 + L_2_3 * d_3_5 + L_2_4 * d_4_5
                    t_3_0 = d_1_0 - d_2_0 + L_3_3 * d_3_0 + L_3_4 * d_4_0 + d_5_0
                    t_3_1 = d_1_1 - d_2_1 + L_3_3 * d_3_1 + L_3_4 * d_4_1 + d_5_1
                    t_3_2 = d_1_2 - d_2_2 + L_3_3 * d_3_2 + L_3_4 * d_4_2 + d_5_2
                    t_3_3 = d_1_3 - d_2_3 + L_3_3 * d_3_3 + L_3_4 * d_4_3 + d_5_3
                    t_3_4 = d_1_4 - d_2_4 + L_3_3 * d_3_4 + L_3_4 * d_4_4 + d_5_4
                    t_3_5 = d_1_5 - d_2_5 + L_3_3 * d_3_5 + L_3_4 * d_4_5 + d_5_5
                    S[2304 + n] = t_0_0 + t_0_1 + t_0_2 + t_0_3 + t_0_4
                    S[2368 + n] = t_0_1 - t_0_2 + R_1_3 * t_0_3 + R_1_4 * t_0_4
                    S[2432 + n] = t_0_1 + t_0_2 + R_2_3 * t_0_3 + R_2_4 * t_0_4
                    S[2496 + n] = t_0_1 - t_0_2 + R_3_3 * t_0_3 + R_3_4 * t_0_4 + t_0_5
                    S[2560 + n] = t_1_0 + t_1_1 + t_1_2 + t_1_3 + t_1_4
                    S[2624 + n] = t_1_1 - t_1_2 + R_1_3 * t_1_3 + R_1_4 * t_1_4
                    S[2688 + n] = t_1_1 + t_1_2 + R_2_3 * t_1_3 + R_2_4 * t_1_4
                    S[2752 + n] = t_1_1 - t_1_2 + R_3_3 * t_1_3 + R_3_4 * t_1_4 + t_1_5
                    S[2816 + n] = t_2_0 + t_2_1 + t_2_2 + t_2_3 + t_2_4
                    S[2880 + n] = t_2_1 - t_2_2 + R_1_3 * t_2_3 + R_1_4 * t_2_4
                    S[2944 + n] = t_2_1 + t_2_2 + R_2_3 * t_2_3 + R_2_4 * t_2_4
                    S[3008 + n] = t_2_1 - t_2_2 + R_3_3 * t_2_3 + R_3_4 * t_2_4 + t_2_5
                    S[3072 + n] = t_3_0 + t_3_1 + t_3_2 + t_3_3 + t_3_4
                    S[3136 + n] = t_3_1 - t_3_2 + R_1_3 * t_3_3 + R_1_4 * t_3_4
                    S[3200 + n] = t_3_1 + t_3_2 + R_2_3 * t_3_3 + R_2_4 * t_3_4
                    S[3264 + n] = t_3_1 - t_3_2 + R_3_3 * t_3_3 + R_3_4 * t_3_4 + t_3_5
                for i in range(4):
                    for j in range(4):
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            base = (36 + i * 4 + j) * 64
                            pixel = dst[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            if relu:
                                for n in range(count):
                                    y = S[base + n] + b
                                    pixel[n] = y if y > 0 or y != y else zero
                            else:
                                for n in range(count):
                                    pixel[n] = S[base + n] + b


def output_adjoint_m4(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """output_adjoint transform of F(4x4, 3x3): 36 values per tile from 16."""
    zero = Lm[0, 0] * 0
    S = np.empty(4608, dtype=Lm.dtype)
    nn = dst.shape[2] // ntiles
    h0 = 4 * th - ph
    C, H, W = dst.shape[1], src.shape[1], src.shape[2]
    L_3_1 = Lm[3, 1]
    L_3_2 = Lm[3, 2]
    L_3_3 = Lm[3, 3]
    L_4_1 = Lm[4, 1]
    L_4_2 = Lm[4, 2]
    L_4_3 = Lm[4, 3]
    R_3_1 = Rm[3, 1]
    R_3_2 = Rm[3, 2]
    R_3_3 = Rm[3, 3]
    R_4_1 = Rm[4, 1]
    R_4_2 = Rm[4, 2]
    R_4_3 = Rm[4, 3]
    for c in range(C):
        b = zero
        for t in range(ntiles):
            w0 = 4 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for i in range(4):
                    for j in range(4):
                        base = (i * 4 + j) * 64
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            pixel = src[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            for n in range(count):
                                S[base + n] = pixel[n]
                            for n in range(count, 64):
                                S[base + n] = zero
                        else:
                            for n in range(64):
                                S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_1_0 = S[256 + n]
                    d_1_1 = S[320 + n]
                    d_1_2 = S[384 + n]
                    d_1_3 = S[448 + n]
                    d_2_0 = S[512 + n]
                    d_2_1 = S[576 + n]
                    d_2_2 = S[640 + n]
                    d_2_3 = S[704 + n]
                    d_3_0 = S[768 + n]
                    d_3_1 = S[832 + n]
                    d_3_2 = S[896 + n]
                    d_3_3 = S[960 + n]
                    t_0_0 = d_0_0
                    t_0_1 = d_0_1
                    t_0_2 = d_0_2
                    t_0_3 = d_0_3
                    t_1_0 = d_0_0 + d_1_0 + d_2_0 + d_3_0
                    t_1_1 = d_0_1 + d_1_1 + d_2_1 + d_3_1
                    t_1_2 = d_0_2 + d_1_2 + d_2_2 + d_3_2
                    t_1_3 = d_0_3 + d_1_3 + d_2_3 + d_3_3
                    t_2_0 = d_0_0 - d_1_0 + d_2_0 - d_3_0
                    t_2_1 = d_0_1 - d_1_1 + d_2_1 - d_3_1
                    t_2_2 = d_0_2 - d_1_2 + d_2_2 - d_3_2
                    t_2_3 = d_0_3 - d_1_3 + d_2_3 - d_3_3
                    t_3_0 = d_0_0 + L_3_1 * d_1_0 + L_3_2 * d_2_0 + L_3_3 * d_3_0
                    t_3_1 = d_0_1 + L_3_1 * d_1_1 + L_3_2 * d_2_1 + L_3_3 * d_3_1
                    t_3_2 = d_0_2 + L_3_1 * d_1_2 + L_3_2 * d_2_2 + L_3_3 * d_3_2
                    t_3_3 = d_0_3 + L_3_1 * d_1_3 + L_3_2 * d_2_3 + L_3_3 * d_3_3
                    t_4_0 = d_0_0 + L_4_1 * d_1_0 + L_4_2 * d_2_0 + L_4_3 * d_3_0
                    t_4_1 = d_0_1 + L_4_1 * d_1_1 + L_4_2 * d_2_1 + L_4_3 * d_3_1
                    t_4_2 = d_0_2 + L_4_1 * d_1_2 + L_4_2 * d_2_2 + L_4_3 * d_3_2
                    t_4_3 = d_0_3 + L_4_1 * d_1_3 + L_4_2 * d_2_3 + L_4_3 * d_3_3
                    t_5_0 = d_3_0
                    t_5_1 = d_3_1
                    t_5_2 = d_3_2
                    t_5_3 = d_3_3
                    S[2304 + n] = t_0_0
                    S[2368 + n] = t_0_0 + t_0_1 + t_0_2 + t_0_3
                    S[2432 + n] = t_0_0 - t_0_1 + t_0_2 - t_0_3
                    S[2496 + n] = t_0_0 + R_3_1 * t_0_1 + R_3_2 * t_0_2 + R_3_3 * t_0_3
                    S[2560 + n] = t_0_0 + R_4_1 * t_0_1 + R_4_2 * t_0_2 + R_4_3 * t_0_3
                    S[2624 + n] = t_0_3
                    S[2688 + n] = t_1_0
                    S[2752 + n] = t_1_0 + t_1_1 + t_1_2 + t_1_3
                    S[2816 + n] = t_1_0 - t_1_1 + t_1_2 - t_1_3
                    S[2880 + n] = t_1_0 + R_3_1 * t_1_1 + R_3_2 * t_1_2 + R_3_3 * t_1_3
                    S[2944 + n] = t_1_0 + R_4_1 * t_1_1 + R_4_2 * t_1_2 + R_4_3 * t_1_3
                    S[3008 + n] = t_1_3
                    S[3072 + n] = t_2_0
                    S[3136 + n] = t_2_0 + t_2_1 + t_2_2 + t_2_3
                    S[3200 + n] = t_2_0 - t_2_1 + t_2_2 - t_2_3
                    S[3264 + n] = t_2_0 + R_3_1 * t_2_1 + R_3_2 * t_2_2 + R_3_3 * t_2_3
                    S[3328 + n] = t_2_0 + R_4_1 * t_2_1 + R_4_2 * t_2_2 + R_4_3 * t_2_3
                    S[3392 + n] = t_2_3
                    S[3456 + n] = t_3_0
                    S[3520 + n] = t_3_0 + t_3_1 + t_3_2 + t_3_3
                    S[3584 + n] = t_3_0 - t_3_1 + t_3_2 - t_3_3
                    S[3648 + n] = t_3_0 + R_3_1 * t_3_1 + R_3_2 * t_3_2 + R_3_3 * t_3_3
                    S[3712 + n] = t_3_0 + R_4_1 * t_3_1 + R_4_2 * t_3_2 + R_4_3 * t_3_3
                    S[3776 + n] = t_3_3
                    S[3840 + n] = t_4_0
                    S[3904 + n] = t_4_0 + t_4_1 + t_4_2 + t_4_3
                    S[3968 + n] = t_4_0 - t_4_1 + t_4_2 - t_4_3
                    S[4032 + n] = t_4_0 + R_3_1 * t_4_1 + R_3_2 * t_4_2 + R_3_3 * t_4_3
                    S[4096 + n] = t_4_0 + R_4_1 * t_4_1 + R_4_2 * t_4_2 + R_4_3 * t_4_3
                    S[4160 + n] = t_4_3
                    S[4224 + n] = t_5_0
                    S[4288 + n] = t_5_0 + t_5_1 + t_5_2 + t_5_3
                    S[4352 + n] = t_5_0 - t_5_1 + t_5_2 - t_5_3
                    S[4416 + n] = t_5_0 + R_3_1 * t_5_1 + R_3_2 * t_5_2 + R_3_3 * t_5_3
                    S[4480 + n] = t_5_0 + R_4_1 * t_5_1 + R_4_2 * t_5_2 + R_4_3 * t_5_3
                    S[4544 + n] = t_5_3
                for k in range(36):
                    base = (36 + k) * 64
                    part = dst[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        part[n] = S[base + n]


def input_adjoint_m4(src, Lm, Rm, bias, th, tw0, ntiles, n0, dst, ph, pw, relu):
    """input_adjoint transform of F(4x4, 3x3): 36 values per tile from 36."""
    zero = Lm[0, 0] * 0
    S = np.empty(4608, dtype=Lm.dtype)
    nn = src.shape[2] // ntiles
    h0 = 4 * th - ph
    C, H, W = src.shape[1], dst.shape[1], dst.shape[2]
    L_0_0 = Lm[0, 0]
    L_1_1 = Lm[1, 1]
    L_1_2 = Lm[1, 2]
    L_1_3 = Lm[1, 3]
    L_1_4 = Lm[1, 4]
    L_1_5 = Lm[1, 5]
    L_2_0 = Lm[2, 0]
    L_2_1 = Lm[2, 1]
    L_2_2 = Lm[2, 2]
    L_3_3 = Lm[3, 3]
    L_3_4 = Lm[3, 4]
    L_3_5 = Lm[3, 5]
    R_0_0 = Rm[0, 0]
    R_1_1 = Rm[1, 1]
    R_1_2 = Rm[1, 2]
    R_1_3 = Rm[1, 3]
    R_1_4 = Rm[1, 4]
    R_1_5 = Rm[1, 5]
    R_2_0 = Rm[2, 0]
    R_2_1 = Rm[2, 1]
    R_2_2 = Rm[2, 2]
    R_3_3 = Rm[3, 3]
    R_3_4 = Rm[3, 4]
    R_3_5 = Rm[3, 5]
    for c in range(C):
        b = zero
        for t in range(ntiles):
            w0 = 4 * (tw0 + t) - pw
            col = t * nn
            for s0 in range(0, nn, 64):
                count = min(64, nn - s0)
                for k in range(36):
                    base = k * 64
                    part = src[k, c, col + s0 : col + s0 + count]
                    for n in range(count):
                        S[base + n] = part[n]
                    for n in range(count, 64):
                        S[base + n] = zero
                for n in range(64):
                    d_0_0 = S[0 + n]
                    d_0_1 = S[64 + n]
                    d_0_2 = S[128 + n]
                    d_0_3 = S[192 + n]
                    d_0_4 = S[256 + n]
                    d_0_5 = S[320 + n]
                    d_1_0 = S[384 + n]
                    d_1_1 = S[448 + n]
                    d_1_2 = S[512 + n]
                    d_1_3 = S[576 + n]
                    d_1_4 = S[640 + n]
                    d_1_5 = S[704 + n]
                    d_2_0 = S[768 + n]
                    d_2_1 = S[832 + n]
                    d_2_2 = S[896 + n]
                    d_2_3 = S[960 + n]
                    d_2_4 = S[1024 + n]
                    d_2_5 = S[1088 + n]
                    d_3_0 = S[1152 + n]
                    d_3_1 = S[1216 + n]
                    d_3_2 = S[1280 + n]
                    d_3_3 = S[1344 + n]
                    d_3_4 = S[1408 + n]
                    d_3_5 = S[1472 + n]
                    d_4_0 = S[1536 + n]
                    d_4_1 = S[1600 + n]
                    d_4_2 = S[1664 + n]
                    d_4_3 = S[1728 + n]
                    d_4_4 = S[1792 + n]
                    d_4_5 = S[1856 + n]
                    d_5_0 = S[1920 + n]
                    d_5_1 = S[1984 + n]
                    d_5_2 = S[2048 + n]
                    d_5_3 = S[2112 + n]
                    d_5_4 = S[2176 + n]
                    d_5_5 = S[2240 + n]
                    t_0_0 = L_0_0 * d_0_0
                    t_0_1 = L_0_0 * d_0_1
                    t_0_2 = L_0_0 * d_0_2
                    t_0_3 = L_0_0 * d_0_3
                    t_0_4 = L_0_0 * d_0_4
                    t_0_5 = L_0_0 * d_0_5
                    t_1_0 = L_1_1 * d_1_0 + L_1_2 * d_2_0 + L_1_3 * d_3_0 + L_1_4 * d_4_0 + L_1_5 * d_5_0
                    t_1_1 = L_1_1 * d_1_1 + L_1_2 * d_2_1 + L_1_3 * d_3_1 + L_1_4 * d_4_1 + L_1_5 * d_5_1
                    t_1_2 = L_1_1 * d_1_2 + L_1_2 * d_2_2 + L_1_3 * d_3_2 + L_1_4 * d_4_2 + L_1_5 * d_5_2
                    t_1_3 = L_1_1 * d_1_3 + L_1_2 * d_2_3 + L_1_3 * d_3_3 + L_1_4 * d_4_3 + L_1_5 * d_5_3
                    t_1_4 = L_1_1 * d_1_4 + L_1_2 * d_2_4 + L_1_3 * d_3_4 + L_1_4 * d_4_4 + L_1_5 * d_5_4
                    t_1_5 = L_1_1 * d_1_5 + L_1_2 * d_2_5 + L_1_3 * d_3_5 + L_1_4 * d_4_5 + L_1_5 * d_5_5
                    t_2_0 = L_2_0 * d_0_0 + L_2_1 * d_1_0 + L_2_2 * d_2_0 - d_3_0 - d_4_0
                    t_2_1 = L_2_0 * d_0_1 + L_2_1 * d_1_1 + L_2_2 * d_2_1 - d_3_1 - d_4_1
                    t_2_2 = L_2_0 * d_0_2 + L_2_1 * d_1_2 + L_2_2 * d_2_2 - d_3_2 - d_4_2
                    t_2_3 = L_2_0 * d_0_3 + L_2_1 * d_1_3 + L_2_2 * d_2_3 - d_3_3 - d_4_3
                    t_2_4 = L_2_0 * d_0_4 + L_2_1 * d_1_4 + L_2_2 * d_2_4 - d_3_4 - d_4_4
                    t_2_5 = L_2_0 * d_0_5 + L_2_1 * d_1_5 + L_2_2 * d_2_5 - d_3_5 - d_4_5
                    t_3_0 = d_1_0 - d_2_0 + L_3_3 * d_3_0 + L_3_4 * d_4_0 + L_3_5 * d_5_0
                    t_3_1 = d_1_1 - d_2_1 + L_3_3 * d_3_1 + L_3_4 * d_4_1 + L_3_5 * d_5_1
                    t_3_2 = d_1_2 - d_2_2 + L_3_3 * d_3_2 + L_3_4 * d_4_2 + L_3_5 * d_5_2
                    t_3_3 = d_1_3 - d_2_3 + L_3_3 * d_3_3 + L_3_4 * d_4_3 + L_3_5 * d_5_3
                    t_3_4 = d_1_4 - d_2_4 + L_3_3 * d_3_4 + L_3_4 * d_4_4 + L_3_5 * d_5_4
                    t_3_5 = d_1_5 - d_2_5 + L_3_3 * d_3_5 + L_3_4 * d_4_5 + L_3_5 * d_5_5
                    t_4_0 = d_0_0 + d_1_0 + d_2_0 + d_3_0 + d_4_0
                    t_4_1 = d_0_1 + d_1_1 + d_2_1 + d_3_1 + d_4_1
                    t_4_2 = d_0_2 + d_1_2 + d_2_2 + d_3_2 + d_4_2
                    t_4_3 = d_0_3 + d_1_3 + d_2_3 + d_3_3 + d_4_3
                    t_4_4 = d_0_4 + d_1_4 + d_2_4 + d_3_4 + d_4_4
                    t_4_5 = d_0_5 + d_1_5 + d_2_5 + d_3_5 + d_4_5
                    t_5_0 = d_5_0
                    t_5_1 = d_5_1
                    t_5_2 = d_5_2
                    t_5_3 = d_5_3
                    t_5_4 = d_5_4
                    t_5_5 = d_5_5
                    S[2304 + n] = R_0_0 * t_0_0
                    S[2368 + n] = R_1_1 * t_0_1 + R_1_2 * t_0_2 + R_1_3 * t_0_3 + R_1_4 * t_0_4 + R_1_5 * t_0_5
                    S[2432 + n] = R_2_0 * t_0_0 + R_2_1 * t_0_1 + R_2_2 * t_0_2 - t_0_3 - t_0_4
                    S[2496 + n] = t_0_1 - t_0_2 + R_3_3 * t_0_3 + R_3_4 * t_0_4 + R_3_5 * t_0_5
                    S[2560 + n] = t_0_0 + t_0_1 + t_0_2 + t_0_3 + t_0_4
                    S[2624 + n] = t_0_5
                    S[2688 + n] = R_0_0 * t_1_0
                    S[2752 + n] = R_1_1 * t_1_1 + R_1_2 * t_1_2 + R_1_3 * t_1_3 + R_1_4 * t_1_4 + R_1_5 * t_1_5
                    S[2816 + n] = R_2_0 * t_1_0 + R_2_1 * t_1_1 + R_2_2 * t_1_2 - t_1_3 - t_1_4
                    S[2880 + n] = t_1_1 - t_1_2 + R_3_3 * t_1_3 + R_3_4 * t_1_4 + R_3_5 * t_1_5
                    S[2944 + n] = t_1_0 + t_1_1 + t_1_2 + t_1_3 + t_1_4
                    S[3008 + n] = t_1_5
                    S[3072 + n] = R_0_0 * t_2_0
                    S[3136 + n] = R_1_1 * t_2_1 + R_1_2 * t_2_2 + R_1_3 * t_2_3 + R_1_4 * t_2_4 + R_1_5 * t_2_5
                    S[3200 + n] = R_2_0 * t_2_0 + R_2_1 * t_2_1 + R_2_2 * t_2_2 - t_2_3 - t_2_4
                    S[3264 + n] = t_2_1 - t_2_2 + R_3_3 * t_2_3 + R_3_4 * t_2_4 + R_3_5 * t_2_5
                    S[3328 + n] = t_2_0 + t_2_1 + t_2_2 + t_2_3 + t_2_4
                    S[3392 + n] = t_2_5
                    S[3456 + n] = R_0_0 * t_3_0
                    S[3520 + n] = R_1_1 * t_3_1 + R_1_2 * t_3_2 + R_1_3 * t_3_3 + R_1_4 * t_3_4 + R_1_5 * t_3_5
                    S[3584 + n] = R_2_0 * t_3_0 + R_2_1 * t_3_1 + R_2_2 * t_3_2 - t_3_3 - t_3_4
                    S[3648 + n] = t_3_1 - t_3_2 + R_3_3 * t_3_3 + R_3_4 * t_3_4 + R_3_5 * t_3_5
                    S[3712 + n] = t_3_0 + t_3_1 + t_3_2 + t_3_3 + t_3_4
                    S[3776 + n] = t_3_5
                    S[3840 + n] = R_0_0 * t_4_0
                    S[3904 + n] = R_1_1 * t_4_1 + R_1_2 * t_4_2 + R_1_3 * t_4_3 + R_1_4 * t_4_4 + R_1_5 * t_4_5
                    S[3968 + n] = R_2_0 * t_4_0 + R_2_1 * t_4_1 + R_2_2 * t_4_2 - t_4_3 - t_4_4
                    S[4032 + n] = t_4_1 - t_4_2 + R_3_3 * t_4_3 + R_3_4 * t_4_4 + R_3_5 * t_4_5
                    S[4096 + n] = t_4_0 + t_4_1 + t_4_2 + t_4_3 + t_4_4
                    S[4160 + n] = t_4_5
                    S[4224 + n] = R_0_0 * t_5_0
                    S[4288 + n] = R_1_1 * t_5_1 + R_1_2 * t_5_2 + R_1_3 * t_5_3 + R_1_4 * t_5_4 + R_1_5 * t_5_5
                    S[4352 + n] = R_2_0 * t_5_0 + R_2_1 * t_5_1 + R_2_2 * t_5_2 - t_5_3 - t_5_4
                    S[4416 + n] = t_5_1 - t_5_2 + R_3_3 * t_5_3 + R_3_4 * t_5_4 + R_3_5 * t_5_5
                    S[4480 + n] = t_5_0 + t_5_1 + t_5_2 + t_5_3 + t_5_4
                    S[4544 + n] = t_5_5
                for i in range(6):
                    for j in range(6):
                        if 0 <= h0 + i < H and 0 <= w0 + j < W:
                            base = (36 + i * 6 + j) * 64
                            pixel = dst[c, h0 + i, w0 + j, n0 + s0 : n0 + s0 + count]
                            for n in range(count):
                                pixel[n] += S[base + n]
