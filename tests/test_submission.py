"""Tests for autograder.submission: reading notebooks and .py files into code to grade."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from autograder import classroom, gradescope, release_cells
from autograder.__main__ import main
from autograder.classroom import solution_answers, student_notebook
from autograder.grade import grade_submission
from autograder.registry import LABS, get_lab
from autograder.submission import (
    MAX_FILE_BYTES,
    Submission,
    find_submissions,
    read_submission,
    student_id,
)

CONV2D = "def conv2d(inputs, filters, strides, padding):\n    return inputs\n"
HELPER = "def pad_same(x):\n    return x\n"
EXPECTED = ("pad_same", "conv2d")


def code_cell(source: str, grade_id: str | None = None, *, solution: bool = True) -> dict:
    cell = nbformat.v4.new_code_cell(source)
    if grade_id is not None:
        cell.metadata["nbgrader"] = {
            "grade": not solution,
            "grade_id": grade_id,
            "locked": not solution,
            "schema_version": 3,
            "solution": solution,
        }
    return cell


def write_notebook(path: Path, cells: list[dict]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Lab"), *cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def released(path: Path, *solutions: tuple[str, str]) -> Path:
    """A notebook like the released one: imports, solution cells, a locked test cell."""
    cells = [code_cell("import numpy as np", "imports", solution=False)]
    cells += [code_cell(source, name) for name, source in solutions]
    cells.append(code_cell("check_conv2d(conv2d)", "test_conv2d", solution=False))
    return write_notebook(path, cells)


def test_solution_cells_taken_in_order(tmp_path: Path):
    """Are exactly the solution cells taken, in notebook order, with their grade ids?"""
    path = released(tmp_path / "alice.ipynb", ("pad_same", HELPER), ("conv2d", CONV2D))
    sub = read_submission(path, expected_cells=EXPECTED)
    assert sub.problems == []
    assert (sub.kind, sub.student, sub.cells) == ("ipynb", "alice", ["pad_same", "conv2d"])
    assert sub.code == HELPER + "\n" + CONV2D
    assert "check_conv2d" not in sub.code and "import numpy" not in sub.code
    assert sub.where(4) == "cell 'conv2d', line 1"


def test_magics_are_stripped(tmp_path: Path):
    """Are line magics, shell escapes and help lines neutralised, cell magics dropped?"""
    source = "%matplotlib inline\n!pip install scipy\nnp.pad?\n" + CONV2D + "    files = !ls\n"
    path = released(
        tmp_path / "a.ipynb", ("conv2d", source), ("timing", "%%timeit\nconv2d(1, 2, 1, 'SAME')")
    )
    sub = read_submission(path)
    assert sub.cells == ["conv2d"]
    assert "pass  # removed: %matplotlib inline" in sub.code
    assert "pass  # removed: !pip install scipy" in sub.code
    compile(sub.code, "x", "exec")
    assert sub.code.splitlines()[3] == CONV2D.splitlines()[0]  # line numbers kept
    assert any("%%timeit cell magic" in p for p in sub.problems)


def test_missing_and_reordered_cells_are_reported(tmp_path: Path):
    """Are a deleted solution cell and swapped cells each named in a problem?"""
    missing = read_submission(
        released(tmp_path / "m.ipynb", ("conv2d", CONV2D)), expected_cells=EXPECTED
    )
    assert any("cell 'pad_same' is missing — did you delete it?" in p for p in missing.problems)
    swapped = read_submission(
        released(tmp_path / "s.ipynb", ("conv2d", CONV2D), ("pad_same", HELPER)),
        expected_cells=EXPECTED,
    )
    assert swapped.cells == ["conv2d", "pad_same"]
    assert any("out of order: expected pad_same, conv2d" in p for p in swapped.problems)


def test_no_metadata_falls_back_to_code_cells(tmp_path: Path):
    """Without nbgrader metadata, are all non-test code cells taken and the fallback noted?"""
    path = write_notebook(
        tmp_path / "copied.ipynb",
        [code_cell("import numpy as np"), code_cell(CONV2D), code_cell("check_conv2d(conv2d)")],
    )
    sub = read_submission(path)
    assert sub.code == "import numpy as np\n\n" + CONV2D
    assert any("no nbgrader cell information" in p for p in sub.problems)


def test_syntax_error_line_in_cell(tmp_path: Path):
    """Does a notebook syntax error name the cell and the line inside it?"""
    path = released(tmp_path / "a.ipynb", ("pad_same", HELPER), ("conv2d", "def conv2d(:\n"))
    sub = read_submission(path)
    assert sub.problems == ["cell 'conv2d', line 1: SyntaxError: invalid syntax"]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.py", b"", "the file is empty"),
        ("blank.ipynb", b"  \n", "the file is empty"),
        ("bad.ipynb", b'{"cells": [', "not valid JSON (line 1, column 12"),
        ("list.ipynb", b"[1, 2, 3]", "not a Jupyter notebook"),
        ("dict.ipynb", b'{"hello": "world"}', "not a Jupyter notebook"),
        ("latin1.py", b"x = '\xe9'\n", "not valid UTF-8 (first bad byte at offset 5)"),
        ("syntax.py", b"import numpy as np\n\ndef conv2d(x:\n", "line 3: SyntaxError"),
        ("nul.py", b"x = 1\x00\n", "cannot be compiled"),
    ],
    ids=["empty", "blank", "invalid-json", "json-list", "json-dict", "non-utf8", "syntax", "nul"],
)
def test_broken_files_become_problems(tmp_path: Path, name: str, data: bytes, expected: str):
    """Does each kind of broken file give a clear problem instead of an exception?"""
    path = tmp_path / name
    path.write_bytes(data)
    sub = read_submission(path)
    assert any(expected in p for p in sub.problems), sub.problems


def test_non_utf8_code_is_kept(tmp_path: Path):
    """Is a non-UTF-8 file still graded, with replacement characters, rather than refused?"""
    path = tmp_path / "latin1.py"
    path.write_bytes(b"# caf\xe9\n" + CONV2D.encode())
    sub = read_submission(path)
    assert CONV2D in sub.code and "\N{REPLACEMENT CHARACTER}" in sub.code


def test_invalid_notebook_schema_is_lenient(tmp_path: Path):
    """Is a notebook failing nbformat validation still read, with the error noted?"""
    path = released(tmp_path / "a.ipynb", ("conv2d", CONV2D))
    text = path.read_text().replace('"execution_count": null', '"execution_count": "one"', 1)
    path.write_text(text)
    sub = read_submission(path)
    assert sub.cells == ["conv2d"] and any("format errors" in p for p in sub.problems)


def test_huge_file_is_refused(tmp_path: Path):
    """Is a file over the size limit refused without being read?"""
    path = tmp_path / "huge.py"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    sub = read_submission(path)
    assert sub.code == "" and "limit" in sub.problems[0]


def test_nbgrader_tree_gives_student_ids(tmp_path: Path):
    """Are submitted/<student>/<lab>/ files found for that lab only, named by student folder?"""
    root = tmp_path / "submitted"
    for student in ("bob", "alice"):
        released(root / student / "02_conv" / "conv.ipynb", ("conv2d", CONV2D))
        released(root / student / "01_intro" / "intro.ipynb", ("conv2d", CONV2D))
    released(root / "alice" / "02_conv" / ".ipynb_checkpoints" / "conv-checkpoint.ipynb")
    (root / "alice" / "02_conv" / ".hidden.py").write_text(CONV2D)
    found = find_submissions([root, root / "bob"], lab="02_conv")
    assert [student_id(p, lab="02_conv") for p in found] == ["alice", "bob"]
    assert read_submission(found[0], lab="02_conv").student == "alice"


def test_files_and_folders_are_found_sorted_and_unique(tmp_path: Path):
    """Are loose files and folders of .py/.ipynb found once each, sorted, others ignored?"""
    (tmp_path / "b.py").write_text(CONV2D)
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("not code")
    found = find_submissions([tmp_path, tmp_path / "b.py"])
    assert [p.name for p in found] == ["a.ipynb", "b.py"]
    assert student_id(found[1]) == "b"


# ----------------------------------------------------------------------------------------------
# Honest code: the answer cells and every cell the student added, not the release's own cells

LAB03 = get_lab("03_filter_banks")
#: A lab 03 notebook as a student leaves it: helpers `_out_size` and `_pad` in a cell added above
#: conv2d's, `_window_row` in one above conv_matrix's, a demo on the lecture's image added after
#: the release cell that defines it (it raises in the grader, which runs no release cell), their
#: own `check(...)` call, and a markdown note. Full marks, everywhere.
ADDED = Path(__file__).parent / "submissions" / "added_cells" / f"{LAB03.id}.ipynb"
ADDED_NAMES = [
    'your added cell 1 ("def _out_size(n, f, s, mode):")',
    "conv2d",
    'your added cell 2 ("# my own check on the lecture\'s 4x4 e...")',
    'your added cell 3 ("def _window_row(kernel, in_h, in_w, y...")',
    "conv_matrix",
    "my_dense_weights",
    "my_conv_weights",
]


def test_release_snapshot_is_current():
    """Does the grader's record of each release match labs/ (else: python -m
    autograder.release_cells)?"""
    assert release_cells.RELEASES == release_cells.current(), (
        "labs/ changed: run `python -m autograder.release_cells` and commit the result"
    )
    assert set(release_cells.RELEASES) == set(LABS)


def test_added_cells_are_graded_in_notebook_order():
    """Are the added code cells taken with the answers, in order, and no release cell?"""
    sub = read_submission(ADDED, lab=LAB03.id, expected_cells=LAB03.solution_cells)
    assert (sub.cells, sub.problems) == (ADDED_NAMES, [])
    assert "def _pad(x, pad_h, pad_w):" in sub.code and "def _window_row(" in sub.code
    assert "lecture_image = np.array" not in sub.code  # the release's demo cell
    assert 'check(conv2d, "conv2d", "batch")' not in sub.code  # the student's own check
    assert "load_mnist" not in sub.code and "import matplotlib" not in sub.code
    pad = sub.code.splitlines().index("def _pad(x, pad_h, pad_w):") + 1
    assert sub.where(pad + 1) == f"{ADDED_NAMES[0]}, line 10"


def _release03(tmp_path: Path, edit) -> Submission:
    nb = student_notebook(LAB03.id, solution_answers(LAB03.id))
    edit(nb.cells)
    path = tmp_path / f"{LAB03.id}.ipynb"
    nbformat.write(nb, path)
    return read_submission(path, lab=LAB03.id, expected_cells=LAB03.solution_cells)


def _given(cells, start: str):
    return next(c for c in cells if c.cell_type == "code" and c.source.startswith(start))


def test_release_cells_are_told_apart(tmp_path: Path):
    """Release cells whose id was lost or whose code was edited stay the release's; a cell of
    an unknown grade_id, and an answer cell nbgrader's DeduplicateIds stripped, are graded."""

    def edit(cells):
        _given(cells, "lecture_image = np.array(").id = "0a1b2c3d"  # id lost, code as released
        _given(cells, "bank_names = [").source += "\nprint(bank_names)"  # edited, id kept
        answer = next(c for c in cells if classroom.grade_id(c) == "conv_matrix")
        del answer.metadata["nbgrader"]  # the earlier of two copies, after DeduplicateIds
        foreign = nbformat.v4.new_code_cell("def _from_lab_02():\n    return 2")
        foreign.metadata["nbgrader"] = {"grade_id": "zero_pad", "locked": True, "grade": False}
        pasted_test = nbformat.v4.new_code_cell('check(conv2d, "conv2d", "batch")')
        pasted_test.metadata["nbgrader"] = {"grade_id": "test_conv2d_batch", "grade": True}
        empty = nbformat.v4.new_code_cell("  \n")
        own_check = nbformat.v4.new_code_cell("from autograder.notebook import check\ncheck(x)")
        checker = nbformat.v4.new_code_cell("def check_shape(x):\n    return x\n\ncheck_shape(1)")
        cells[1:1] = [foreign, pasted_test, empty, nbformat.v4.new_markdown_cell("notes")]
        cells[1:1] = [own_check, checker]

    sub = _release03(tmp_path, edit)
    assert sub.cells == [
        'your added cell 1 ("def check_shape(x):")',
        'your added cell 2 ("def _from_lab_02():")',
        *LAB03.solution_cells,
    ]
    assert "print(bank_names)" not in sub.code and "lecture_image" not in sub.code
    assert sub.problems == []


def test_without_a_release_record_only_answer_cells_are_graded(tmp_path: Path):
    """For a lab the grader has no release of, is a cell without metadata left out (as ever)?"""
    path = released(tmp_path / "a.ipynb", ("conv2d", CONV2D))
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(HELPER))
    nbformat.write(notebook, path)
    assert read_submission(path, lab="99_unknown").cells == ["conv2d"]


@pytest.mark.slow
def test_added_helper_cells_earn_full_marks():
    """Does the added-cells notebook get every point, its raising demo costing nothing?"""
    report = grade_submission(ADDED, LAB03, student="hal")
    assert report.score == LAB03.max_score, [t.output for t in report.tests if not t.passed]
    (problem,) = report.problems
    assert problem.startswith("Running your code's top level: NameError: name 'lecture_image'")
    assert f"{ADDED_NAMES[2]}, line 2, in <module>" in problem


@pytest.mark.slow
def test_added_helper_cells_earn_full_marks_in_the_cli(tmp_path: Path, capsys):
    """Do `check` and `grade` give the added-cells notebook every point?"""
    assert main(["check", str(ADDED)]) == 1  # the raising demo is reported, points all given
    assert "Visible tests: 22 / 22 points." in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["grade", "--lab", LAB03.id, "--out", str(out), str(ADDED)]) == 0
    assert json.loads((out / "added_cells.json").read_text())["score"] == LAB03.max_score


@pytest.mark.slow
def test_added_helper_cells_earn_full_marks_on_gradescope(tmp_path: Path):
    """Does Gradescope's entry point give the added-cells notebook every point?"""
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / ADDED.name).write_bytes(ADDED.read_bytes())
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"users": [{"email": "hal@example.edu", "id": 9}]}))
    results = tmp_path / "results.json"
    assert gradescope.run(LAB03.id, upload, meta, results) == 0
    assert json.loads(results.read_text())["score"] == LAB03.max_score


@pytest.mark.slow
def test_an_added_library_comparison_costs_nothing_but_using_it_is_caught(tmp_path: Path):
    """An added cell comparing with tf.nn.conv2d is honest; conv2d calling it is caught."""
    answers = solution_answers(LAB03.id)
    comparison = (
        "import tensorflow as tf\n\nx, k = np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1))\n"
        "print(np.allclose(conv2d(x, k, 1, 'SAME'), tf.nn.conv2d(x, k, 1, 'SAME')))"
    )
    cheat = "import tensorflow as tf\n\ndef _lib(x, k, s, p):\n    return tf.nn.conv2d(x, k, s, p)"
    points = {}
    for name, added, conv2d in (
        ("honest", comparison, answers["conv2d"]),
        ("cheat", cheat, "def conv2d(inputs, filters, strides, padding):\n    return _lib("
         "inputs, filters, strides, padding.upper()).numpy()"),
    ):  # fmt: skip
        nb = student_notebook(LAB03.id, {**answers, "conv2d": conv2d})
        at = next(i for i, c in enumerate(nb.cells) if classroom.grade_id(c) == "conv_matrix")
        nb.cells.insert(at, nbformat.v4.new_code_cell(added))  # after conv2d's cell
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        report = grade_submission(path, LAB03, hidden=False)
        points[name] = sum(t.score for t in report.tests if t.function == "conv2d")
        if name == "cheat":
            assert "Forbidden: tensorflow.nn.conv2d" in report.tests[0].output
    assert points == {"honest": 18, "cheat": 0}


@pytest.mark.slow
def test_added_helper_cells_earn_full_marks_under_nbgrader(tmp_path: Path):
    """Under nbgrader autograde, do the added cells run in the kernel (the demo prints there)
    and count in the sandboxed grade (full marks)?"""
    course = classroom.make_course(tmp_path / "course", LAB03.id)
    notebook = nbformat.read(ADDED, as_version=4)
    # a release cell the student edited keeps its id through nbgrader: never graded code
    _given(notebook.cells, "bank_names = [").source += "\nprint(edited_release_cell)"
    classroom.submit(course, LAB03.id, "hal", notebook)
    for args in (("autograde", LAB03.id), ("export",)):
        done = classroom.nbgrader(course, *args)
        assert done.returncode == 0, done.stderr[-3000:]
    with open(course / "grades.csv") as f:
        (row,) = csv.DictReader(f)
    assert (row["student_id"], float(row["score"])) == ("hal", LAB03.max_score)
    graded = nbformat.read(course / "autograded" / "hal" / LAB03.id / ADDED.name, as_version=4)
    demo = next(c for c in graded.cells if c.source.startswith("# my own check"))
    assert [o.get("name") for o in demo.outputs] == ["stdout"]  # ran in the kernel, no error
    verdicts = json.dumps([c.outputs for c in graded.cells if classroom.grade_id(c)])
    assert "lecture_image" in verdicts and "edited_release_cell" not in verdicts
