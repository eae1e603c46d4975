# Hostile fixture (issue 11): looks for the grader's guard in the worker's __main__ module and
# switches off anything that looks like one (an `active` flag, a `guard` attribute), then uses
# TensorFlow.
# Expected: there is no guard object to find; the use of TensorFlow fails (stand-in, or masked
# library): conv2d earns 0.
import sys

import numpy as np


def conv2d(inputs, filters, strides, padding):
    main = sys.modules["__main__"]
    for value in list(vars(main).values()):
        for attribute in ("active", "enabled"):
            if hasattr(value, attribute):
                setattr(value, attribute, False)
        guard = getattr(value, "guard", None)
        if guard is not None:
            guard.active = False
    import tensorflow as tf

    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
