"""End to end with real nbgrader (autograde, feedback, export), and agreement with the CLI."""

import csv
import os
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
#: The course secret the TA set for this course (the hidden seeds depend on it).
SECRET = "nbgrader-test-secret-7f3a"
#: An answer cell that swaps the notebook's checks for ones that always give full points.
REPLACE_CHECKS = """
check = lambda *args, **kwargs: 2.0
check_hidden = lambda *args, **kwargs: 4.0

def conv2d(inputs, filters, strides, padding):
    return None
"""
#: An answer cell that zeroes every grade in the gradebook, two folders above the kernel's.
ZERO_GRADEBOOK = """
import os
import sqlite3

try:
    db = sqlite3.connect(os.path.join("..", "..", "..", "gradebook.db"))
    db.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
    db.commit()
    print("gradebook zeroed")
except Exception as error:
    print("gradebook out of reach:", type(error).__name__)
"""
#: An answer cell that prints the environment's course secret (and is otherwise correct).
PRINT_SECRET = """
import os
env = os.environ
print("secret:", env.get("CONVLAB_COURSE_SECRET"), env.get("CONVLAB_COURSE_SECRET_FILE"))
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with ten submissions, autograded, with feedback and an exported CSV."""
    saved = os.environ.get("CONVLAB_COURSE_SECRET")
    os.environ["CONVLAB_COURSE_SECRET"] = SECRET  # the TA's shell; the CLI below reads it too
    try:  # restored even when setting up the course fails: later tests must not see it
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
        broken = {
            **answers,
            "conv2d": "def conv2d(inputs, filters, strides, padding)\n    return 0\n",
        }
        submit(course, LAB.id, "sam", student_notebook(LAB.id, broken, root=course))  # SyntaxError
        submit(course, LAB.id, "cy", '{"cells": [')  # a truncated, broken file
        cheat = {**answers, "conv2d": REPLACE_CHECKS}
        submit(course, LAB.id, "mal", student_notebook(LAB.id, cheat, root=course))
        spy = {**answers, "conv_matrix": answers["conv_matrix"] + PRINT_SECRET}
        submit(course, LAB.id, "spy", student_notebook(LAB.id, spy, root=course))
        vandal = {**answers, "conv_matrix": answers["conv_matrix"] + ZERO_GRADEBOOK}
        submit(course, LAB.id, "zed", student_notebook(LAB.id, vandal, root=course))
        killer = {**answers, "conv_matrix": answers["conv_matrix"] + KILL_KERNEL}
        submit(course, LAB.id, "kay", student_notebook(LAB.id, killer, root=course))
        runs = {
            step: nbgrader(course, *args)
            for step, args in (
                ("autograde", ("autograde", LAB.id)),
                ("feedback", ("generate_feedback", LAB.id)),
                ("export", ("export",)),
            )
        }
        yield course, runs
    finally:
        if saved is None:
            os.environ.pop("CONVLAB_COURSE_SECRET", None)
        else:
            os.environ["CONVLAB_COURSE_SECRET"] = saved


#: An answer cell that ends by killing its own process. The kernel dies under nbgrader; the
#: grader's sandbox refuses the signal, so both functions are defined and earn their points.
KILL_KERNEL = "\n\nimport os\n\nos.kill(os.getpid(), 9)\n"


def _exported(course: Path) -> dict[str, float]:
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def test_export_has_the_expected_scores(course):
    """Do nbgrader's exported scores rank the right, wrong, partial and broken notebooks?"""
    path, runs = course
    assert runs["export"].returncode == 0, runs["export"].stderr[-2000:]
    scores = _exported(path)
    assert scores["ada"] == LAB.max_score
    assert scores["spy"] == LAB.max_score
    assert (
        scores["zed"] > 0
    )  # its classmates above keep their scores: the gradebook was out of reach
    # conv2d earns nothing in these three; conv_matrix and the graded predictions still count
    others = LAB.max_score - LAB.item("conv2d").max_score
    assert scores["mal"] == others  # replaced checks earn nothing
    assert scores["cy"] == 0
    assert scores["dee"] == others  # conv2d deleted
    assert scores["sam"] == others  # one broken cell, others count
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
    # the kernel's NameError is replaced by the outside grader's verdict on the missing function
    assert "not defined in your submission" in dee


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
    assert set(ours) == {"ada", "bob", "cy", "dee", "eve", "sam", "mal", "spy", "zed", "kay"}
    exported = _exported(path)
    for student in ("ada", "bob", "dee", "eve", "sam", "mal", "spy", "zed", "kay"):
        cells = _nbgrader_cell_scores(path, student)
        for test in ours[student]["tests"]:
            function, suite = test["name"].split(": ")
            assert cells[f"test_{function}_{suite}"] == pytest.approx(test["score"]), (
                student,
                test["name"],
            )
        assert ours[student]["score"] == pytest.approx(exported[student]), ours[student]
    assert ours["cy"]["score"] == 0 and "JSON" in ours["cy"]["output"]


def test_a_cell_that_kills_the_kernel_costs_only_what_it_breaks(course):
    """nbgrader drops a notebook whose kernel dies, leaving the student without a grade. Is it
    autograded here instead: the cell says it stopped the kernel, the later cells say they were
    not run, and the grade is the outside grader's?"""
    path, runs = course
    assert "for student 'kay'" not in runs["autograde"].stderr
    nb = nbformat.read(path / "autograded" / "kay" / LAB.id / f"{LAB.id}.ipynb", as_version=4)
    texts = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in nb.cells]
    killed = [i for i, t in enumerate(texts) if "This cell killed the kernel" in t]
    assert len(killed) == 1
    assert nb.cells[killed[0]].metadata["nbgrader"]["grade_id"] == "conv_matrix"
    later = [
        t for c, t in zip(nb.cells[killed[0] + 1 :], texts[killed[0] + 1 :], strict=True)
        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade")
    ]  # fmt: skip
    assert later and all(t.startswith("Not run: your cell 'conv_matrix' stopped") for t in later)
    assert _exported(path)["kay"] == LAB.max_score


def test_kernel_never_sees_the_secret(course):
    """Is the course secret absent from every autograded notebook and feedback page?"""
    path, _ = course
    pages = list((path / "autograded").rglob("*.ipynb")) + list((path / "feedback").rglob("*.html"))
    assert len(pages) >= 14
    for page in pages:
        assert SECRET not in page.read_text(), page
    spy = (path / "autograded" / "spy" / LAB.id / f"{LAB.id}.ipynb").read_text()
    assert "secret: None None" in spy  # the kernel ran, without the secret in its environment
    zed = nbformat.read(path / "autograded" / "zed" / LAB.id / f"{LAB.id}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in zed.cells for o in c.get("outputs", []))
    assert "gradebook out of reach" in printed and "gradebook zeroed" not in printed


def test_test_cells_hold_the_outside_verdict(course):
    """Does every graded test cell carry the sandboxed grader's report, whatever the kernel did?"""
    path, _ = course
    from autograder.nbgrader_grade import GRADED_BY

    for student in ("ada", "mal"):
        nb = nbformat.read(path / "autograded" / student / LAB.id / f"{LAB.id}.ipynb", as_version=4)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        tests = [c for c in tests if not c.metadata["nbgrader"].get("solution")]
        assert tests
        for cell in tests:
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert GRADED_BY in text, (student, cell.metadata["nbgrader"]["grade_id"])
            assert not any(o.get("name") == "stderr" for o in cell.outputs)


def _cheat(function: str) -> str:
    """An answer cell defining `function` as a stub and replacing the notebook's checks."""
    return (
        "check = lambda *args, **kwargs: 99.0\n"
        "check_hidden = lambda *args, **kwargs: 99.0\n\n"
        f"def {function}(*args, **kwargs):\n    return None\n"
    )


#: Per lab, one answer cell with a real mistake (partial credit: some tests pass, some fail).
WRONG_CELLS = {
    "01_convolution_by_hand": (  # flips the kernel: apply_kernel's tests fail, the rest pass
        "apply_kernel",
        "def apply_kernel(image, kernel, x, y):\n"
        "    kh, kw = kernel.shape\n"
        "    return float(np.sum(image[y : y + kh, x : x + kw] * kernel[::-1, ::-1]))\n",
    ),
    "02_stride_padding": (  # the VALID formula for every padding and stride 1
        "output_size",
        "def output_size(in_size, filter_size, stride, padding):\n"
        "    return in_size - filter_size + 1\n",
    ),
    "04_tf_conv2d": ("my_mnist_shape", "my_mnist_shape = (64, 28, 28, 16)\n"),  # forgot stride 2
    "05_fast_conv2d": (  # the solution's vectorized conv2d_fast with the kernel flipped
        "conv2d_fast",
        "{answer}\n\n_right = conv2d_fast\n\n\n"
        "def conv2d_fast(inputs, filters, strides, padding):\n"
        "    return _right(inputs, np.asarray(filters)[::-1, ::-1], strides, padding)\n",
    ),
}


@pytest.mark.parametrize(
    "lab_id", ["01_convolution_by_hand", "02_stride_padding", "04_tf_conv2d", "05_fast_conv2d"]
)
def test_every_lab_nbgrader_equals_cli(lab_id, tmp_path, monkeypatch):
    """In each lab, do nbgrader and the CLI give a right, a wrong and a cheating notebook equal
    scores, test by test?"""
    monkeypatch.setenv("CONVLAB_COURSE_SECRET", SECRET)
    lab = get_lab(lab_id)
    course = make_course(tmp_path / "course", lab.id)
    answers = solution_answers(lab.id)
    first = lab.items[0].function
    submit(course, lab.id, "right", student_notebook(lab.id, answers, root=course))
    cheat = {**answers, first: _cheat(first)}
    submit(course, lab.id, "cheat", student_notebook(lab.id, cheat, root=course))
    wrong_cell, source = WRONG_CELLS[lab.id]
    wrong = {**answers, wrong_cell: source.replace("{answer}", answers[wrong_cell])}
    submit(course, lab.id, "wrong", student_notebook(lab.id, wrong, root=course))
    run = nbgrader(course, "autograde", lab.id)
    assert run.returncode == 0, run.stderr[-2000:]
    results = grade_class([course / "submitted"], lab.id, out_dir=tmp_path / "cli", progress=False)
    ours = {r["extra_data"]["student"]: r for r in results}
    for student in ("right", "wrong", "cheat"):
        nb = nbformat.read(
            course / "autograded" / student / lab.id / f"{lab.id}.ipynb", as_version=4
        )
        cells = {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                values = [o for o in cell.outputs if o.output_type == "execute_result"]
                cells[meta["grade_id"]] = float(values[0]["data"]["text/plain"])
        for test in ours[student]["tests"]:
            function, suite = test["name"].split(": ")
            assert cells[f"test_{function}_{suite}"] == pytest.approx(test["score"]), test["name"]
    assert ours["right"]["score"] == lab.max_score
    wrong_tests = ours["wrong"]["tests"]
    assert 0 < ours["wrong"]["score"] < lab.max_score
    lost = {t["name"].split(": ")[0] for t in wrong_tests if t["score"] < t["max_score"]}
    assert wrong_cell in lost  # (and the functions built on it, e.g. convolve2d on apply_kernel)
    # the replaced checks earn nothing: the stub's tests score 0 on both paths
    cheated = [t for t in ours["cheat"]["tests"] if t["name"].startswith(f"{first}: ")]
    assert cheated and all(t["score"] == 0 for t in cheated)


def test_autograde_says_whether_kernels_ran_in_bubblewrap(course):
    """Does autograde warn about kernels without bubblewrap exactly when they had none, and leave
    each graded folder free of links? (The attacks themselves: tests/test_nbgrader_attacks.py.)"""
    from autograder.nbgrader_grade import kernel_isolation

    path, runs = course
    sandboxed = kernel_isolation(os.environ) is None  # the TA's environment is the runner's
    assert ("WITHOUT bubblewrap" in runs["autograde"].stderr) is not sandboxed
    graded = list((path / "autograded").rglob("*"))
    assert graded and not [p for p in graded if p.is_symlink()]
