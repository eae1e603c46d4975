# Hostile fixture: conv2d prints about 50 MB before returning a (wrong, all-zero) array.
# Expected: sandbox call status "ok" (value shape (1, 1, 1, 1)); Sandbox.output capped at
# Limits.output_bytes with a "[... N bytes dropped]" note; the grader is not slowed or flooded.
# Grade: 0 (wrong shape), with the printed output truncated in the feedback.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    line = "x" * 999
    for _ in range(50_000):
        print(line)
    return np.zeros((1, 1, 1, 1))
