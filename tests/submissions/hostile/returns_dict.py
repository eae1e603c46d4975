# Hostile fixture: conv2d returns a dict instead of an array.
# Expected: sandbox call status "bad_return", type_name "dict", message "conv2d returned a dict;
# expected a numpy array". Grade: 0.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    return {"output": np.zeros((1, 1, 1, 1))}
