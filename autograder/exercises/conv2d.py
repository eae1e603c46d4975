"""conv2d(inputs, filters, strides, padding) exactly as tf.nn.conv2d (labs 03 and 05)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlab.geometry import normalize_strides, same_pads

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_array, scale
from ..exercise import Exercise, Test, hidden_test, register
from ..mistake_models import known_mistakes
from ..reference import tf_conv2d
from ..vectorized import VECTORIZED, vectorized_cases
from ..vectorized import measure as measure_vectorized
from ._conv_common import (
    Strides,
    explain_spatial_shape,
    none_for_padding_spelling,
    other_form,
)

#: Largest spatial size in any conv2d case, so a naive four-loop implementation finishes quickly.
MAX_SIZE = 16
#: A source of named mistakes: (inputs, filters, strides, padding) -> {name: (wrong output, text)}.
MistakeSource = Callable[
    [NDArray[Any], NDArray[Any], Any, str], dict[str, tuple[NDArray[Any], str]]
]


@dataclass(frozen=True)
class ConvShape:
    n: int
    h: int
    w: int
    cin: int
    cout: int
    kh: int
    kw: int
    sh: int
    sw: int
    padding: str


@dataclass(frozen=True, eq=False)
class Conv2dArgs(CaseArgs):
    """inputs NHWC (batch, height, width, in_channels), filters HWIO, strides in any accepted form,
    padding "SAME"/"VALID" in any letter case."""

    inputs: NDArray[Any]
    filters: NDArray[Any]
    strides: Strides
    padding: str

    @property
    def shape(self) -> ConvShape:
        """Every size of the case in one record (the strides normalised, padding upper case)."""
        n, h, w, cin = self.inputs.shape
        kh, kw, _, cout = self.filters.shape
        sh, sw = normalize_strides(self.strides)
        return ConvShape(n, h, w, cin, cout, kh, kw, sh, sw, self.padding.upper())


def _conv_label(s: ConvShape, strides: Strides, padding: str) -> str:
    return f"N{s.n}-H{s.h}xW{s.w}-C{s.cin}to{s.cout}-K{s.kh}x{s.kw}-s{strides}-{padding}".replace(
        " ", ""
    )


def _rand_conv_shape(
    rng: np.random.Generator,
    *,
    n: tuple[int, int] = (1, 1),
    hw: tuple[int, int] = (3, 10),
    cin: tuple[int, int] = (1, 1),
    cout: tuple[int, int] = (1, 1),
    k: tuple[int, int] = (1, 4),
    s: tuple[int, int] = (1, 1),
    padding: str = "VALID",
    odd_kernel: bool = False,
    even_kernel: bool = False,
) -> ConvShape:
    def pick(lo_hi: tuple[int, int]) -> int:
        return int(rng.integers(lo_hi[0], lo_hi[1] + 1))

    h, w = pick(hw), pick(hw)
    kh, kw = pick(k), pick(k)
    if padding == "VALID":
        kh, kw = min(kh, h), min(kw, w)
    if odd_kernel:
        kh, kw = kh | 1, kw | 1
    if even_kernel:
        kh, kw = max(2, kh - kh % 2), max(2, kw - kw % 2)
    return ConvShape(pick(n), h, w, pick(cin), pick(cout), kh, kw, pick(s), pick(s), padding)


def _edge_shapes() -> list[ConvShape]:
    return [
        ConvShape(1, 5, 6, 2, 3, 1, 1, 1, 1, "VALID"),  # 1x1 kernel: a per-pixel channel mix
        ConvShape(1, 4, 5, 1, 2, 4, 5, 1, 1, "VALID"),  # kernel = input size: output is 1x1
        ConvShape(1, 3, 4, 1, 1, 5, 6, 1, 1, "SAME"),  # SAME with a kernel larger than the input
        ConvShape(1, 8, 9, 1, 1, 2, 2, 3, 3, "VALID"),  # stride larger than the kernel
        ConvShape(2, 1, 7, 2, 1, 1, 3, 1, 2, "SAME"),  # H = 1
        ConvShape(1, 6, 1, 1, 2, 3, 1, 2, 1, "VALID"),  # W = 1
        ConvShape(2, 5, 9, 3, 2, 2, 4, 1, 3, "SAME"),  # non-square everything
    ]


def _suite_shapes(suite: str, rng: np.random.Generator) -> list[ConvShape]:
    shapes: list[ConvShape]
    if suite == "valid_stride1":
        shapes = [_rand_conv_shape(rng) for _ in range(6)]
    elif suite == "valid_strided":
        shapes = [_rand_conv_shape(rng, hw=(5, 12), s=(2, 3)) for _ in range(6)]
    elif suite == "same_odd":
        shapes = [
            _rand_conv_shape(rng, hw=(4, 10), k=(1, 5), s=(1, 2), padding="SAME", odd_kernel=True)
            for _ in range(6)
        ]
    elif suite == "same_asymmetric":
        shapes = [
            _rand_conv_shape(rng, hw=(5, 11), k=(2, 4), s=(1, 3), padding="SAME", even_kernel=True)
            for _ in range(4)
        ]
        # stride > 1 with an input not divisible by the stride and an odd kernel: odd total padding
        shapes += [
            ConvShape(1, 8, 9, 1, 1, 3, 3, 2, 2, "SAME"),
            ConvShape(1, 8, 5, 1, 1, 3, 1, 3, 2, "SAME"),
        ]
    elif suite == "multichannel":
        shapes = [
            _rand_conv_shape(rng, cin=(2, 4), padding=p, s=(1, 2))
            for p in ("VALID", "SAME", "VALID", "SAME", "SAME")
        ]
    elif suite == "filter_bank":
        shapes = [
            _rand_conv_shape(rng, cin=(1, 3), cout=(2, 4), padding=p, s=(1, 2))
            for p in ("VALID", "SAME", "VALID", "SAME", "SAME")
        ]
    elif suite == "batch":
        shapes = [
            _rand_conv_shape(rng, n=(2, 4), cin=(1, 3), cout=(1, 3), padding=p, s=(1, 2))
            for p in ("VALID", "SAME", "VALID", "SAME")
        ]
    elif suite == "edges":
        shapes = _edge_shapes()
    elif suite == "argument_forms":
        shapes = [
            _rand_conv_shape(rng, hw=(4, 9), cin=(1, 2), cout=(1, 2), k=(2, 4), padding=p, s=(1, 3))
            for p in ("VALID", "SAME", "SAME", "SAME", "VALID", "VALID")
        ]
        # cases 1 and 2 pass an int and [s]: equal strides on both axes
        shapes[1:3] = [dataclasses.replace(sh, sw=sh.sh) for sh in shapes[1:3]]
    else:  # hidden
        shapes = []
        for i in range(12):
            padding = "SAME" if i % 2 else "VALID"
            shapes.append(
                _rand_conv_shape(
                    rng,
                    n=(1, 3),
                    hw=(2, 12),
                    cin=(1, 3),
                    cout=(1, 3),
                    k=(1, 5),
                    s=(1, 3),
                    padding=padding,
                )
            )
    return shapes


# ----------------------------------------------------------------------------------------------
# Known-wrong variants, computed by the oracle on transformed inputs


def oracle_mistakes(
    x: NDArray[Any], w: NDArray[Any], strides: Any, padding: str
) -> dict[str, tuple[NDArray[Any], str]]:
    """The classic conv2d mistakes for these arguments, each the oracle on transformed inputs:
    name -> (the wrong output, the mistake). (autograder.mistake_models.known_mistakes models
    the others, from the geometry.)"""
    sh, sw = normalize_strides(strides)
    kh, kw, cin, cout = w.shape
    h, wd = x.shape[1], x.shape[2]
    out: dict[str, tuple[NDArray[Any], str]] = {}

    def add(name: str, fn: Callable[[], NDArray[Any]], text: str) -> None:
        try:
            out[name] = (fn(), text)
        except Exception:
            pass  # a variant that TF cannot compute for this shape is simply not a candidate

    add(
        "flipped",
        lambda: tf_conv2d(x, w[::-1, ::-1], strides, padding),
        "you flipped the kernel (a true convolution). tf.nn.conv2d computes cross-correlation: "
        "multiply each kernel value with the pixel under it, without flipping the kernel.",
    )
    if kh == kw:
        add(
            "transposed",
            lambda: tf_conv2d(x, w.transpose(1, 0, 2, 3), strides, padding),
            "the kernel is transposed: filters[dy, dx] multiplies inputs[y + dy, x + dx] "
            "(kernel rows go with image rows).",
        )
    if padding.upper() == "SAME":
        (t, b), (l, r) = same_pads(h, kh, sh), same_pads(wd, kw, sw)
        if (t, l) != (b, r):
            add(
                "same_swapped",
                lambda: tf_conv2d(x, w, strides, [[b, t], [r, l]]),
                "your SAME padding puts the extra row/column on top/left; TensorFlow puts it "
                "at the bottom/right (pad_top = total // 2, pad_bottom = total - pad_top).",
            )
        # SAME padding from the stride-1 rule (total f - 1) is mistake_models'
        # same_total_f_minus_1, wired below: one message for one mistake.
        if padding != "SAME":
            add(
                "padding_not_recognised",
                lambda: tf_conv2d(x, w, strides, "VALID"),
                f"padding {padding!r} was not recognised as SAME: your output is the VALID "
                f"output. Compare padding.upper() == 'SAME'.",
            )
    if sh != sw:
        add(
            "strides_swapped",
            lambda: tf_conv2d(x, w, [sw, sh], padding),
            "the strides are applied to the wrong axes: strides [1, sh, sw, 1] step sh between "
            "rows (height) and sw between columns (width).",
        )
    if cin > 1:
        add(
            "first_channel",
            lambda: tf_conv2d(x[..., :1], w[:, :, :1, :], strides, padding),
            "only input channel 0 contributes: each filter spans all input channels, so sum "
            "over them (over filters.shape[2]).",
        )
        add(
            "last_channel",
            lambda: tf_conv2d(x[..., -1:], w[:, :, -1:, :], strides, padding),
            "only the last input channel contributes: you overwrite (=) where you should "
            "accumulate (+=) over input channels.",
        )
    if x.shape[0] > 1:

        def batch_first() -> NDArray[Any]:
            ref = tf_conv2d(x, w, strides, padding)
            ref[1:] = 0
            return ref

        def batch_repeat() -> NDArray[Any]:
            ref = tf_conv2d(x, w, strides, padding)
            ref[1:] = ref[:1]
            return ref

        add("batch_first", batch_first, "only the first image of the batch was convolved.")
        add(
            "batch_repeat",
            batch_repeat,
            "every image of the batch got the first image's result: index inputs[b] inside "
            "the batch loop.",
        )
    if cout > 1:

        def filter_first() -> NDArray[Any]:
            ref = tf_conv2d(x, w[..., :1], strides, padding)
            return np.repeat(ref, cout, axis=3)

        add(
            "filter_first",
            filter_first,
            "every output channel used filter 0: output channel k comes from filters[:, :, :, k].",
        )
    return out


def nhwc_plane(value: NDArray[Any], where: tuple[int, ...] | None) -> NDArray[Any] | None:
    """The (height, width) plane of an NHWC result holding `where` (batch, channel)."""
    if value.ndim == 4 and where is not None and len(where) == 4:
        return value[where[0], :, :, where[3]]
    return value if value.ndim == 2 else None


#: What each suite checks (its locked cell's docstring); 2 points each in lab 03.
_SUITES_ABOUT = {
    "valid_stride1": "{function} with VALID padding and stride 1 on single-channel images.",
    "valid_strided": "{function} with VALID padding and strides of 2 or 3 (floor in the "
    "output-size formula).",
    "same_odd": "{function} with SAME padding and odd kernels (symmetric padding).",
    "same_asymmetric": "{function} with SAME padding where TensorFlow pads asymmetrically (even "
    "kernels, stride > 1).",
    "multichannel": "{function} on multi-channel inputs: each filter spans all input channels.",
    "filter_bank": "{function} with several filters: one output channel per filter.",
    "batch": "{function} on a batch of several images.",
    "edges": "{function} on edge cases: 1x1 kernels, kernel = image, kernel > image (SAME), H or "
    "W = 1.",
    #: The accepted forms other than TF's canonical one (int/[s]/[sh, sw] strides, any case).
    "argument_forms": "{function} with the other argument forms tf.nn.conv2d accepts: strides as "
    "an int, [s] or [sh, sw]; padding in any letter case.",
}
CONV2D_VISIBLE = tuple(Test(suite, 2, about=about) for suite, about in _SUITES_ABOUT.items())
HIDDEN_ABOUT = "Hidden tests: {function} on cases from a seed you never see."


class Conv2d(Exercise):
    """The student's conv2d against tf.nn.conv2d: shapes explained by TF's rule, mistakes named."""

    name = "conv2d"
    Args = Conv2dArgs
    description = "conv2d(inputs, filters, strides, padding) exactly as tf.nn.conv2d"
    suites = (*CONV2D_VISIBLE, hidden_test(2, HIDDEN_ABOUT + " Make the visible tests pass first."))
    oracle = "tf.nn.conv2d"
    float_rule = "a convolution of float inputs is float"
    #: Where named mistakes come from; each source adds its names after the ones before.
    mistake_sources: tuple[MistakeSource, ...] = (oracle_mistakes, known_mistakes)

    def cases(self, suite: str, seed: int) -> list[Case]:
        if suite == VECTORIZED:  # lab 05: the two cases that must be right before the timing
            return vectorized_cases(seed, Conv2dArgs)
        rng = self.rng(seed, suite)
        return [self._case(rng, s, suite, seed, i) for i, s in enumerate(_suite_shapes(suite, rng))]

    def _case(self, rng: np.random.Generator, s: ConvShape, suite: str, seed: int, i: int) -> Case:
        # Every suite but argument_forms calls with TensorFlow's canonical form (strides
        # [1, sh, sw, 1], padding upper case): a correct convolution written for the documented
        # API earns those points whatever other spellings it accepts.
        if suite == "argument_forms":
            strides, padding = other_form(i, s.sh, s.sw, s.padding)
        else:
            strides, padding = [1, s.sh, s.sw, 1], s.padding
        # Continuous values: no accidental ties, so a flipped or transposed kernel never passes.
        inputs = rng.uniform(-1.0, 1.0, size=(s.n, s.h, s.w, s.cin))
        filters = rng.uniform(-1.0, 1.0, size=(s.kh, s.kw, s.cin, s.cout))
        size = s.n * s.h * s.w * s.cin * s.kh * s.kw * s.cout
        args = Conv2dArgs(inputs, filters, strides, padding)
        return self.case(suite, seed, args, _conv_label(s, strides, padding), size)

    def reference(self, args: Conv2dArgs) -> NDArray[np.float64]:
        return tf_conv2d(*args)

    def mistakes(self, args: Conv2dArgs) -> dict[str, tuple[NDArray[Any], str]]:
        out: dict[str, tuple[NDArray[Any], str]] = {}
        for source in self.mistake_sources:
            for name, variant in source(*args).items():
                out.setdefault(name, variant)
        return out

    def plane(self, value: NDArray[Any], where: tuple[int, ...] | None) -> NDArray[Any] | None:
        return nhwc_plane(value, where)

    def graded_property(
        self, suite: str, call: Any, function: str, cases: list[Case], expected: list[Any]
    ) -> tuple[bool, str] | None:
        """`vectorized` (lab 05): the CPU time on a large image against a vectorized
        reference's, measured by the grader (autograder/vectorized.py)."""
        if suite != VECTORIZED:
            return None
        return measure_vectorized(call, function, cases, expected, self.check)

    def check(
        self, case: Case, returned: Returned, expected: NDArray[Any], function: str
    ) -> CaseResult:
        a: Conv2dArgs = case.args  # type: ignore[assignment]
        s = a.shape

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            why, guess = explain_spatial_shape(
                got, expected.shape, in_hw=(s.h, s.w), f_hw=(s.kh, s.kw), s_hw=(s.sh, s.sw),
                padding=a.padding, axes=(1, 2),
            )  # fmt: skip
            if got[0] != expected.shape[0]:
                why += (
                    f" The batch size is {expected.shape[0]} (inputs.shape[0]); yours is {got[0]}."
                )
                guess = guess or "the batch axis was not kept"
            if got[3] != expected.shape[3]:
                why += (
                    f" The output has one channel per filter: filters.shape[3] = {s.cout}; "
                    f"yours has {got[3]}."
                )
                if got[3] == s.cin:
                    guess = (
                        guess or "output channels taken from the input channels, not the filters"
                    )
            return why, guess

        unrecognised = none_for_padding_spelling(case, returned, expected, a.padding, function)
        if unrecognised is not None:
            return unrecognised
        return check_array(
            case, returned, expected, function=function,
            layout="NHWC (batch, out_height, out_width, out_channels)", explain=explain,
            terms=s.kh * s.kw * s.cin, scale=scale(a.inputs, a.filters),
            variants=lambda: self.mistakes(a), oracle=self.oracle, float_rule=self.float_rule,
        )  # fmt: skip


CONV2D = register(Conv2d())


class Conv2dFast(Conv2d):
    """Lab 05's conv2d_fast: conv2d's cases and checks at 1 point each, and half of the item for
    being vectorized (its CPU time on a large image against a vectorized reference's, measured
    by the grader; see autograder/vectorized.py and `Conv2d.graded_property`)."""

    description = "a vectorized conv2d with exactly tf.nn.conv2d's semantics"
    suites = (
        *(Test(t.suite, 1, about=t.about) for t in CONV2D_VISIBLE),
        Test(
            VECTORIZED, 10,
            about="{function} is vectorized: on a 256x256 image, within 8x the CPU time of a "
            "vectorized convolution.",
        ),
        hidden_test(1, HIDDEN_ABOUT + " Pass the visible tests first."),
    )  # fmt: skip

    def __init__(self) -> None:
        self._function = "conv2d_fast"  # its cases are conv2d's (same name, same streams)


CONV2D_FAST = register(Conv2dFast())
