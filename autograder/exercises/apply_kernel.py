"""apply_kernel(image, kernel, x, y): one output pixel V(x, y) = sum_m sum_n I(x+m, y+n) K(m, n)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cases import Case, CaseArgs
from ..checks import (
    CaseResult,
    CheckFailure,
    Returned,
    Tier,
    is_secret_case,
    passed,
    scale,
    shown,
    tolerance,
    values_failure,
)
from ..exercise import Exercise, Test, hidden_test, register
from ..policy import Status
from ..reference import tf_conv2d_single

LECTURE_IMAGE = np.array([[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]], dtype=float)
LECTURE_KERNEL = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float)


@dataclass(frozen=True, eq=False)
class ApplyKernelArgs(CaseArgs):
    """image (H, W) indexed image[y, x]; kernel (kh, kw); the window's top-left corner (x, y)."""

    image: NDArray[Any]
    kernel: NDArray[Any]
    x: int
    y: int


class ApplyKernel(Exercise):
    name = "apply_kernel"
    Args = ApplyKernelArgs
    description = "one output pixel V(x, y) = sum_m sum_n I(x+m, y+n) K(m, n)"
    suites = (
        Test(
            "apply_kernel", 2,
            about="{function} on the lecture's 4x4 example and on random non-square kernels.",
        ),
        hidden_test(1),
    )  # fmt: skip
    oracle = "tf.nn.conv2d"
    float_rule = "a convolution of float inputs is float"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        cases = []
        if suite == "apply_kernel":
            for x, y in [(0, 0), (1, 0), (0, 1), (1, 1)]:
                args = ApplyKernelArgs(LECTURE_IMAGE, LECTURE_KERNEL, x, y)
                cases.append(self.case(suite, seed, args, f"lecture-4x4-V({x},{y})", 16))
        for _ in range(4 if suite == "apply_kernel" else 8):
            h, w = int(rng.integers(3, 9)), int(rng.integers(3, 9))
            kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
            if kh == kw and kh > 1:  # non-square, so swapping x and y shows
                kw -= 1
            x, y = int(rng.integers(0, w - kw + 1)), int(rng.integers(0, h - kh + 1))
            image, kernel = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
            args = ApplyKernelArgs(image, kernel, x, y)
            label = f"H{h}xW{w}-K{kh}x{kw}-V({x},{y})"
            cases.append(self.case(suite, seed, args, label, h * w * kh * kw))
        return cases

    def reference(self, args: ApplyKernelArgs) -> float:
        kh, kw = args.kernel.shape
        window = args.image[args.y : args.y + kh, args.x : args.x + kw]
        return float(tf_conv2d_single(window, args.kernel)[0, 0])

    def mistakes(self, args: ApplyKernelArgs) -> dict[str, tuple[float, str]]:
        image, kernel, x, y = args
        kh, kw = kernel.shape
        window = image[y : y + kh, x : x + kw]
        out = {
            "flipped": (
                float((window * kernel[::-1, ::-1]).sum()),
                "you flipped the kernel (true convolution); deep learning uses cross-correlation",
            )
        }
        if x + kh <= image.shape[0] and y + kw <= image.shape[1]:
            swapped = image[x : x + kh, y : y + kw]
            out["xy_swapped"] = (
                float((swapped * kernel).sum()),
                "x and y are swapped: x is the column (image[y, x]), y the row",
            )
        return out

    def check(self, case: Case, returned: Returned, expected: float, function: str) -> CaseResult:
        a: ApplyKernelArgs = case.args  # type: ignore[assignment]
        try:
            if returned.status != Status.OK:
                raise CheckFailure(Tier.CALL, returned.message)
            value = returned.value
            if hasattr(value, "item") and np.size(value) == 1:
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CheckFailure(
                    Tier.TYPE,
                    f"{function} returned {shown(value)}; expected one number (the output pixel).",
                )
            tol = tolerance(a.kernel.size, scale(a.image, a.kernel))
            if abs(value - expected) <= tol:
                return passed(case, None, None, abs(value - expected))
            guesses = [
                text for wrong, text in self.mistakes(a).values() if abs(value - wrong) <= tol
            ]
            guess = "; or ".join(guesses) or None
            numbers = (
                "a different number; expected"  # a drawn case's answer stays secret
                if is_secret_case()
                else f"{value:.6g}; expected {expected:.6g} ="
            )
            msg = (
                f"{function}(image {a.image.shape}, kernel {a.kernel.shape}, x={a.x}, y={a.y}) "
                f"returned {numbers} sum of image[y + n, x + m] · kernel[n, m]."
            )
            raise values_failure(msg, guess)
        except CheckFailure as failure:
            return failure.result(case, None, expected)


APPLY_KERNEL = register(ApplyKernel())
