"""Reads a student's submission (.ipynb or .py) into the code to grade, never raising."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import release_cells
from ._compat import parse_ast

#: Larger files are refused unread: a lab notebook without outputs is a few tens of kB.
MAX_FILE_BYTES = 5 * 1024**2
SUFFIXES = (".ipynb", ".py")
SKIPPED_DIRS = (".ipynb_checkpoints", "__pycache__", "__MACOSX")  # __MACOSX: unzipped on a Mac
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
    cells: list[str]  # names of the cells taken (grade_ids, "your added cell 1 (...)"), in order
    cell_starts: list[int] = field(default_factory=list)  # 1-based line of each cell in `code`

    def cell_of(self, line: int) -> str | None:
        """Name of the cell holding `line` of `code` (see `cells`); None for a .py file."""
        for index in range(len(self.cell_starts) - 1, -1, -1):
            if line >= self.cell_starts[index]:
                return self.cells[index]
        return None

    def where(self, line: int) -> str:
        """`line` of `code` as the student sees it: "cell 'conv2d', line 3", "your added cell 1
        ("def _pad(x):"), line 2" or "line 3"."""
        for index in range(len(self.cell_starts) - 1, -1, -1):
            if line >= self.cell_starts[index]:
                where = line - self.cell_starts[index] + 1
                return f"{cell_label(self.cells[index])}, line {where}"
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


#: The id form `safe_id` gives a name it had to change: a real name of this form is changed too
#: (`student_key`), so a file called `Zo__Smith-20d880d2.py` never takes Zoë Smith's id.
HASHED_ID = re.compile(rf"-[0-9a-f]{{{ID_HASH_CHARS}}}$")
#: TA folder layouts `grade` reads (`--layout`); "auto" tells them apart (see `discover`).
LAYOUTS = ("auto", "nbgrader", "folders", "gradescope", "canvas", "files")
#: Canvas's "Download submissions": `<lastfirst>_[LATE_]<user id>_<submission id>_<file>`, the
#: file renamed `<stem>-<n><suffix>` when the student uploaded the same name more than once.
CANVAS_NAME = re.compile(
    r"^(?:LATE_)?(?P<name>[^_]+)_(?:LATE_|late_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$"
)
CANVAS_COPY = re.compile(r"^(?P<stem>.+)-\d+$")
GRADESCOPE_METADATA = "submission_metadata.yml"


def student_key(raw: str) -> str:
    """`raw` (a folder, file stem or roster name) as a student id, unique by construction.

    `safe_id`, except that a name already of the form `safe_id` gives changed names (ending in
    `-<8 hex digits>`) gets a hash as well: ids of that form only ever come from hashing, so a
    made-safe id can never equal another student's unchanged name.
    """
    made = safe_id(raw)
    if made != raw or not HASHED_ID.search(raw):
        return made
    digest = hashlib.sha256(("\0" + raw).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{raw[: MAX_ID_CHARS - ID_HASH_CHARS - 1]}-{digest[:ID_HASH_CHARS]}"


def student_id(path: Path, *, lab: str | None = None) -> str:
    """The id of one file given on its own, as `discover` names it with --layout auto.

    nbgrader's `submitted*/<student>/<lab>/<file>` gives the student folder, a Canvas download
    name its student, a file named after the lab (`alice/03_filter_banks.ipynb`) its folder,
    anything else its file stem; always made safe by `student_key`.
    """
    try:
        return student_key(_single_file(path, lab, "auto")[0])
    except LayoutError:
        return student_key(path.stem)


def find_submissions(paths: list[Path], *, lab: str | None = None) -> list[Path]:
    """Submission files in `paths` (files, folders, nbgrader submitted/ trees), sorted, unique.

    Symbolic links are listed too (never followed: `read_submission` refuses them with a
    message), so a link to a classmate's file can never stand in for, or hide, that classmate.
    (Gradescope's container lists one student's upload with this; a class is read by `discover`.)
    """
    found: dict[str, Path] = {}
    for path in paths:
        single = path.is_symlink() or path.is_file()
        candidates = [path] if single else _files_under(path) if path.is_dir() else []
        for candidate in candidates:
            if lab is not None and "submitted" in candidate.parts and candidate.parent.name != lab:
                continue  # another lab's folder in the same nbgrader tree
            found.setdefault(os.path.abspath(candidate), candidate)
    return sorted(found.values())


# ----------------------------------------------------------------------------------------------
# A class in the layout TAs download


class LayoutError(ValueError):
    """The submissions cannot be told apart or matched to students; says which files and why."""


@dataclass(frozen=True)
class Found:
    """One student's submission: who (`student`, already a safe id), which file, and how the id
    was decided (`layout`); `others` are files in the student's folder that are not graded."""

    student: str
    path: Path
    layout: str
    others: tuple[Path, ...] = ()


def _is_candidate(path: Path) -> bool:
    return path.suffix in SUFFIXES and (path.is_symlink() or path.is_file())


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def _files_under(folder: Path) -> list[Path]:
    """.ipynb/.py files anywhere under `folder`, sorted; hidden folders, checkpoints and links to
    folders are not entered (a link to a file is listed, and refused when read)."""
    found = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            path = Path(here) / name
            if not _skipped(name) and _is_candidate(path):
                found.append(path)
    return sorted(found)


def _canvas(name: str) -> tuple[str, str] | None:
    """(student, file name as uploaded) of a Canvas download name, else None."""
    match = CANVAS_NAME.match(name)
    if match is None or Path(match["file"]).suffix not in SUFFIXES:
        return None
    original = Path(match["file"])
    copy = CANVAS_COPY.match(original.stem)
    uploaded = (copy["stem"] if copy else original.stem) + original.suffix
    return f"{match['name']}_{match['user']}", uploaded


def _single_file(path: Path, lab: str | None, layout: str) -> tuple[str, str]:
    """(raw id, layout) of a file given on its own."""
    parts = path.absolute().parts
    canvas = _canvas(path.name)
    if layout == "canvas" or (layout == "auto" and canvas):
        if canvas is None:
            raise LayoutError(f"{path} is not named as Canvas names downloads (name_id_id_file)")
        return canvas[0], "canvas"
    in_lab_folder = len(parts) >= 3 and (lab is None or parts[-2] == lab)
    if layout == "nbgrader" or (
        layout == "auto" and in_lab_folder and len(parts) >= 4 and parts[-4].startswith("submitted")
    ):
        if not in_lab_folder:
            raise LayoutError(f"{path} is not in an nbgrader folder <student>/{lab}/")
        return parts[-3], "nbgrader"
    if layout == "gradescope":
        return _gradescope_ids(path.parent)[0], "gradescope"
    named_after_lab = lab is not None and path.stem == lab and len(parts) >= 2
    if layout == "folders" or (layout == "auto" and named_after_lab):
        return parts[-2], "folders"
    return path.stem, "files"


def _choose(
    candidates: list[Path], lab: str, uploaded: dict[Path, str] | None = None
) -> tuple[Path, tuple[Path, ...]] | list[Path]:
    """(the file to grade, the others) of one student's files, or all of them when no single
    one can be told to be the submission: the only file, else the one named after the lab
    (`<lab>.ipynb` or `<lab>.py`) nearest the top of the student's folder."""
    if len(candidates) == 1:
        return candidates[0], ()
    names = uploaded or {}
    named = [c for c in candidates if Path(names.get(c, c.name)).stem == lab]
    if named:
        top = min(len(c.parts) for c in named)
        nearest = [c for c in named if len(c.parts) == top]
        if len(nearest) == 1:
            return nearest[0], tuple(c for c in candidates if c != nearest[0])
    return candidates


def _gradescope_ids(folder: Path) -> list[str]:
    """The submitters of Gradescope's export folder `folder`, from submission_metadata.yml
    (the export's own, next to the folders, or one inside `folder`)."""
    for metadata, key in (
        (folder / GRADESCOPE_METADATA, None),
        (folder.parent / GRADESCOPE_METADATA, folder.name),
    ):
        if metadata.is_file():
            entries = _read_metadata(metadata)
            if key not in entries:
                raise LayoutError(f"{metadata} has no entry for {folder.name}")
            ids = [_submitter_id(person) for person in entries[key]]
            ids = [i for i in ids if i]
            if not ids:
                raise LayoutError(f"{metadata} names no submitter for {folder.name}")
            return ids
    raise LayoutError(f"no {GRADESCOPE_METADATA} in {folder} or {folder.parent}")


def _read_metadata(path: Path) -> dict[str | None, list[dict[str, str]]]:
    """{submission folder: its submitters' fields} from Gradescope's submission_metadata.yml;
    the key is None for a file that describes one submission at its top level.

    Read line by line (the grader installs no YAML library): the export writes top-level
    `submission_<id>:` keys, each with a `:submitters:` list of `- :name:`/`:sid:`/`:email:`.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise LayoutError(f"{path} could not be read: {error.strerror or error}") from None
    entries: dict[str | None, list[dict[str, str]]] = {}
    key: str | None = None
    people: list[dict[str, str]] | None = None
    depth = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line == "---":
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0 and not line.startswith((":", "-")) and line.endswith(":"):
            key, people = _unquote(line[:-1]), None
            continue
        if line.lstrip(":") in ("submitters:", "submitters: []"):
            people, depth = entries.setdefault(key, []), indent
            continue
        if people is None:
            continue
        if line.startswith("- "):
            people.append({})
            line = line[2:].strip()
        elif indent <= depth or not people:
            people = None  # the next field of the submission
            continue
        field_ = re.match(r"^:?([A-Za-z_]+):\s*(.*)$", line)
        if field_:
            people[-1][field_[1]] = _unquote(field_[2])
    return entries


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def _submitter_id(person: dict[str, str]) -> str:
    """A submitter's student id: the sid, else the email, else the name."""
    return next((person[k] for k in ("sid", "email", "name") if person.get(k)), "")


def _layout_of(folder: Path, lab: str) -> str:
    """The layout of a folder given to `grade`, told from what it holds."""
    if (folder / GRADESCOPE_METADATA).is_file():
        return "gradescope"
    children = [c for c in sorted(folder.iterdir()) if not _skipped(c.name)]
    subfolders = [c for c in children if c.is_dir() and not c.is_symlink()]
    if (folder / lab).is_dir() or any((c / lab).is_dir() for c in subfolders):
        return "nbgrader"
    loose = [c for c in children if _is_candidate(c)]
    held = [c for c in subfolders if _files_under(c)]
    if loose and held:
        raise LayoutError(
            f"cannot tell how {folder} is laid out: it holds files ({_names(loose)}) and "
            f"folders of files ({_names(held)}); pass --layout files (every file is a student, "
            "named by its file) or --layout folders (every folder is a student), or grade "
            "them separately"
        )
    if held:
        return "folders"
    if any(_canvas(c.name) for c in loose):  # a file of no one there is an error, not a student
        return "canvas"
    return "files"


def _names(paths: list[Path], most: int = 3) -> str:
    shown = ", ".join(str(p) for p in paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


def _student_folders(folder: Path) -> list[Path]:
    return [c for c in sorted(folder.iterdir()) if not _skipped(c.name) and c.is_dir()]


def discover(paths: list[Path], *, lab: str, layout: str = "auto") -> tuple[list[Found], list[str]]:
    """(one `Found` per student, notes for the TA) for the files and folders `paths`.

    Layouts: "nbgrader" (`<root>/<student>/<lab>/...`, whatever the root is called), "folders"
    (one folder per student: GitHub Classroom), "gradescope" (the export: a folder per
    submission and submission_metadata.yml naming its submitters, each graded), "canvas" (flat
    `name_id_id_file` downloads), "files" (each file a student, named by its stem); "auto" tells
    them apart per folder. Files nested anywhere in a student's folder are that student's; the
    one graded is the only one, or the one named after the lab. Raises LayoutError, naming the
    files, when a student's file cannot be chosen, two submissions get one id (or ids that
    differ only in letter case), or a folder's layout cannot be told.
    """
    if layout not in LAYOUTS:
        raise LayoutError(f"unknown layout {layout!r}; one of: {', '.join(LAYOUTS)}")
    found: list[Found] = []
    notes: list[str] = []
    unclear: list[tuple[str, list[Path]]] = []

    def add(raw: str, how: str, files: list[Path], uploaded: dict[Path, str] | None = None):
        student = student_key(raw)
        chosen = _choose(files, lab, uploaded)
        if isinstance(chosen, list):
            unclear.append((student, chosen))
        else:
            found.append(Found(student, chosen[0], how, chosen[1]))

    for path in paths:
        if path.is_symlink() or path.is_file():
            raw, how = _single_file(path, lab, layout)
            add(raw, how, [path])
            continue
        if not path.is_dir():
            continue
        how = _layout_of(path, lab) if layout == "auto" else layout
        if how == "nbgrader":
            roots = [path] if (path / lab).is_dir() else _student_folders(path)
            for student in roots:
                if student.is_symlink():
                    add(student.name, how, [student])  # refused when read, never followed
                    continue
                files = _files_under(student / lab) if (student / lab).is_dir() else []
                if files:
                    add(student.name, how, files)
                elif (student / lab).is_dir():
                    notes.append(f"{student / lab} holds no .ipynb or .py file: not graded")
                else:  # files in no lab's folder may be this lab's, misplaced: said
                    stray = [
                        f
                        for f in _files_under(student)
                        if not _in_other_lab(f.relative_to(student), lab)
                    ]
                    if stray:
                        notes.append(f"{student} has no {lab}/ folder; not graded: {_names(stray)}")
            if len(roots) > 1:
                loose = [c for c in sorted(path.iterdir()) if _is_candidate(c)]
                if loose:
                    notes.append(f"in no student's folder, not graded: {_names(loose)}")
        elif how == "folders":
            for student in _student_folders(path):
                if student.is_symlink():
                    add(student.name, how, [student])  # refused when read, never followed
                    continue
                files = [
                    f
                    for f in _files_under(student)
                    if not _in_other_lab(f.relative_to(student), lab)
                ]
                if files:
                    add(student.name, how, files)
                else:
                    notes.append(f"{student} holds no .ipynb or .py file: not graded")
            loose = [c for c in sorted(path.iterdir()) if _is_candidate(c)]
            if loose:
                raise LayoutError(
                    f"with --layout folders every student has a folder, but {path} also holds "
                    f"files of no student's folder: {_names(loose)}"
                )
        elif how == "gradescope":
            metadata = path / GRADESCOPE_METADATA
            export = metadata.is_file() and None not in _read_metadata(metadata)
            folders = _student_folders(path) if export else [path]  # the export, or one of its
            for folder in folders:
                files = [folder] if folder.is_symlink() else _files_under(folder)
                if not files:
                    notes.append(f"{folder} holds no .ipynb or .py file: not graded")
                    continue
                for raw in _gradescope_ids(folder):
                    add(raw, how, files)
        elif how == "canvas":
            by_student: dict[str, list[Path]] = {}
            uploaded: dict[Path, str] = {}
            others = []
            for f in _files_under(path):
                canvas = _canvas(f.name)
                if canvas is None:
                    others.append(f)
                    continue
                by_student.setdefault(canvas[0], []).append(f)
                uploaded[f] = canvas[1]
            if others:
                raise LayoutError(
                    f"these files in {path} are not named as Canvas names downloads "
                    f"(name_id_id_file), so whose they are is unknown: {_names(others, 10)}"
                )
            for raw, files in by_student.items():
                add(raw, how, files, uploaded)
        else:  # files: every file is a student, named by its stem
            for f in _files_under(path):
                add(f.stem, "files", [f])
    if unclear:
        lines = [f"  {student}: {', '.join(str(p) for p in files)}" for student, files in unclear]
        raise LayoutError(
            f"cannot tell which file to grade for {len(unclear)} student(s); nothing was "
            "graded:\n" + "\n".join(lines) + f"\nLeave one .ipynb or .py file per student, or "
            f"name the one to grade {lab}.ipynb."
        )
    return _unique(found), notes


def _in_other_lab(relative: Path, lab: str) -> bool:
    """Is this file in a folder named after another lab (a repository holding every lab)?"""
    from .registry import LABS

    return any(part in LABS and part != lab for part in relative.parts[:-1])


def _unique(found: list[Found]) -> list[Found]:
    """`found` by student, the same file given twice kept once; two files for one id (or ids
    one letter case apart, one file on macOS or Windows) are a LayoutError naming them."""
    by_key: dict[str, list[Found]] = {}
    for f in found:
        same = by_key.setdefault(f.student.casefold(), [])
        if not any(os.path.abspath(g.path) == os.path.abspath(f.path) and g.student == f.student
                   for g in same):  # fmt: skip
            same.append(f)
    clashes = [group for group in by_key.values() if len(group) > 1]
    if clashes:
        lines = [
            "  " + ", ".join(f"{f.path} ({f.layout}: {f.student!r})" for f in group)
            for group in clashes
        ]
        raise LayoutError(
            f"{len(clashes)} student id(s) would be given to more than one submission (ids that "
            "differ only in letter case clash too); nothing was graded:\n"
            + "\n".join(lines)
            + "\nGive each student's file its own name, or pass the layout (--layout folders "
            "when each folder is one student)."
        )
    return sorted((group[0] for group in by_key.values()), key=lambda f: f.student)


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
            f"{name}: left out, it is a {first.split()[0]} cell magic that only runs in "
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


#: How an added cell is named in messages ("your added cell 2 ("def _pad(image, p):"), line 4").
ADDED_CELL = "your added cell"
#: Added cells that only call the notebook's checks test the answers; they are not graded code.
ADDED_TEST_CELL = re.compile(r"^\s*(from\s+autograder|import\s+autograder|check(_\w+)?\s*\()", re.M)
FIRST_LINE_CHARS = 40


def cell_label(name: str) -> str:
    """A cell as messages name it: "cell 'conv2d'" for an answer cell, an added cell as is."""
    return name if name.startswith(ADDED_CELL) else f"cell {name!r}"


def _added_name(number: int, source: str) -> str:
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    if len(first) > FIRST_LINE_CHARS:
        first = first[: FIRST_LINE_CHARS - 3] + "..."
    return f'{ADDED_CELL} {number} ("{first}")'


def _role(cell: dict, release: dict | None) -> tuple[str, str]:
    """("answer", grade_id) for an answer cell, ("added", "") for a code cell the release does
    not have, ("release", "") for the release's other cells (never graded code)."""
    meta = _nbgrader(cell)
    if meta.get("solution") is True:
        return "answer", str(meta.get("grade_id", ""))
    if meta.get("grade") or release is None:
        return "release", ""
    if meta:  # nbgrader's: the release's, unless no release cell has its grade_id
        return ("release" if str(meta.get("grade_id")) in release["grade_ids"] else "added"), ""
    known = release["ids"].get(str(cell.get("id") or ""))
    if known is not None:  # an answer cell nbgrader's DeduplicateIds took the metadata of
        return ("answer", known[1]) if known[0] == "answer" else ("release", "")
    if release_cells.source_hash(_source(cell)) in release["given"]:
        return "release", ""  # a release cell whose id was lost
    if _only_checks(_source(cell)):
        return "release", ""
    return "added", ""


def _only_checks(source: str) -> bool:
    """Does this added cell call the notebook's checks and define no function or class? (A
    helper cell that happens to call its own `check_shape(...)` is code, and graded.)"""
    if not ADDED_TEST_CELL.search(source):
        return False
    try:
        tree = parse_ast(source)
    except (SyntaxError, ValueError):  # magics, or a syntax error the student will be shown
        return False
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return not any(isinstance(node, definitions) for node in tree.body)


def _take_cells(
    cells: list[dict], expected: tuple[str, ...], problems: list[str], release: dict | None = None
) -> tuple[list[str], list[str]]:
    """(names, sources) of the graded cells, in notebook order: the solution cells (named by
    grade_id) and every code cell the student added (cells `release` does not have), or all
    answer-like cells as a fallback when the notebook has no nbgrader metadata at all."""
    code_cells = [c for c in cells if c.get("cell_type") == "code"]
    ids: list[str] = []
    sources: list[str] = []
    if any(_nbgrader(c) for c in code_cells):
        added = 0
        for c in code_cells:
            role, grade_id = _role(c, release)
            if role == "answer":
                ids.append(grade_id or f"cell{len(ids) + 1}")
            elif role == "added" and _source(c).strip():
                added += 1
                ids.append(_added_name(added, _source(c)))
            else:
                continue
            sources.append(_source(c))
        if not any(_role(c, release)[0] == "answer" for c in code_cells):
            problems.append("no solution cells were found: the cells to answer in are missing")
    else:
        taken = [c for c in code_cells if not TEST_CELL_PATTERN.search(_source(c))]
        ids = [f"cell{i + 1}" for i in range(len(taken))]
        sources = [_source(c) for c in taken]
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
    return ids, sources


def read_submission(
    path: Path, *, lab: str | None = None, expected_cells: tuple[str, ...] = ()
) -> Submission:
    """The code to grade in `path`; every reading problem is a message, never an exception.

    From a notebook: its answer cells and the code cells the student added (given `lab`, whose
    release `release_cells` knows), in notebook order, each run as a kernel runs a cell."""
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
        ids, sources = _take_cells(cells, expected_cells, problems, release_cells.release(lab))
        parts = []
        for name, source in zip(ids, sources, strict=True):
            cleaned = _strip_magics(source, cell_label(name), problems)
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
