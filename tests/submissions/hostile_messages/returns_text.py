# Hostile fixture (issue 19): returns the inputs as text (a str) on some cases, and on the others
# the right answer with an input value added at one pixel, so "returned a single str ('...')"
# or "the largest error is <value>" / "yours <value>" in a message would quote them.
# Expected: the report names what came back by its kind ("a str") and a wrong value by where it
# is wrong, never by the number; no input value appears. 0 points on the drawn cases.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _strides(strides):
    s = [strides] if np.isscalar(strides) else list(strides)
    if len(s) == 4:
        s = s[1:3]
    return (s[0], s[0]) if len(s) == 1 else (s[0], s[1])


def _right(inputs, filters, strides, padding):
    x = np.asarray(inputs, dtype=np.float64)
    w = np.asarray(filters, dtype=np.float64)
    kh, kw = w.shape[:2]
    sh, sw = _strides(strides)
    if padding.upper() == "SAME":
        h, wd = x.shape[1:3]
        pad_h = max((-(-h // sh) - 1) * sh + kh - h, 0)
        pad_w = max((-(-wd // sw) - 1) * sw + kw - wd, 0)
        x = np.pad(
            x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0))
        )
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return np.einsum("nhwcij,ijck->nhwk", windows, w)


def conv2d(inputs, filters, strides, padding):
    values = np.asarray(inputs, dtype=float).ravel()
    if values.size % 2:
        return "LE" + "AK" + repr(values.tolist())
    out = _right(inputs, filters, strides, padding)
    out[0, 0, 0, 0] += 1000 + values[0]  # the error (and "yours") would be the input value
    return out
