# Hostile fixture (issue 19): changes what the audit hook calls instead of the hook itself:
# posixpath's _joinrealpath (behind os.path.realpath) made to answer "inside the scratch folder",
# os.getcwd and os.fspath made to lie, the worker module's WRITE_FLAGS (sys.modules["__main__"])
# set to 0 so writes look like reads, and builtins.type made to call the solution's path an int
# (an fd, which the hook skipped). Then it reads the solution notebook and plants a file in
# /dev/shm (world-writable, and inside /dev, a folder the hook lets code read).
# Expected: the hook binds every function it calls before student code runs and uses its own
# realpath: the read and the write are refused (forbidden); no file is planted; conv2d earns 0.
import builtins
import json
import os
import posixpath
import sys

import numpy as np

SOLUTION = "__SOLUTION__"
PLANT = "__PLANT_SHM__"


def _rebind():
    sandbox = os.getcwd()
    posixpath._joinrealpath = lambda path, rest, strict, seen: (sandbox + "/x", True)
    os.getcwd = lambda: sandbox
    sys.modules["__main__"].WRITE_FLAGS = 0
    real_type = builtins.type

    def fake_type(*args):
        if len(args) == 1 and isinstance(args[0], str) and args[0] in (SOLUTION, PLANT):
            return int
        return real_type(*args)

    builtins.type = fake_type


def conv2d(inputs, filters, strides, padding):
    _rebind()
    try:
        fd = os.open(PLANT, os.O_WRONLY | os.O_CREAT, 0o666)
        os.write(fd, b"planted")
        os.close(fd)
    except Exception:
        pass
    with open(SOLUTION) as f:
        notebook = json.load(f)
    namespace = {"np": np}
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "def conv2d" in source:
            exec(source, namespace)
    return namespace["conv2d"](inputs, filters, strides, padding)
