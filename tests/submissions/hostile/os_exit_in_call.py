# Hostile fixture: conv2d kills its own process with os._exit(0) (no exception, no cleanup).
# Expected: sandbox call status "crashed" with exit code 0; the next call gets a fresh worker.
# Grade: 0.
import os

import numpy as np


def conv2d(inputs, filters, strides, padding):
    os._exit(0)
