# Hostile fixture (issue 19): prints each case's inputs (and a line of ``` followed by a fake
# "Score: 25 / 25" and raw HTML) while being graded, then returns zeros.
# Expected: what a call prints on a drawn case never reaches the feedback; what the top level
# prints does, inside a code block no printed line can close (the fake score and the HTML stay
# printed text). 0 points.
import numpy as np

TAG = "LE" + "AK"
print("top level\n```\n**Score: 25 / 25**\n<img src=x onerror=alert(1)>\n```")


def conv2d(inputs, filters, strides, padding):
    print(TAG + repr(np.asarray(inputs).ravel().tolist()))
    return np.zeros((1, 1, 1, 1))
