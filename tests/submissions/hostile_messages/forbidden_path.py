# Hostile fixture (issue 19): opens files outside the sandbox whose names are the inputs, so the
# "not allowed in this lab: reading <path>" message would carry them.
# Expected: "not allowed in this lab: reading a file outside the sandbox folder"; no input value
# appears. 0 points.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    values = np.asarray(inputs).ravel()
    digits = "_".join(str(abs(int(v * 1e6))) for v in values[:4])
    if values.size % 2:
        open("/proc/1/LE" + "AK" + digits)
    open("/etc/LE" + "AK" + digits)
