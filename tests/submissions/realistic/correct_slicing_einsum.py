# Correct control: np.pad once, slice each window of the whole batch, einsum over the window.
# Expected: no label on any case.
import numpy as np


def _strides_and_padding(strides, padding):
    if np.ndim(strides) == 0:
        strides = [int(strides)]
    strides = [int(v) for v in strides]
    if len(strides) == 4:
        strides = strides[1:3]
    if len(strides) == 1:
        strides = [strides[0], strides[0]]
    return strides[0], strides[1], padding.upper()


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    x = np.asarray(inputs, dtype=np.float64)
    n, h, w, c = x.shape
    kh, kw, _, k = filters.shape
    if padding == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + kh - h, 0)
        pw = max((ow - 1) * sw + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, max(oh, 0), max(ow, 0), k))
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,hwck->nk", win, filters)
    return out
