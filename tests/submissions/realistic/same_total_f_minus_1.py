# Realistic mistake: SAME padding from the stride-1 rule, f - 1 zeros in total split like
# TensorFlow, whatever the stride. Output size ceil(in / s) is right. Own padding helper that
# copies the image into a zero array.
# Expected label: same_total_f_minus_1 (only SAME with a stride > 1).
import math

import numpy as np


def _strides_and_padding(strides, padding):
    if type(strides) is int:
        strides = [strides]
    strides = list(strides)
    if len(strides) == 4:
        strides = strides[1:3]
    if len(strides) == 1:
        strides = strides * 2
    return strides[0], strides[1], padding.upper()


def pad_image(img, top, bottom, left, right):
    n, h, w, c = img.shape
    padded = np.zeros((n, h + top + bottom, w + left + right, c))
    padded[:, top : top + h, left : left + w, :] = img
    return padded


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    N, H, W, C = inputs.shape
    KH, KW, _, F = filters.shape
    if padding == "SAME":
        out_h = math.ceil(H / sh)
        out_w = math.ceil(W / sw)
        # same padding keeps the size: need f - 1 extra pixels
        ph = KH - 1
        pw = KW - 1
        x = pad_image(inputs, ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)
    else:
        out_h = (H - KH) // sh + 1
        out_w = (W - KW) // sw + 1
        x = inputs
    out = np.zeros((N, out_h, out_w, F))
    for n in range(N):
        for f in range(F):
            for r in range(out_h):
                for c in range(out_w):
                    patch = x[n, r * sh : r * sh + KH, c * sw : c * sw + KW, :]
                    out[n, r, c, f] = np.sum(patch * filters[:, :, :, f])
    return out
