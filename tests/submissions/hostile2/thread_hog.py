# Hostile fixture (issue 11): starts 32 busy threads at its top level so that classmates graded
# at the same time get too little CPU and time out.
# Expected: starting a thread is refused (recorded as forbidden) at load, so nothing hogs the
# CPU; honest classmates keep full marks; conv2d earns 0.
import threading

import numpy as np


def _spin():
    while True:
        pass


for _ in range(32):
    threading.Thread(target=_spin, daemon=True).start()


def conv2d(inputs, filters, strides, padding):
    n = inputs.shape[0]
    return np.zeros((n, 1, 1, filters.shape[-1]))
