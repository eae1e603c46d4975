"""The release step's test cells: written from each Exercise's declaration, nothing else."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from autograder.exercise import Test as Graded
from autograder.nbgrader_release import (
    MAX_TEST_CELL_LINES,
    UndeclaredTestCell,
    declared_test_cells,
    locked_cell_source,
    write_source_notebook,
    write_test_cells,
)
from autograder.registry import LABS, get_lab

ROOT = Path(__file__).resolve().parents[1]
LAB_IDS = sorted(LABS)


def _cells(lab_id: str) -> list[dict]:
    return json.loads((ROOT / "solutions" / lab_id / f"{lab_id}.ipynb").read_text())["cells"]


def _gid(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


@pytest.mark.parametrize("lab_id", LAB_IDS)
def test_solutions_hold_exactly_the_declared_test_cells(lab_id: str) -> None:
    """Is every locked test cell in solutions/ exactly what the declaration writes (source,
    points, grade_id), and is every declared test there?"""
    cells = _cells(lab_id)
    assert write_test_cells(copy.deepcopy(cells), get_lab(lab_id)) == cells
    tests = {_gid(c) for c in cells if c["metadata"].get("nbgrader", {}).get("grade")}
    assert tests == set(declared_test_cells(get_lab(lab_id)))


def test_a_test_cell_no_exercise_declares_stops_the_release() -> None:
    """Does a stale test cell (a suite no exercise declares) stop the release, naming it?"""
    cells = _cells("03_filter_banks")
    stale = copy.deepcopy(next(c for c in cells if _gid(c) == "test_conv2d_batch"))
    stale["metadata"]["nbgrader"]["grade_id"] = "test_conv2d_old_suite"
    with pytest.raises(UndeclaredTestCell, match="test_conv2d_old_suite"):
        write_test_cells([*cells, stale], get_lab("03_filter_banks"))


def test_a_changed_declaration_rewrites_its_cell_in_place() -> None:
    """Points and text of a test cell follow the declaration; the cell stays where it was."""
    lab = get_lab("02_stride_padding")
    cells = _cells(lab.id)
    at = next(k for k, c in enumerate(cells) if _gid(c) == "test_zero_pad_zero_pad")
    edited = copy.deepcopy(cells)
    edited[at]["metadata"]["nbgrader"]["points"] = 7
    edited[at]["source"] = ["check(zero_pad)"]
    out = write_test_cells(edited, lab)
    assert out == cells
    others = [
        (a, b) for a, b in zip(out, edited, strict=True) if not (_gid(b) or "").startswith("test_")
    ]
    assert others and all(a is b for a, b in others)  # every other cell: the very same object


def test_missing_test_cells_are_added_after_the_answer_cell() -> None:
    """With an item's test cells gone, are they written back after its answer cell, in the
    declared order, hidden one with nbgrader's markers?"""
    lab = get_lab("03_filter_banks")
    cells = [c for c in _cells(lab.id) if not (_gid(c) or "").startswith("test_conv_matrix_")]
    out = write_test_cells(cells, lab)
    gids = [_gid(c) for c in out]
    at = gids.index("conv_matrix")
    assert gids[at + 1 : at + 3] == ["test_conv_matrix_conv_matrix", "test_conv_matrix_hidden"]
    hidden = "".join(out[at + 2]["source"])
    assert hidden.splitlines()[1:] == [
        "### BEGIN HIDDEN TESTS",
        'check_hidden(conv_matrix, "conv_matrix")',
        "### END HIDDEN TESTS",
    ]
    assert out[at + 2]["metadata"]["nbgrader"] == {
        "grade": True, "grade_id": "test_conv_matrix_hidden", "locked": True, "points": 1,
        "schema_version": 3, "solution": False,
    }  # fmt: skip


def test_the_cell_rules_live_in_the_generator() -> None:
    """Is a test cell that would paste arrays, or run long, refused when it is written?"""
    item = get_lab("03_filter_banks").item("conv2d")
    with pytest.raises(ValueError, match="short call"):
        locked_cell_source(item, Graded("x", 1, about="{function} against np.array([1, 2])"))
    long = "\n".join(["line"] * MAX_TEST_CELL_LINES)
    with pytest.raises(ValueError, match="short call"):
        locked_cell_source(item, Graded("hidden", 1, hidden=True, about=long))


def test_rewriting_a_source_notebook_touches_only_its_test_cells(tmp_path: Path) -> None:
    """Writing the test cells into a source notebook: is every other line of the file kept,
    key order included (lab 01 has cells whose keys are not in nbformat's sorted order)?"""
    lab_id = "01_convolution_by_hand"
    path = tmp_path / f"{lab_id}.ipynb"
    shutil.copy(ROOT / "solutions" / lab_id / path.name, path)
    original = path.read_text()
    assert write_source_notebook(path) is False and path.read_text() == original
    nb = json.loads(original)
    cell = next(c for c in nb["cells"] if _gid(c) == "test_apply_kernel_apply_kernel")
    cell["source"] = ["check(apply_kernel)"]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    assert write_source_notebook(path) is True
    assert path.read_text() == original
