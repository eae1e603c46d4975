# Hostile fixture (issue 19): reads a file the TA owns and left world-readable (0644) next to the
# course files, through os.open(..., dir_fd=...) with the working folder moved into numpy's
# folder, and through os.scandir(<descriptor>) of its folder; prints what it finds (so it would
# land in its own feedback).
# Expected: refused ("reading ... outside the sandbox folder", forbidden); the file's text appears
# in no file of the output folder; conv2d earns 0 (it returns zeros).
import os

import numpy as np

TA_FILE = "__TA_FILE__"


def deep_folder(min_depth):
    """A folder under /usr at least `min_depth` deep that this process may enter, and one of
    its subfolders (Python's own folder may be private to the grader's user)."""
    for top, dirs, _ in os.walk("/usr"):
        if len([p for p in top.split("/") if p]) >= min_depth and dirs and os.access(top, os.X_OK):
            return top, dirs[0]
    raise RuntimeError("no deep folder")


def conv2d(inputs, filters, strides, padding):
    sandbox = os.getcwd()
    up = "../" * len([p for p in sandbox.split("/") if p])
    here = os.open(".", os.O_RDONLY)
    os.chdir(deep_folder(len([p for p in sandbox.split("/") if p]) + 2)[0])
    found = []
    try:
        for target in (TA_FILE, os.path.dirname(TA_FILE)):
            try:
                fd = os.open(up + target.lstrip("/"), os.O_RDONLY, dir_fd=here)
                if target == TA_FILE:
                    found.append(os.read(fd, 4096).decode(errors="replace"))
                else:
                    found.extend(entry.name for entry in os.scandir(fd))
            except Exception as error:
                found.append(repr(error))
    finally:
        os.chdir(sandbox)
    print("\n".join(found))
    return np.zeros((1, 1, 1, 1))
