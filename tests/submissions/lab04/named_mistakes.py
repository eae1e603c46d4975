# A lab 04 submission with a known mistake in every item, so grading it runs every mistake-naming
# path (tests/test_prepared.py). Expected: 0 points; flipped kernel (mnist_conv), only input
# channel 0 (cifar_conv), swapped HWIO (cifar_filter_shape), an all-zero kernel (learn_kernel),
# a wrong prediction and a missing one.
import numpy as np
import tensorflow as tf


def mnist_conv(images, filters):
    return tf.nn.conv2d(images, filters[::-1, ::-1], [1, 2, 2, 1], padding="SAME")


def cifar_filter_shape():
    return [5, 5, 16, 3]


def cifar_conv(images, filters):
    return tf.nn.conv2d(images[..., :1], filters[:, :, :1, :], [1, 2, 2, 1], padding="SAME")


def learn_kernel(images, targets, kernel_shape):
    return np.zeros(kernel_shape)


my_mnist_shape = (64, 28, 28, 16)
my_cifar_shape = None
