# Hostile fixture (issue 11): searches every live object through gc for the audit hook's state
# and switches it off, then uses TensorFlow.
# Expected: gc.get_objects is refused (recorded as forbidden); TensorFlow is unusable anyway:
# conv2d earns 0.
import gc

import numpy as np


def conv2d(inputs, filters, strides, padding):
    try:
        for thing in gc.get_objects():
            if hasattr(thing, "active"):
                thing.active = False
    except Exception:
        pass
    import tensorflow as tf

    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
