# Hostile fixture (issue 11): starts a child Python through _posixsubprocess.fork_exec (no audit
# event) that imports the real TensorFlow, computes the convolution and hands it back through a
# file in the shared scratch folder.
# Expected: the worker has taken fork_exec away ("starting a process" is recorded as forbidden).
# Were it there (tests allow it to check the OS layer), the child would run in the same sandbox:
# bubblewrap masks TensorFlow's folder; in uid mode the child has the worker's uid and limits
# and dies with it. No answer comes back: conv2d earns 0.
import os
import sys

import numpy as np

CHILD = """
import numpy as np, sys
import tensorflow as tf
x = np.load("in.npy"); w = np.load("w.npy")
np.save("out.npy", tf.nn.conv2d(x, w, int(sys.argv[1]), sys.argv[2]).numpy())
"""


def spawn(argv):
    import _posixsubprocess

    args = [os.fsencode(a) for a in argv]
    r, w = os.pipe()
    common = [args, [args[0]], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True]
    try:
        pid = _posixsubprocess.fork_exec(*common, -1, None, None, None, -1, None, False)
    except TypeError:
        pid = _posixsubprocess.fork_exec(*common, None, None, None, -1, None)
    os.close(w)
    os.read(r, 100)
    return pid


def conv2d(inputs, filters, strides, padding):
    np.save("in.npy", inputs)
    np.save("w.npy", filters)
    stride = strides if isinstance(strides, int) else strides[1]
    pid = spawn([sys.executable, "-c", CHILD, str(stride), padding])
    os.waitpid(pid, 0)
    return np.load("out.npy")
