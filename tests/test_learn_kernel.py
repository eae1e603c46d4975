"""learn_kernel: cases, reference (the kernel that made the targets), named mistakes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.exercise import check_case, make_cases
from autograder.exercises.learn_kernel import EDGE_KERNEL, KERNEL_ATOL
from autograder.reference import expected_outputs, tf_conv2d
from autograder.registry import get_lab
from autograder.runner import Returned, in_process_caller, run_test


def _solution(images: Any, targets: Any, kernel_shape: tuple[int, int]) -> np.ndarray:
    """A student's loop: Adam on the mean squared error, the kernel an HWIO variable."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    targets = tf.convert_to_tensor(targets, tf.float32)
    kernel = tf.Variable(tf.zeros([kernel_shape[0], kernel_shape[1], 1, 1]))
    optimizer = tf.keras.optimizers.Adam(0.1)
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.nn.conv2d(images, kernel, 1, "VALID") - targets) ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, kernel), kernel)])
    return kernel.numpy()[:, :, 0, 0]


def _verdict(suite: str, value: Any, index: int = 0):
    case = make_cases("learn_kernel", suite, 0)[index]
    expected = expected_outputs([case], use_disk=False)[0]
    return case, expected, check_case(case, Returned("ok", value, type(value).__name__), expected,
                                      "learn_kernel")  # fmt: skip


@pytest.mark.parametrize("suite", ["learn_kernel", "hidden"])
def test_targets_are_the_valid_outputs_and_the_reference_is_the_kernel(suite: str) -> None:
    """Are the targets VALID stride-1 outputs, and does the reference give them back exactly?"""
    for case in make_cases("learn_kernel", suite, 0):
        images, targets, (kh, kw) = case.args
        n, h, w, c = images.shape
        assert c == 1 and targets.shape == (n, h - kh + 1, w - kw + 1, 1)
        kernel = expected_outputs([case], use_disk=False)[0]
        assert kernel.shape == (kh, kw)
        again = tf_conv2d(images, kernel[:, :, None, None], 1, "VALID")
        assert np.abs(again - targets).max() < 1e-5


def test_visible_suite_learns_the_lecture_edge_kernel_on_digits() -> None:
    """Does one visible case make its targets with the lecture's edge kernel on real digits?"""
    kernels = [
        expected_outputs([c], use_disk=False)[0]
        for c in make_cases("learn_kernel", "learn_kernel", 0)
    ]
    assert any(k.shape == (3, 3) and np.abs(k - EDGE_KERNEL).max() < 1e-5 for k in kernels)


def test_a_gradient_descent_loop_earns_every_point() -> None:
    """Does a correct GradientTape loop pass the visible and hidden suites in full?"""
    lab = get_lab("04_tf_conv2d")
    item = lab.item("learn_kernel")
    for test in item.tests:
        result = run_test(in_process_caller(_solution), lab, item, test, 0)
        assert result.score == test.points, result.output


@pytest.mark.parametrize(
    "wrong, tier, words",
    [
        (lambda k: k[::-1, ::-1], "values", "true convolution"),
        (lambda k: k.T, "values", "transposed"),
        (lambda k: np.zeros_like(k), "values", "initial value"),
        (lambda k: -k, "values", "wrong sign"),
        (lambda k: k[:, :, None, None], "rank", "without squeezing"),
        (
            lambda k: k + 0.5 * KERNEL_ATOL * np.sign(k) + 3 * KERNEL_ATOL * (k == k.max()),
            "values",
            "not converged",
        ),
    ],
    ids=["flipped", "transposed", "zeros", "negated", "hwio", "undertrained"],
)
def test_named_mistakes(wrong: Any, tier: str, words: str) -> None:
    """Is each recognisable wrong kernel graded wrong, at the right tier, with its mistake named?"""
    # the 3x3 random case (asymmetric, so flipped and transposed differ from it)
    index = next(i for i, c in enumerate(make_cases("learn_kernel", "learn_kernel", 0))
                 if c.args.kernel_shape == (3, 3) and c.label.startswith("random"))  # fmt: skip
    case, expected, result = _verdict("learn_kernel", wrong(_kernel(index)), index)
    assert not result.passed and result.tier == tier, result.message
    assert words in result.message, result.message


def _kernel(index: int) -> np.ndarray:
    case = make_cases("learn_kernel", "learn_kernel", 0)[index]
    return expected_outputs([case], use_disk=False)[0]


def test_within_tolerance_passes_and_non_finite_fails() -> None:
    """Does a kernel within KERNEL_ATOL pass, and one with a NaN fail at the finite tier?"""
    k = _kernel(0)
    assert _verdict("learn_kernel", k + 0.9 * KERNEL_ATOL)[2].passed
    bad = k.copy()
    bad[0, 0] = np.nan
    assert _verdict("learn_kernel", bad)[2].tier == "finite"
    assert _verdict("learn_kernel", k[:, :2])[2].tier == "shape"
