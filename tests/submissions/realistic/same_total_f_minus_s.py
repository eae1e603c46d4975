# Realistic mistake: SAME total padding computed as f - s ("pad = (kernel - stride) / 2"), split
# top = total // 2. Output size ceil(in / s) is right. Scalar loops with a bounds check, so reads
# past the (too small) padding give 0 instead of an IndexError.
# Expected label: same_total_f_minus_s (SAME with a stride > 1 and in % s != 0, or f < s).
import numpy as np


def conv2d(inputs, filters, strides, padding):
    if isinstance(strides, int):
        s_h = s_w = strides
    elif len(strides) == 4:
        s_h, s_w = strides[1], strides[2]
    elif len(strides) == 2:
        s_h, s_w = strides
    else:
        s_h = s_w = strides[0]
    batch, in_h, in_w, in_ch = inputs.shape
    k_h, k_w, _, n_filters = filters.shape

    if padding.upper() == "VALID":
        out_h = (in_h - k_h) // s_h + 1
        out_w = (in_w - k_w) // s_w + 1
        top = left = 0
    else:
        out_h = -(-in_h // s_h)
        out_w = -(-in_w // s_w)
        top = max(k_h - s_h, 0) // 2
        left = max(k_w - s_w, 0) // 2

    result = np.zeros((batch, out_h, out_w, n_filters))
    for b in range(batch):
        for y in range(out_h):
            for x in range(out_w):
                for k in range(n_filters):
                    acc = 0.0
                    for m in range(k_h):
                        for n in range(k_w):
                            row = y * s_h + m - top
                            col = x * s_w + n - left
                            if row < 0 or row >= in_h or col < 0 or col >= in_w:
                                continue
                            for c in range(in_ch):
                                acc += inputs[b, row, col, c] * filters[m, n, c, k]
                    result[b, y, x, k] = acc
    return result
