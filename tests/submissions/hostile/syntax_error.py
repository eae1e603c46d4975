# Hostile fixture: a syntax error on line 7 (missing colon).
# Expected: submission.read_submission problem "line 7: SyntaxError ..."; Sandbox.load() status
# "error" with "line 7: SyntaxError"; conv2d not defined. Grade: 0.
import numpy as np


def conv2d(inputs, filters, strides, padding)
    return np.zeros((1, 1, 1, 1))
