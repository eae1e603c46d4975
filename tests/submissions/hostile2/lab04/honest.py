# Honest lab 04 classmate for the hostile2 corpus: every answer, exactly as the lecture does.
# Expected: full marks in 04_tf_conv2d.
import tensorflow as tf


def mnist_conv(images, filters):
    return tf.nn.conv2d(images, filters, [1, 2, 2, 1], padding="SAME")


def cifar_filter_shape():
    return [5, 5, 3, 16]


def cifar_conv(images, filters):
    return tf.nn.conv2d(images, filters, [1, 2, 2, 1], padding="SAME")


def learn_kernel(images, targets, kernel_shape):
    images = tf.convert_to_tensor(images, tf.float32)
    targets = tf.convert_to_tensor(targets, tf.float32)
    kernel = tf.Variable(tf.zeros([kernel_shape[0], kernel_shape[1], 1, 1]))
    optimizer = tf.keras.optimizers.Adam(0.1)
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.nn.conv2d(images, kernel, 1, "VALID") - targets) ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, kernel), kernel)])
    return kernel.numpy()[:, :, 0, 0]


my_mnist_shape = (64, 14, 14, 16)
my_cifar_shape = (20, 16, 16, 16)
