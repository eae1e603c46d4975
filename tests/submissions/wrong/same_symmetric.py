# Wrong fixture: SAME padding of (f - 1) // 2 on each side (the "odd kernel" textbook rule), output
# size read off the padded input.
# Expected: fails same_odd, same_asymmetric, multichannel, filter_bank, batch, edges and hidden
# (seed 2024); passes the VALID-only suites. An even kernel loses a row/column, named "symmetric
# padding of (f - 1) // 2" (filter_bank); an odd kernel with stride > 1 gets stride-1 padding.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    x = np.asarray(inputs, dtype=float)
    w = np.asarray(filters, dtype=float)
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    if isinstance(strides, int):
        sh = sw = strides
    elif len(strides) == 1:
        sh = sw = strides[0]
    elif len(strides) == 2:
        sh, sw = strides
    else:
        sh, sw = strides[1], strides[2]
    if padding.upper() == "SAME":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        x = np.pad(x, ((0, 0), (top, top), (left, left), (0, 0)))
        oh, ow = (h + 2 * top - kh) // sh + 1, (wd + 2 * left - kw) // sw + 1
    else:
        oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, oh, ow, c_out))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                window = x[b, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for k in range(c_out):
                    out[b, i, j, k] = np.sum(window * w[:, :, :, k])
    return out
