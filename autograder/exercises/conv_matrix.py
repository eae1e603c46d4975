"""conv_matrix(kernel, in_h, in_w): the matrix of a VALID stride-1 single-channel convolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlab.geometry import valid_out_size

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_array, scale
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_conv_matrix


@dataclass(frozen=True, eq=False)
class ConvMatrixArgs(CaseArgs):
    kernel: NDArray[Any]
    in_h: int
    in_w: int


class ConvMatrix(Exercise):
    name = "conv_matrix"
    Args = ConvMatrixArgs
    description = "the dense matrix of a VALID stride-1 single-channel convolution"
    suites = (
        Test(
            "conv_matrix", 2,
            about="{function}(kernel, H, W) @ image.ravel() equals the VALID stride-1 "
            "convolution, flattened.",
        ),
        hidden_test(
            1,
            "Hidden tests: {function} on cases from a seed you never see. "
            "Pass the visible tests first.",
        ),
    )  # fmt: skip
    oracle = "tf.nn.conv2d"
    float_rule = "a convolution of float inputs is float"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        shapes = [(3, 3, 2, 2), (4, 4, 3, 3), (3, 5, 2, 3)] if suite != "hidden" else []
        while len(shapes) < 6:
            h, w = int(rng.integers(2, 8)), int(rng.integers(2, 8))
            shapes.append((h, w, int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))))
        cases = []
        for h, w, kh, kw in shapes:
            kernel = rng.uniform(-1, 1, (kh, kw))
            args = ConvMatrixArgs(kernel, h, w)
            cases.append(self.case(suite, seed, args, f"H{h}xW{w}-K{kh}x{kw}", h * w * kh * kw))
        return cases

    def reference(self, args: ConvMatrixArgs) -> NDArray[np.float64]:
        return tf_conv_matrix(*args)

    def mistakes(self, args: ConvMatrixArgs) -> dict[str, tuple[NDArray[Any], str]]:
        flipped = tf_conv_matrix(args.kernel[::-1, ::-1], args.in_h, args.in_w)
        text = "you flipped the kernel (a true convolution, not cross-correlation)."
        return {"flipped": (flipped, text)}

    def check(
        self, case: Case, returned: Returned, expected: NDArray[Any], function: str
    ) -> CaseResult:
        a: ConvMatrixArgs = case.args  # type: ignore[assignment]
        h, w = a.in_h, a.in_w

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            oh = valid_out_size(h, a.kernel.shape[0], 1)
            ow = valid_out_size(w, a.kernel.shape[1], 1)
            why = (
                f"One row per output pixel ({oh}·{ow} = {oh * ow}) and one column per input pixel "
                f"({h}·{w} = {h * w})."
            )
            return why, ("the matrix is transposed" if got == expected.shape[::-1] else None)

        return check_array(
            case, returned, expected, function=function,
            layout="(out_h*out_w, in_h*in_w), row-major pixels", explain=explain,
            terms=a.kernel.size, scale=scale(a.kernel), variants=lambda: self.mistakes(a),
            oracle=self.oracle, float_rule=self.float_rule,
        )  # fmt: skip


CONV_MATRIX = register(ConvMatrix())
