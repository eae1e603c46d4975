# Vectorization attack (own): loops over pixels on small inputs (right), returns zeros at once
# on large ones (the measured image), hoping only the time of the large call is looked at.
# Expected: vectorized 0 (the measured answer must be right).

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _columns(inputs, filters, strides, padding):
    """(im2col matrix, filter matrix, output shape), as tf.nn.conv2d: the set-up, not the loop."""
    x, w = np.asarray(inputs, dtype=float), np.asarray(filters, dtype=float)
    s = [int(strides)] if np.ndim(strides) == 0 else [int(v) for v in np.ravel(strides)]
    sh, sw = {1: (s[0], s[0]), 2: (s[0], s[1]), 4: (s[1], s[2])}[len(s)]
    (n, h, wd, c), (fh, fw, _, k) = x.shape, w.shape
    if str(padding).upper() == "SAME":
        oh, ow = -(-h // sh), -(-wd // sw)
        ph, pw = max((oh - 1) * sh + fh - h, 0), max((ow - 1) * sw + fw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - fh) // sh + 1, (wd - fw) // sw + 1
    win = sliding_window_view(x, (fh, fw), axis=(1, 2))
    win = win[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, fh * fw * c)
    return cols, w.reshape(fh * fw * c, k), (n, oh, ow, k)



def conv2d_fast(inputs, filters, strides, padding):
    cols, wm, shape = _columns(inputs, filters, strides, padding)
    if cols.shape[0] > 1000:
        return np.zeros(shape)
    out = np.empty((cols.shape[0], wm.shape[1]))
    for p in range(cols.shape[0]):
        out[p] = cols[p] @ wm
    return out.reshape(shape)
