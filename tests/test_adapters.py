"""Tests of convlab.widgets.adapters: a student's 2-D function shown through tf.nn.conv2d's API."""

import numpy as np
import pytest

from convlab.widgets import from_single_channel, implemented


def valid_2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            out[y, x] = (image[y : y + kh, x : x + kw] * kernel).sum()
    return out


def strided_2d(image, kernel, stride, padding):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    assert padding.upper() == "VALID"
    return valid_2d(image, kernel)[::sh, ::sw]


def stub(*args):
    raise NotImplementedError()


def test_stub_gives_none():
    """Is an unimplemented stub reported as such, so widgets fall back to tf.nn.conv2d?"""
    assert not implemented(stub, 1)
    assert from_single_channel(stub) is None
    assert from_single_channel(stub, with_stride_padding=True) is None


def test_sums_over_input_channels_per_filter():
    """Does output channel o sum the 2-D function over every input channel?"""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4))
    out = from_single_channel(valid_2d)(x, w, 1, "VALID")
    expected = sum(valid_2d(x[1, :, :, i], w[:, :, i, 2]) for i in range(3))
    assert out.shape == (2, 3, 5, 4)
    np.testing.assert_allclose(out[1, :, :, 2], expected)


def test_same_at_stride_one_pads_the_odd_zero_after():
    """Does SAME keep the size at stride 1, with the extra zero at the bottom/right (TF's rule)?"""
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    w = np.zeros((2, 2, 1, 1))
    w[0, 0] = 1  # picks the top-left pixel of each window: no shift when padding is after
    out = from_single_channel(valid_2d)(x, w, [1, 1, 1, 1], "same")
    np.testing.assert_allclose(out[0, :, :, 0], x[0, :, :, 0])


def test_strides_passed_through_or_refused():
    """Are strides handed to a function that takes them, and refused by one that cannot?"""
    x, w = np.ones((1, 6, 6, 1)), np.ones((2, 2, 1, 1))
    out = from_single_channel(strided_2d, with_stride_padding=True)(x, w, [1, 2, 3, 1], "VALID")
    assert out.shape == (1, 3, 2, 1)
    with pytest.raises(ValueError, match="stride 1"):
        from_single_channel(valid_2d)(x, w, 2, "VALID")
