# Realistic mistake: the bounds check of a by-hand loop compares the row with the width and the
# column with the height. Right on square images; on others part of the image counts as padding
# (or a read past the input raises IndexError).
# Expected label: hw_swapped (non-square inputs).
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        strides = [strides]
    if len(strides) == 1:
        return strides[0], strides[0], padding.upper()
    if len(strides) == 2:
        return strides[0], strides[1], padding.upper()
    return strides[1], strides[2], padding.upper()


def output_size(n, f, s, padding):
    if padding == "SAME":
        return (n + s - 1) // s
    return (n - f) // s + 1


def same_pad_before(n, f, s):
    out = (n + s - 1) // s
    return max((out - 1) * s + f - n, 0) // 2


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    batch, height, width, channels = inputs.shape
    fh, fw, _, n_filters = filters.shape
    oh = output_size(height, fh, sh, padding)
    ow = output_size(width, fw, sw, padding)
    top = same_pad_before(height, fh, sh) if padding == "SAME" else 0
    left = same_pad_before(width, fw, sw) if padding == "SAME" else 0
    out = np.zeros((batch, oh, ow, n_filters))
    for b in range(batch):
        for i in range(oh):
            for j in range(ow):
                for di in range(fh):
                    for dj in range(fw):
                        y = i * sh + di - top
                        x = j * sw + dj - left
                        if 0 <= y < width and 0 <= x < height:
                            out[b, i, j, :] += inputs[b, y, x, :] @ filters[di, dj, :, :]
    return out
