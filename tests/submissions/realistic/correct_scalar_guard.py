# Correct control: by-hand scalar loops with a bounds check instead of a padded array.
# Expected: no label on any case.
import math

import numpy as np


def conv2d(inputs, filters, strides, padding):
    if isinstance(strides, int):
        row_step = col_step = strides
    elif len(strides) == 1:
        row_step = col_step = strides[0]
    elif len(strides) == 2:
        row_step, col_step = strides
    else:
        row_step, col_step = strides[1], strides[2]
    images, rows, cols, depth = inputs.shape
    k_rows, k_cols, _, n_kernels = filters.shape
    if padding.upper() == "SAME":
        out_rows, out_cols = math.ceil(rows / row_step), math.ceil(cols / col_step)
        top = max((out_rows - 1) * row_step + k_rows - rows, 0) // 2
        left = max((out_cols - 1) * col_step + k_cols - cols, 0) // 2
    else:
        out_rows = (rows - k_rows) // row_step + 1
        out_cols = (cols - k_cols) // col_step + 1
        top = left = 0
    result = np.zeros((images, out_rows, out_cols, n_kernels))
    for img in range(images):
        for r in range(out_rows):
            for c in range(out_cols):
                for kr in range(k_rows):
                    y = r * row_step + kr - top
                    if not 0 <= y < rows:
                        continue
                    for kc in range(k_cols):
                        x = c * col_step + kc - left
                        if 0 <= x < cols:
                            result[img, r, c, :] += inputs[img, y, x, :] @ filters[kr, kc]
    return result
