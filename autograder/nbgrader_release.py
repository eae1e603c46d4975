"""nbgrader's release step for this course: prediction answer cells keep their `my_... = None`.

nbgrader replaces every solution region with its global code stub (`# YOUR CODE HERE` and
`raise NotImplementedError()`). Inside a function that is harmless until the function is called;
at the top level of a prediction's answer cell it raises at once, and "Run All" stops there. For
the answer cell of a graded prediction (its grade_id is a `prediction=True` item of the
registry) the solution region is removed instead, so the released cell is only the line before
it, `my_x = None  # your prediction: ...`: the student replaces None, and until then the locked
cell after it says "No prediction yet" (0 points). Every other solution cell gets the usual stub.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import ClearSolutions

from .registry import LABS

#: grade_ids of the answer cells of graded predictions, in every lab.
PREDICTION_CELLS: frozenset[str] = frozenset(
    item.function for lab in LABS.values() for item in lab.items if item.prediction
)


def is_prediction_cell(cell: Any) -> bool:
    """Is this the answer cell of a registered graded prediction?"""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return (
        cell.get("cell_type") == "code"
        and bool(meta.get("solution"))
        and meta.get("grade_id") in PREDICTION_CELLS
    )


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
