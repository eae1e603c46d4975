# Correct fixture: the beginner's conv2d, seven nested Python loops over scalars.
# Expected: every visible conv2d suite of 03_filter_banks and the hidden suite (seeds 0..4) score
# full marks.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    n, h, w, c_in = inputs.shape
    kh, kw, _, c_out = filters.shape
    if isinstance(strides, int):
        sh = sw = strides
    elif len(strides) == 1:
        sh = sw = strides[0]
    elif len(strides) == 2:
        sh, sw = strides
    else:
        sh, sw = strides[1], strides[2]
    if padding.upper() == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        pad_h = max((oh - 1) * sh + kh - h, 0)
        pad_w = max((ow - 1) * sw + kw - w, 0)
        top, left = pad_h // 2, pad_w // 2
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        top = left = 0
    out = np.zeros((n, oh, ow, c_out))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for k in range(c_out):
                    total = 0.0
                    for dy in range(kh):
                        for dx in range(kw):
                            y = i * sh + dy - top
                            x = j * sw + dx - left
                            if 0 <= y < h and 0 <= x < w:
                                for c in range(c_in):
                                    total += inputs[b, y, x, c] * filters[dy, dx, c, k]
                    out[b, i, j, k] = total
    return out
