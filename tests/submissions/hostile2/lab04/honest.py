# Honest lab 04 classmate for the hostile2 corpus: the three answers, exactly as the lecture does.
# Expected: full marks in 04_tf_conv2d.
import tensorflow as tf


def mnist_conv(images, filters):
    return tf.nn.conv2d(images, filters, [1, 2, 2, 1], padding="SAME")


def cifar_filter_shape():
    return [5, 5, 3, 16]


def cifar_conv(images, filters):
    return tf.nn.conv2d(images, filters, strides=1, padding="SAME")
