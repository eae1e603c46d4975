# Hostile fixture: calls sys.exit(3) while its top level runs.
# Expected: Sandbox.load() status "crashed" with exit code 3; every call "crashed" (not loaded).
# Grade: 0.
import sys

import numpy as np

sys.exit(3)


def conv2d(inputs, filters, strides, padding):
    return np.zeros((1, 1, 1, 1))
