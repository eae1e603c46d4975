"""Verdicts a TA can defend (issue 10): canonical suites, realistic mistakes named right, contained
failures, fresh per-student cases for the grade of record, vectorization graded."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.exercise import get_exercise, make_cases
from autograder.grade import grade_submission
from autograder.mistake_models import NONE_FOR_PADDING_SPELLING
from autograder.registry import get_lab

SUBMISSIONS = Path(__file__).parent / "submissions"
ROOT = Path(__file__).resolve().parents[1]


def _item_ratio(report, function: str) -> float:
    tests = [t for t in report.tests if t.function == function]
    return sum(t.score for t in tests) / sum(t.max_score for t in tests)


# ----------------------------------------------------------------------------------------------
# Canonical suites


@pytest.mark.parametrize("suite", get_exercise("conv2d_fast").suite_names)
def test_conv2d_suites_call_with_the_canonical_form_but_one(suite):
    """Does every conv2d suite but argument_forms pass strides [1, sh, sw, 1] and upper case?"""
    for case in make_cases("conv2d_fast", suite, 0):
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


def test_lab02_padding_only_as_documented_keeps_80_percent():
    """output_size and convolve2d_strided accepting only "SAME"/"VALID": they lose only
    letter_case, >= 80% of each item."""
    report = grade_submission(
        SUBMISSIONS / "api" / "upper_case_only.py", get_lab("02_stride_padding"), student="upper"
    )
    for function in ("output_size", "convolve2d_strided"):
        lost = {t.suite for t in report.tests if t.function == function and t.score < t.max_score}
        assert lost == {"letter_case"}, function
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


# ----------------------------------------------------------------------------------------------
# Contained failures

LAB02 = get_lab("02_stride_padding")
ZERO_PAD = """
def zero_pad(image, top, bottom, left, right):
    return np.pad(np.asarray(image, dtype=float), ((top, bottom), (left, right)))
"""


@pytest.mark.parametrize(
    ("returned", "says"),
    [
        # the grade of record's cases are drawn for the student: a returned value is named by its
        # kind (issue 19); the self-check quotes it (tests/test_messages.py)
        ("float('nan')", "returned a float, not a whole number: sizes and paddings are finite"),
        ("float('inf')", "returned a float, not a whole number: sizes and paddings are finite"),
        ("2.5", "returned a float, not a whole number"),
        ("np.float64(3.5)", "not a whole number"),
        ("'three'", "returned a str; expected an int"),
        ("[1, [2, 3]]", "output_size returned"),
    ],
)
def test_odd_numbers_are_graded_answers_not_crashes(tmp_path, returned, says):
    """output_size returning NaN, inf, 2.5, a numpy float, a string or a ragged list: its tests
    fail with a clear message, and a correct zero_pad keeps its points."""
    path = tmp_path / "odd.py"
    path.write_text(
        f"import numpy as np\n\ndef output_size(n, f, s, padding):\n    return {returned}\n"
        + ZERO_PAD
    )
    report = grade_submission(path, LAB02, student="odd")
    by = {t.name: t for t in report.tests}
    for name in ("output_size: output_size", "output_size: hidden"):
        assert by[name].score == 0 and by[name].passed == 0
        assert says in by[name].output, by[name].output
        assert "grader" not in by[name].output
    assert by["zero_pad: zero_pad"].score == 1 and by["zero_pad: hidden"].score == 1
    assert not any("grader" in p for p in report.problems)


def test_an_exception_in_a_check_fails_that_case_only(monkeypatch):
    """A check that raises on one case: that case fails with the grader's message, the others
    are judged as usual."""
    from autograder import runner
    from autograder.checks import Tier
    from autograder.exercises.zero_pad import ZERO_PAD as EXERCISE

    lab = LAB02
    item = lab.item("zero_pad")
    real = EXERCISE.check

    def flaky(case, returned, expected, function):
        if case.index == 1:
            raise ZeroDivisionError("in a check")
        return real(case, returned, expected, function)

    monkeypatch.setattr(EXERCISE, "check", flaky)
    import numpy as np

    fn = lambda image, t, b, l, r: np.pad(np.asarray(image, float), ((t, b), (l, r)))  # noqa: E731
    result = runner.run_test(runner.in_process_caller(fn), lab, item, item.test("zero_pad"), 0)
    assert (result.passed, result.total) == (result.total - 1, result.total)
    (failure,) = result.failures
    assert failure.tier == Tier.GRADER and "ZeroDivisionError: in a check" in failure.message


def test_a_reference_that_raises_fails_that_case_only(monkeypatch):
    from autograder import reference, runner
    from autograder.checks import Tier

    real = reference.expected_outputs

    def flaky(cases, **kwargs):
        if any(c.index == 2 for c in cases):
            raise RuntimeError("reference down")
        return real(cases, **kwargs)

    monkeypatch.setattr(reference, "expected_outputs", flaky)
    import numpy as np

    item = LAB02.item("zero_pad")
    fn = lambda image, t, b, l, r: np.pad(np.asarray(image, float), ((t, b), (l, r)))  # noqa: E731
    result = runner.run_test(runner.in_process_caller(fn), LAB02, item, item.test("zero_pad"), 0)
    assert result.passed == result.total - 1
    assert [f.tier for f in result.failures] == [Tier.GRADER]
    assert "RuntimeError: reference down" in result.failures[0].message


def test_a_failing_test_costs_that_test_not_the_student(tmp_path, monkeypatch, capsys):
    """run_test raising for one suite: that suite says why (0 points), every other suite is
    graded, and the TA sees the traceback on stderr."""
    from autograder import grade

    real = grade.run_test

    def flaky(call, lab, item, test, seed, **kwargs):
        if test.suite == "output_size":
            raise MemoryError("under load")
        return real(call, lab, item, test, seed, **kwargs)

    monkeypatch.setattr(grade, "run_test", flaky)
    report = grade_submission(ROOT / "solutions" / "02_stride_padding" / "02_stride_padding.ipynb",
                              LAB02, student="flaky")  # fmt: skip
    by = {t.name: t for t in report.tests}
    assert by["output_size: output_size"].score == 0
    assert "MemoryError: under load" in by["output_size: output_size"].output
    assert report.score == LAB02.max_score - by["output_size: output_size"].max_score
    assert "Traceback" in capsys.readouterr().err


def test_grade_class_names_the_grader_failure(tmp_path, monkeypatch, capsys):
    """A submission the grader fails on: its report says the exception's type and message, the
    TA gets the traceback on stderr, classmates are graded."""
    from autograder import grade

    real = grade.grade_submission

    def flaky(path, lab, **kwargs):
        if path.stem == "unlucky":
            raise RuntimeError("boom in the grader")
        return real(path, lab, **kwargs)

    monkeypatch.setattr(grade, "grade_submission", flaky)
    src = SUBMISSIONS / "correct" / "vectorized.py"
    (tmp_path / "in").mkdir()
    for name in ("unlucky", "lucky"):
        (tmp_path / "in" / f"{name}.py").write_text(src.read_text())
    results = grade.grade_class(
        [tmp_path / "in"], "03_filter_banks", out_dir=tmp_path / "out", progress=False
    )
    by = {r["extra_data"]["student"]: r for r in results}
    assert "RuntimeError: boom in the grader" in by["unlucky"]["output"]
    assert by["lucky"]["tests"] and by["lucky"]["score"] > 0
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"cells": [{"cell_type": "code", "source": ["x = 1", null], "metadata": {}}], '
        '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        '{"cells": [{"cell_type": "code", "source": 12, "metadata": "m"}, "a cell?", 3], '
        '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        '{"cells": {"not": "a list"}}',
    ],
    ids=["deeply-nested", "null-in-source", "wrong-types", "cells-not-a-list"],
)
def test_pathological_notebooks_give_a_reading_error(tmp_path, capsys, text):
    """grade and check on a notebook that cannot be read: a reading problem, no traceback."""
    from autograder.__main__ import main

    path = tmp_path / "02_stride_padding.ipynb"
    path.write_text(text)
    report = grade_submission(path, LAB02, student="patho")
    assert report.score == 0 and report.problems
    assert any("could not be read" in p or "not a Jupyter notebook" in p for p in report.problems)
    assert main(["check", "--lab", "02_stride_padding", str(path)]) in (1, 2)  # a verdict
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "! " in out.out


# ----------------------------------------------------------------------------------------------
# Fresh cases for the grade of record

LAB03 = get_lab("03_filter_banks")


def test_grade_of_record_draws_visible_suites_per_student():
    """grade: visible suites on secret-derived seeds (different per student and suite, never
    printed); the self-check (hidden=False) on the public seed 0."""
    path = SUBMISSIONS / "correct" / "vectorized.py"
    ann = grade_submission(path, LAB03, student="ann")
    bob = grade_submission(path, LAB03, student="bob")
    own = grade_submission(path, LAB03, student="ann", hidden=False)
    visible = [t for t in ann.tests if not t.hidden]
    assert all(t.seed != 0 for t in visible)
    # one seed per suite name (the graded predictions share the argument-free "prediction")
    assert len({t.seed for t in visible}) == len({t.suite for t in visible})
    assert [t.seed for t in visible] != [t.seed for t in bob.tests if not t.hidden]
    assert all(t.seed == 0 for t in own.tests)
    assert all(t.score == t.max_score for t in ann.tests if t.function == "conv2d")
    for t in (t for t in visible if t.function == "conv2d"):
        assert "drawn for you at grading time" in t.output and f"seed {t.seed}" not in t.output
    assert all("(seed 0)" in t.output for t in own.tests if t.function == "conv2d")


def _lookup_table_submission(tmp_path: Path) -> Path:
    """A conv2d with no convolution: the public seed-0 answers of every visible suite, looked up
    by a hash of the inputs; anything it does not recognise gets zeros."""
    import hashlib
    import json

    from autograder.reference import expected_outputs

    table = {}
    for test in LAB03.item("conv2d").tests:
        if test.hidden:
            continue
        cases = make_cases("conv2d", test.suite, 0)
        for case, out in zip(cases, expected_outputs(cases), strict=True):
            key = hashlib.sha256(case.args.inputs.tobytes() + case.args.filters.tobytes())
            table[key.hexdigest()] = [list(out.shape), out.ravel().tolist()]
    path = tmp_path / "lookup.py"
    path.write_text(
        "import hashlib, json\nimport numpy as np\n\n"
        f"TABLE = json.loads({json.dumps(json.dumps(table))})\n\n"
        "def conv2d(inputs, filters, strides, padding):\n"
        "    x, w = np.asarray(inputs, float), np.asarray(filters, float)\n"
        "    hit = TABLE.get(hashlib.sha256(x.tobytes() + w.tobytes()).hexdigest())\n"
        "    if hit is None:\n"
        "        return np.zeros((x.shape[0], 1, 1, w.shape[3]))\n"
        "    return np.array(hit[1]).reshape(hit[0])\n"
    )
    return path


def test_a_lookup_table_of_the_public_answers_earns_nothing(tmp_path):
    """The stored seed-0 answers: every visible point in the self-check (the table is right),
    nothing in the grade of record."""
    path = _lookup_table_submission(tmp_path)
    check = grade_submission(path, LAB03, student="cheat", hidden=False)
    conv = [t for t in check.tests if t.function == "conv2d"]
    assert all(t.score == t.max_score for t in conv)
    graded = grade_submission(path, LAB03, student="cheat")
    assert _item_ratio(graded, "conv2d") == 0


def test_output_printed_during_hidden_tests_is_not_in_the_report(tmp_path):
    """A submission numbering its calls: the report keeps the calls of the visible tests and
    none of the hidden ones."""
    path = tmp_path / "chatty.py"
    path.write_text(
        "import numpy as np\n\nCALLS = [0]\n\n"
        "def output_size(n, f, s, padding):\n"
        "    CALLS[0] += 1\n"
        "    print(f'call {CALLS[0]}')\n"
        "    return 1\n"
    )
    # The grade of record draws every case for the student: no call's printout is kept (issue 19).
    record = grade_submission(path, LAB02, student="chatty")
    assert "call" not in record.output.split()
    report = grade_submission(path, LAB02, student="chatty", fresh=False)  # visible at seed 0
    visible = sum(t.total for t in report.tests if t.function == "output_size" and not t.hidden)
    hidden = sum(t.total for t in report.tests if t.function == "output_size" and t.hidden)
    assert hidden > 0
    printed = report.output.split()
    assert f"{visible}" in printed and f"{visible + 1}" not in printed


# ----------------------------------------------------------------------------------------------
# Vectorization graded in lab 05

LAB05 = get_lab("05_fast_conv2d")
FAST = LAB05.item("conv2d_fast")


def _module(path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"verdicts_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_process(fn) -> dict[str, float]:
    from autograder.runner import in_process_caller, run_test

    return {
        t.suite: run_test(in_process_caller(fn), LAB05, FAST, t, 0, function="conv2d_fast").score
        for t in FAST.tests
    }


def test_vectorized_is_half_of_conv2d_fast():
    assert FAST.max_score == 20 and FAST.test("vectorized").points == 10


@pytest.mark.parametrize(
    ("name", "ratio"), [("naive_loops", 0.5), ("vectorized", 1.0), ("returns_list", 0.5)]
)
def test_vectorization_in_the_notebook_self_check(name, ratio):
    """In process (timed in the notebook's thread): a correct loop conv2d_fast earns half the
    item, a vectorized one all of it."""
    scores = _in_process(_module(SUBMISSIONS / "correct" / f"{name}.py").conv2d)
    assert sum(scores.values()) / FAST.max_score == ratio
    assert (scores["vectorized"] == 10) == (ratio == 1.0)


@pytest.mark.parametrize(
    ("path", "ratio"),
    [
        (SUBMISSIONS / "correct" / "naive_loops.py", 0.5),
        (SUBMISSIONS / "correct" / "vectorized.py", 1.0),
        (ROOT / "solutions" / "05_fast_conv2d" / "05_fast_conv2d.ipynb", 1.0),
    ],
    ids=["naive_loops", "vectorized", "solution"],
)
def test_vectorization_in_the_grade(tmp_path, path, ratio):
    """Sandboxed (the grader reads the worker's CPU time): loops <= 50% of conv2d_fast,
    vectorized and the lab 05 solution 100%; the loop version is told why."""
    if path.suffix == ".py":
        copy = tmp_path / path.name
        copy.write_text(path.read_text() + "\n\nconv2d_fast = conv2d\n")
        path = copy
    report = grade_submission(path, LAB05, student="fast")
    assert _item_ratio(report, "conv2d_fast") == ratio
    (vec,) = [t for t in report.tests if t.suite == "vectorized"]
    if ratio < 1:
        assert "on a 256×256 image (65,536 output pixels" in vec.output
        assert "used more than 8× the CPU time of a vectorized convolution" in vec.output
        assert "Replace it with numpy operations on whole arrays" in vec.output


def test_fast_but_wrong_is_not_vectorized_credit():
    """Returning zeros fast earns nothing: both measured answers must be right."""
    import numpy as np

    def zeros(inputs, filters, strides, padding):
        return np.zeros((*inputs.shape[:3], filters.shape[3]))

    assert _in_process(zeros)["vectorized"] == 0
