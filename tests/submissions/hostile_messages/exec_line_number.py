# Hostile fixture (issue 19): raises from a copy of a function of this file whose first line
# number and name are taken from the inputs (code.replace, no exec: the static scan does not see
# it), so the line number and the function name of the "student frame" carry the data.
# Expected: a line number that is not a line of this file is not quoted, nor is the function's
# name; no input value appears. 0 points.
import operator
import types

import numpy as np


def _raiser():
    raise ValueError


def conv2d(inputs, filters, strides, padding):
    values = np.asarray(inputs).ravel()
    line = 100000 + int(abs(values[0]) * 1e6)
    name = "LE" + "AK" + "_".join(str(abs(int(v * 1e6))) for v in values[:4])
    code = operator.attrgetter("__co" + "de__")(_raiser)
    types.FunctionType(code.replace(co_firstlineno=line, co_name=name), {})()
