# Hostile fixture: imports TensorFlow under a computed name through importlib.
# Expected: static scan flags importlib and the computed name; sandbox call status "forbidden"
# with "tensorflow" in used_forbidden (importlib does not raise the "import" audit event, the
# worker's import finder catches it). Grade: 0.
import importlib

import numpy as np


def conv2d(inputs, filters, strides, padding):
    tf = importlib.import_module("tensor" + "flow")
    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
