# Hostile fixture (issue 19): raises an exception whose message is the case's inputs, so each
# failing case reads its own inputs back through the feedback (one hidden case a round; then a
# lookup table earns points).
# Expected: on cases drawn for the student (hidden, and the grade of record's visible suites) the
# report says only "conv2d raised ValueError at line N: <that line of this file>"; no input
# value and no marker appear in any file the grader writes. 0 points. The self-check (seed 0)
# shows the full message: the student can run those cases themselves.
import numpy as np

TAG = "LE" + "AK"


def conv2d(inputs, filters, strides, padding):
    raise ValueError(TAG + repr(np.asarray(inputs).ravel().tolist()))
