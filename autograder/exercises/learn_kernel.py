"""learn_kernel(images, targets, kernel_shape): recover a kernel from (image, output) pairs."""

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
    as_array,
    check_rank_shape_dtype,
    is_secret_case,
    passed,
    require_ok,
)
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_conv2d
from .tf_calls import _real_batch

#: The lecture's edge kernel (a horizontal-edge detector): the visible suite learns it on digits.
EDGE_KERNEL = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=np.float64)
#: A learned kernel passes when every value is this close to the kernel that made the targets.
KERNEL_ATOL = 0.05


@dataclass(frozen=True, eq=False)
class LearnKernelArgs(CaseArgs):
    """images float32 (N, H, W, 1); targets float32 (N, H - kh + 1, W - kw + 1, 1), the VALID
    stride-1 outputs of an unknown kernel; kernel_shape (kh, kw)."""

    images: NDArray[Any]
    targets: NDArray[Any]
    kernel_shape: tuple[int, int]


def _patches(images: NDArray[Any], kh: int, kw: int) -> NDArray[np.float64]:
    """Every VALID window of every image as a row (N·oh·ow, kh·kw), in the targets' order."""
    x = np.asarray(images, dtype=np.float64)[..., 0]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    return windows.reshape(-1, kh * kw)


class LearnKernel(Exercise):
    name = "learn_kernel"
    Args = LearnKernelArgs
    description = "recover a kernel from (image, output) pairs by gradient descent"
    by_hand = False
    suites = (
        Test(
            "learn_kernel", 3,
            about="{function}: recover 3x3 and 2x3 kernels from random images and MNIST digits.",
        ),
        hidden_test(
            2,
            "Hidden tests: {function} on other images and kernels drawn from a seed you never "
            "see.",
        ),
    )  # fmt: skip
    oracle = "the kernel that made the targets"
    float_rule = "gradient descent on float images gives a float kernel"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        hidden = suite == "hidden"

        def kernel(kh: int, kw: int) -> NDArray[np.float64]:
            return np.round(rng.uniform(-1, 1, (kh, kw)), 2)

        plans = [
            ("random", rng.uniform(-1, 1, (4, 8, 8, 1)), kernel(3, 3)),
            ("mnist", _real_batch("mnist", 2, 20 if hidden else 0), (
                kernel(3, 3) if hidden else EDGE_KERNEL
            )),
            ("random", rng.uniform(0, 1, (3, 9, 10, 1)), kernel(*((3, 2) if hidden else (2, 3)))),
        ]  # fmt: skip
        cases = []
        for source, images, true in plans:
            images = np.asarray(images, dtype=np.float32)
            targets = tf_conv2d(images, true[:, :, None, None], 1, "VALID").astype(np.float32)
            kh, kw = true.shape
            n, h, w, _ = images.shape
            args = LearnKernelArgs(images, targets, (kh, kw))
            label = f"{source}-N{n}-H{h}xW{w}-K{kh}x{kw}"
            cases.append(self.case(suite, seed, args, label, images.size))
        return cases

    def reference(self, args: LearnKernelArgs) -> NDArray[np.float64]:
        """The kernel that made the targets: on clean data least squares recovers it exactly."""
        kh, kw = args.kernel_shape
        a = _patches(args.images, kh, kw)
        b = np.asarray(args.targets, dtype=np.float64).reshape(-1)
        solution, *_ = np.linalg.lstsq(a, b, rcond=None)
        return solution.reshape(kh, kw)

    def mistakes(self, args: LearnKernelArgs) -> dict[str, tuple[NDArray[Any], str]]:
        return _wrong_kernels(self.reference(args))

    def check(
        self, case: Case, returned: Returned, expected: NDArray[Any], function: str
    ) -> CaseResult:
        a: LearnKernelArgs = case.args  # type: ignore[assignment]
        kh, kw = a.kernel_shape
        got: NDArray[Any] | None = None

        def explain(shape: tuple[int, ...]) -> tuple[str, str | None]:
            if shape == (kw, kh):
                return "", "the kernel is transposed: it has shape (kw, kh), not (kh, kw)"
            return f"The kernel has kernel_shape = {a.kernel_shape}.", None

        try:
            require_ok(returned, function)
            got = as_array(returned.value, returned.type_name, function, expected)
            if got.shape in ((kh, kw, 1, 1), (kh, kw, 1)):
                raise CheckFailure(
                    Tier.RANK,
                    f"{function} returned shape {got.shape}; expected the kernel as a 2-D array "
                    f"of shape {expected.shape}. Squeeze the filter variable: "
                    "kernel.numpy()[:, :, 0, 0]. Likely mistake: the HWIO filter variable was "
                    "returned without squeezing it to (kh, kw).",
                    "the HWIO filter variable was returned without squeezing it to (kh, kw)",
                )
            check_rank_shape_dtype(
                got, expected, function, "(kh, kw)", explain, float_rule=self.float_rule
            )
            err = np.abs(got.astype(np.float64) - expected)
            worst = float(err.max())
            if worst <= KERNEL_ATOL:
                return passed(case, got, expected, worst)
            where = tuple(int(i) for i in np.unravel_index(int(err.argmax()), err.shape))
            msg = (
                f"{int((err > KERNEL_ATOL).sum())} of {err.size} kernel values are more than "
                f"{KERNEL_ATOL} from {self.oracle}; the largest error is "
                + (  # a drawn case's kernel stays secret
                    f"at {where}."
                    if is_secret_case()
                    else f"{worst:.3g} at {where}: yours {float(got[where]):.4g}, the kernel's "
                    f"{float(expected[where]):.4g}."
                )
            )
            guess = self._guess(got.astype(np.float64), expected)
            if guess:
                msg += f" Likely mistake: {guess}."
            raise CheckFailure(Tier.VALUES, msg, guess, max_abs_error=worst, where=where)
        except CheckFailure as failure:
            return failure.result(case, got, expected)

    def _guess(self, got: NDArray[np.float64], true: NDArray[np.float64]) -> str | None:
        matches = [
            why
            for wrong, why in _wrong_kernels(true).values()
            if np.abs(got - wrong).max() <= KERNEL_ATOL and np.abs(wrong - true).max() > KERNEL_ATOL
        ]
        if matches:
            return " Or: ".join(matches)
        if np.ptp(got) <= 1e-12:
            return (
                f"every value is {'the same' if is_secret_case() else f'{float(got.flat[0]):.4g}'}"
                ": the kernel never changed from its "
                "initial value (was the update applied?)"
            )
        if np.abs(got - true).max() < np.abs(true).max():
            return (
                "not converged yet: the kernel is on its way; take more steps or a larger "
                "learning rate (plot the loss: it should still be falling)"
            )
        return None


def _wrong_kernels(true: NDArray[np.float64]) -> dict[str, tuple[NDArray[np.float64], str]]:
    """The known-wrong answers for the kernel `true`: name -> (the wrong kernel, the mistake)."""
    found = {
        "flipped": (
            true[::-1, ::-1],
            "the kernel is flipped: the loop used a true convolution (kernel flipped); "
            "tf.nn.conv2d and the targets use cross-correlation",
        ),
        "zeros": (
            np.zeros_like(true),
            "all zeros: the kernel never changed from its initial value "
            "(was the update applied, e.g. kernel.assign_sub(...) or apply_gradients?)",
        ),
        "negated": (
            -true,
            "the kernel has the wrong sign: the targets minus the prediction, or the "
            "gradient added instead of subtracted",
        ),
    }
    if true.shape[0] == true.shape[1]:
        found["transposed"] = (
            true.T,
            "the kernel is transposed: rows (kh, the image's height) and columns "
            "(kw, its width) are swapped",
        )
    return found


LEARN_KERNEL = register(LearnKernel())
