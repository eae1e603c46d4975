"""The grading policy both orchestrators share: statuses, seeds, student ids, stubs, findings."""

from __future__ import annotations

import hashlib
import os
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._compat import StrEnum

if TYPE_CHECKING:
    from .registry import Item, Lab, Test

#: Secret used when a course has not set one: fine for trying things out, not for a real class.
DEV_SECRET = "convlab-development-secret"
#: Seed of the visible (self-check) suites; printed in every report so a student can reproduce it.
VISIBLE_SEED = 0
#: Student id used when a notebook is not run by nbgrader's autograde (self-check, CI).
LOCAL_STUDENT = "local"


class Status(StrEnum):
    """How one call of a student's function ended (sandboxed or in-process)."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASHED = "crashed"
    FORBIDDEN = "forbidden"
    BAD_RETURN = "bad_return"


#: Statuses after which the remaining cases of a test are not run (they would only burn time).
STOP_STATUSES = frozenset({Status.TIMEOUT, Status.MEMORY, Status.FORBIDDEN, Status.CRASHED})


# ----------------------------------------------------------------------------------------------
# Who is graded, with which seed


class SecretFileError(ValueError):
    """The course secret file is readable by users other than the grader's."""


def check_secret_file(path: str | os.PathLike[str]) -> None:
    """Refuse a course secret file that another user owns unless it is 0600 (or stricter).

    The grader's own file it makes 0600 itself before code runs without bubblewrap (the
    sandbox's uid mode); a TA's file it cannot, and students' code running as another uid could
    read a 0644 one. A missing file is left to the reader's own error.
    """
    if not path:
        return
    try:
        info = os.stat(path)
    except OSError:
        return
    euid = os.geteuid()
    if info.st_uid != euid and info.st_mode & 0o077:
        raise SecretFileError(
            f"the course secret file {path} belongs to uid {info.st_uid}, not to the user "
            f"grading (uid {euid}), and other users can read it (mode "
            f"{info.st_mode & 0o777:04o}): students' code could read it too. Make it private "
            f"to its owner with `chmod 600 {path}` (or give it to the grading user), then grade "
            "again."
        )


def course_secret() -> str:
    """The course secret from $CONVLAB_COURSE_SECRET or the file $CONVLAB_COURSE_SECRET_FILE.

    Raises SecretFileError when the file is another user's and readable by others.
    """
    secret = os.environ.get("CONVLAB_COURSE_SECRET")
    path = os.environ.get("CONVLAB_COURSE_SECRET_FILE")
    if path:
        check_secret_file(path)
    if not secret and path:
        secret = Path(path).read_text().strip()
    return secret or DEV_SECRET


def _derive(*parts: str) -> int:
    """A 32-bit seed from the course secret and `parts` (nobody without the secret can guess it)."""
    digest = hashlib.sha256("\0".join((course_secret(), *parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def hidden_seed(lab_id: str, student: str) -> int:
    """The seed of a student's hidden cases: course secret + lab + student id."""
    return _derive(lab_id, student)


def fresh_seed(lab_id: str, student: str, suite: str) -> int:
    """The seed of a visible suite in the grade of record: course secret + lab + student id +
    suite, so a table of the public seed-0 answers is worth nothing there."""
    return _derive("visible", lab_id, student, suite)


def seed_for(lab_id: str, test: Test, student: str, *, fresh: bool = False) -> int:
    """The seed a test is drawn with: the student's hidden seed for hidden tests; for visible
    ones the public seed (self-check) or, with `fresh` (the grade of record), a fresh one."""
    if test.hidden:
        return hidden_seed(lab_id, student)
    return fresh_seed(lab_id, student, test.suite) if fresh else VISIBLE_SEED


def drawn_for_student(test: Test, seed: int) -> bool:
    """Was this test's seed derived from the course secret (so a report must not print it)?"""
    return test.hidden or seed != VISIBLE_SEED


def notebook_student_id(cwd: Path | None = None) -> str:
    """The student whose notebook is running: nbgrader autogrades in autograded/<student>/<lab>/."""
    env = os.environ.get("CONVLAB_STUDENT_ID")
    if env:
        return env
    here = (cwd or Path.cwd()).resolve()
    if here.parent.parent.name == "autograded":
        return here.parent.name
    return LOCAL_STUDENT


def student_id(given: str | None = None, *, submission: str | None = None) -> str:
    """The student being graded: the id given, else the submission's (file stem or nbgrader
    folder), else the notebook's (see `notebook_student_id`)."""
    return given or submission or notebook_student_id()


# ----------------------------------------------------------------------------------------------
# Static findings


def findings_for(lab: Lab, item: Item, findings: Iterable[tuple[str | None, str]]) -> list[str]:
    """The findings that count against `item`: (cell, text) pairs, a cell named by the function
    it answers. A finding in another item's answer cell is that item's, one in a cell the student
    added is none's; one in a cell of no item (or a .py file, cell None) counts against every
    item. Calls across cells are still caught at run time."""
    others = {i.function for i in lab.items} - {item.function}
    # A cell the student added (a helper, or a comparison with TensorFlow) is no item's answer:
    # what it imports counts only when a graded function uses it, which the worker catches.
    return [
        text
        for cell, text in findings
        if cell not in others and not (cell or "").startswith("your added cell")
    ]


def voids(item: Item, findings: Iterable[str]) -> bool:
    """Do these findings void the item's tests? Only in by-hand items (lab 04 calls TF)."""
    return item.by_hand and any(True for _ in findings)


# ----------------------------------------------------------------------------------------------
# Stubs and tracebacks


def not_implemented(function: str) -> str:
    return f"{function} is not implemented yet (it raises NotImplementedError)."


def explain_stub(returned: Any, function: str) -> None:
    """Say "not implemented yet" for the released stub (NotImplementedError), in place."""
    if returned.status == Status.ERROR and returned.message.startswith("NotImplementedError"):
        returned.message = not_implemented(function)


def student_traceback(exc: BaseException) -> str:
    """The exception and the frames from the student's own code (not numpy's or the grader's)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "site-packages" not in f.filename and f"{os.sep}autograder{os.sep}" not in f.filename
    ]
    where = "".join(
        f"\n      line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-3:]
    )
    return f"{type(exc).__name__}: {exc}{where}"
