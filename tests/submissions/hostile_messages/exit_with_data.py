# Hostile fixture (issue 19): calls sys.exit with the inputs as its argument, and on other
# cases raises MemoryError with them (the report of a memory failure quoted the worker's text).
# Expected: "the process running your code stopped on this case" / "your code ran out of
# memory"; no input value appears. 0 points.
import sys

import numpy as np


def conv2d(inputs, filters, strides, padding):
    values = np.asarray(inputs).ravel()
    data = "LE" + "AK" + repr(values.tolist())
    if values.size % 2:
        raise MemoryError(data)
    sys.exit(data)
