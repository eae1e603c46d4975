# Wrong fixture: `if padding == "SAME"`, so "same" and "Same" silently run VALID.
# Expected: fails argument_forms only (the one suite spelling the padding in lower or mixed case;
# every other suite passes "SAME"/"VALID"); its report says "padding 'Same' was not recognised as
# SAME" where the output has the VALID size.
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
    if padding == "SAME":
        oh, ow = -(-h // sh), -(-wd // sw)
        pad_h = max((oh - 1) * sh + kh - h, 0)
        pad_w = max((ow - 1) * sw + kw - wd, 0)
        top, left = pad_h // 2, pad_w // 2
        x = np.pad(x, ((0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)))
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
