# Hostile fixture (issue 19): a graded prediction that is a list the conv2d calls fill with the
# inputs they were given: when the prediction is "called" afterwards, "my_conv_weights =
# [...] is not what ..." would quote them.
# Expected: a prediction on a drawn case is quoted only as a small whole number, else by its
# kind ("a list"); no input value appears. 0 points.
import numpy as np

my_dense_weights = []
my_conv_weights = my_dense_weights


def conv2d(inputs, filters, strides, padding):
    my_dense_weights.extend(float(v) for v in np.asarray(inputs).ravel()[:8])
    return np.zeros((1, 1, 1, 1))
