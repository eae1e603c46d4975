# Hostile fixture: conv2d builds the result from np.convolve (a library convolution).
# Expected: static scan flags np.convolve; sandbox call status "forbidden" with
# used_forbidden == ("numpy.convolve",), even though the error is caught below. Grade: 0.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    try:
        row = np.convolve(inputs[0, 0, :, 0], filters[0, :, 0, 0], mode="valid")
    except Exception:
        row = np.zeros(1)
    return row.reshape(1, 1, -1, 1)
