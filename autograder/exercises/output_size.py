"""output_size(in_size, filter_size, stride, padding): TensorFlow's output length along one axis."""

from __future__ import annotations

from dataclasses import dataclass

from convlab.geometry import out_size

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_ints
from ..exercise import Exercise, register
from ..reference import tf_output_size
from ._conv_common import axis_mistakes, formula, padding_form


@dataclass(frozen=True, eq=False)
class OutputSizeArgs(CaseArgs):
    in_size: int
    filter_size: int
    stride: int
    padding: str


class OutputSize(Exercise):
    name = "output_size"
    Args = OutputSizeArgs
    suites = ("output_size", "letter_case", "hidden")

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
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

    def reference(self, args: OutputSizeArgs) -> int:
        return tf_output_size(*args)

    def check(self, case: Case, returned: Returned, expected: int, function: str) -> CaseResult:
        n, f, s, padding = case.args

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            (size,) = got
            guess = axis_mistakes(n, f, s, s, padding).get(size)
            other = "VALID" if padding.upper() == "SAME" else "SAME"
            if padding.upper() != padding and size == out_size(n, f, s, other):
                guess = f"padding {padding!r} was not recognised: compare padding.upper()"
            rule = formula("size", n, f, s, padding)
            return f"{function}({n}, {f}, {s}, {padding!r}) returned {size}; {rule}.", guess

        return check_ints(case, returned, expected, function=function, explain=explain)


OUTPUT_SIZE = register(OutputSize())
