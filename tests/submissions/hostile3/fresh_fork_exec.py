# Hostile fixture (issue 19): brings back a working _posixsubprocess.fork_exec four ways that
# raise no "import" audit event: _imp.create_builtin with the spec BuiltinImporter finds (Ubuntu's
# python3 builds the module in), _imp.create_dynamic with the extension module's spec (where it is
# not built in), importlib.reload of the stubbed module (re-runs its init) and a fresh
# ExtensionFileLoader; then starts a child Python that uses the real TensorFlow and hands the
# answer back through a file in the scratch folder.
# Expected: every route gets a working fork_exec, but the kernel refuses the fork (the worker's
# seccomp filter: EPERM) in every mode; no answer comes back: conv2d earns 0.
import _imp
import importlib
import importlib.machinery
import os
import sys

import numpy as np

CHILD = """
import numpy as np, sys
import tensorflow as tf
x = np.load("in.npy"); w = np.load("w.npy")
np.save("out.npy", tf.nn.conv2d(x, w, int(sys.argv[1]), sys.argv[2]).numpy())
"""


def fresh_modules():
    """Each route, tried on its own: a working fork_exec nobody stubbed."""
    name = "_posixsubprocess"
    stubbed = sys.modules[name]
    origin = getattr(stubbed, "__file__", None)  # (its folder may be unreadable: no PathFinder)

    def dynamic_spec():
        return importlib.machinery.ModuleSpec(name, None, origin=origin)

    def loader_module():
        loader = importlib.machinery.ExtensionFileLoader(name, origin)
        return loader.create_module(importlib.machinery.ModuleSpec(name, loader, origin=origin))

    routes = [
        lambda: _imp.create_builtin(importlib.machinery.BuiltinImporter.find_spec(name)),
        lambda: _imp.create_dynamic(dynamic_spec()),
        loader_module,
        lambda: importlib.reload(stubbed),
    ]
    for route in routes:
        try:
            yield route()
        except Exception:
            continue


def spawn(module, argv):
    args = [os.fsencode(a) for a in argv]
    r, w = os.pipe()
    common = [args, [args[0]], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True]
    try:
        pid = module.fork_exec(*common, -1, None, None, None, -1, None, False)
    except TypeError:
        pid = module.fork_exec(*common, None, None, None, -1, None)
    os.close(w)
    os.read(r, 100)
    return pid


def conv2d(inputs, filters, strides, padding):
    np.save("in.npy", inputs)
    np.save("w.npy", filters)
    stride = strides if isinstance(strides, int) else strides[1]
    errors = []
    for module in fresh_modules():
        try:
            pid = spawn(module, [sys.executable, "-c", CHILD, str(stride), padding])
        except Exception as error:
            errors.append(repr(error))
            continue
        os.waitpid(pid, 0)
        return np.load("out.npy")
    raise RuntimeError("no process started: " + "; ".join(errors))
