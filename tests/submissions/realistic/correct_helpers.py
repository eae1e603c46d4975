# Correct control: the lab's helper functions (output_size, same_padding, zero_pad, apply_kernel)
# used once each.
# Expected: no label on any case.
import numpy as np


def _strides_and_padding(strides, padding):
    if isinstance(strides, int):
        strides = [strides]
    if len(strides) == 1:
        sh = sw = strides[0]
    elif len(strides) == 2:
        sh, sw = strides
    else:
        sh, sw = strides[1], strides[2]
    padding = padding.upper()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"unknown padding {padding}")
    return sh, sw, padding


def output_size(n, f, s, padding):
    if padding == "SAME":
        return -(-n // s)
    return (n - f) // s + 1


def same_padding(n, f, s):
    total = max((output_size(n, f, s, "SAME") - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def zero_pad(image, top, bottom, left, right):
    h, w, c = image.shape
    out = np.zeros((h + top + bottom, w + left + right, c))
    out[top : top + h, left : left + w] = image
    return out


def apply_kernel(window, kernel):
    return float(np.sum(window * kernel))


def conv2d(inputs, filters, strides, padding):
    sh, sw, padding = _strides_and_padding(strides, padding)
    n, h, w, c = inputs.shape
    fh, fw, _, k = filters.shape
    oh, ow = output_size(h, fh, sh, padding), output_size(w, fw, sw, padding)
    if padding == "SAME":
        (top, bottom), (left, right) = same_padding(h, fh, sh), same_padding(w, fw, sw)
    else:
        top = bottom = left = right = 0
    out = np.zeros((n, oh, ow, k))
    for b in range(n):
        image = zero_pad(inputs[b], top, bottom, left, right)
        for i in range(oh):
            for j in range(ow):
                window = image[i * sh : i * sh + fh, j * sw : j * sw + fw, :]
                for f in range(k):
                    out[b, i, j, f] = apply_kernel(window, filters[:, :, :, f])
    return out
