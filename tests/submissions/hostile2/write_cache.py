# Hostile fixture (issue 11): overwrites every entry of the grader's reference cache with zeros
# at load time (numpy, and readline's C-level history writer: no audit event), hoping honest
# classmates are then compared against zeros.
# Expected: the cache is not visible (bubblewrap) or not writable (uid mode); every cache file
# is unchanged after the run, honest classmates keep full marks; conv2d earns 0.
import glob
import os

import numpy as np

CACHE_DIR = "__CACHE_DIR__"

for path in glob.glob(os.path.join(CACHE_DIR, "**", "*.npz"), recursive=True):
    try:
        with np.load(path) as old:
            fake = {k: np.zeros_like(old[k]) if k != "kinds" else old[k] for k in old.files}
        np.savez(path, **fake)
    except Exception:
        pass
    try:
        import readline

        readline.write_history_file(path)
    except Exception:
        pass
for name in ("reference", "reference/planted.npz"):
    try:
        import readline

        readline.write_history_file(os.path.join(CACHE_DIR, name))
    except Exception:
        pass


def conv2d(inputs, filters, strides, padding):
    n = inputs.shape[0]
    return np.zeros((n, 1, 1, filters.shape[-1]))
