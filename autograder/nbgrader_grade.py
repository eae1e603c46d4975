"""nbgrader autograde with the grade of record computed outside the student's kernel."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode

#: Environment variables a student's kernel never sees: the course secret, credentials, pytest's.
_SCRUBBED = re.compile(r"SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL|^CONVLAB_|^PYTEST_", re.I)
#: Where a test cell's verdict says who computed it.
GRADED_BY = "(graded outside your notebook by the course's sandboxed grader)"


def kernel_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` without the course secret, its file, credentials and pytest's variables."""
    return {k: v for k, v in env.items() if not _SCRUBBED.search(k)}


class ScrubbedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start without the course secret in their environment.

    nbgrader's Execute preprocessor starts the student's kernel with nbgrader's own environment,
    which holds CONVLAB_COURSE_SECRET when the TA set it; a solution cell could print it into the
    feedback. Configured in nbgrader_config.py as `c.Execute.kernel_manager_class`.
    """

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["env"] = kernel_environment(dict(kw.get("env") or os.environ))
        await super()._async_launch_kernel(kernel_cmd, **kw)


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_test_cell(cell: NotebookNode) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _source_only(nb: NotebookNode) -> NotebookNode:
    """The notebook as submitted for grading: sources and metadata, no outputs."""
    copy = nbformat.from_dict(nb)
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return copy


def verdict_outputs(text: str, score: float) -> list[NotebookNode]:
    """A test cell's outputs: the report on stdout, the points as its value (nbgrader's partial
    credit), nothing on stderr."""
    return [
        nbformat.v4.new_output("stream", name="stdout", text=text.rstrip("\n") + "\n"),
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": repr(float(score))}, execution_count=None
        ),
    ]


class GradeOutsideKernel(Preprocessor):
    """Overwrite every graded test cell with the verdict of `grade_submission` on this notebook.

    Runs in nbgrader's (trusted) process after Execute and before SaveAutoGrades. The student's
    answer cells are graded by the same sandboxed grader as `python -m autograder grade`, with the
    student's hidden seed; whatever the kernel printed or returned in a test cell is discarded, so
    nothing a kernel does changes a score, and a hidden test's cases never come from the kernel.
    Labs the registry does not know are left as nbgrader graded them.
    """

    enabled = True

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        from .grade import grade_submission
        from .registry import LABS

        info = resources.get("nbgrader", {})
        lab = LABS.get(str(info.get("assignment", "")))
        if lab is None:
            return nb, resources
        student = str(info.get("student") or "local")
        with tempfile.TemporaryDirectory(prefix="convlab-nbgrader-") as tmp:
            path = Path(tmp) / f"{lab.id}.ipynb"
            nbformat.write(_source_only(nb), path)
            report = grade_submission(path, lab, student=student)
        verdicts = {f"test_{t.function}_{t.suite}": t for t in report.tests}
        problems = "".join(f"{p}\n" for p in report.problems)
        for cell in nb.cells:
            if not _is_test_cell(cell):
                continue
            result = verdicts.get(_grade_id(cell) or "")
            if result is None:
                text, score = f"✘ {_grade_id(cell)}: not a test the course's grader knows.", 0.0
            else:
                text, score = result.output, result.score
            cell.outputs = verdict_outputs(f"{problems}{text}\n{GRADED_BY}", score)
            problems = ""  # said once, in the first test cell
        return nb, resources
