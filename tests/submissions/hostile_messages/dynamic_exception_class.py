# Hostile fixture (issue 19): raises an exception of a class made at run time and named after
# the inputs, so even a "type name only" message would carry them.
# Expected: the report says "conv2d raised an exception at line N" (only Python's and numpy's
# exception names are quoted); no input value appears. 0 points.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    digits = "".join(str(abs(int(v * 1e6))) for v in np.asarray(inputs).ravel()[:4])
    raise type("LE" + "AK" + digits, (Exception,), {})()
