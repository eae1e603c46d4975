"""Lab 04's tf.nn.conv2d calls on real-shaped MNIST and CIFAR-10 batches, and a filter shape."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cases import Case, CaseArgs
from ..checks import CaseResult, Returned, check_array, check_ints, scale
from ..exercise import Exercise, Test, hidden_test, register
from ..reference import tf_conv2d
from ._conv_common import explain_spatial_shape
from .conv2d import CONV2D, Conv2dArgs, nhwc_plane


def _real_batch(name: str, count: int, start: int = 0) -> np.ndarray:
    """A few real images when the bundled data are there; shaped noise otherwise."""
    try:
        from convlab.data import load_cifar10, load_mnist

        # The loader's one-time "which source" note must not land in a graded cell's stderr.
        with contextlib.redirect_stderr(io.StringIO()):
            images, _ = (load_mnist if name == "mnist" else load_cifar10)("test")
        return np.asarray(images[start : start + count], dtype=np.float32)
    except Exception:  # the grader must not depend on the sample data to grade
        shape = (count, 28, 28, 1) if name == "mnist" else (count, 32, 32, 3)
        return np.random.default_rng(1).uniform(0, 1, shape).astype(np.float32)


@dataclass(frozen=True, eq=False)
class TfCallArgs(CaseArgs):
    """images NHWC float32, filters HWIO float32 (5, 5, in_channels, 16)."""

    images: NDArray[Any]
    filters: NDArray[Any]


class TfCall(Exercise):
    """A function that calls tf.nn.conv2d with a fixed stride and padding on the arguments."""

    Args = TfCallArgs
    dataset: str
    in_channels: int
    stride: int
    padding = "SAME"
    by_hand = False
    oracle = "tf.nn.conv2d"
    float_rule = "a convolution of float inputs is float"

    def __init__(
        self, name: str, dataset: str, in_channels: int, stride: int, *,
        description: str, points: tuple[float, float], about: tuple[str, str],
    ) -> None:  # fmt: skip
        self.name = name  # type: ignore[misc]
        self.description = description  # type: ignore[misc]
        self.suites = (Test(name, points[0], about=about[0]), hidden_test(points[1], about[1]))
        self.dataset, self.in_channels, self.stride = dataset, in_channels, stride

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        name, cin = self.dataset, self.in_channels
        cases = []
        # Hidden cases use other images (and other filters, from the hidden seed).
        start = 8 if suite == "hidden" else 0
        for count in (1, 3):
            images = _real_batch(name, count, start)
            filters = (rng.normal(0, 0.1, (5, 5, cin, 16))).astype(np.float32)
            label = f"{name}-N{count}-H{images.shape[1]}xW{images.shape[2]}-C{cin}to16-K5x5"
            cases.append(self.case(suite, seed, TfCallArgs(images, filters), label, images.size))
        return cases

    def reference(self, args: TfCallArgs) -> NDArray[np.float64]:
        strides = [1, self.stride, self.stride, 1] if self.stride != 1 else 1
        return tf_conv2d(args.images, args.filters, strides, self.padding)

    def mistakes(self, args: TfCallArgs) -> dict[str, tuple[NDArray[Any], str]]:
        return CONV2D.mistakes(Conv2dArgs(args.images, args.filters, self.stride, self.padding))

    def plane(self, value: NDArray[Any], where: tuple[int, ...] | None) -> NDArray[Any] | None:
        return nhwc_plane(value, where)

    def check(
        self, case: Case, returned: Returned, expected: NDArray[Any], function: str
    ) -> CaseResult:
        a: TfCallArgs = case.args  # type: ignore[assignment]

        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            return explain_spatial_shape(
                got, expected.shape, in_hw=a.images.shape[1:3], f_hw=a.filters.shape[:2],
                s_hw=(self.stride, self.stride), padding=self.padding, axes=(1, 2),
            )  # fmt: skip

        return check_array(
            case, returned, expected, function=function,
            layout="NHWC (batch, out_height, out_width, 16)", explain=explain,
            terms=int(np.prod(a.filters.shape[:3])), scale=scale(a.images, a.filters),
            variants=lambda: self.mistakes(a), oracle=self.oracle, float_rule=self.float_rule,
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class NoArgs(CaseArgs):
    """A function called without arguments."""


class CifarFilterShape(Exercise):
    name = "cifar_filter_shape"
    Args = NoArgs
    description = "the filter shape for 16 5x5 filters over RGB images"
    by_hand = False
    oracle = "the HWIO filter layout of tf.nn.conv2d"
    suites = (
        Test(
            "cifar_filter_shape", 1,
            about="{function}: [filter_height, filter_width, in_channels, out_channels] for RGB.",
        ),
    )  # fmt: skip

    def cases(self, suite: str, seed: int) -> list[Case]:
        return [self.case(suite, seed, NoArgs(), "no-arguments", 1)]

    def reference(self, args: NoArgs) -> tuple[int, ...]:
        return (5, 5, 3, 16)

    def check(
        self, case: Case, returned: Returned, expected: tuple[int, ...], function: str
    ) -> CaseResult:
        def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
            guess = None
            if got == (5, 5, 16, 3):
                guess = "in_channels and out_channels are swapped: HWIO is [fh, fw, in, out]"
            elif got[2] == 1:
                guess = "each filter spans all 3 colour channels of the input: in_channels = 3"
            msg = (
                f"{function}() returned {list(got)}; "
                "16 5x5 filters over RGB images are HWIO [5, 5, 3, 16]."
            )
            return msg, guess

        return check_ints(case, returned, expected, function=function, explain=explain)


MNIST_CONV = register(
    TfCall(
        "mnist_conv", "mnist", in_channels=1, stride=2,
        description="the lecture's MNIST call: 16 5x5 filters, stride 2, SAME",
        points=(2, 1),
        about=(
            "{function}: 16 5x5 filters over MNIST digits, stride 2, SAME, output "
            "(batch, 14, 14, 16).",
            "Hidden tests: {function} on other digits and filters drawn from a seed you never see.",
        ),
    )
)  # fmt: skip
CIFAR_CONV = register(
    TfCall(
        "cifar_conv", "cifar", in_channels=3, stride=2,
        description="the lecture's CIFAR-10 call: 16 5x5x3 filters, stride 2, SAME",
        points=(2, 1),
        about=(
            "{function}: 16 5x5x3 filters over CIFAR-10 images, stride 2, SAME, output "
            "(batch, 16, 16, 16).",
            "Hidden tests: {function} on other images and filters drawn from a seed you never "
            "see.",
        ),
    )
)  # fmt: skip
CIFAR_FILTER_SHAPE = register(CifarFilterShape())
