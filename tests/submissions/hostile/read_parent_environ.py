# Hostile fixture: conv2d reads the grader's environment (course secret) from /proc.
# Expected: the open is blocked: call status "forbidden" and used_forbidden mentions /proc;
# the worker's own environment holds no secret either. Grade: 0.
import os

import numpy as np


def conv2d(inputs, filters, strides, padding):
    with open(f"/proc/{os.getppid()}/environ", "rb") as environ:
        print(environ.read()[:100])
    return np.zeros((1, 1, 1, 1))
