"""Verdicts a TA can defend (issue 10): canonical suites, realistic mistakes named right, contained
failures, fresh per-student cases for the grade of record, vectorization graded."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.conv_mistakes import NONE_FOR_PADDING_SPELLING
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
        SUBMISSIONS / "api" / "canonical_only.py", get_lab(lab), student="canonical"
    )
    lost = {t.suite for t in report.tests if t.function == function and t.score < t.max_score}
    assert lost == {"argument_forms"}
    assert _item_ratio(report, function) >= 0.8


# ----------------------------------------------------------------------------------------------
# The realistic corpus graded end to end (lab 03): the labels a student reads

REALISTIC = SUBMISSIONS / "realistic"
#: A phrase that only the message of each label contains.
PHRASES = {
    "stride_not_applied_to_window": "your window does not move by the stride",
    "same_total_f_minus_1": "your SAME padding is the stride-1 rule",
    "same_total_f_minus_s": "your SAME padding totals f - s",
    "same_total_from_in_size": "your SAME padding (in - 1)·s + f - in",
    "same_half_kernel_each_side": "you put f // 2 zeros on top/left",
    "hw_swapped": "height and width are swapped in your bounds check",
    "padding_twice": "the input is padded twice",
    "edge_padding": "np.pad mode='edge'",
    "reflect_padding": "np.pad mode='reflect'",
    "loop_unpadded_extent": "your loops stop where the filter would leave",
    NONE_FOR_PADDING_SPELLING: "only recognises the exact spellings",
}
#: Messages that would be wrong on every file of the corpus (no file returns VALID output for a
#: mixed-case SAME, none forgets its return).
NEVER = ("was not recognised as SAME", "forget the `return`")
#: file -> the labels its conv2d report names (EXPECTED.md; two labels where EXPECTED.md pins a
#: coincidence: same_half_kernel_each_side and padding_twice on 4x4 filters at stride 1, and
#: same_half_kernel_each_side's odd-filter cases, which are same_total_f_minus_1's).
REALISTIC_LABELS = {
    "correct_helpers.py": set(),
    "correct_im2col.py": set(),
    "correct_scalar_guard.py": set(),
    "correct_slicing_einsum.py": set(),
    "edge_padding.py": {"edge_padding"},
    "hw_swapped.py": {"hw_swapped"},
    "loop_unpadded_extent.py": {"loop_unpadded_extent"},
    "none_for_lowercase_padding.py": {NONE_FOR_PADDING_SPELLING},
    "padding_twice.py": {"padding_twice", "same_half_kernel_each_side"},
    "reflect_padding.py": {"reflect_padding"},
    "same_half_kernel_each_side.py": {
        "same_half_kernel_each_side",
        "padding_twice",
        "same_total_f_minus_1",
    },
    "same_total_f_minus_1.py": {"same_total_f_minus_1"},
    "same_total_f_minus_s.py": {"same_total_f_minus_s"},
    "same_total_from_in_size.py": {"same_total_from_in_size"},
    "stride_not_applied_to_window.py": {"stride_not_applied_to_window"},
}


def test_every_realistic_file_is_pinned():
    assert {p.name for p in REALISTIC.glob("*.py")} == set(REALISTIC_LABELS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REALISTIC_LABELS))
def test_realistic_mistakes_are_named_in_the_grade(name):
    """Does grade_submission name exactly the file's mistake (EXPECTED.md), nothing false, and
    give the correct controls every conv2d point?"""
    report = grade_submission(REALISTIC / name, get_lab("03_filter_banks"), student="golden")
    conv = [t for t in report.tests if t.function == "conv2d"]
    texts = [t.output for t in conv] + [f.message for t in conv for f in t.failures]
    named = {label for label, phrase in PHRASES.items() if any(phrase in x for x in texts)}
    assert named == REALISTIC_LABELS[name]
    assert not any(bad in x for x in texts for bad in NEVER)
    if name.startswith("correct_"):
        assert all(t.score == t.max_score for t in conv), [t.output for t in conv]
    else:
        assert any(t.score < t.max_score for t in conv)
    if name == "none_for_lowercase_padding.py":
        # the spelling is named, and only the non-canonical spellings fail
        failing = [f for t in conv for f in t.failures]
        assert failing and all(f.case.args.padding not in ("SAME", "VALID") for f in failing)
        assert all(f"padding={f.case.args.padding!r}" in f.message for f in failing)
