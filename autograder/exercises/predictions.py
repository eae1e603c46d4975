"""Graded predictions: a `my_...` value the student commits to before the lab measures it.

One Exercise per prediction, all of one generic kind: no arguments, one case, the reference
measured here (TensorFlow via autograder.reference, or counting), never a number typed into the
notebook; the check is equality of whole numbers (a shape, a size, an output array of integers).
A wrong prediction is told it is wrong and given the rule to apply, not the answer: the lab's
next cell measures it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..cases import Case
from ..checks import CaseResult, CheckFailure, Returned, Tier, as_ints, passed
from ..exercise import Exercise, register
from ..reference import tf_conv2d
from .tf_calls import NoArgs


class Prediction(Exercise):
    """A value the student predicts; `answer()` measures it, `rule` says how to get it."""

    Args = NoArgs
    suites = ("prediction",)

    def __init__(self, name: str, answer: Callable[[], Any], what: str, rule: str, oracle: str):
        self.name = name  # type: ignore[misc]
        self._answer, self.what, self.rule = answer, what, rule
        self.oracle = oracle  # type: ignore[misc]

    def cases(self, suite: str, seed: int) -> list[Case]:
        return [self.case(suite, seed, NoArgs(), "your-prediction", 1)]

    def reference(self, args: NoArgs) -> Any:
        return self._answer()

    def check(self, case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
        want = np.asarray(expected)
        try:
            if returned.status == "ok" and returned.value is None:
                raise CheckFailure(
                    Tier.TYPE,
                    f"No prediction yet: set {function} to {self.what} (replace None) and run "
                    "its cell, then this one.",
                )
            got = as_ints(returned, function, want.size)
            shape = np.shape(returned.value)
            if want.ndim > 1 and shape != want.shape:
                raise CheckFailure(
                    Tier.SHAPE,
                    f"{function} has shape {shape}; the prediction is {self.what}.",
                )
            if got == tuple(int(v) for v in want.ravel()):
                return passed(case, returned.value, expected)
            raise CheckFailure(
                Tier.VALUES,
                f"{function} = {returned.value!r} is not what {self.oracle} gives. {self.rule}",
            )
        except CheckFailure as failure:
            return failure.result(case, None, expected)


def _shape(inputs: tuple[int, ...], filters: tuple[int, ...], strides: Any, padding: Any) -> Any:
    """The output shape of tf.nn.conv2d on zeros of these shapes, as a tuple of ints."""
    out = tf_conv2d(np.zeros(inputs), np.zeros(filters), strides, padding)
    return tuple(int(v) for v in out.shape)


def _sobel_same() -> Any:
    from convlab.kernels import LECTURE_EXAMPLES

    example = LECTURE_EXAMPLES["sobel"]
    image, kernel = np.array(example.image, float), np.array(example.kernel, float)
    out = tf_conv2d(image[None, :, :, None], kernel[:, :, None, None], 1, "SAME")[0, :, :, 0]
    return np.rint(out).astype(np.int64)


MY_P2_WIDTH = register(
    Prediction(
        "my_p2_width",
        lambda: _shape((1, 2, 2, 1), (3, 3, 1, 1), 1, [[2, 2], [2, 2]])[2],
        "an int",
        "Count the windows: w' = floor((w - f + 2p) / s) + 1 with w = 2, f = 3, p = 2, s = 1.",
        "tf.nn.conv2d with 2 zeros on each side",
    )
)
MY_SOBEL_SAME = register(
    Prediction(
        "my_sobel_same",
        _sobel_same,
        "a 4x4 list of rows",
        "SAME pads one ring of zeros around the 4x4 image (stride 1, 3x3 kernel); each output "
        "pixel is the sum of the kernel times the 3x3 window of the padded image around it.",
        'tf.nn.conv2d(..., padding="SAME")',
    )
)
MY_MNIST_SHAPE = register(
    Prediction(
        "my_mnist_shape",
        lambda: _shape((64, 28, 28, 1), (5, 5, 1, 16), [1, 2, 2, 1], "SAME"),
        "a tuple of 4 ints (batch, height, width, channels)",
        "The batch stays, SAME at stride 2 gives ceil(28 / 2) per axis, one channel per filter.",
        "the lecture's MNIST call on 64 digits",
    )
)
MY_CIFAR_SHAPE = register(
    Prediction(
        "my_cifar_shape",
        lambda: _shape((20, 32, 32, 3), (5, 5, 3, 16), [1, 2, 2, 1], "SAME"),
        "a tuple of 4 ints (batch, height, width, channels)",
        "The batch stays, SAME at stride 2 gives ceil(32 / 2) per axis, and the 3 input channels "
        "are summed inside each of the 16 filters.",
        "the lecture's CIFAR-10 call on the 20 bundled images",
    )
)
