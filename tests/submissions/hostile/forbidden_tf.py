# Hostile fixture: conv2d hands the work to TensorFlow.
# Expected: static scan flags "import tensorflow" and "tf.nn.conv2d"; sandbox call status
# "forbidden" with used_forbidden == ("tensorflow",) when the policy forbids tensorflow.
# Grade: 0 for the item.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    import tensorflow as tf

    return tf.nn.conv2d(inputs, filters, strides, padding).numpy()
