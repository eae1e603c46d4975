# Hostile fixture: conv2d calls sys.exit(3).
# Expected: sandbox call status "crashed" with "exit(3)" in the message. Grade: 0.
import sys

import numpy as np


def conv2d(inputs, filters, strides, padding):
    sys.exit(3)
