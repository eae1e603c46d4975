# Correct lab 02 math, padding only as tf.nn.conv2d documents it: exactly "SAME" or "VALID";
# any other spelling raises ValueError.
# Expected: output_size and convolve2d_strided lose only their letter_case suite (>= 80% each).
import numpy as np


def output_size(in_size, filter_size, stride, padding):
    if isinstance(padding, int):  # an explicit padding p on each side
        return (in_size + 2 * padding - filter_size) // stride + 1
    if padding == "VALID":
        return (in_size - filter_size) // stride + 1
    if padding == "SAME":
        return -(-in_size // stride)
    raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")


def convolve2d_strided(image, kernel, stride, padding):
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    (h, w), (kh, kw) = image.shape, kernel.shape
    oh, ow = output_size(h, kh, sh, padding), output_size(w, kw, sw, padding)
    if padding == "SAME":
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        image = np.pad(image, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(image[i * sh : i * sh + kh, j * sw : j * sw + kw] * kernel)
    return out
