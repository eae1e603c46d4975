"""Graded predictions: my_... values against a measured answer, in a kernel and a sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.exercise import check_case, make_cases
from autograder.grade import grade_submission
from autograder.reference import expected_outputs
from autograder.registry import LABS, get_lab
from autograder.runner import Returned
from autograder.sandbox import Limits

PREDICTIONS = [(lab.id, i.function) for lab in LABS.values() for i in lab.items if i.prediction]


def _verdict(name: str, value: Any):
    case = make_cases(name, "prediction", 0)[0]
    expected = expected_outputs([case], use_disk=False)[0]
    return expected, check_case(case, Returned("ok", value, type(value).__name__), expected, name)


def test_labs_02_and_04_grade_at_least_two_predictions_each() -> None:
    """Do labs 02 and 04 each have two or more graded prediction items?"""
    for lab in ("02_stride_padding", "04_tf_conv2d"):
        assert sum(1 for lab_id, _ in PREDICTIONS if lab_id == lab) >= 2


@pytest.mark.parametrize(
    "name, answer",
    [
        ("my_p2_width", 4),  # the lecture: (2 - 3 + 2·2)/1 + 1
        ("my_mnist_shape", (64, 14, 14, 16)),
        ("my_cifar_shape", (20, 16, 16, 16)),
        ("my_sobel_same", [[-1, -1, -1, 6], [-2, 0, 1, 5], [-1, -1, -1, 5], [0, -1, -4, 4]]),
    ],
)
def test_the_lecture_numbers_are_right(name: str, answer: Any) -> None:
    """Does each measured answer equal the lecture's number, worked by hand, in any sequence?"""
    expected, result = _verdict(name, answer)
    assert result.passed, result.message
    assert np.array_equal(np.asarray(expected), np.asarray(answer))
    assert _verdict(name, np.asarray(answer))[1].passed


@pytest.mark.parametrize(
    "name, value, tier, words",
    [
        ("my_p2_width", None, "type", "No prediction yet"),
        ("my_p2_width", 2, "values", "p = 2"),
        ("my_p2_width", 4.5, "type", "not a whole number"),
        ("my_mnist_shape", (64, 28, 28, 16), "values", "ceil(28 / 2)"),
        ("my_mnist_shape", (14, 14, 16), "type", "expected 4 ints"),
        ("my_sobel_same", list(range(16)), "shape", "4x4"),
    ],
)
def test_wrong_predictions_say_what_to_apply_not_the_answer(
    name: str, value: Any, tier: str, words: str
) -> None:
    """Is a wrong or missing prediction graded wrong with the rule, without the answer?"""
    expected, result = _verdict(name, value)
    assert not result.passed and result.tier == tier and words in result.message, result.message
    assert str(tuple(np.asarray(expected).ravel().tolist())) not in result.message


def test_predictions_are_graded_in_the_sandbox(tmp_path: Path) -> None:
    """Does grading a submission grade my_... values (set or left None) as values?"""
    path = tmp_path / "predicted.py"
    path.write_text("my_p2_width = 4\nmy_sobel_same = None\n")
    report = grade_submission(path, get_lab("02_stride_padding"), limits=Limits(), student="t")
    scores = {t.function: t for t in report.tests}
    assert scores["my_p2_width"].score == 1
    assert scores["my_sobel_same"].score == 0
    assert "No prediction yet" in scores["my_sobel_same"].output
