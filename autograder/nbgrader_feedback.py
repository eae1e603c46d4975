"""nbgrader feedback without hidden tests: neither their source nor their tracebacks."""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"


class ClearHiddenTracebacks(Preprocessor):
    """Replace the traceback of a failed hidden-test cell with its last line.

    nbgrader's ClearHiddenTests removes the hidden lines from the cell's source, but a traceback
    quotes them again (e.g. `check_hidden(conv2d, "conv2d")` under a NameError). Run this first.
    """

    # nbconvert runs a preprocessor registered by class only when it is enabled.
    enabled = True

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "code" and BEGIN_HIDDEN in cell.source:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [
                        f"{output.ename}: {output.evalue} (in a hidden test; details withheld)"
                    ]
        return cell, resources
