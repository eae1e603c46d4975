# Realistic mistake: the output array has the SAME size and the input is padded correctly, but the
# loops run over the window positions of the *unpadded* input (range(0, in - f + 1, s)), so the
# last output rows/columns stay 0.
# Expected label: loop_unpadded_extent (SAME with some padding).
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        return strides, strides, padding.upper()
    if len(strides) == 4:
        return strides[1], strides[2], padding.upper()
    if len(strides) == 2:
        return strides[0], strides[1], padding.upper()
    return strides[0], strides[0], padding.upper()


def conv2d(inputs, filters, strides, padding):
    stride_h, stride_w, padding = _strides_and_padding(strides, padding)
    N, H, W, C = inputs.shape
    HH, WW, _, F = filters.shape
    if padding == "SAME":
        H_out, W_out = -(-H // stride_h), -(-W // stride_w)
        pad_h = max((H_out - 1) * stride_h + HH - H, 0)
        pad_w = max((W_out - 1) * stride_w + WW - W, 0)
        x_padded = np.pad(
            inputs, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0))
        )
    else:
        H_out, W_out = (H - HH) // stride_h + 1, (W - WW) // stride_w + 1
        x_padded = inputs
    out = np.zeros((N, H_out, W_out, F))
    for n in range(N):
        for f in range(F):
            for i in range(0, H - HH + 1, stride_h):
                for j in range(0, W - WW + 1, stride_w):
                    window = x_padded[n, i : i + HH, j : j + WW, :]
                    out[n, i // stride_h, j // stride_w, f] = np.sum(window * filters[:, :, :, f])
    return out
