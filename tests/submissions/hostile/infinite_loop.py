# Hostile fixture: conv2d never returns (busy loop).
# Expected: sandbox call status "timeout" after Limits.call_seconds; the next call gets a fresh
# worker. Grade: 0 for every case that calls it.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    total = 0
    while True:
        total += 1
