"""Tests for autograder.submission: reading notebooks and .py files into code to grade."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.submission import (
    MAX_FILE_BYTES,
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
