# Realistic mistake: SAME padding of f // 2 zeros on every side (the "k // 2" rule for odd filters
# at stride 1), output size ceil(in / s) as the docstring says.
# Expected label: same_half_kernel_each_side (even filters, or a stride > 1).
import numpy as np


def conv2d(inputs, filters, strides, padding):
    if not isinstance(strides, (list, tuple)):
        strides = [strides]
    if len(strides) == 1:
        sy = sx = strides[0]
    elif len(strides) == 2:
        sy, sx = strides
    else:
        _, sy, sx, _ = strides
    n_img, rows, cols, chans = inputs.shape
    f_rows, f_cols, _, n_out = filters.shape

    if padding.lower() == "same":
        p_r, p_c = f_rows // 2, f_cols // 2
        x = np.pad(inputs, [(0, 0), (p_r, p_r), (p_c, p_c), (0, 0)], mode="constant")
        out_rows = (rows + sy - 1) // sy
        out_cols = (cols + sx - 1) // sx
    else:
        x = inputs
        out_rows = (rows - f_rows) // sy + 1
        out_cols = (cols - f_cols) // sx + 1

    kernel = filters.reshape(-1, n_out)
    out = np.zeros((n_img, out_rows, out_cols, n_out))
    for r in range(out_rows):
        for c in range(out_cols):
            patch = x[:, r * sy : r * sy + f_rows, c * sx : c * sx + f_cols, :]
            out[:, r, c, :] = patch.reshape(n_img, -1) @ kernel
    return out
