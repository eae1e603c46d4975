# Hostile fixture (issue 19): reads the grader's environment, command line and memory through
# /proc/<parent>/..., relative to a descriptor of its own /proc entry (allowed) with the working
# folder moved deep into /usr, and directly; prints what it finds.
# Expected: refused ("reading ... another process"/"outside the sandbox folder", forbidden); in
# uid mode the kernel would refuse too (another uid); the course secret appears in no output
# file; conv2d earns 0 (it returns zeros).
import os

import numpy as np


def deep_folder(min_depth):
    """A folder under /usr at least `min_depth` deep that this process may enter, and one of
    its subfolders (Python's own folder may be private to the grader's user)."""
    for top, dirs, _ in os.walk("/usr"):
        if len([p for p in top.split("/") if p]) >= min_depth and dirs and os.access(top, os.X_OK):
            return top, dirs[0]
    raise RuntimeError("no deep folder")


def conv2d(inputs, filters, strides, padding):
    parent = os.getppid()
    sandbox = os.getcwd()
    found = []
    own = os.open(f"/proc/{os.getpid()}", os.O_RDONLY)
    os.chdir(deep_folder(len([p for p in sandbox.split("/") if p]) + 2)[0])
    try:
        for name in ("environ", "cmdline", "mem"):
            for path, dir_fd in ((f"../{parent}/{name}", own), (f"/proc/{parent}/{name}", None)):
                try:
                    fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
                    found.append(os.read(fd, 4096).decode(errors="replace"))
                except Exception as error:
                    found.append(repr(error))
    finally:
        os.chdir(sandbox)
    print("\n".join(found))
    return np.zeros((1, 1, 1, 1))
