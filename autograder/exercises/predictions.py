"""Graded predictions: a `my_...` value the student commits to before the lab measures it.

One Exercise per prediction, all of one generic kind: no arguments, one case, the reference
measured here (TensorFlow via autograder.reference, or counting), never a number typed into the
notebook; the check is equality of whole numbers (a shape, a size, an output array of integers),
or for a `SetPrediction` equality of sets (of (row, col) pairs or of names; order free, each item
once).
A wrong prediction is told it is wrong and given the rule to apply, not the answer: the lab's
next cell measures it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..cases import Case
from ..checks import (
    CaseResult,
    CheckFailure,
    Returned,
    Tier,
    as_ints,
    is_secret_case,
    passed,
    shown,
)
from ..exercise import Exercise, Test, register
from ..reference import tf_conv2d
from .tf_calls import NoArgs

#: The one suite of every graded prediction (the class report groups its answers by it).
SUITE = "prediction"


class Prediction(Exercise):
    """A value the student predicts; `answer()` measures it, `rule` says how to get it."""

    Args = NoArgs
    by_hand = False
    prediction = True

    def __init__(
        self, name: str, answer: Callable[[], Any], what: str, rule: str, oracle: str, *,
        description: str, about: str, points: float = 1,
    ) -> None:  # fmt: skip
        self.name = name  # type: ignore[misc]
        self._answer, self.what, self.rule = answer, what, rule
        self.oracle = oracle
        self.description = f"prediction: {description}"  # type: ignore[misc]
        self.suites = (Test(SUITE, points, about=f"Graded prediction: {about}"),)

    def cases(self, suite: str, seed: int) -> list[Case]:
        return [self.case(suite, seed, NoArgs(), "your-prediction", 1)]

    def reference(self, args: NoArgs) -> Any:
        return self._answer()

    def answer_key(self, got: Any) -> str | None:
        """The prediction as the report counts it: (64, 14, 14, 16) whether a list, tuple or
        array; a set's items sorted; "no prediction" for None."""
        if got is None:
            return "no prediction"
        if isinstance(got, set | frozenset):
            return _shown(got)
        try:
            value = np.asarray(got)
            if value.dtype.kind in "biuf" and np.all(np.isfinite(value)) and value.size <= 64:
                ints = np.rint(value).astype(np.int64)
                shown = ints if np.array_equal(ints, value) else value
                listed = shown.tolist()
                return _shown(tuple(listed) if isinstance(listed, list) else listed)
        except Exception:  # any other value is shown as it is
            pass
        return _shown(got)

    def plane(self, value: Any, where: tuple[int, ...] | None) -> Any:
        return None  # a prediction gets the rule, not a picture of where it is off

    def unanswered(self, function: str) -> CheckFailure:
        """The verdict while the answer cell still holds None."""
        return CheckFailure(
            Tier.TYPE,
            f"No prediction yet: in {function}'s cell, replace None with {self.what}; run that "
            "cell, then this one.",
        )

    def check(self, case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
        want = np.asarray(expected)
        try:
            if returned.status == "ok" and returned.value is None:
                raise self.unanswered(function)
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
                f"{function} = {_answer(returned.value)} is not what {self.oracle} gives. "
                f"{self.rule}",
            )
        except CheckFailure as failure:
            return failure.result(case, returned.value, expected)


def _answer(value: Any) -> str:
    """The prediction as the message quotes it: on a drawn case (the grade of record) only what
    `checks.shown` allows: a prediction is a value other calls could have changed."""
    return shown(value) if is_secret_case() else repr(value)


def _shown(value: Any) -> str:
    """A short repr; a set's items sorted, so the message does not change from run to run."""
    if is_secret_case():
        return shown(value)  # other calls could have filled it: see `_answer`
    try:
        text = repr(sorted(value, key=repr)) if isinstance(value, set | frozenset) else repr(value)
        if isinstance(value, set | frozenset):
            text = "{" + text[1:-1] + "}" if value else "set()"
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 120 else text[:117] + "..."


class SetPrediction(Prediction):
    """A prediction that is a set: of (row, col) pairs (int tuples) or of names (strings).

    Accepted: a set or frozenset, or a list/tuple (or, from the sandbox, an (n, k) array) of the
    items, each item at most once. Order never matters; a repeated item is wrong.
    """

    def check(self, case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
        want = frozenset(expected)
        try:
            if returned.status == "ok" and returned.value is None:
                raise self.unanswered(function)
            if returned.status != "ok":
                raise CheckFailure(Tier.CALL, returned.message or f"{function} did not run.")
            items = self._items(returned.value, next(iter(want), None), function)
            got = frozenset(items)
            if len(got) != len(items):
                twice = next(i for i in items if items.count(i) > 1)
                raise CheckFailure(
                    Tier.VALUES,
                    f"{function} lists {_shown(twice)} more than once; list each one once. "
                    f"{self.rule}",
                )
            if got == want:
                return passed(case, returned.value, expected)
            raise CheckFailure(
                Tier.VALUES,
                f"{function} = {_shown(returned.value)} is not what {self.oracle} gives. "
                f"{self.rule}",
            )
        except CheckFailure as failure:
            return failure.result(case, returned.value, expected)

    def _items(self, value: Any, example: Any, function: str) -> list[Any]:
        """The items of `value`, each like `example` (a str, or a tuple of ints), as a list."""
        wrong_type = CheckFailure(Tier.TYPE, f"{function} = {_shown(value)}; expected {self.what}.")
        if (
            isinstance(value, str | bytes | dict)
            or np.ndim(value) == 0
            and not isinstance(value, set | frozenset)
        ):
            raise wrong_type
        try:
            items = list(value)
        except TypeError:
            raise wrong_type from None
        if isinstance(example, str):
            if not all(isinstance(i, str) for i in items):
                raise wrong_type
            return items
        length = len(example) if isinstance(example, tuple) else 1
        out = []
        for item in items:
            if isinstance(item, str | bytes) or np.ndim(item) != 1 or len(item) != length:
                raise wrong_type
            numbers = []
            for v in item:
                if isinstance(v, bool | np.bool_) or not isinstance(
                    v, int | float | np.integer | np.floating
                ):
                    raise wrong_type
                if not np.isfinite(v) or float(v) != int(v):
                    raise wrong_type
                numbers.append(int(v))
            out.append(tuple(numbers))
        return out


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
        description="output width of the lecture's p = 2 padding slide",
        about="the output width of the lecture's p = 2 padding slide.",
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
        description="the lecture's Sobel homework with SAME padding",
        about="the lecture's Sobel homework, SAME padding.",
        points=2,
    )
)
MY_MNIST_SHAPE = register(
    Prediction(
        "my_mnist_shape",
        lambda: _shape((64, 28, 28, 1), (5, 5, 1, 16), [1, 2, 2, 1], "SAME"),
        "a tuple of 4 ints (batch, height, width, channels)",
        "The batch stays, SAME at stride 2 gives ceil(28 / 2) per axis, one channel per filter.",
        "the lecture's MNIST call on 64 digits",
        description="output shape of the lecture's MNIST call",
        about="the output shape of the lecture's MNIST call.",
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
        description="output shape of the lecture's CIFAR-10 call",
        about="the output shape of the lecture's CIFAR-10 call.",
    )
)


def _pixels_v10() -> frozenset[tuple[int, int]]:
    """The (row, col) pixels of the lecture's 4x4 image that V(1, 0) of a 3x3 kernel reads:
    those whose one-hot image changes output (row 0, column 1) of tf.nn.conv2d, VALID."""
    one_hot = np.eye(16).reshape(16, 4, 4, 1)  # image p: a single 1 at pixel p
    responses = tf_conv2d(one_hot, np.ones((3, 3, 1, 1)), 1, "VALID")[:, 0, 1, 0]
    return frozenset((int(p) // 4, int(p) % 4) for p in np.flatnonzero(responses))


def _conv_matrix(kernel: np.ndarray, height: int, width: int) -> np.ndarray:
    """The dense matrix of a VALID stride-1 convolution, measured: column p is tf.nn.conv2d's
    response to the one-hot image of pixel p."""
    one_hot = np.eye(height * width).reshape(height * width, height, width, 1)
    responses = tf_conv2d(one_hot, kernel[:, :, None, None], 1, "VALID")
    return responses.reshape(height * width, -1).T


def _mnist_matrix() -> np.ndarray:
    """The matrix of a 5x5 convolution (random, distinct weights) over a 28x28 digit."""
    return _conv_matrix(np.random.default_rng(2).normal(size=(5, 5)), 28, 28)


def _distinct_nonzero(matrix: np.ndarray) -> int:
    return len(np.unique(matrix[matrix != 0]))


def _im2col_shape() -> tuple[int, int]:
    """im2col of the lecture's MNIST call: a row per output pixel, a column per filter weight."""
    filters = (5, 5, 1, 16)
    batch, out_h, out_w, _ = _shape((64, 28, 28, 1), filters, [1, 2, 2, 1], "SAME")
    return batch * out_h * out_w, filters[0] * filters[1] * filters[2]


def _cifar_macs() -> int:
    """Multiply-adds of (20, 32, 32, 3) x (5, 5, 3, 16), stride 1, SAME: output values times the
    length of each sum."""
    filters = (5, 5, 3, 16)
    out = _shape((20, 32, 32, 3), filters, 1, "SAME")
    return int(np.prod(out)) * filters[0] * filters[1] * filters[2]


MY_PIXELS_V10 = register(
    SetPrediction(
        "my_pixels_v10",
        _pixels_v10,
        "a set of (row, col) pairs, e.g. {(0, 0), (1, 0)} (a list of pairs will do, each pixel "
        "once)",
        "V(x, y) reads image[y + n, x + m] for every kernel row n and column m (0, 1, 2 for a "
        "3x3 kernel): put x = 1 (a column) and y = 0 (a row), and list those (row, col) pairs.",
        "tf.nn.conv2d (the pixels whose value changes V(1, 0))",
        description="which pixels V(1, 0) of a 3x3 kernel reads",
        about="which pixels V(1, 0) of a 3x3 kernel reads.",
    )
)
MY_MNIST_SIZE = register(
    Prediction(
        "my_mnist_size",
        lambda: _shape((1, 28, 28, 1), (5, 5, 1, 1), 1, "VALID")[1],
        "an int",
        "A kernel of side k fits at W - k + 1 positions along a side of W pixels (VALID, "
        "stride 1): count them for W = 28 and k = 5.",
        'tf.nn.conv2d(..., padding="VALID") on a 28x28 digit',
        description="VALID output size of a 5x5 kernel on a 28x28 digit",
        about="the VALID output size of a 5x5 kernel on a 28x28 digit.",
    )
)
MY_DENSE_WEIGHTS = register(
    Prediction(
        "my_dense_weights",
        lambda: _mnist_matrix().size,
        "an int",
        "A fully connected layer has one weight for every (input pixel, output pixel) pair: "
        "the 28 x 28 input pixels times the output pixels of a VALID 5x5 convolution "
        "(28 - 5 + 1 per side).",
        "the matrix of the 5x5 convolution on a 28x28 digit",
        description="weights of a fully connected 28x28 -> 24x24 layer",
        about="weights of a fully connected layer from a 28x28 digit to 24x24.",
    )
)
MY_CONV_WEIGHTS = register(
    Prediction(
        "my_conv_weights",
        lambda: _distinct_nonzero(_mnist_matrix()),
        "an int",
        "Every output pixel uses the same kernel (weight sharing): the distinct weights are "
        "the kernel's own, one per kernel cell.",
        "the distinct non-zero entries of the 5x5 convolution's matrix",
        description="distinct weights of the 5x5 convolution (shared)",
        about="distinct weights of the 5x5 convolution (shared by every output pixel).",
    )
)
MY_IM2COL_SHAPE = register(
    Prediction(
        "my_im2col_shape",
        _im2col_shape,
        "a tuple of 2 ints (rows, columns)",
        "One row per output pixel of the whole batch (batch x H' x W', with SAME at stride 2: "
        "H' = ceil(28 / 2)), one column per weight of one filter (fh x fw x in_channels).",
        "the lecture's MNIST call (64 digits, 5x5x1 filters, stride 2, SAME)",
        description="the im2col matrix's shape for the MNIST call",
        about="the im2col matrix's shape for the lecture's MNIST call.",
    )
)
MY_CIFAR_MACS = register(
    Prediction(
        "my_cifar_macs",
        _cifar_macs,
        "an int",
        "Count the output values (batch x H' x W' x out_channels; SAME at stride 1 keeps "
        "32 x 32) and multiply by the length of each sum (fh x fw x in_channels).",
        "tf.nn.conv2d's output shape for the CIFAR-10 call",
        description="multiply-adds of the CIFAR-10 call at stride 1",
        about="multiply-adds of the CIFAR-10 call at stride 1.",
    )
)
