# Hostile fixture (issue 19): opens the solution notebook with a path the audit hook did not read
# as a path: a bytearray, a memoryview, a numpy byte array (os.open takes any buffer), and a str
# subclass; then runs the solution's conv2d.
# Expected: the hook reads every such path by its contents (not through the subclass's methods)
# and refuses it ("reading ... outside the sandbox folder", forbidden); conv2d earns 0.
import json
import os

import numpy as np

SOLUTION = "__SOLUTION__"


class Text(str):
    pass


def _read():
    raw = os.fsencode(SOLUTION)
    for path in (
        bytearray(raw),
        memoryview(raw),
        np.frombuffer(raw, dtype=np.uint8),
        Text(SOLUTION),
    ):
        try:
            fd = os.open(path, os.O_RDONLY)
        except (OSError, TypeError):
            continue
        with os.fdopen(fd) as f:
            return json.load(f)
    raise RuntimeError("could not read the solution")


def conv2d(inputs, filters, strides, padding):
    namespace = {"np": np}
    for cell in _read()["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "def conv2d" in source:
            exec(source, namespace)
    return namespace["conv2d"](inputs, filters, strides, padding)
