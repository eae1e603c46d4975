# Correct control: im2col with fancy indexing and one matrix product.
# Expected: no label on any case.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    strides = np.atleast_1d(np.asarray(strides, dtype=int))
    if strides.size == 4:
        strides = strides[1:3]
    sh, sw = (int(strides[0]), int(strides[-1]))
    n, h, w, c = inputs.shape
    kh, kw, _, k = filters.shape
    if padding.upper() == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        th, tw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        inputs = np.pad(inputs, ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    rows = (np.arange(oh) * sh)[:, None] + np.arange(kh)[None, :]
    cols = (np.arange(ow) * sw)[:, None] + np.arange(kw)[None, :]
    patches = inputs[:, rows[:, None, :, None], cols[None, :, None, :], :]
    return patches.reshape(n, oh, ow, -1) @ filters.reshape(-1, k)
