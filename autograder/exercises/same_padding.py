"""same_padding(in_size, filter_size, stride): TensorFlow's SAME (before, after) along one axis."""

from __future__ import annotations

from dataclasses import dataclass

from convlab.geometry import same_out_size

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_ints, shown_ints
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_same_padding


@dataclass(frozen=True, eq=False)
class SamePaddingArgs(CaseArgs):
    in_size: int
    filter_size: int
    stride: int


class SamePadding(Exercise):
    name = "same_padding"
    Args = SamePaddingArgs
    description = "TensorFlow's SAME padding (before, after) along one axis"
    suites = (
        Test(
            "same_padding", 2,
            about="{function}: TensorFlow's (before, after) for odd and even filters and strides.",
        ),
        hidden_test(1),
    )  # fmt: skip
    oracle = "tf.nn.conv2d"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        triples = (
            [(4, 3, 1), (5, 2, 1), (7, 3, 2), (6, 1, 3), (3, 5, 1)] if suite != "hidden" else []
        )
        while len(triples) < 10:
            triples.append(
                (int(rng.integers(1, 30)), int(rng.integers(1, 8)), int(rng.integers(1, 5)))
            )
        return [
            self.case(suite, seed, SamePaddingArgs(*t), f"in{t[0]}-f{t[1]}-s{t[2]}", t[0])
            for t in triples
        ]

    def reference(self, args: SamePaddingArgs) -> tuple[int, int]:
        return tf_same_padding(*args)

    def check(
        self, case: Case, returned: Returned, expected: tuple[int, int], function: str
    ) -> CaseResult:
        n, f, s = case.args

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            out = same_out_size(n, s)
            total = sum(expected)
            guess = None
            if got == tuple(expected)[::-1]:
                guess = "before and after are swapped: the odd extra goes after (bottom/right)"
            elif got == ((f - 1) // 2, f - 1 - (f - 1) // 2):
                guess = "the stride-1 total f - 1 was used; the total depends on the stride"
            elif got[0] == got[1]:
                guess = "symmetric padding; TensorFlow puts total // 2 before and the rest after"
            msg = (
                f"{function}({n}, {f}, {s}) returned {shown_ints(got)}; "
                f"TensorFlow pads {tuple(expected)}: "
                f"out = ceil({n} / {s}) = {out}, "
                f"total = max(({out} - 1)·{s} + {f} - {n}, 0) = {total}, "
                f"before = total // 2 = {total // 2}, after = {total - total // 2}."
            )
            return msg, guess

        return check_ints(case, returned, expected, function=function, explain=explain)


SAME_PADDING = register(SamePadding())
