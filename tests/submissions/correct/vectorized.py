# Correct fixture: np.pad + sliding_window_view + einsum, no Python loop over pixels.
# Expected: every visible conv2d suite of 03_filter_banks and the hidden suite (seeds 0..4) score
# full marks.
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _strides(strides):
    s = [strides] if np.isscalar(strides) else list(strides)
    if len(s) == 4:
        s = s[1:3]
    return (s[0], s[0]) if len(s) == 1 else (s[0], s[1])


def conv2d(inputs, filters, strides, padding):
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
    # windows: (n, oh, ow, c_in, kh, kw)
    return np.einsum("nhwcij,ijck->nhwk", windows, w)
