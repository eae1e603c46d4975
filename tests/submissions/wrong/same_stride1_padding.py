# Wrong fixture: SAME total padding computed as for stride 1 (f - 1), split like TensorFlow; the
# output size ceil(in / s) is right, so only values differ.
# Expected: fails same_odd, same_asymmetric, edges, argument_forms and hidden (seed 2024); passes
# the rest; the report names "your SAME padding is the stride-1 rule" (mistake_models'
# same_total_f_minus_1), also in same_odd, where the swapped split gives the same output.
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
        oh, ow = -(-h // sh), -(-wd // sw)
        pad_h = kh - 1
        pad_w = kw - 1
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
