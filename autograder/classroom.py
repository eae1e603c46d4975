"""Synthetic classes for dry runs: student notebooks from the release, and an nbgrader course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_answers(lab_id: str, *, root: Path = ROOT) -> dict[str, str]:
    """grade_id -> the reference answer of each solution cell, markers removed (as a student
    who wrote exactly the solution would have it)."""
    nb = nbformat.read(root / "solutions" / lab_id / f"{lab_id}.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [ln for ln in cell.source.splitlines() if ln.strip() not in MARKERS]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def student_notebook(lab_id: str, answers: Mapping[str, str], *, root: Path = ROOT) -> NotebookNode:
    """The released notebook with the given solution cells answered (others left as stubs)."""
    nb = nbformat.read(root / "labs" / lab_id / f"{lab_id}.ipynb", as_version=4)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[gid]
    return nb


def ta_environment() -> dict[str, str]:
    """os.environ without pytest's variables and without TensorFlow's log and oneDNN settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_")
        and k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")
    }


def nbgrader(
    course: Path, *args: str, timeout: float = 1800, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in `course` (which holds nbgrader_config.py), as a TA would.

    The environment is the TA's shell, not the test runner's: under pytest, kernels would inherit
    PYTEST_CURRENT_TEST and ipykernel would then stop capturing stderr (hiding what costs a
    graded cell its points), and TensorFlow log settings would hide its start-up lines. `env`
    (e.g. the TA's HOME) replaces that environment's variables it names.
    """
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env={**ta_environment(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_course(course: Path, lab_id: str, *, root: Path = ROOT) -> Path:
    """An nbgrader course folder with this repo's config and the lab's source notebook."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(root / "solutions" / lab_id, course / "solutions" / lab_id, dirs_exist_ok=True)
    result = nbgrader(course, "generate_assignment", lab_id, "--force")
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.stderr[-3000:]}")
    return course


def submit(course: Path, lab_id: str, student: str, nb: NotebookNode | str) -> Path:
    """Place a student's notebook (or raw text, for broken files) where nbgrader expects it."""
    path = course / "submitted" / student / lab_id / f"{lab_id}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)
    return path
