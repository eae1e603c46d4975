# Correct fixture: right values, returned as nested Python lists (out.tolist()).
# Expected: full marks on every visible conv2d suite and the hidden suite (seeds 0..4): the
# DESIGN contract accepts an array-like return and the checks convert it with np.asarray.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    n, h, w, c_in = inputs.shape
    kh, kw, _, c_out = filters.shape
    if isinstance(strides, int):
        strides = [strides]
    if len(strides) == 4:
        strides = strides[1:3]
    sh, sw = (strides[0], strides[-1])
    if padding.upper() == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        pad_h = max((oh - 1) * sh + kh - h, 0)
        pad_w = max((ow - 1) * sw + kw - w, 0)
        inputs = np.pad(
            inputs, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0))
        )
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, oh, ow, c_out))
    for i in range(oh):
        for j in range(ow):
            window = inputs[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(window, filters, axes=([1, 2, 3], [0, 1, 2]))
    return out.tolist()
