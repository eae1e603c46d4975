# Hostile fixture: tries to make every comparison pass by patching numpy, builtins and
# sys.modules inside the worker, then returns zeros.
# Expected: sandbox load "ok", call "ok" with zeros of shape (1, 1, 1, 1); nothing changes in the
# grader (its numpy.allclose, builtins.abs and sys.modules are untouched). Grade: 0.
import builtins
import sys
import types

import numpy as np

np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
builtins.abs = lambda x: 0
sys.modules["numpy"] = types.SimpleNamespace(allclose=lambda *a, **k: True)


def conv2d(inputs, filters, strides, padding):
    return np.zeros((1, 1, 1, 1))
