# Realistic mistake: SAME pads with a mirror image of the input (np.pad mode="reflect"), with the
# right amounts and output size.
# Expected label: reflect_padding (SAME with some padding).
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        return (strides, strides), padding.upper()
    strides = list(strides)
    if len(strides) == 4:
        return (strides[1], strides[2]), padding.upper()
    if len(strides) == 2:
        return (strides[0], strides[1]), padding.upper()
    return (strides[0], strides[0]), padding.upper()


def conv2d(inputs, filters, strides, padding):
    (sh, sw), padding = _strides_and_padding(strides, padding)
    n, h, w, _ = inputs.shape
    kh, kw, _, k = filters.shape
    if padding == "SAME":
        out_h, out_w = -(-h // sh), -(-w // sw)
        pad_h = max((out_h - 1) * sh + kh - h, 0)
        pad_w = max((out_w - 1) * sw + kw - w, 0)
        pads = ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0))
        x = np.pad(inputs, pads, mode="reflect")
    else:
        out_h, out_w = (h - kh) // sh + 1, (w - kw) // sw + 1
        x = inputs
    flat = filters.reshape(kh * kw * filters.shape[2], k)
    out = np.zeros((n, out_h, out_w, k))
    for b in range(n):
        for i in range(out_h):
            for j in range(out_w):
                piece = x[b, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                out[b, i, j] = piece.ravel() @ flat
    return out
