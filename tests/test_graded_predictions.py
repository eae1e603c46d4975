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


def test_every_lab_grades_at_least_two_predictions() -> None:
    """Does every lab have two or more graded prediction items, at 1 point each but the Sobel
    homework (2)?"""
    for lab in LABS.values():
        items = [i for i in lab.items if i.prediction]
        assert len(items) >= 2, lab.id
        for item in items:
            assert item.max_score == (2 if item.function == "my_sobel_same" else 1), item.function
            assert not item.by_hand and [t.suite for t in item.tests] == ["prediction"]


@pytest.mark.parametrize(
    "name, answer",
    [
        ("my_p2_width", 4),  # the lecture: (2 - 3 + 2·2)/1 + 1
        ("my_mnist_shape", (64, 14, 14, 16)),
        ("my_cifar_shape", (20, 16, 16, 16)),
        ("my_sobel_same", [[-1, -1, -1, 6], [-2, 0, 1, 5], [-1, -1, -1, 5], [0, -1, -4, 4]]),
        ("my_mnist_size", 24),  # 28 - 5 + 1
        ("my_dense_weights", 451_584),  # 784 inputs x 576 outputs
        ("my_conv_weights", 25),  # the 5x5 kernel, shared
        ("my_im2col_shape", (12_544, 25)),  # 64 x 14 x 14 rows, 5 x 5 x 1 columns
        ("my_cifar_macs", 24_576_000),  # 20 x 32 x 32 x 16 outputs, 75 terms each
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
        ("my_mnist_size", None, "type", "No prediction yet"),
        ("my_mnist_size", 23, "values", "W - k + 1"),
        ("my_mnist_size", "24", "type", "expected an int"),
        ("my_dense_weights", 784, "values", "(input pixel, output pixel) pair"),
        ("my_dense_weights", None, "type", "No prediction yet"),
        ("my_dense_weights", 784.5, "type", "not a whole number"),
        ("my_conv_weights", 451_584, "values", "weight sharing"),
        ("my_conv_weights", (5, 5), "type", "expected an int"),
        ("my_im2col_shape", (64, 196, 25), "type", "expected 2 ints"),
        ("my_im2col_shape", (64 * 28 * 28, 25), "values", "ceil(28 / 2)"),
        ("my_im2col_shape", None, "type", "No prediction yet"),
        ("my_cifar_macs", 20 * 32 * 32 * 16, "values", "length of each sum"),
        ("my_cifar_macs", None, "type", "No prediction yet"),
        ("my_cifar_macs", "many", "type", "expected an int"),
    ],
)
def test_wrong_predictions_say_what_to_apply_not_the_answer(
    name: str, value: Any, tier: str, words: str
) -> None:
    """Is a wrong or missing prediction graded wrong with the rule, without the answer?"""
    expected, result = _verdict(name, value)
    assert not result.passed and result.tier == tier and words in result.message, result.message
    assert str(tuple(np.asarray(expected).ravel().tolist())) not in result.message
    if np.size(expected) == 1:  # after the student's own value, the number never appears
        assert str(expected) not in result.message.split(repr(value))[-1], result.message


V10 = {(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)}


@pytest.mark.parametrize(
    "value",
    [
        V10,
        frozenset(V10),
        sorted(V10),  # a list of pairs
        sorted(V10, reverse=True),
        tuple(sorted(V10)),
        [list(p) for p in sorted(V10)],
        np.array(sorted(V10)),  # what a list of pairs becomes in the sandbox
        {(np.int64(r), np.int64(c)) for r, c in V10},
        {(float(r), float(c)) for r, c in V10},  # whole numbers
    ],
    ids=["set", "frozenset", "list", "reversed", "tuple", "lists", "array", "np-ints", "floats"],
)
def test_the_pixels_of_v10_are_right_in_any_order_and_form(value: Any) -> None:
    """Is the lecture's answer (rows 0-2, columns 1-3) right as a set, a list of pairs, ...?"""
    expected, result = _verdict("my_pixels_v10", value)
    assert expected == frozenset(V10)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "value, tier, words",
    [
        (None, "type", "No prediction yet"),
        ({(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2)}, "values",
         "x = 1 (a column)"),  # rows and columns swapped
        (V10 - {(2, 3)}, "values", "is not what"),  # a pixel missing
        (V10 | {(3, 3)}, "values", "is not what"),  # an extra pixel
        ([*sorted(V10), (0, 1)], "values", "(0, 1) more than once"),  # a pixel twice
        (np.array([*sorted(V10), (2, 2)]), "values", "(2, 2) more than once"),
        ("(0, 1), (0, 2)", "type", "expected a set of (row, col) pairs"),
        (9, "type", "expected a set of (row, col) pairs"),
        ({"(0, 1)"}, "type", "expected a set of (row, col) pairs"),
        ({(0, 1, 2)}, "type", "expected a set of (row, col) pairs"),
        ({(0.5, 1)}, "type", "expected a set of (row, col) pairs"),
        ({(True, 1)}, "type", "expected a set of (row, col) pairs"),
        ({"a": 1}, "type", "expected a set of (row, col) pairs"),
    ],
    ids=["none", "swapped", "missing", "extra", "twice", "twice-array", "str", "int", "names",
         "triples", "fraction", "bool", "dict"],
)  # fmt: skip
def test_wrong_pixel_sets_say_what_to_apply(value: Any, tier: str, words: str) -> None:
    """Is a wrong set graded wrong with the rule (or the expected form), never the answer?"""
    _, result = _verdict("my_pixels_v10", value)
    assert not result.passed and result.tier == tier and words in result.message, result.message
    assert "(0, 3)" not in result.message.split(" = ", 1)[-1].split("is not what")[-1]
    if tier == "values":
        assert "V(x, y) reads image[y + n, x + m]" in result.message


@pytest.mark.parametrize(
    "answer, points",
    [
        (repr(V10), 1),
        (f"frozenset({sorted(V10)!r})", 1),
        (repr(sorted(V10)), 1),  # a list of pairs
        (repr([*sorted(V10), (0, 1)]), 0),  # a pixel twice
        (repr(V10 | {(3, 3)}), 0),
        ("None", 0),
        ("'rows 0-2'", 0),
    ],
    ids=["set", "frozenset", "list", "twice", "extra", "none", "str"],
)
def test_a_set_prediction_is_graded_in_the_sandbox(tmp_path: Path, answer: str, points: int):
    """Does a set (or list) of pairs cross the sandbox and get the same verdict as in-process?"""
    path = tmp_path / "lab01.py"
    path.write_text(f"my_pixels_v10 = {answer}\nmy_mnist_size = 24\n")
    report = grade_submission(path, get_lab("01_convolution_by_hand"), limits=Limits(), student="t")
    scores = {t.function: t for t in report.tests}
    assert scores["my_pixels_v10"].score == points, scores["my_pixels_v10"].output
    assert scores["my_mnist_size"].score == 1


def test_lab_03_and_05_predictions_are_graded_in_the_sandbox(tmp_path: Path) -> None:
    """Are the new predictions of labs 03 and 05 graded as values (right, wrong, None)?"""
    cases = {
        "03_filter_banks": ("my_dense_weights = 451584\nmy_conv_weights = 784\n", 1, 0),
        "05_fast_conv2d": ("my_im2col_shape = (12544, 25)\nmy_cifar_macs = None\n", 1, 0),
    }
    for lab_id, (code, first, second) in cases.items():
        path = tmp_path / f"{lab_id}.py"
        path.write_text(code)
        report = grade_submission(path, get_lab(lab_id), limits=Limits(), student="t")
        names = [i.function for i in get_lab(lab_id).items if i.prediction]
        scores = {t.function: t.score for t in report.tests if t.function in names}
        assert [scores[n] for n in names] == [first, second], lab_id


def test_predictions_are_graded_in_the_sandbox(tmp_path: Path) -> None:
    """Does grading a submission grade my_... values (set or left None) as values?"""
    path = tmp_path / "predicted.py"
    path.write_text("my_p2_width = 4\nmy_sobel_same = None\n")
    report = grade_submission(path, get_lab("02_stride_padding"), limits=Limits(), student="t")
    scores = {t.function: t for t in report.tests}
    assert scores["my_p2_width"].score == 1
    assert scores["my_sobel_same"].score == 0
    assert "No prediction yet" in scores["my_sobel_same"].output


@pytest.mark.parametrize("lab", sorted(LABS))
def test_the_check_after_a_graded_prediction_says_it_is_graded(lab: str) -> None:
    """Does every check cell of a graded my_... pass graded=True (and no ungraded one)?"""
    import re

    import nbformat

    path = Path(__file__).resolve().parents[1] / "solutions" / lab / f"{lab}.ipynb"
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    calls = re.findall(r'check_prediction\(\s*"(my_\w+)",(.*?)\)\n', text, re.S)
    graded = {i.function for i in LABS[lab].items if i.prediction}
    assert graded <= {name for name, _ in calls}
    for name, rest in calls:
        assert ("graded=True" in rest) == (name in graded), name


@pytest.mark.slow
def test_nbgrader_grades_a_set_prediction_like_the_cli(tmp_path: Path, monkeypatch) -> None:
    """In nbgrader's autograde (GradeOutsideKernel), is my_pixels_v10 graded as by the CLI:
    a list of pairs right, a pair twice wrong, the untouched release cell "No prediction yet"?"""
    import nbformat

    from autograder.classroom import (
        make_course,
        nbgrader,
        solution_answers,
        student_notebook,
        submit,
    )
    from autograder.grade import grade_class

    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "set-prediction-test")
    lab = get_lab("01_convolution_by_hand")
    course = make_course(tmp_path / "course", lab.id)
    answers = solution_answers(lab.id)
    forms = {
        "listed": (f"my_pixels_v10 = {sorted(V10)!r}", 1.0),
        "twice": (f"my_pixels_v10 = {[*sorted(V10), (2, 2)]!r}", 0.0),
        "untouched": (None, 0.0),  # the released cell: my_pixels_v10 = None
    }
    for student, (cell, _) in forms.items():
        chosen = {**answers, "my_pixels_v10": cell} if cell else {
            k: v for k, v in answers.items() if k != "my_pixels_v10"}  # fmt: skip
        submit(course, lab.id, student, student_notebook(lab.id, chosen, root=course))
    run = nbgrader(course, "autograde", lab.id)
    assert run.returncode == 0, run.stderr[-2000:]
    results = grade_class([course / "submitted"], lab.id, out_dir=tmp_path / "cli", progress=False)
    cli = {r["extra_data"]["student"]: {t["name"]: t for t in r["tests"]} for r in results}
    for student, (_, points) in forms.items():
        path = course / "autograded" / student / lab.id / f"{lab.id}.ipynb"
        cell = next(
            c
            for c in nbformat.read(path, as_version=4).cells
            if c.metadata.get("nbgrader", {}).get("grade_id") == "test_my_pixels_v10_prediction"
        )
        value = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert float(value[0]["data"]["text/plain"]) == points, student
        ours = cli[student]["my_pixels_v10: prediction"]
        assert ours["score"] == points, (student, ours["output"])
    assert "No prediction yet" in cli["untouched"]["my_pixels_v10: prediction"]["output"]
    assert "more than once" in cli["twice"]["my_pixels_v10: prediction"]["output"]
