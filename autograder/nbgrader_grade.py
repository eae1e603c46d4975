"""nbgrader autograde with the grade of record computed outside the student's kernel."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from .classroom import grade_id
from .safe_text import printable

#: Environment variables a student's kernel never sees: the course secret, credentials, pytest's.
_SCRUBBED = re.compile(r"SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL|^CONVLAB_|^PYTEST_", re.I)
#: Where a test cell's verdict says who computed it.
GRADED_BY = "(graded outside your notebook by the course's sandboxed grader)"


def kernel_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` without the course secret, its file, credentials and pytest's variables."""
    return {k: v for k, v in env.items() if not _SCRUBBED.search(k)}


def kernel_sandbox(kernel_cmd: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """`kernel_cmd` wrapped in bubblewrap: the course folder hidden but for the notebook's own.

    nbgrader runs the kernel in `<course>/autograded/<student>/<lab>/`. Inside, the whole file
    system is read-only; the course folder (gradebook, source, other students' submissions and
    results) is an empty tmpfs except this notebook's folder; the course secret's file and the
    reference cache are hidden; /tmp is private; PID, IPC and UTS namespaces are new and the
    kernel dies with nbgrader. The network namespace is shared: the kernel talks to nbgrader over
    ZMQ on loopback.
    """
    from .sandbox import bubblewrap_works

    bwrap = shutil.which("bwrap")
    if bwrap is None or not bubblewrap_works():
        return kernel_cmd
    here = cwd.resolve()
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    if here.parent.parent.name == "autograded":  # nbgrader's layout: hide the course folder
        args += ["--tmpfs", str(here.parents[2])]
    args += ["--bind", str(here), str(here)]
    if "-f" in kernel_cmd[:-1]:  # the connection file, often in the /tmp just made private
        connection = str(Path(kernel_cmd[kernel_cmd.index("-f") + 1]).resolve())
        args += ["--ro-bind", connection, connection]
    for hidden in _hidden_paths(env):
        args += (
            ["--tmpfs", str(hidden)] if hidden.is_dir() else ["--ro-bind", "/dev/null", str(hidden)]
        )
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
    args += ["--chdir", str(here), "--setenv", "IPYTHONDIR", "/tmp/ipython"]
    args += ["--setenv", "MPLCONFIGDIR", "/tmp/matplotlib"]
    # In its own PID namespace the kernel's parent is pid 1, which ipykernel's parent poller takes
    # for "nbgrader exited" (jupyter_client sets JPY_PARENT_PID); --die-with-parent does its job.
    args += ["--unsetenv", "JPY_PARENT_PID"]
    return [*args, *kernel_cmd]


def _hidden_paths(env: dict[str, str]) -> list[Path]:
    """The secret's file and the reference cache, wherever the TA's environment puts them."""
    paths = []
    for var in ("CONVLAB_COURSE_SECRET_FILE", "CONVLAB_CACHE_DIR"):
        if env.get(var):
            paths.append(Path(env[var]))
    paths.append(Path.home() / ".cache" / "convlab")
    return [p.resolve() for p in paths if p.exists()]


class ScrubbedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels cannot reach the course secret, gradebook or classmates.

    nbgrader's Execute preprocessor starts the student's kernel with nbgrader's own environment,
    which holds CONVLAB_COURSE_SECRET when the TA set it, and with the TA's file system, which
    holds the gradebook. This manager starts it without secrets in its environment and, where
    bubblewrap works, inside `kernel_sandbox`. Configured in nbgrader_config.py as
    `c.Execute.kernel_manager_class`.
    """

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        env = dict(kw.get("env") or os.environ)
        kw["env"] = kernel_environment(env)
        cwd = Path(kw.get("cwd") or os.getcwd())
        await super()._async_launch_kernel(kernel_sandbox(kernel_cmd, cwd, env), **kw)


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
    credit), nothing on stderr. The report is plain text with every control character escaped:
    no ANSI colour or cursor code reaches nbgrader's feedback (which renders a stream's text as
    escaped HTML, colours and all) or a terminal."""
    return [
        nbformat.v4.new_output("stream", name="stdout", text=printable(text).rstrip("\n") + "\n"),
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": repr(float(score))}, execution_count=None
        ),
    ]


class ExecuteAnswersOnly(Execute):
    """nbgrader's Execute without the graded test cells, and without giving up on a notebook.

    Their outputs and points come from `GradeOutsideKernel`, so running them in the student's
    kernel would only spend time (a second grading, TensorFlow included) and let a function that
    never returns hang the kernel there. Every other cell runs as usual, until a cell kills the
    kernel or keeps it busy past the timeout and its interrupt: nbgrader would then drop the whole
    notebook and the student would get no grade. Here that cell says what happened, the cells
    after it are not run (each says why), and grading goes on outside the kernel as for everyone.
    """

    def preprocess(
        self, nb: NotebookNode, resources: Any = None, km: Any = None
    ) -> tuple[NotebookNode, dict[str, Any]]:
        self._stopped_by: str | None = (
            None  # the cell that stopped the kernel, as a student says it
        )
        return super().preprocess(nb, resources, km)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if _is_test_cell(cell):
            return cell, resources
        if self._stopped_by is not None:
            if cell.cell_type == "code":
                cell.outputs = [_kernel_note(f"Not run: {self._stopped_by} stopped the kernel.")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as error:
            gid = grade_id(cell)
            self._stopped_by = f"your cell {gid!r}" if gid else "an earlier cell (it says so)"
            what = (
                "killed the kernel"
                if isinstance(error, DeadKernelError)
                else (
                    f"was still running {self.timeout} s after it started and did not stop when "
                    "interrupted"
                )
            )
            cell.outputs = [
                *cell.get("outputs", []),
                _kernel_note(f"This cell {what}; the cells after it were not run."),
            ]
            return cell, resources


def _kernel_note(text: str) -> NotebookNode:
    """A cell's output explaining why the notebook stopped running (grading is unaffected)."""
    return nbformat.v4.new_output(
        "stream",
        name="stdout",
        text=f"{text} (Your functions are graded outside this notebook all the same.)\n",
    )


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
            result = verdicts.get(grade_id(cell) or "")
            if result is None:
                text, score = f"✘ {grade_id(cell)}: not a test the course's grader knows.", 0.0
            else:
                text, score = result.output, result.score
            cell.outputs = verdict_outputs(f"{problems}{text}\n{GRADED_BY}", score)
            problems = ""  # said once, in the first test cell
        return nb, resources
