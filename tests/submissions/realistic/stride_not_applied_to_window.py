# Realistic mistake: the output size uses the stride, but the window starts at (i, j) instead of
# (i * sh, j * sw). Slicing style with np.pad, batch handled by einsum.
# Expected label: stride_not_applied_to_window (only when a stride is > 1).
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        return strides, strides, padding.upper()
    if len(strides) == 1:
        return strides[0], strides[0], padding.upper()
    if len(strides) == 2:
        return strides[0], strides[1], padding.upper()
    return strides[1], strides[2], padding.upper()


def conv2d(inputs, filters, strides, padding):
    stride_h, stride_w, padding = _strides_and_padding(strides, padding)
    batch, in_h, in_w, in_c = inputs.shape
    fh, fw, _, out_c = filters.shape

    if padding == "SAME":
        out_h = int(np.ceil(in_h / stride_h))
        out_w = int(np.ceil(in_w / stride_w))
        pad_h = max((out_h - 1) * stride_h + fh - in_h, 0)
        pad_w = max((out_w - 1) * stride_w + fw - in_w, 0)
        pad_top, pad_left = pad_h // 2, pad_w // 2
        x_pad = np.pad(
            inputs,
            ((0, 0), (pad_top, pad_h - pad_top), (pad_left, pad_w - pad_left), (0, 0)),
        )
    else:
        out_h = (in_h - fh) // stride_h + 1
        out_w = (in_w - fw) // stride_w + 1
        x_pad = inputs

    output = np.zeros((batch, out_h, out_w, out_c))
    for i in range(out_h):
        for j in range(out_w):
            window = x_pad[:, i : i + fh, j : j + fw, :]
            output[:, i, j, :] = np.einsum("bhwc,hwck->bk", window, filters)
    return output
