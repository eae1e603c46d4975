# Hostile fixture: writes its own tensorflow.py into the working folder, puts that folder first
# on sys.path, imports it and uses it (hoping the grader's reference would pick it up).
# Expected: writing the file works (it stays in the worker's own scratch folder, gone
# afterwards); the import gives the lab's stand-in for tensorflow, not the fake, so the use
# `tensorflow.nn.conv2d` fails: call status "forbidden" with "tensorflow" in used_forbidden.
# The grader's TensorFlow is a different process. Grade: 0.
import os
import sys

import numpy as np


def conv2d(inputs, filters, strides, padding):
    with open("tensorflow.py", "w") as fake:
        fake.write("class nn:\n    conv2d = staticmethod(lambda *a: 0)\n")
    sys.path.insert(0, os.getcwd())
    import tensorflow

    tensorflow.nn.conv2d(inputs, filters, strides, padding)
    return np.zeros((1, 1, 1, 1))
