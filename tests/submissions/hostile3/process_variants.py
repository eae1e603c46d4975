# Hostile fixture (issue 19): every ctypes-free way to start a process, one after another, each
# error swallowed: os.fork, os.posix_spawn, os.posix_spawnp, os.system, subprocess.run, pty.fork,
# os.forkpty, os.execv (would replace the worker), multiprocessing; the first that works runs a
# child Python with the real TensorFlow.
# Expected: each is refused (the audit hook names it, so the call is graded "forbidden"; the
# seccomp filter would refuse the fork anyway): conv2d earns 0.
import os
import sys

import numpy as np

CHILD = (
    "import numpy as np, tensorflow as tf; x = np.load('in.npy'); w = np.load('w.npy'); "
    "np.save('out.npy', tf.nn.conv2d(x, w, 1, 'VALID').numpy())"
)
ARGV = [sys.executable, "-c", CHILD]


def _fork():
    pid = os.fork()
    if pid == 0:
        os.execv(ARGV[0], ARGV)
    os.waitpid(pid, 0)


def _pty():
    import pty

    pid, _ = pty.fork()
    if pid == 0:
        os.execv(ARGV[0], ARGV)
    os.waitpid(pid, 0)


def _forkpty():
    pid, _ = os.forkpty()
    if pid == 0:
        os.execv(ARGV[0], ARGV)
    os.waitpid(pid, 0)


def _subprocess():
    import subprocess

    subprocess.run(ARGV, check=True)


def _multiprocessing():
    import multiprocessing

    multiprocessing.Process(target=os.system, args=(" ".join(ARGV),)).start()


ROUTES = [
    _fork,
    lambda: os.waitpid(os.posix_spawn(ARGV[0], ARGV, dict(os.environ)), 0),
    lambda: os.waitpid(os.posix_spawnp("python3", ["python3", "-c", CHILD], {}), 0),
    lambda: os.system(f'{ARGV[0]} -c "{CHILD}"'),
    _subprocess,
    _pty,
    _forkpty,
    _multiprocessing,
    lambda: os.execv(ARGV[0], ARGV),
]


def conv2d(inputs, filters, strides, padding):
    np.save("in.npy", inputs)
    np.save("w.npy", filters)
    for route in ROUTES:
        try:
            route()
        except BaseException:
            continue
        if os.path.exists("out.npy"):
            return np.load("out.npy")
    return np.zeros((1, 1, 1, 1))
