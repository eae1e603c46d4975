# Realistic mistake: conv2d branches on the exact strings "SAME" and "VALID"; any other spelling
# ("same", "Same", "valid") matches no branch and the function returns None.
# Expected: None for padding spellings other than "SAME"/"VALID"; correct otherwise. The grader
# names it with unrecognised_padding_message(padding).
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        return strides, strides, padding
    if len(strides) == 1:
        return strides[0], strides[0], padding
    if len(strides) == 2:
        return strides[0], strides[1], padding
    return strides[1], strides[2], padding


def _valid(x, filters, sh, sw):
    n, h, w, _ = x.shape
    kh, kw, _, k = filters.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, oh, ow, k))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(patch, filters, axes=3)
    return out


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    if padding == "VALID":
        return _valid(inputs, filters, sh, sw)
    elif padding == "SAME":
        _, h, w, _ = inputs.shape
        kh, kw = filters.shape[:2]
        ph = max((-(-h // sh) - 1) * sh + kh - h, 0)
        pw = max((-(-w // sw) - 1) * sw + kw - w, 0)
        padded = np.pad(inputs, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
        return _valid(padded, filters, sh, sw)
