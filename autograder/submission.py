"""Reads a student's submission (.ipynb or .py) into the code to grade, never raising."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

#: Larger files are refused unread: a lab notebook without outputs is a few tens of kB.
MAX_FILE_BYTES = 5 * 1024**2
SUFFIXES = (".ipynb", ".py")
SKIPPED_DIRS = (".ipynb_checkpoints", "__pycache__")
#: Without nbgrader metadata, cells that call the grader's checks are tests, not answers.
TEST_CELL_PATTERN = re.compile(r"^\s*(from\s+autograder|import\s+autograder|check_\w+\()", re.M)
LINE_MAGIC = re.compile(r"^(\s*)(%|!|\w+\s*=\s*[!%])")
HELP_LINE = re.compile(r"^(\s*)[\w.]+\?{1,2}\s*$")
MAX_PROBLEM_CHARS = 300
#: Student ids become file names and spreadsheet cells: these characters only, this long at most.
ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")
MAX_ID_CHARS = 64
ID_HASH_CHARS = 8


@dataclass
class Submission:
    """A student's code as it will be run, with what was wrong reading it."""

    student: str
    path: Path
    code: str
    problems: list[str]
    kind: str  # "ipynb" | "py"
    cells: list[str]  # grade_ids of the solution cells taken, in notebook order
    cell_starts: list[int] = field(default_factory=list)  # 1-based line of each cell in `code`

    def cell_of(self, line: int) -> str | None:
        """grade_id of the cell holding `line` of `code`; None for a .py file."""
        for index in range(len(self.cell_starts) - 1, -1, -1):
            if line >= self.cell_starts[index]:
                return self.cells[index]
        return None

    def where(self, line: int) -> str:
        """`line` of `code` as the student sees it: "cell 'conv2d', line 3" or "line 3"."""
        for index in range(len(self.cell_starts) - 1, -1, -1):
            if line >= self.cell_starts[index]:
                return f"cell {self.cells[index]!r}, line {line - self.cell_starts[index] + 1}"
        return f"line {line}"


def safe_id(raw: str) -> str:
    """`raw` as a student id that is a safe file name and spreadsheet cell.

    Letters, digits and `_ . @ -` only, not starting with `. @ -`, at most 64 characters. A name
    that had to change gets a short hash of the original, so two different names never collide.
    """
    cleaned = ID_UNSAFE.sub("_", raw)
    cleaned = re.sub(r"^[.@-]+", lambda m: "_" * len(m.group()), cleaned)
    if cleaned == raw and 0 < len(cleaned) <= MAX_ID_CHARS:
        return cleaned
    digest = hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:ID_HASH_CHARS]
    keep = cleaned[: MAX_ID_CHARS - ID_HASH_CHARS - 1]
    return f"{keep}-{digest}" if keep else f"student-{digest}"


def student_id(path: Path, *, lab: str | None = None) -> str:
    """The nbgrader student folder for submitted/<student>/<lab>/<file>, else the file stem.

    Always made safe by `safe_id` (characters, length).
    """
    parts = path.parts
    if len(parts) >= 4 and parts[-4] == "submitted" and (lab is None or parts[-2] == lab):
        return safe_id(parts[-3])
    return safe_id(path.stem)


def find_submissions(paths: list[Path], *, lab: str | None = None) -> list[Path]:
    """Submission files in `paths` (files, folders, nbgrader submitted/ trees), sorted, unique.

    Symbolic links are listed too (never followed: `read_submission` refuses them with a
    message), so a link to a classmate's file can never stand in for, or hide, that classmate.
    """
    found: dict[str, Path] = {}
    for path in paths:
        single = path.is_symlink() or path.is_file()
        candidates = [path] if single else sorted(path.rglob("*")) if path.is_dir() else []
        for candidate in candidates:
            relative = candidate.relative_to(path).parts if candidate != path else ()
            if candidate.suffix not in SUFFIXES:
                continue
            if not (candidate.is_symlink() or candidate.is_file()):
                continue
            if any(p.startswith(".") or p in SKIPPED_DIRS for p in (*relative, candidate.name)):
                continue
            if lab is not None and "submitted" in candidate.parts and candidate.parent.name != lab:
                continue  # another lab's folder in the same nbgrader tree
            found.setdefault(os.path.abspath(candidate), candidate)
    return sorted(found.values())


def _read_regular_file(path: Path, problems: list[str]) -> bytes | None:
    """The bytes of `path` if it is a regular file (never through a symbolic link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            problems.append(
                _clip(
                    f"this submission is a symbolic link (to {target}), not a regular file; it "
                    "was not read — submit your own file"
                )
            )
        else:
            problems.append(f"the file could not be read: {error.strerror or error}")
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            problems.append("this submission is not a regular file; it was not read")
            return None
        if info.st_size > MAX_FILE_BYTES:
            problems.append(
                f"the file is {info.st_size / 1024**2:.1f} MB, over the "
                f"{MAX_FILE_BYTES // 1024**2} MB limit; clear the outputs (Kernel > Restart & "
                "Clear Output) and save again"
            )
            return None
        return f.read(MAX_FILE_BYTES + 1)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM_CHARS else text[:MAX_PROBLEM_CHARS] + " [...]"


def _decode(data: bytes, problems: list[str]) -> str:
    # Decided: never refuse non-UTF-8 outright. Replacement characters in comments or strings
    # are harmless; in code they turn into a precise SyntaxError, which says more than a refusal.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(
            f"the file is not valid UTF-8 (first bad byte at offset {error.start}); unreadable "
            "characters were replaced with \N{REPLACEMENT CHARACTER} — save it as UTF-8"
        )
        return data.decode("utf-8-sig", errors="replace")


def _syntax_problem(code: str, filename: str) -> str | None:
    """A SyntaxError in `code`, found by compiling in the parent (compiling runs nothing)."""
    try:
        compile(code, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        if error.lineno is None:  # e.g. NUL bytes: no line to point at
            return f"the code cannot be compiled: {error.msg}"
        return f"line {error.lineno}: SyntaxError: {error.msg}"
    except ValueError as error:  # e.g. NUL bytes
        return f"the code cannot be compiled: {error}"
    return None


def _strip_magics(source: str, name: str, problems: list[str]) -> str | None:
    """Source with IPython magics and shell escapes made harmless; None to drop the cell."""
    lines = source.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        problems.append(
            f"cell {name}: left out, it is a {first.split()[0]} cell magic that only runs in "
            "Jupyter; put your function in a plain code cell"
        )
        return None
    kept = []
    for line in lines:
        match = LINE_MAGIC.match(line) or HELP_LINE.match(line)
        # `pass` at the same indent keeps line numbers and leaves any enclosing block valid.
        kept.append(f"{match.group(1)}pass  # removed: {line.strip()}" if match else line)
    return "\n".join(kept)


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _read_notebook(text: str, problems: list[str]) -> list[dict] | None:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(
            f"the notebook is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); it may have been cut off or edited as text — download it again "
            "from Jupyter"
        )
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        problems.append("the file is JSON but not a Jupyter notebook (it has no list of cells)")
        return None
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:
        problems.append(_clip(f"the notebook could not be read by nbformat: {error}"))
        return None
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        # Lenient on purpose: a stray metadata field must not cost a student the grade.
        problems.append(
            _clip(f"the notebook has format errors ({error.message}); grading what was readable")
        )
    return [dict(cell) for cell in notebook.cells]


def _take_cells(
    cells: list[dict], expected: tuple[str, ...], problems: list[str]
) -> tuple[list[str], list[str]]:
    """(grade ids, sources) of the solution cells, or of all answer-like cells as a fallback."""
    code_cells = [c for c in cells if c.get("cell_type") == "code"]
    if any(_nbgrader(c) for c in code_cells):
        taken = [c for c in code_cells if _nbgrader(c).get("solution") is True]
        if not taken:
            problems.append("no solution cells were found: the cells to answer in are missing")
        ids = [str(_nbgrader(c).get("grade_id", f"cell{i + 1}")) for i, c in enumerate(taken)]
    else:
        taken = [c for c in code_cells if not TEST_CELL_PATTERN.search(_source(c))]
        ids = [f"cell{i + 1}" for i in range(len(taken))]
        problems.append(
            "the notebook has no nbgrader cell information (was the code copied into a new "
            "notebook?); all code cells except test cells were graded — submit the released "
            "notebook next time"
        )
    for name in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"cell {name!r} appears more than once; all copies run, in notebook order")
    if expected and any(_nbgrader(c) for c in code_cells):
        missing = [name for name in expected if name not in ids]
        for name in missing:
            problems.append(
                f"cell {name!r} is missing — did you delete it? Copy it back from the released "
                "notebook and put your code in it"
            )
        present = [name for name in dict.fromkeys(ids) if name in expected]
        wanted = [name for name in expected if name in present]
        if present != wanted:
            problems.append(
                f"cells are out of order: expected {', '.join(wanted)}; found "
                f"{', '.join(present)}. Code runs top to bottom, so a function used before the "
                "cell that defines it fails"
            )
    return ids, [_source(c) for c in taken]


def read_submission(
    path: Path, *, lab: str | None = None, expected_cells: tuple[str, ...] = ()
) -> Submission:
    """The code to grade in `path`; every reading problem is a message, never an exception."""
    kind = "ipynb" if path.suffix == ".ipynb" else "py"
    submission = Submission(student_id(path, lab=lab), path, "", [], kind, [])
    problems = submission.problems
    try:
        data = _read_regular_file(path, problems)
    except OSError as error:
        problems.append(f"the file could not be read: {error.strerror or error}")
        return submission
    if data is None:
        return submission
    if not data.strip():
        problems.append("the file is empty")
        return submission
    text = _decode(data, problems)
    if kind == "py":
        submission.code = text
    else:
        cells = _read_notebook(text, problems)
        if cells is None:
            return submission
        ids, sources = _take_cells(cells, expected_cells, problems)
        parts = []
        for name, source in zip(ids, sources, strict=True):
            cleaned = _strip_magics(source, repr(name), problems)
            if cleaned is not None:
                submission.cells.append(name)
                parts.append(cleaned.rstrip("\n"))
        # Cells are joined by one blank line; cell_starts maps lines back for messages.
        submission.code = "\n\n".join(parts) + ("\n" if parts else "")
        submission.cell_starts = _starts(parts)
    syntax = _syntax_problem(submission.code, str(path.name))
    if syntax:
        problems.append(_clip(_with_cell(submission, syntax)))
    return submission


def _starts(parts: list[str]) -> list[int]:
    """1-based first line of each part in "\n\n".join(parts)."""
    starts, line = [], 1
    for part in parts:
        starts.append(line)
        line += part.count("\n") + 2
    return starts


def _with_cell(submission: Submission, message: str) -> str:
    match = re.match(r"line (\d+): (.*)", message, re.S)
    if submission.kind != "ipynb" or match is None:
        return message
    return f"{submission.where(int(match.group(1)))}: {match.group(2)}"
