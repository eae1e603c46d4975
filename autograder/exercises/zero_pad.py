"""zero_pad(image, top, bottom, left, right): surround a 2-D image with zeros."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_array, scale
from ..exercise import Exercise, Test, hidden_test, register


@dataclass(frozen=True, eq=False)
class ZeroPadArgs(CaseArgs):
    image: NDArray[Any]
    top: int
    bottom: int
    left: int
    right: int


class ZeroPad(Exercise):
    name = "zero_pad"
    Args = ZeroPadArgs
    description = "surround a 2-D image with zeros"
    suites = (
        Test("zero_pad", 1, about="{function}: shape and position of the image inside the zeros."),
        hidden_test(1),
    )  # fmt: skip
    oracle = "np.pad"
    float_rule = "zero padding a float image gives a float image"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        cases = []
        fixed = (
            [(3, 4, 1, 1, 1, 1), (2, 5, 0, 1, 0, 1), (4, 3, 0, 0, 0, 0)]
            if suite != "hidden"
            else []
        )
        while len(fixed) < 6:
            fixed.append(
                tuple(int(v) for v in rng.integers([1, 1, 0, 0, 0, 0], [8, 8, 4, 4, 4, 4]))
            )
        for h, w, t, b, l, r in fixed:
            image = rng.uniform(-1, 1, (h, w))
            label = f"H{h}xW{w}-pad(t{t},b{b},l{l},r{r})"
            cases.append(self.case(suite, seed, ZeroPadArgs(image, t, b, l, r), label, h * w))
        return cases

    def reference(self, args: ZeroPadArgs) -> NDArray[np.float64]:
        return np.pad(
            np.asarray(args.image, float), ((args.top, args.bottom), (args.left, args.right))
        )

    def mistakes(self, args: ZeroPadArgs) -> dict[str, tuple[NDArray[Any], str]]:
        image, t, b, l, r = args
        return {
            "tb_swapped": (np.pad(image, ((b, t), (l, r))), "top and bottom are swapped."),
            "lr_swapped": (np.pad(image, ((t, b), (r, l))), "left and right are swapped."),
            "axes_swapped": (
                np.pad(image, ((l, r), (t, b))),
                "rows and columns are swapped: top/bottom pad the rows (axis 0).",
            ),
        }

    def check(
        self, case: Case, returned: Returned, expected: NDArray[Any], function: str
    ) -> CaseResult:
        a: ZeroPadArgs = case.args  # type: ignore[assignment]

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            h, w = a.image.shape
            return (
                f"Height {h} + top {a.top} + bottom {a.bottom} = {h + a.top + a.bottom}; "
                f"width {w} + left {a.left} + right {a.right} = {w + a.left + a.right}.",
                None,
            )

        return check_array(
            case, returned, expected, function=function, layout="2-D", explain=explain,
            terms=1, scale=scale(a.image), variants=lambda: self.mistakes(a),
            oracle=self.oracle, float_rule=self.float_rule,
        )  # fmt: skip


ZERO_PAD = register(ZeroPad())
