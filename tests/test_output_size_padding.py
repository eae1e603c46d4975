"""output_size with an int padding p: the lecture's (w - f + 2p)/s + 1, checked against TF."""

from __future__ import annotations

from typing import Any

import pytest

from autograder.exercise import check_case, make_cases
from autograder.reference import expected_outputs
from autograder.runner import Returned


def _case(label: str):
    case = next(c for c in make_cases("output_size", "explicit_padding", 0) if c.label == label)
    return case, expected_outputs([case], use_disk=False)[0]


def test_the_lecture_p2_slide_is_the_first_case() -> None:
    """Is the smallest case the padding slide: a 2x2 image, p = 2, a 3x3 filter -> 4?"""
    first = make_cases("output_size", "explicit_padding", 0)[0]
    assert first.label == "in2-f3-s1-p2"
    assert expected_outputs([first], use_disk=False)[0] == 4


@pytest.mark.parametrize("seed", [0, 7])
def test_reference_is_the_floored_formula(seed: int) -> None:
    """Does TensorFlow with p zeros each side agree with floor((n - f + 2p)/s) + 1 on every case?"""
    cases = make_cases("output_size", "explicit_padding", seed)
    assert all(isinstance(c.args.padding, int) for c in cases)
    for case, size in zip(cases, expected_outputs(cases, use_disk=False), strict=True):
        n, f, s, p = case.args
        assert size == (n - f + 2 * p) // s + 1, case.label


@pytest.mark.parametrize(
    "label, value, words",
    [
        ("in2-f3-s1-p2", 2, "added once"),  # (2 - 3 + 2) // 1 + 1
        ("in4-f3-s1-p1", 2, "padding was ignored"),
        ("in5-f3-s2-p1", 2, "the + 1 is missing"),
        ("in2-f3-s1-p2", 4.5, "not a whole number"),
    ],
)
def test_mistakes_are_named(label: str, value: Any, words: str) -> None:
    """Are the slips with an int padding named in the message?"""
    case, expected = _case(label)
    result = check_case(case, Returned("ok", value, type(value).__name__), expected, "output_size")
    assert not result.passed and words in result.message, result.message


def test_string_paddings_keep_their_suites() -> None:
    """Do the existing suites still draw only "VALID"/"SAME" paddings?"""
    for suite in ("output_size", "hidden"):
        assert all(isinstance(c.args.padding, str) for c in make_cases("output_size", suite, 0))
