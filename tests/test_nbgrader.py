"""End to end with real nbgrader (autograde, feedback, export), and agreement with the CLI."""

import csv
from pathlib import Path

import nbformat
import pytest

from autograder.classroom import make_course, nbgrader, solution_answers, student_notebook, submit
from autograder.grade import grade_class
from autograder.registry import get_lab

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("03_filter_banks")
WRONG = ROOT / "tests" / "submissions" / "wrong"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with six submissions, autograded, with feedback and an exported CSV."""
    course = make_course(tmp_path_factory.mktemp("course"), LAB.id)
    answers = solution_answers(LAB.id)
    flipped = {**answers, "conv2d": (WRONG / "flipped_kernel.py").read_text()}
    partial = {**answers, "conv2d": (WRONG / "raises_on_strided.py").read_text()}
    submit(course, LAB.id, "ada", student_notebook(LAB.id, answers, root=course))
    submit(course, LAB.id, "bob", student_notebook(LAB.id, flipped, root=course))
    submit(course, LAB.id, "eve", student_notebook(LAB.id, partial, root=course))
    deleted = student_notebook(LAB.id, answers, root=course)
    deleted.cells = [
        c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "conv2d"
    ]
    submit(course, LAB.id, "dee", deleted)
    broken = {**answers, "conv2d": "def conv2d(inputs, filters, strides, padding)\n    return 0\n"}
    submit(course, LAB.id, "sam", student_notebook(LAB.id, broken, root=course))  # SyntaxError
    submit(course, LAB.id, "cy", '{"cells": [')  # a truncated, broken file
    runs = {
        step: nbgrader(course, *args)
        for step, args in (
            ("autograde", ("autograde", LAB.id)),
            ("feedback", ("generate_feedback", LAB.id)),
            ("export", ("export",)),
        )
    }
    return course, runs


def _exported(course: Path) -> dict[str, float]:
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def test_export_has_the_expected_scores(course):
    """Do nbgrader's exported scores rank the right, wrong, partial and broken notebooks?"""
    path, runs = course
    assert runs["export"].returncode == 0, runs["export"].stderr[-2000:]
    scores = _exported(path)
    assert scores["ada"] == LAB.max_score
    assert scores["cy"] == 0
    assert scores["dee"] == LAB.item("conv_matrix").max_score  # conv2d deleted: only conv_matrix
    assert scores["sam"] == LAB.item("conv_matrix").max_score  # one broken cell, others count
    assert 0 < scores["bob"] < scores["eve"] < LAB.max_score


def test_feedback_hides_hidden_tests(course):
    """Does the feedback show hidden tests' results but never their code, even in a traceback?"""
    path, runs = course
    assert runs["feedback"].returncode == 0, runs["feedback"].stderr[-2000:]
    for student in ("ada", "bob", "dee", "eve"):
        html = (path / "feedback" / student / LAB.id / f"{LAB.id}.html").read_text()
        # the import line names check_hidden; a call to it is hidden-test code
        call = 'check_hidden</span><span class="p">('
        assert call not in html and "BEGIN HIDDEN TESTS" not in html, student
    bob = (path / "feedback" / "bob" / LAB.id / f"{LAB.id}.html").read_text()
    assert "flipped the kernel" in bob
    dee = (path / "feedback" / "dee" / LAB.id / f"{LAB.id}.html").read_text()
    assert "NameError" in dee and "details withheld" in dee


def _nbgrader_cell_scores(path: Path, student: str) -> dict[str, float]:
    nb = nbformat.read(path / "autograded" / student / LAB.id / f"{LAB.id}.ipynb", as_version=4)
    scores = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            values = [o for o in cell.outputs if o.output_type == "execute_result"]
            errors = [o for o in cell.outputs if o.output_type == "error"]
            scores[meta["grade_id"]] = (
                0.0 if errors else float(values[0]["data"]["text/plain"]) if values else None
            )
    return scores


def test_cli_and_nbgrader_agree(course, tmp_path):
    """Do `autograder grade` and nbgrader's autograde give every test the same score?"""
    path, _ = course
    results = grade_class([path / "submitted"], LAB.id, out_dir=tmp_path, jobs=2, progress=False)
    ours = {r["extra_data"]["student"]: r for r in results}
    assert set(ours) == {"ada", "bob", "cy", "dee", "eve", "sam"}
    exported = _exported(path)
    for student in ("ada", "bob", "dee", "eve", "sam"):
        cells = _nbgrader_cell_scores(path, student)
        for test in ours[student]["tests"]:
            function, suite = test["name"].split(": ")
            assert cells[f"test_{function}_{suite}"] == pytest.approx(test["score"]), (
                student,
                test["name"],
            )
        assert ours[student]["score"] == pytest.approx(exported[student]), student
    assert ours["cy"]["score"] == 0 and "JSON" in ours["cy"]["output"]
