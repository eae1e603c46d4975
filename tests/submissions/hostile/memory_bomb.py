# Hostile fixture: conv2d allocates 100 MB blocks until memory runs out.
# Expected: sandbox call status "memory" (MemoryError under RLIMIT_AS); the grader survives.
# Grade: 0 for every case that calls it.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    hoard = []
    while True:
        hoard.append(bytearray(10**8))
