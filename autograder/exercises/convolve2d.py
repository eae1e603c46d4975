"""convolve2d(image, kernel) (VALID, stride 1) and convolve2d_strided (stride and padding)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlab.geometry import normalize_strides

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_array, scale
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_conv2d_single
from ._conv_common import explain_spatial_shape, none_for_padding_spelling, padding_form
from .apply_kernel import LECTURE_IMAGE, LECTURE_KERNEL
from .conv2d import CONV2D, Conv2dArgs

_PADDING_IMAGE = np.array([[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]], dtype=float)
_SOBEL_IMAGE = np.array([[2, 0, 3, 1], [1, 1, 0, 0], [1, 0, 2, 0], [1, 0, 1, 2]], dtype=float)
_SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)


@dataclass(frozen=True, eq=False)
class Convolve2dArgs(CaseArgs):
    """image (H, W), kernel (kh, kw): VALID, stride 1."""

    image: NDArray[Any]
    kernel: NDArray[Any]

    @property
    def stride(self) -> int:
        return 1

    @property
    def padding(self) -> str:
        return "VALID"


@dataclass(frozen=True, eq=False)
class Convolve2dStridedArgs(CaseArgs):
    """image (H, W), kernel (kh, kw), stride an int or (sh, sw), padding in any letter case."""

    image: NDArray[Any]
    kernel: NDArray[Any]
    stride: int | tuple[int, int]
    padding: str


def single_channel_mistakes(
    image: NDArray[Any], kernel: NDArray[Any], stride: Any = 1, padding: str = "VALID"
) -> dict[str, tuple[NDArray[Any], str]]:
    """conv2d's named mistakes, for one 2-D image and one 2-D kernel."""
    strides = list(stride) if isinstance(stride, tuple) else stride
    args = Conv2dArgs(
        np.asarray(image, float)[None, :, :, None],
        np.asarray(kernel, float)[:, :, None, None],
        strides,
        padding,
    )
    return {k: (v[0, :, :, 0], text) for k, (v, text) in CONV2D.mistakes(args).items()}


class Convolve2d(Exercise):
    """A whole single-channel image, VALID, stride 1."""

    name = "convolve2d"
    Args: type[CaseArgs] = Convolve2dArgs
    description = "a whole single-channel image, VALID, stride 1"
    suites = (
        Test(
            "convolve2d", 3,
            about="{function} on the lecture's examples and random shapes (VALID, stride 1).",
        ),
        hidden_test(2),
    )  # fmt: skip
    oracle = "tf.nn.conv2d"
    float_rule = "a convolution of float inputs is float"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        cases = []
        if suite == "convolve2d":
            for name, image, kernel in [
                ("lecture-4x4", LECTURE_IMAGE, LECTURE_KERNEL),
                ("lecture-padding-example", _PADDING_IMAGE, LECTURE_KERNEL),
                ("lecture-sobel", _SOBEL_IMAGE, _SOBEL_X),
            ]:
                cases.append(self.case(suite, seed, Convolve2dArgs(image, kernel), name, 16 * 9))
        shapes = [(5, 7, 1, 1), (6, 4, 6, 4)] if suite == "convolve2d" else []
        while len(shapes) < (8 if suite == "convolve2d" else 10):
            h, w = int(rng.integers(2, 13)), int(rng.integers(2, 13))
            shapes.append((h, w, int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))))
        for h, w, kh, kw in shapes:
            image, kernel = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
            args = Convolve2dArgs(image, kernel)
            cases.append(self.case(suite, seed, args, f"H{h}xW{w}-K{kh}x{kw}", h * w * kh * kw))
        return cases

    def reference(self, args: Any) -> NDArray[np.float64]:
        return tf_conv2d_single(args.image, args.kernel, args.stride, args.padding)

    def mistakes(self, args: Any) -> dict[str, tuple[NDArray[Any], str]]:
        return single_channel_mistakes(args.image, args.kernel, args.stride, args.padding)

    def check(
        self, case: Case, returned: Returned, expected: NDArray[Any], function: str
    ) -> CaseResult:
        a = case.args
        image, kernel, stride, padding = a.image, a.kernel, a.stride, a.padding  # type: ignore[attr-defined]
        sh, sw = normalize_strides(list(stride) if isinstance(stride, tuple) else stride)

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            return explain_spatial_shape(
                got, expected.shape, in_hw=image.shape, f_hw=kernel.shape, s_hw=(sh, sw),
                padding=padding, axes=(0, 1),
            )  # fmt: skip

        unrecognised = none_for_padding_spelling(case, returned, expected, padding, function)
        if unrecognised is not None:
            return unrecognised
        return check_array(
            case, returned, expected, function=function,
            layout="2-D (out_height, out_width)", explain=explain,
            terms=kernel.size, scale=scale(image, kernel),
            variants=lambda: self.mistakes(a), oracle=self.oracle, float_rule=self.float_rule,
        )  # fmt: skip


class Convolve2dStrided(Convolve2d):
    """Single-channel convolution with stride and VALID/SAME padding."""

    name = "convolve2d_strided"
    Args = Convolve2dStridedArgs
    description = "single-channel convolution with stride and VALID/SAME padding"
    suites = (
        Test("strided_valid", 2, about="{function} with VALID padding and strides up to 3."),
        Test(
            "strided_same", 2,
            about="{function} with SAME padding, including TensorFlow's asymmetric padding.",
        ),
        Test(
            "letter_case", 1,
            about='{function} with the padding in lower or mixed case ("same", "Valid"): the '
            'other cells pass "SAME"/"VALID".',
        ),
        hidden_test(2),
    )  # fmt: skip

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        cases = []
        paddings = {
            "strided_valid": ["VALID"],
            "strided_same": ["SAME"],
            "letter_case": ["SAME", "VALID"],
            "hidden": ["VALID", "SAME"],
        }[suite]
        count = {"hidden": 10, "letter_case": 4}.get(suite, 7)
        for i in range(count):
            padding = paddings[i % len(paddings)]
            h, w = int(rng.integers(3, 13)), int(rng.integers(3, 13))
            kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
            if padding == "VALID":
                kh, kw = min(kh, h), min(kw, w)
            sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
            stride: int | tuple[int, int] = sh if (sh == sw and i % 2) else (sh, sw)
            # Upper case as tf.nn.conv2d documents it, except in letter_case (lower, then
            # capitalised); a form is still drawn, so the numbers stay those of before.
            pad = padding_form(rng, padding)
            if suite == "letter_case":
                pad = padding.lower() if i % 4 < 2 else padding.capitalize()
            else:
                pad = padding
            image, kernel = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
            args = Convolve2dStridedArgs(image, kernel, stride, pad)
            label = f"H{h}xW{w}-K{kh}x{kw}-s{stride}-{pad}".replace(" ", "")
            cases.append(self.case(suite, seed, args, label, h * w * kh * kw))
        return cases


CONVOLVE2D = register(Convolve2d())
CONVOLVE2D_STRIDED = register(Convolve2dStrided())
