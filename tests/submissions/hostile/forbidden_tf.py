# Hostile fixture: conv2d hands the work to TensorFlow.
# Expected: static scan flags "tf.nn.conv2d" (the use, line 11; the bare import is not a
# finding); in the sandbox the import gives a stand-in whose use raises, so the call status is
# "forbidden" with "tensorflow.nn.conv2d (line 11)" in used_forbidden when the policy forbids
# tensorflow. Grade: 0 for the item.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    import tensorflow as tf
    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
