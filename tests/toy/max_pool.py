"""max_pool(inputs): 2x2 max pooling, stride 2, VALID, of an NHWC batch (a toy exercise).

The README's worked example, followed verbatim by tests/test_exercise.py: this file goes to
autograder/exercises/max_pool.py, "max_pool" onto one lab's `exercises` line in
autograder/registry.py, and an answer cell with grade_id "max_pool" into the lab's notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_array, scale
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_op


@dataclass(frozen=True, eq=False)
class MaxPoolArgs(CaseArgs):
    """inputs NHWC (batch, height, width, channels)."""

    inputs: NDArray[Any]


class MaxPool(Exercise):
    name = "max_pool"
    Args = MaxPoolArgs
    description = "2x2 max pooling, stride 2, VALID, of an NHWC batch"
    oracle = "tf.nn.max_pool2d"
    float_rule = "the largest of float values is float"
    suites = (
        Test("pool", 2, about="{function} on random NHWC batches of odd and even sizes."),
        hidden_test(1),
    )

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        cases = []
        for _ in range(4):
            n, h, w, c = (int(v) for v in rng.integers([1, 2, 2, 1], [3, 9, 9, 4]))
            x = rng.uniform(-1.0, 1.0, (n, h, w, c))
            cases.append(self.case(suite, seed, MaxPoolArgs(x), f"N{n}-H{h}xW{w}-C{c}", x.size))
        return cases

    def reference(self, args: MaxPoolArgs) -> NDArray[np.float64]:
        return tf_op("nn.max_pool2d", args.inputs, ksize=2, strides=2, padding="VALID")

    def mistakes(self, args: MaxPoolArgs) -> dict[str, tuple[NDArray[Any], str]]:
        mean = tf_op("nn.avg_pool2d", args.inputs, ksize=2, strides=2, padding="VALID")
        return {"mean": (mean, "you averaged each window; max pooling keeps its largest value.")}

    def check(self, case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
        a: MaxPoolArgs = case.args  # type: ignore[assignment]
        return check_array(
            case, returned, expected, function=function,
            layout="NHWC (batch, height // 2, width // 2, channels)",
            explain=lambda got: ("Each output pixel is the largest of one 2x2 window.", None),
            terms=1, scale=scale(a.inputs), variants=lambda: self.mistakes(a),
            oracle=self.oracle, float_rule=self.float_rule,
        )  # fmt: skip


MAX_POOL = register(MaxPool())
