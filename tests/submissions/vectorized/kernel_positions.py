# Honest vectorized by the lab's standard: a loop over the fh*fw kernel positions (9 here), each a
# whole-image matrix product; no loop over pixels.
# Expected: vectorized 10.

import numpy as np


def conv2d_fast(inputs, filters, strides, padding):
    x, w = np.asarray(inputs, dtype=float), np.asarray(filters, dtype=float)
    s = [int(strides)] if np.ndim(strides) == 0 else [int(v) for v in np.ravel(strides)]
    sh, sw = {1: (s[0], s[0]), 2: (s[0], s[1]), 4: (s[1], s[2])}[len(s)]
    (n, h, wd, _), (fh, fw, _, k) = x.shape, w.shape
    same = str(padding).upper() == "SAME"
    oh = -(-h // sh) if same else (h - fh) // sh + 1
    ow = -(-wd // sw) if same else (wd - fw) // sw + 1
    if same:
        ph = max((oh - 1) * sh + fh - x.shape[1], 0)
        pw = max((ow - 1) * sw + fw - x.shape[2], 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    out = np.zeros((n, oh, ow, k))
    for dy in range(fh):
        for dx in range(fw):
            patch = x[:, dy : dy + (oh - 1) * sh + 1 : sh, dx : dx + (ow - 1) * sw + 1 : sw]
            out += patch @ w[dy, dx]
    return out
