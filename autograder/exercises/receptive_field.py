"""receptive_field(kernel_sizes, strides): input pixels per side one last-layer pixel sees."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_ints, shown
from ..exercise import Exercise, Test, hidden_test, register

#: The lecture-style stacks every visible suite starts with: (kernel_sizes, strides).
LECTURE_STACKS: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((3,), (1,)),  # one 3x3 layer: its own window
    ((5,), (2,)),  # the lecture's MNIST layer: 5x5, stride 2
    ((3, 3), (1, 1)),  # two 3x3 layers: 5
    ((3, 3, 3), (1, 1, 1)),  # three: 7
    ((3, 3), (2, 2)),  # 3x3 stride 2, twice: 7
    ((5, 2, 5), (1, 2, 1)),  # lab 04's CNN: 5x5, 2x2 pool (stride 2), 5x5: 14
)


@dataclass(frozen=True, eq=False)
class ReceptiveFieldArgs(CaseArgs):
    """One entry per conv layer, from the input to the output."""

    kernel_sizes: list[int]
    strides: list[int]


def field_size(kernel_sizes: list[int], strides: list[int], *, offset: int = 0) -> int:
    """r = 1 + sum_i (k_i - 1) · prod_{j < i + offset} s_j (offset 1: the common slip)."""
    return 1 + sum((k - 1) * math.prod(strides[: i + offset]) for i, k in enumerate(kernel_sizes))


def _walked_forward(kernel_sizes: list[int], strides: list[int]) -> int:
    """The walk back from the output (r -> (r - 1)·s + k), done from the input side instead."""
    size = 1
    for k, s in zip(kernel_sizes, strides, strict=True):
        size = (size - 1) * s + k
    return size


class ReceptiveField(Exercise):
    name = "receptive_field"
    Args = ReceptiveFieldArgs
    description = "input pixels per side one output pixel of a conv stack sees"
    suites = (
        Test(
            "receptive_field", 2,
            about="{function} on the lecture-style stacks and random ones, against the formula.",
        ),
        hidden_test(1, "Hidden tests: {function} on stacks drawn from a seed you never see."),
    )  # fmt: skip
    oracle = "the receptive-field formula"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        stacks = [(list(k), list(s)) for k, s in LECTURE_STACKS] if suite != "hidden" else []
        while len(stacks) < 12:
            layers = int(rng.integers(1, 6))
            kernels = [int(k) for k in rng.integers(1, 8, layers)]
            strides = [int(s) for s in rng.integers(1, 4, layers)]
            stacks.append((kernels, strides))
        return [
            self.case(suite, seed, ReceptiveFieldArgs(k, s), f"k{k}-s{s}".replace(" ", ""), len(k))
            for k, s in stacks
        ]

    def reference(self, args: ReceptiveFieldArgs) -> int:
        return field_size(args.kernel_sizes, args.strides)

    def mistakes(self, args: ReceptiveFieldArgs) -> dict[str, tuple[int, str]]:
        k, s = args.kernel_sizes, args.strides
        right = field_size(k, s)
        return {
            "strides ignored": (
                field_size(k, [1] * len(s)),
                "the strides were ignored: a stride multiplies what every later layer adds",
            ),
            "own stride": (
                field_size(k, s, offset=1),
                "each layer's (k - 1) was multiplied by its own stride too; only the strides of "
                "the layers before it (closer to the input) count",
            ),
            "reversed": (
                _walked_forward(k, s),
                "the strides were applied from the output side: the lists run from the input "
                "to the output, and a layer's (k - 1) is scaled by the strides before it",
            ),
            "off by one low": (right - 1, "off by one: a single 1x1 output pixel starts at 1"),
            "off by one high": (
                right + 1,
                "off by one: each layer adds k - 1 pixels (not k) times the strides before it",
            ),
            "kernel sum": (
                sum(k),
                "the kernel sizes were added: each layer adds k - 1 pixels, scaled by the "
                "strides before it",
            ),
        }

    def check(self, case: Case, returned: Returned, expected: int, function: str) -> CaseResult:
        a: ReceptiveFieldArgs = case.args  # type: ignore[assignment]

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            (size,) = got
            guesses = [
                why
                for value, why in self.mistakes(a).values()
                if value == size and value != expected
            ]
            terms = " + ".join(
                f"{k - 1}·{math.prod(a.strides[:i])}" for i, k in enumerate(a.kernel_sizes)
            )
            msg = (
                f"{function}({a.kernel_sizes}, {a.strides}) returned {shown(size)}; one output "
                f"pixel sees {expected} input pixels per side: 1 + {terms} = {expected} "
                "(each layer adds k - 1 times the product of the strides before it)."
            )
            return msg, " Or: ".join(dict.fromkeys(guesses)) or None

        return check_ints(case, returned, expected, function=function, explain=explain)


RECEPTIVE_FIELD = register(ReceptiveField())
