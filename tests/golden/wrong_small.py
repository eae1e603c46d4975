# Golden fixtures: small wrong answers for the graded functions other than conv2d, one mistake
# each (the grader should name it). Read by tests/test_golden.py; intentionally wrong code.
import numpy as np


def _corr(image, kernel):
    (h, w), (kh, kw) = image.shape, kernel.shape
    out = np.zeros((h - kh + 1, w - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def apply_kernel__flipped(image, kernel, x, y):
    kh, kw = kernel.shape
    return float(np.sum(image[y : y + kh, x : x + kw] * kernel[::-1, ::-1]))


def apply_kernel__xy_swapped(image, kernel, x, y):
    kh, kw = kernel.shape
    return float(np.sum(image[x : x + kh, y : y + kw] * kernel))


def apply_kernel__returns_array(image, kernel, x, y):
    kh, kw = kernel.shape
    return image[y : y + kh, x : x + kw] * kernel


def convolve2d__flipped(image, kernel):
    return _corr(np.asarray(image, float), np.asarray(kernel, float)[::-1, ::-1])


def convolve2d__off_by_one(image, kernel):
    return _corr(np.asarray(image, float), np.asarray(kernel, float))[:-1]


def convolve2d__integer(image, kernel):
    return _corr(np.asarray(image, float), np.asarray(kernel, float)).astype(int)


def _strided(image, kernel, stride, padding, split):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    (h, w), (kh, kw) = image.shape, kernel.shape
    if padding.upper() == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        th, tw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        image = np.pad(image, (split(th), split(tw)))
    full = _corr(image, kernel)
    return full[::sh, ::sw]


def convolve2d_strided__same_split_top(image, kernel, stride, padding):
    return _strided(image, kernel, stride, padding, lambda t: (t - t // 2, t // 2))


def convolve2d_strided__stride_ignored(image, kernel, stride, padding):
    return _strided(image, kernel, 1, padding, lambda t: (t // 2, t - t // 2))


def output_size__floor_same(in_size, filter_size, stride, padding):
    if padding.upper() == "VALID":
        return (in_size - filter_size) // stride + 1
    return in_size // stride


def output_size__case_sensitive(in_size, filter_size, stride, padding):
    if padding == "SAME":
        return -(-in_size // stride)
    return (in_size - filter_size) // stride + 1


def output_size__returns_float(in_size, filter_size, stride, padding):
    if padding.upper() == "VALID":
        return (in_size - filter_size) / stride + 1
    return in_size / stride


def same_padding__swapped(in_size, filter_size, stride):
    out = -(-in_size // stride)
    total = max((out - 1) * stride + filter_size - in_size, 0)
    return total - total // 2, total // 2


def same_padding__stride1(in_size, filter_size, stride):
    return (filter_size - 1) // 2, filter_size - 1 - (filter_size - 1) // 2


def same_padding__returns_none(in_size, filter_size, stride):
    pass


def zero_pad__tb_swapped(image, top, bottom, left, right):
    return np.pad(np.asarray(image, float), ((bottom, top), (left, right)))


def zero_pad__axes_swapped(image, top, bottom, left, right):
    return np.pad(np.asarray(image, float), ((left, right), (top, bottom)))


def conv_matrix__transposed(kernel, in_h, in_w):
    kernel = np.asarray(kernel, float)
    basis = np.eye(in_h * in_w).reshape(-1, in_h, in_w)
    return np.stack([_corr(b, kernel).ravel() for b in basis])


def conv_matrix__flipped(kernel, in_h, in_w):
    kernel = np.asarray(kernel, float)[::-1, ::-1]
    basis = np.eye(in_h * in_w).reshape(-1, in_h, in_w)
    return np.stack([_corr(b, kernel).ravel() for b in basis]).T


def cifar_filter_shape__swapped():
    return [5, 5, 16, 3]


def cifar_filter_shape__grey():
    return (5, 5, 1, 16)


def mnist_conv__stride1(images, filters):
    import tensorflow as tf

    return tf.nn.conv2d(images, filters, 1, "SAME").numpy()


def mnist_conv__valid(images, filters):
    import tensorflow as tf

    return tf.nn.conv2d(images, filters, 2, "VALID").numpy()


def cifar_conv__flipped(images, filters):
    import tensorflow as tf

    return tf.nn.conv2d(images, filters[::-1, ::-1], [1, 2, 2, 1], "SAME").numpy()


def cifar_conv__stride1(images, filters):
    import tensorflow as tf

    return tf.nn.conv2d(images, filters, 1, "SAME").numpy()


def cifar_conv__raises(images, filters):
    raise ValueError("not yet")


def _least_squares_kernel(images, targets, kernel_shape):
    kh, kw = kernel_shape
    x = np.asarray(images, float)[..., 0]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    solution = np.linalg.lstsq(windows.reshape(-1, kh * kw), np.ravel(targets), rcond=None)[0]
    return solution.reshape(kh, kw)


def learn_kernel__flipped(images, targets, kernel_shape):
    return _least_squares_kernel(images, targets, kernel_shape)[::-1, ::-1]


def learn_kernel__unsqueezed(images, targets, kernel_shape):
    return _least_squares_kernel(images, targets, kernel_shape)[:, :, None, None]


def learn_kernel__never_updated(images, targets, kernel_shape):
    return np.zeros(kernel_shape)


def receptive_field__strides_ignored(kernel_sizes, strides):
    return 1 + sum(k - 1 for k in kernel_sizes)


def receptive_field__own_stride(kernel_sizes, strides):
    size, jump = 1, 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        jump *= s
        size += (k - 1) * jump
    return size
