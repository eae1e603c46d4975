"""Verdicts a TA can defend (issue 10): canonical suites, realistic mistakes named right, contained
failures, fresh per-student cases for the grade of record, vectorization graded."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.exercise import get_exercise, make_cases
from autograder.grade import grade_submission
from autograder.registry import get_lab

SUBMISSIONS = Path(__file__).parent / "submissions"


def _item_ratio(report, function: str) -> float:
    tests = [t for t in report.tests if t.function == function]
    return sum(t.score for t in tests) / sum(t.max_score for t in tests)


# ----------------------------------------------------------------------------------------------
# Canonical suites


@pytest.mark.parametrize("suite", get_exercise("conv2d").suites)
def test_conv2d_suites_call_with_the_canonical_form_but_one(suite):
    """Does every conv2d suite but argument_forms pass strides [1, sh, sw, 1] and upper case?"""
    for case in make_cases("conv2d", suite, 0):
        strides, padding = case.args.strides, case.args.padding
        canonical = isinstance(strides, list) and len(strides) == 4 and padding in ("SAME", "VALID")
        assert canonical == (suite != "argument_forms"), (suite, strides, padding)


@pytest.mark.parametrize(
    ("lab", "function"), [("03_filter_banks", "conv2d"), ("05_fast_conv2d", "conv2d_fast")]
)
def test_correct_math_with_only_the_canonical_api_keeps_80_percent(lab, function):
    """A correct conv2d accepting only [1, sh, sw, 1] and "SAME"/"VALID": >= 80%, losing only
    the argument_forms suite."""
    report = grade_submission(
        SUBMISSIONS / "canonical" / "canonical_only.py", get_lab(lab), student="canonical"
    )
    lost = {t.suite for t in report.tests if t.function == function and t.score < t.max_score}
    assert lost == {"argument_forms"}
    assert _item_ratio(report, function) >= 0.8
