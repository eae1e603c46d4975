# Hostile fixture (issue 19): tries to kill the grader (its parent) and everything else it can:
# signal.pidfd_send_signal on a pidfd of the parent (no audit event), os.kill of the parent,
# os.killpg(0) and os.kill(-1).
# Expected: os.kill/killpg are refused by the hook (forbidden); the kernel refuses the pidfd
# signal (seccomp; in uid mode the grader's uid too); the grader and classmates go on; conv2d
# earns 0 (it returns zeros).
import os
import signal

import numpy as np


def conv2d(inputs, filters, strides, padding):
    parent = os.getppid()
    for attempt in (
        lambda: signal.pidfd_send_signal(os.pidfd_open(parent), signal.SIGKILL),
        lambda: os.kill(parent, signal.SIGKILL),
        lambda: os.killpg(0, signal.SIGKILL),
        lambda: os.kill(-1, signal.SIGKILL),
    ):
        try:
            attempt()
        except Exception:
            pass
    return np.zeros((1, 1, 1, 1))
