"""Tests of autograder.grade and the CLI: whole classes, hostile submissions, resumable runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grade import grade_class, grade_submission
from autograder.registry import LABS, get_lab
from autograder.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "submissions" / "hostile"
LAB = get_lab("03_filter_banks")
CONV2D_POINTS = LAB.item("conv2d").max_score
#: Small limits: every hostile submission here misbehaves on the smallest case already.
FAST_LIMITS = Limits(call_seconds=3, total_seconds=40, memory_bytes=1024**3)

CORRECT = """
import numpy as np

def conv2d(inputs, filters, strides, padding):
    s = [strides] * 2 if isinstance(strides, int) else list(strides)
    sh, sw = (s * 2)[:2] if len(s) < 4 else s[1:3]
    n, h, w, c = inputs.shape
    kh, kw, _, co = filters.shape
    if padding.upper() == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        inputs = np.pad(inputs, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            win = inputs[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(win, filters, axes=([1, 2, 3], [0, 1, 2]))
    return out
"""
FLIPPED = CORRECT.replace("np.tensordot(win, filters", "np.tensordot(win, filters[::-1, ::-1]")

#: file -> text that must appear in the feedback of conv2d's first test (or in the problems).
HOSTILE_EXPECTED = {
    "exit_on_import": "exit(3)",
    "fake_tensorflow": "tensorflow",
    "forbidden_np_convolve": "np.convolve",
    "forbidden_tf": "tf.nn.conv2d",
    "forged_pickle_reply": "invalid reply",
    "fork": "os.fork",
    "infinite_loop": "did not finish within",
    "kill_parent": "os.kill",
    "memory_bomb": "memory",
    "obfuscated_import": "importlib",
    "os_exit_in_call": "exit code 0",
    "output_flood": "returned shape (1, 1, 1, 1)",
    "read_parent_environ": "/proc/",
    "returns_dict": "returned a dict",
    "syntax_error": "SyntaxError",
    "sys_exit_in_call": "exit(3)",
    "tamper_numpy": "sys.modules",
}


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """The hostile corpus plus one correct student, graded together as one class."""
    folder = tmp_path_factory.mktemp("class")
    for f in HOSTILE.glob("*.py"):
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "honest.py").write_text(CORRECT)
    out = tmp_path_factory.mktemp("out")
    results = grade_class([folder], LAB.id, out_dir=out, jobs=2, limits=FAST_LIMITS, progress=False)
    return {r["extra_data"]["student"]: r for r in results}, out


def test_hostile_corpus_is_complete():
    """Does the pinned table cover every hostile fixture (and nothing that is gone)?"""
    assert {f.stem for f in HOSTILE.glob("*.py")} == set(HOSTILE_EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE_EXPECTED))
def test_hostile_submission_gets_no_conv2d_credit(hostile_class, name):
    """Is each hostile submission graded (no crash), without conv2d credit, and told why?"""
    results, _ = hostile_class
    r = results[name]
    conv_tests = [t for t in r["tests"] if t["name"].startswith("conv2d:")]
    assert len(conv_tests) == len(LAB.item("conv2d").tests)
    assert sum(t["score"] for t in conv_tests) == 0
    text = r["output"] + "\n" + "\n".join(t["output"] for t in conv_tests)
    assert HOSTILE_EXPECTED[name] in text


@pytest.mark.slow
def test_honest_student_unaffected_by_hostile_classmates(hostile_class):
    """Does a correct student graded beside hostile ones still get every conv2d point?"""
    results, out = hostile_class
    conv = [t for t in results["honest"]["tests"] if t["name"].startswith("conv2d:")]
    assert sum(t["score"] for t in conv) == CONV2D_POINTS
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(HOSTILE_EXPECTED) + 1


def _grade_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    (folder / "ada.py").write_text(CORRECT)
    (folder / "bob.py").write_text(FLIPPED)
    (folder / "cy.py").write_text("def conv2d(:\n")
    return folder


@pytest.mark.slow
def test_cli_grades_resumes_and_reruns_identically(small_class, tmp_path):
    """Does the CLI exit 0, skip finished students, and write identical results on --force?"""
    out = tmp_path / "grades"
    first = _grade_cli("--lab", LAB.id, "--out", str(out), "--jobs", "2", str(small_class))
    assert first.returncode == 0, first.stderr
    results = {p.stem: p.read_text() for p in out.glob("*.json")}
    assert set(results) == {"ada", "bob", "cy"}
    ada, bob, cy = (json.loads(results[s]) for s in ("ada", "bob", "cy"))
    assert ada["score"] > bob["score"] > cy["score"] == 0
    assert "flipped the kernel" in json.dumps(bob)
    assert (out / "feedback" / "bob.md").exists() and list((out / "feedback").glob("bob-*.png"))
    assert (out / "grades.png").exists()
    header = (out / "grades.csv").read_text().splitlines()[0]
    assert header.startswith("student,score,max_score,conv2d: valid_stride1")

    again = _grade_cli("--lab", LAB.id, "--out", str(out), str(small_class))
    assert "0 to grade, 3 already graded" in again.stderr
    (out / "bob.json").unlink()
    (small_class / "ada.py").write_text(CORRECT + "\n# edited\n")
    forced = _grade_cli("--lab", LAB.id, "--out", str(out), "--force", str(small_class))
    assert forced.returncode == 0
    assert _untimed((out / "bob.json").read_text()) == _untimed(results["bob"])
    assert json.loads((out / "ada.json").read_text())["score"] == ada["score"]


def _untimed(text: str) -> dict:
    """A stored result without the seconds it took (the one thing a rerun may change)."""
    data = json.loads(text)
    data.pop("execution_time")
    data["extra_data"].pop("seconds")
    for test in data["tests"]:
        test["extra_data"].pop("seconds")
    return data


def test_missing_function_and_empty_file(tmp_path):
    """Is a submission without conv2d, or an empty file, graded 0 with a message, not a crash?"""
    (tmp_path / "other.py").write_text("def conv_2d(x, w, s, p):\n    return x\n")
    (tmp_path / "empty.py").write_text("")
    other = grade_submission(tmp_path / "other.py", LAB, limits=FAST_LIMITS)
    empty = grade_submission(tmp_path / "empty.py", LAB, limits=FAST_LIMITS)
    assert other.score == empty.score == 0
    assert "not defined in your submission" in other.tests[0].output
    assert any("empty" in p.lower() or "no code" in p.lower() for p in empty.problems)


def test_results_json_has_gradescope_fields(tmp_path):
    """Does every result carry Gradescope's fields, with hidden tests hidden until published?"""
    (tmp_path / "s.py").write_text(CORRECT)
    data = grade_submission(tmp_path / "s.py", LAB, limits=FAST_LIMITS).results_json()
    assert {"score", "execution_time", "tests", "output", "visibility"} <= set(data)
    assert "max_score" not in data and data["extra_data"]["max_score"] == LAB.max_score
    for t in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(t)
    hidden = {t["name"]: t["visibility"] for t in data["tests"]}
    assert hidden["conv2d: hidden"] == "after_published"
    assert hidden["conv2d: valid_stride1"] == "visible"


SEEDED_STUDENTS = ("s0", "s1", "s2", "s3", "s4")


@pytest.mark.slow
@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_reference_solution_gets_full_marks_on_many_seeds(lab_id):
    """Does each lab's solution notebook, read like a submission, earn every point for any id?"""
    lab = get_lab(lab_id)
    path = ROOT / "solutions" / lab_id / f"{lab_id}.ipynb"
    # lab 04 imports TensorFlow in every worker: two hidden seeds are enough there
    students = SEEDED_STUDENTS[:2] if "tensorflow" in lab.preamble else SEEDED_STUDENTS
    for student in students:
        report = grade_submission(path, lab, student=student)
        assert report.problems == [], report.problems
        assert report.score == lab.max_score, [
            t.output for t in report.tests if t.score < t.max_score
        ]


def test_forbidden_call_voids_only_the_item_whose_cell_has_it(tmp_path):
    """Does np.convolve in the conv_matrix cell cost conv_matrix, not the honest conv2d?"""
    import nbformat

    from autograder.classroom import solution_answers, student_notebook

    answers = solution_answers(LAB.id)
    cheat = answers["conv_matrix"] + "\n\n_unused = np.convolve([1.0], [1.0])\n"
    path = tmp_path / "mixed.ipynb"
    nbformat.write(student_notebook(LAB.id, {**answers, "conv_matrix": cheat}), path)
    report = grade_submission(path, LAB, limits=FAST_LIMITS)
    by_function: dict[str, float] = {}
    for t in report.tests:
        by_function[t.function] = by_function.get(t.function, 0) + t.score
    # every item of the lab earns its points from the solution's answers, but conv_matrix
    assert by_function == {i.function: i.max_score for i in LAB.items} | {"conv_matrix": 0}
    assert "np.convolve" in next(t for t in report.tests if t.function == "conv_matrix").output
