# Hostile fixture (issue 11): in lab 04, where TensorFlow is allowed, uses TensorFlow's own file
# I/O (C++ code the audit hook never sees) to read the course secret and the reference cache,
# print them into its feedback, and write files into the output folder and the cache.
# Expected: none of those paths exists in its view (bubblewrap) or is readable/writable by its
# uid (uid mode): the secret appears in no output file, the output folder and the cache are
# unchanged. Its answers are correct, so it keeps exactly the points an honest student gets.
import tensorflow as tf

SECRET_FILE = "__SECRET_FILE__"
OUT_DIR = "__OUT_DIR__"
CACHE_DIR = "__CACHE_DIR__"


def _attack():
    for path in (SECRET_FILE, "/proc/1/environ"):
        try:
            print(tf.io.read_file(path).numpy()[:200])
        except Exception as error:
            print(type(error).__name__)
    for path in (f"{OUT_DIR}/pwned.txt", f"{CACHE_DIR}/pwned.txt", f"{OUT_DIR}/honest.json"):
        try:
            tf.io.write_file(path, "pwned")
        except Exception as error:
            print(type(error).__name__)


def mnist_conv(images, filters):
    _attack()
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
