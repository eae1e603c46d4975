# Realistic mistake: SAME padding solved from "output size = input size" with the stride in it,
# total = (in - 1) * s + f - in, split top = total // 2. Output size ceil(in / s) is right.
# Expected label: same_total_from_in_size (SAME with a stride > 1).
import numpy as np


def _strides_and_padding(strides, padding):
    strides = np.atleast_1d(strides).tolist()
    if len(strides) == 4:
        strides = strides[1:3]
    sh, sw = (strides * 2)[:2] if len(strides) == 1 else strides
    return int(sh), int(sw), padding.upper()


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    m, h, w, c = inputs.shape
    kh, kw, _, nc = filters.shape
    if padding == "SAME":
        ph = max((h - 1) * sh + kh - h, 0)
        pw = max((w - 1) * sw + kw - w, 0)
        images = np.pad(inputs, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
        oh, ow = -(-h // sh), -(-w // sw)
    else:
        images = inputs
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    output = np.zeros((m, oh, ow, nc))
    for i in range(oh):
        for j in range(ow):
            for k in range(nc):
                output[:, i, j, k] = np.sum(
                    images[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :] * filters[:, :, :, k],
                    axis=(1, 2, 3),
                )
    return output
