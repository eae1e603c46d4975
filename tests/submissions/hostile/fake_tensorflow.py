# Hostile fixture: writes its own tensorflow.py into the working folder, puts that folder first
# on sys.path and imports it (hoping the grader's reference would pick it up).
# Expected: writing the file works (it stays in the worker's own empty temp folder, deleted
# afterwards); the import is blocked by name, so the call status is "forbidden" with
# "tensorflow" in used_forbidden. The grader's TensorFlow is a different process. Grade: 0.
import os
import sys

import numpy as np


def conv2d(inputs, filters, strides, padding):
    with open("tensorflow.py", "w") as fake:
        fake.write("class nn:\n    conv2d = staticmethod(lambda *a: 0)\n")
    sys.path.insert(0, os.getcwd())
    import tensorflow

    return np.zeros((1, 1, 1, 1))
