# Hostile fixture (issue 11): walks up the stack frames looking for the worker's state (a
# `guard`, `self.guard`) and switches it off, then uses TensorFlow.
# Expected: no frame holds a switch; the use of TensorFlow fails: conv2d earns 0.
import sys

import numpy as np


def conv2d(inputs, filters, strides, padding):
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            guard = getattr(value, "guard", None)
            if guard is not None:
                guard.active = False
        frame = frame.f_back
    import tensorflow as tf

    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
