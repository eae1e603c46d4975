"""Tests of autograder.gradescope and the `check` CLI: the other faces of the same grader."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.gradescope import build_bundle, run
from autograder.registry import get_lab

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("01_convolution_by_hand")


def test_bundle_has_what_gradescope_runs(tmp_path):
    """Does the zip hold setup.sh, an executable run_autograder and the grader with its data?"""
    path = build_bundle(LAB.id, tmp_path / "ag.zip", secret="s3cret")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        run_script = z.read("run_autograder").decode()
        mode = z.getinfo("run_autograder").external_attr >> 16
        secret = z.read("course_secret.txt").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "course_secret.txt"} <= names
    assert {"autograder/grade.py", "convlab/data.py", "data/mnist_sample.npz"} <= names
    assert not any("__pycache__" in n for n in names)
    assert f"--lab {LAB.id}" in run_script and mode & 0o111
    assert secret == "s3cret"


def test_run_writes_results_for_a_submission(tmp_path):
    """Does the in-container entry point grade the uploaded notebook into results.json?"""
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / f"{LAB.id}.ipynb").write_bytes(
        (ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb").read_bytes()
    )
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"users": [{"email": "ada@example.edu", "id": 7}]}))
    results = tmp_path / "results" / "results.json"
    assert run(LAB.id, sub, meta, results) == 0
    data = json.loads(results.read_text())
    assert data["score"] == LAB.max_score
    assert data["extra_data"]["student"] == "ada@example.edu"


def test_run_without_a_file_still_writes_results(tmp_path):
    """Is an empty upload graded 0 with a message instead of failing the container?"""
    (tmp_path / "submission").mkdir()
    results = tmp_path / "results.json"
    run(LAB.id, tmp_path / "submission", tmp_path / "missing.json", results)
    data = json.loads(results.read_text())
    assert data["score"] == 0 and "No .ipynb or .py file" in data["output"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "expected"),
    [("labs", "Visible tests: 0 / 5 points"), ("solutions", "Visible tests: 5 / 5 points")],
    ids=["stubs", "solution"],
)
def test_check_cli_reports_visible_points(folder, expected):
    """Does `python -m autograder check NOTEBOOK` self-check the visible suites?"""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "check",
            str(ROOT / folder / LAB.id / f"{LAB.id}.ipynb"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    if folder == "labs":
        assert "not implemented yet" in result.stdout


@pytest.mark.slow
def test_pytest_face_grades_a_submission(tmp_path):
    """Does `pytest --pyargs autograder.suite --submission F` run one test per graded suite?"""
    results = tmp_path / "results.json"
    notebook = ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb"
    run_ = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "autograder.suite",
         "--submission", str(notebook), "--results-json", str(results), "-q"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run_.returncode == 0, run_.stdout[-2000:]
    n_tests = sum(len(i.tests) for i in LAB.items)
    assert f"{n_tests} passed" in run_.stdout
    assert f"convlab score: {LAB.max_score:g} / {LAB.max_score:g}" in run_.stdout
    assert json.loads(results.read_text())["score"] == LAB.max_score
