# Realistic mistake: SAME pads by repeating the border pixels (np.pad mode="edge"), with the
# right amounts and output size.
# Expected label: edge_padding (SAME with some padding).
import numpy as np


def conv2d(inputs, filters, strides, padding):
    s = [strides] if np.isscalar(strides) else list(strides)
    s = s[1:3] if len(s) == 4 else s
    sh, sw = (s[0], s[0]) if len(s) == 1 else (s[0], s[1])
    n, ih, iw, _ = inputs.shape
    fh, fw, _, fo = filters.shape
    if padding.upper() == "SAME":
        oh, ow = int(np.ceil(ih / sh)), int(np.ceil(iw / sw))
        th = max((oh - 1) * sh + fh - ih, 0)
        tw = max((ow - 1) * sw + fw - iw, 0)
        x = np.pad(inputs, ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)), mode="edge")
    else:
        oh, ow = (ih - fh) // sh + 1, (iw - fw) // sw + 1
        x = inputs
    out = np.empty((n, oh, ow, fo))
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * sh : i * sh + fh, j * sw : j * sw + fw, :]
            for k in range(fo):
                out[:, i, j, k] = (win * filters[..., k]).sum(axis=(1, 2, 3))
    return out
