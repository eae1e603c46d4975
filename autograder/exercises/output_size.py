"""output_size(in_size, filter_size, stride, padding): TensorFlow's output length along one axis.

`padding` is "VALID"/"SAME" (any case), or an int p: explicit symmetric zero padding (the
lecture's (w - f + 2p)/s + 1, floored), graded by the suite "explicit_padding".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convlab.geometry import out_size

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_ints, shown
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_output_size
from ._conv_common import axis_mistakes, formula, padding_form


@dataclass(frozen=True, eq=False)
class OutputSizeArgs(CaseArgs):
    in_size: int
    filter_size: int
    stride: int
    padding: str | int


class OutputSize(Exercise):
    name = "output_size"
    Args = OutputSizeArgs
    description = "output length along one axis for VALID, SAME or an int padding p"
    suites = (
        Test(
            "output_size", 2,
            about="{function} for VALID and SAME, against the shapes tf.nn.conv2d returns.",
        ),
        #: padding in lower or mixed case (every other suite: upper case)
        Test(
            "letter_case", 0.5,
            about='{function} with the padding in lower or mixed case ("same", "Valid"): the '
            'other cells pass "SAME"/"VALID".',
        ),
        hidden_test(1),
        Test(
            "explicit_padding", 2,
            about="{function} with an int padding p, against tf.nn.conv2d with p zeros on each "
            "side.",
        ),
    )  # fmt: skip
    oracle = "tf.nn.conv2d"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        if suite == "explicit_padding":
            return self._explicit_cases(suite, seed, rng)
        triples = [(4, 3, 1, "VALID"), (4, 3, 1, "SAME"), (5, 3, 2, "VALID"), (28, 5, 2, "SAME")]
        if suite != "output_size":
            triples = []
        count = 6 if suite == "letter_case" else 12
        while len(triples) < count:
            n, f, s = int(rng.integers(1, 40)), int(rng.integers(1, 8)), int(rng.integers(1, 5))
            padding = "SAME" if rng.integers(2) else "VALID"
            if suite == "letter_case":  # both words, alternately
                padding = ("SAME", "VALID")[len(triples) % 2]
            if padding == "VALID" and f > n:
                continue
            triples.append((n, f, s, padding))
        cases = []
        for i, (n, f, s, padding) in enumerate(triples):
            # Upper case ("SAME"/"VALID", as tf.nn.conv2d documents it) except in letter_case,
            # which alternates lower and capitalised; a form is still drawn, so the numbers
            # stay those of before.
            pad = padding_form(rng, padding)
            if suite == "letter_case":
                pad = padding.lower() if i % 2 == 0 else padding.capitalize()
            else:
                pad = padding
            args = OutputSizeArgs(n, f, s, pad)
            cases.append(self.case(suite, seed, args, f"in{n}-f{f}-s{s}-{pad}", n))
        return cases

    def _explicit_cases(self, suite: str, seed: int, rng: np.random.Generator) -> list[Case]:
        """An int padding p: the lecture's p = 2 slide first, then seeded (n, f, s, p)."""
        quads = [(2, 3, 1, 2), (4, 3, 1, 1), (4, 3, 1, 0), (5, 3, 2, 1), (28, 5, 2, 2)]
        while len(quads) < 12:
            n, f = int(rng.integers(1, 40)), int(rng.integers(1, 8))
            s, p = int(rng.integers(1, 5)), int(rng.integers(0, 4))
            if n + 2 * p >= f:
                quads.append((n, f, s, p))
        return [
            self.case(suite, seed, OutputSizeArgs(*q), f"in{q[0]}-f{q[1]}-s{q[2]}-p{q[3]}", q[0])
            for q in quads
        ]

    def reference(self, args: OutputSizeArgs) -> int:
        n, f, s, padding = args
        if isinstance(padding, str):
            return tf_output_size(n, f, s, padding)
        return tf_output_size(n, f, s, [[padding, padding], [0, 0]])  # type: ignore[arg-type]

    def check(self, case: Case, returned: Returned, expected: int, function: str) -> CaseResult:
        n, f, s, padding = case.args
        if not isinstance(padding, str):
            return self._check_explicit(case, returned, expected, function)

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            (size,) = got
            guess = axis_mistakes(n, f, s, s, padding).get(size)
            other = "VALID" if padding.upper() == "SAME" else "SAME"
            if padding.upper() != padding and size == out_size(n, f, s, other):
                guess = f"padding {padding!r} was not recognised: compare padding.upper()"
            rule = formula("size", n, f, s, padding)
            return f"{function}({n}, {f}, {s}, {padding!r}) returned {shown(size)}; {rule}.", guess

        return check_ints(case, returned, expected, function=function, explain=explain)

    def _check_explicit(
        self, case: Case, returned: Returned, expected: int, function: str
    ) -> CaseResult:
        n, f, s, p = case.args

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            (size,) = got
            slips = [
                ((n - f + p) // s + 1, "the padding was added once; p zeros go on each side: 2p"),
                (
                    (n - f) // s + 1,
                    "the padding was ignored: an int padding p adds 2p to the input",
                ),
                (
                    -(-(n - f + 2 * p) // s) + 1,
                    "the division was rounded up; the formula floors it",
                ),
                ((n - f + 2 * p) // s, "the + 1 is missing: the first window counts too"),
                (-(-n // s), "an int padding was treated as SAME"),
            ]
            guess = " Or: ".join(why for value, why in slips if value == size != expected) or None
            rule = (
                f"floor(({n} - {f} + 2·{p}) / {s}) + 1 = {expected} "
                f"(tf.nn.conv2d with {p} zeros on each side)"
            )
            return f"{function}({n}, {f}, {s}, {p}) returned {shown(size)}; {rule}.", guess

        return check_ints(case, returned, expected, function=function, explain=explain)


OUTPUT_SIZE = register(OutputSize())
