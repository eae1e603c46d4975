"""receptive_field: the formula on the lecture's stacks, named mistakes, ints, no convlab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autograder.exercise import check_case, make_cases
from autograder.exercises.receptive_field import LECTURE_STACKS
from autograder.forbidden import scan
from autograder.grade import grade_submission
from autograder.reference import expected_outputs
from autograder.registry import get_lab
from autograder.runner import Returned
from autograder.sandbox import Limits
from convlab.widgets import receptive_field_size

LAB = get_lab("02_stride_padding")

RIGHT = """
def receptive_field(kernel_sizes, strides):
    size, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        size += (k - 1) * jump
        jump *= s
    return size
"""
BORROWED = """
from convlab.widgets import receptive_field_size


def receptive_field(kernel_sizes, strides):
    return receptive_field_size(kernel_sizes, strides)
"""
BORROWED_INSIDE = """
def receptive_field(kernel_sizes, strides):
    import importlib

    return importlib.import_module("convlab.widgets").receptive_field_size(kernel_sizes, strides)
"""


def _verdict(kernels: list[int], strides: list[int], value: Any):
    case = next(
        c
        for c in make_cases("receptive_field", "receptive_field", 0)
        if c.args.kernel_sizes == kernels and c.args.strides == strides
    )
    expected = expected_outputs([case], use_disk=False)[0]
    return expected, check_case(case, Returned("ok", value, type(value).__name__), expected,
                                "receptive_field")  # fmt: skip


@pytest.mark.parametrize(
    "kernels, strides, size",
    [([3], [1], 3), ([5], [2], 5), ([3, 3], [1, 1], 5), ([3, 3, 3], [1, 1, 1], 7),
     ([3, 3], [2, 2], 7), ([5, 2, 5], [1, 2, 1], 14)],
)  # fmt: skip
def test_lecture_stacks_worked_by_hand(kernels: list[int], strides: list[int], size: int) -> None:
    """Is the reference 1 + sum (k_i - 1)·prod_{j<i} s_j on the visible lecture-style stacks?"""
    assert (list(kernels), list(strides)) in [(list(k), list(s)) for k, s in LECTURE_STACKS]
    expected, result = _verdict(kernels, strides, size)
    assert expected == size and result.passed


@pytest.mark.parametrize("suite", ["receptive_field", "hidden"])
def test_reference_agrees_with_the_widget(suite: str) -> None:
    """Does the grader's reference agree with the widget's walk back from the output?"""
    for case in make_cases("receptive_field", suite, 3):
        assert expected_outputs([case], use_disk=False)[0] == receptive_field_size(*case.args)


@pytest.mark.parametrize(
    "value, tier, words",
    [
        (5, "values", "strides were ignored"),  # 1 + 2 + 2
        (13, "values", "its own stride"),  # 1 + 2·2 + 2·4
        (6, "values", "off by one"),
        (float("nan"), "type", "not a whole number"),
        (float("inf"), "type", "not a whole number"),
        (7.5, "type", "not a whole number"),
        (None, "type", "Missing `return`"),
    ],
)
def test_mistakes_are_named(value: Any, tier: str, words: str) -> None:
    """Are the known slips named on two 3x3 stride-2 layers (right answer 7)?"""
    expected, result = _verdict([3, 3], [2, 2], value)
    assert expected == 7
    assert not result.passed and result.tier == tier and words in result.message, result.message


def test_a_whole_float_counts() -> None:
    """Is 7.0 accepted like 7 (the int tier's rule for sizes)?"""
    assert _verdict([3, 3], [2, 2], 7.0)[1].passed


def test_the_widget_helper_is_found_by_the_static_scan() -> None:
    """Does the scan flag convlab (which exports receptive_field_size) in lab 02's graded code?"""
    findings = scan(BORROWED, forbidden_modules=LAB.forbidden_modules)
    assert any("convlab" in f.message for f in findings)


@pytest.mark.parametrize("source", [BORROWED, BORROWED_INSIDE], ids=["import", "importlib"])
def test_the_sandbox_gives_no_credit_for_the_widget_helper(source: str, tmp_path: Path) -> None:
    """Does grading a submission that borrows receptive_field_size earn nothing for it?"""
    path = tmp_path / "borrowed.py"
    path.write_text(RIGHT.replace("def receptive_field(", "def _unused(") + source)
    report = grade_submission(path, LAB, limits=Limits(call_seconds=20), student="t")
    mine = [t for t in report.tests if t.function == "receptive_field"]
    assert mine and all(t.score == 0 for t in mine), [t.output for t in mine]


def test_a_right_submission_earns_every_point(tmp_path: Path) -> None:
    """Does the loop from the lab's hint earn the item's points in the sandbox?"""
    path = tmp_path / "right.py"
    path.write_text(RIGHT)
    report = grade_submission(path, LAB, limits=Limits(call_seconds=20), student="t")
    mine = [t for t in report.tests if t.function == "receptive_field"]
    assert sum(t.score for t in mine) == LAB.item("receptive_field").max_score
