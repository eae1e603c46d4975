# Hostile fixture (issue 11): hands the convolution to a multiprocessing pool (a child process
# the audit hook would not follow) that imports TensorFlow.
# Expected: importing multiprocessing is refused (recorded as forbidden); in any case a child
# would run in the same sandbox without TensorFlow: conv2d earns 0.
import numpy as np


def _tf_conv(args):
    import tensorflow as tf

    return tf.nn.conv2d(*args).numpy()


def conv2d(inputs, filters, strides, padding):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.map(_tf_conv, [(inputs, filters, strides, padding)])[0]
