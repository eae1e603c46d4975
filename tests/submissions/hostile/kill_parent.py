# Hostile fixture: conv2d tries to kill the grader (its parent process) with SIGKILL.
# Expected: the audit hook blocks os.kill: call status "forbidden", used_forbidden names
# "os.kill"; the grader keeps running. Grade: 0.
import os
import signal

import numpy as np


def conv2d(inputs, filters, strides, padding):
    os.kill(os.getppid(), signal.SIGKILL)
    return np.zeros((1, 1, 1, 1))
