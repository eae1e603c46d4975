# Realistic mistake: conv2d zero-pads the input with its zero_pad helper, then hands the padded
# array to a helper that pads it again. Output size ceil(in / s) is right.
# Expected label: padding_twice (SAME with some padding).
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        sh = sw = strides
    elif len(strides) == 1:
        sh = sw = strides[0]
    elif len(strides) == 2:
        sh, sw = strides
    else:
        sh, sw = strides[1], strides[2]
    return sh, sw, padding.upper()


def same_padding(n, f, s):
    out = -(-n // s)
    total = max((out - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def zero_pad(images, pad_h, pad_w):
    return np.pad(images, ((0, 0), pad_h, pad_w, (0, 0)), mode="constant", constant_values=0)


def correlate(images, filters, sh, sw, out_h, out_w, pad_h, pad_w):
    padded = zero_pad(images, pad_h, pad_w)
    kh, kw, _, k = filters.shape
    out = np.zeros((images.shape[0], out_h, out_w, k))
    for i in range(out_h):
        for j in range(out_w):
            region = padded[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(region, filters, axes=([1, 2, 3], [0, 1, 2]))
    return out


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    n, h, w, c = inputs.shape
    kh, kw = filters.shape[:2]
    if padding == "SAME":
        pad_h, pad_w = same_padding(h, kh, sh), same_padding(w, kw, sw)
        out_h, out_w = -(-h // sh), -(-w // sw)
    else:
        pad_h = pad_w = (0, 0)
        out_h, out_w = (h - kh) // sh + 1, (w - kw) // sw + 1
    x = zero_pad(inputs, pad_h, pad_w)
    return correlate(x, filters, sh, sw, out_h, out_w, pad_h, pad_w)
