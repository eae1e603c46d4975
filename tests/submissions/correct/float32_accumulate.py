# Correct fixture: right algorithm, but inputs, filters and the sums are float32 (as a student
# copying Keras dtypes would write). Returns float32.
# Expected: full marks on every visible conv2d suite and the hidden suite (seeds 0..4): the
# tolerance scales with the accumulation length kh * kw * c_in, so float32 round-off passes.
import numpy as np


def conv2d(inputs, filters, strides, padding):
    x = np.asarray(inputs, dtype=np.float32)
    w = np.asarray(filters, dtype=np.float32)
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    if isinstance(strides, int):
        sh = sw = strides
    else:
        s = list(strides)
        sh, sw = (s[0], s[0]) if len(s) == 1 else (s[0], s[1]) if len(s) == 2 else (s[1], s[2])
    if padding.lower() == "same":
        oh, ow = -(-h // sh), -(-wd // sw)
        pad_h = max((oh - 1) * sh + kh - h, 0)
        pad_w = max((ow - 1) * sw + kw - wd, 0)
        x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, oh, ow, c_out), dtype=np.float32)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                window = x[b, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for k in range(c_out):
                    acc = np.float32(0.0)
                    for v in (window * w[:, :, :, k]).ravel():
                        acc = np.float32(acc + v)
                    out[b, i, j, k] = acc
    return out
