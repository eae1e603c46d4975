"""nbgrader's release step for this course: the locked test cells, written from each Exercise's
declaration, and prediction answer cells that keep their `my_... = None`.

Test cells (`WriteTestCells`, first in `generate_assignment`): every graded function of the lab
(autograder/registry.py) gets one locked cell per suite its Exercise declares, grade_id
`test_<function>_<suite>`, worth the declared points, its docstring the suite's `about`:
`check(f, "f", "suite")`, `check_value(my_x, "my_x")` for a graded prediction, and for the
hidden suite a comment and `check_hidden(f, "f")` between nbgrader's hidden-tests markers. A
cell the source already holds is rewritten in place (so the prose around it stays where the
author put it); a missing one is added after the function's answer cell (or after its last test
cell). A test cell the declaration does not produce stops the release (`UndeclaredTestCell`).

Prediction answers (`ClearSolutionsKeepPredictions`): nbgrader replaces every solution region
with its global code stub (`# YOUR CODE HERE` and `raise NotImplementedError()`). Inside a
function that is harmless until the function is called; at the top level of a prediction's
answer cell it raises at once, and "Run All" stops there. For the answer cell of a graded
prediction the solution region is removed instead, so the released cell is only the line before
it, `my_x = None  # your prediction: ...`: the student replaces None, and until then the locked
cell after it says "No prediction yet" (0 points). Every other solution cell gets the usual stub.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

from .exercise import Test
from .registry import LABS, Item, Lab, get_lab

#: Rules for a locked test cell: a short call, no expected values pasted into it.
MAX_TEST_CELL_LINES = 6
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


class UndeclaredTestCell(ValueError):
    """A locked test cell that no Exercise declaration produces (a stale or hand-written one)."""


def prediction_cells() -> frozenset[str]:
    """grade_ids of the answer cells of graded predictions, in every lab."""
    return frozenset(
        item.function for lab in LABS.values() for item in lab.items if item.prediction
    )


#: grade_ids of the answer cells of graded predictions, in every lab.
PREDICTION_CELLS: frozenset[str] = prediction_cells()


def is_prediction_cell(cell: Any) -> bool:
    """Is this the answer cell of a registered graded prediction?"""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (
        cell.get("cell_type") == "code"
        and bool(meta.get("solution"))
        and meta.get("grade_id") in PREDICTION_CELLS
    )


def locked_cell_id(item: Item, test: Test) -> str:
    return f"test_{item.function}_{test.suite}"


def locked_cell_source(item: Item, test: Test) -> str:
    """The locked cell of one declared test (see the module docstring)."""
    fn = item.function
    about = test.about.replace("{function}", fn)
    if test.hidden:
        lines = [f"# {about}", HIDDEN_BEGIN, f'check_hidden({fn}, "{fn}")', HIDDEN_END]
    elif item.prediction:
        lines = [f'"""{about}"""', f'check_value({fn}, "{fn}")']
    else:
        lines = [f'"""{about}"""', f'check({fn}, "{fn}", "{test.suite}")']
    source = "\n".join(lines)
    if len(source.splitlines()) > MAX_TEST_CELL_LINES or "np.array" in source:
        raise ValueError(f"{locked_cell_id(item, test)}: a test cell is a short call, no arrays")
    return source


def locked_cell_metadata(item: Item, test: Test) -> dict[str, Any]:
    """nbgrader's metadata of a locked, graded test cell (keys in nbformat's sorted order)."""
    return {
        "grade": True,
        "grade_id": locked_cell_id(item, test),
        "locked": True,
        "points": test.points,
        "schema_version": 3,
        "solution": False,
    }


def _is_test_cell(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _grade_id(cell: Any) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def declared_test_cells(lab: Lab) -> dict[str, tuple[Item, Test]]:
    """grade_id -> (item, test) of every locked test cell the lab's declarations produce."""
    return {locked_cell_id(i, t): (i, t) for i in lab.items for t in i.tests}


def write_test_cells(
    cells: list[dict[str, Any]], lab: Lab, *, as_lines: bool = True
) -> list[dict[str, Any]]:
    """`cells` with every declared test cell written: the ones present rewritten in place, the
    missing ones added after their function's answer cell or last test cell. Cells that are not
    test cells are returned untouched (the same objects). A written cell's source is a list of
    lines (the .ipynb file's layout) or, `as_lines=False`, one string (nbformat's in memory)."""
    declared = declared_test_cells(lab)
    stray = [g for c in cells if _is_test_cell(c) and (g := _grade_id(c)) not in declared]
    if stray:
        raise UndeclaredTestCell(
            f"lab {lab.id}: test cell(s) {', '.join(map(str, stray))} are not declared by any "
            "exercise of the lab (autograder/exercises/): remove them, or declare the suite"
        )
    out = list(cells)
    ids = {str(c.get("id")) for c in out if c.get("id") is not None}
    for item in lab.items:
        answer = next((k for k, c in enumerate(out) if _grade_id(c) == item.function), None)
        if answer is None:
            raise ValueError(f"lab {lab.id}: no answer cell with grade_id {item.function!r}")
        last = answer
        for test in item.tests:
            gid = locked_cell_id(item, test)
            at = next((k for k, c in enumerate(out) if _grade_id(c) == gid), None)
            if at is None:
                last += 1
                out.insert(last, _new_cell(item, test, ids, as_lines))
                continue
            cell = copy.deepcopy(out[at])
            cell["metadata"]["nbgrader"] = locked_cell_metadata(item, test)
            cell["source"] = _as_stored(locked_cell_source(item, test), as_lines)
            out[at] = cell
            last = max(last, at)
    return out


def _as_stored(source: str, as_lines: bool) -> Any:
    return source.splitlines(keepends=True) if as_lines else source


def _new_cell(item: Item, test: Test, ids: set[str], as_lines: bool) -> dict[str, Any]:
    cell_id = locked_cell_id(item, test).replace("_", "-")
    while cell_id in ids:
        cell_id += "-1"
    ids.add(cell_id)
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": {"nbgrader": locked_cell_metadata(item, test)},
        "outputs": [],
        "source": _as_stored(locked_cell_source(item, test), as_lines),
    }


def write_source_notebook(path: Path, lab: Lab | None = None) -> bool:
    """Write the declared test cells into a source notebook (solutions/<lab>/<lab>.ipynb), key
    order and layout of every other cell untouched; True when the file changed."""
    raw = path.read_text()
    nb = json.loads(raw)
    nb["cells"] = write_test_cells(nb["cells"], lab or get_lab(path.stem))
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if text != raw:
        path.write_text(text)
    return text != raw


class WriteTestCells(NbGraderPreprocessor):
    """The release's locked test cells, from each Exercise's declaration (see the module)."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        import nbformat

        info = resources.get("nbgrader", {})
        lab_id = next(
            (v for v in (info.get("notebook"), info.get("assignment")) if v in LABS), None
        )
        if lab_id is None:
            return nb, resources  # a notebook of no registered lab: as nbgrader has it
        cells = write_test_cells([dict(c) for c in nb.cells], get_lab(lab_id), as_lines=False)
        nb.cells = [nbformat.from_dict(c) for c in cells]
        return nb, resources


class ClearSolutionsKeepPredictions(ClearSolutions):
    """ClearSolutions, but a prediction's answer cell loses its solution region without a stub."""

    def _replace_solution_region(self, cell: Any, language: str) -> bool:
        if not is_prediction_cell(cell):
            return super()._replace_solution_region(cell, language)
        stubs = self.code_stub
        self.code_stub = {**stubs, language: ""}
        try:
            replaced = super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = stubs
        if replaced:
            cell.source = "\n".join(ln.rstrip() for ln in cell.source.split("\n")).strip("\n")
        return replaced


if __name__ == "__main__":  # python -m autograder.nbgrader_release solutions/<lab>/<lab>.ipynb...
    import sys

    for arg in sys.argv[1:]:
        changed = write_source_notebook(Path(arg))
        print(f"{arg}: {'test cells written' if changed else 'already as declared'}")
