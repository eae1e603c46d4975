# Hostile fixture: conv2d forks (a bounded stand-in for a fork bomb; the child would exit).
# Expected: the audit hook blocks os.fork: call status "forbidden", used_forbidden names
# "os.fork". Grade: 0.
import os

import numpy as np


def conv2d(inputs, filters, strides, padding):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return np.zeros((1, 1, 1, 1))
