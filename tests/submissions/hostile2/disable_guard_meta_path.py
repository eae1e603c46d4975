# Hostile fixture (issue 11): switches the import policy off through sys.meta_path (clearing the
# grader's finder and emptying every closure cell it can find), then uses TensorFlow.
# Expected: the static scan flags sys.meta_path / __closure__ / tf.nn.conv2d; at run time
# TensorFlow is not there to use (bubblewrap masks its folder; without bubblewrap the audit hook
# refuses to open its files), so conv2d earns 0.
import sys

import numpy as np


def _switch_off():
    for finder in list(sys.meta_path):
        for name in dir(type(finder)):
            function = getattr(type(finder), name, None)
            for cell in getattr(function, "__closure__", None) or ():
                try:
                    if isinstance(cell.cell_contents, tuple):
                        cell.cell_contents = ()
                except ValueError:
                    pass
    sys.meta_path[:] = [f for f in sys.meta_path if "StandIn" not in type(f).__name__]


def conv2d(inputs, filters, strides, padding):
    _switch_off()
    import tensorflow as tf

    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
