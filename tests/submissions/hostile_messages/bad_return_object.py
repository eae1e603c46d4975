# Hostile fixture (issue 19): returns objects the grader cannot read as numbers, made so that
# the worker's "bad return" message would quote the inputs: a class named after them, and an
# array-like whose __array__ raises with them.
# Expected: "conv2d returned a value that cannot be graded as numbers"; no input value appears.
# 0 points.
import numpy as np


class Raises:
    def __init__(self, text):
        self.text = text

    def __array__(self, *args, **kwargs):
        raise ValueError(self.text)


def conv2d(inputs, filters, strides, padding):
    values = np.asarray(inputs).ravel()
    data = "LE" + "AK" + repr(values.tolist())
    if values.size % 2:
        return Raises(data)
    digits = "".join(str(abs(int(v * 1e6))) for v in values[:4])
    return type("LE" + "AK" + digits, (), {})()
