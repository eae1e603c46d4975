"""Grade submissions in isolated workers: per-student results.json, feedback, grades.csv."""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from tqdm import tqdm

from . import policy
from .checks import Tier
from .exercise import get_exercise
from .forbidden import scan
from .reference import prepared
from .registry import Item, Lab, Test, get_lab
from .runner import TestResult, run_test
from .safe_text import fenced, markdown_inline, one_line, printable
from .sandbox import (
    GRADER_ERROR,
    CallResult,
    IsolationUnavailable,
    Limits,
    Policy,
    Proof,
    Sandbox,
    process_filter_note,
    prove_isolation,
)
from .submission import (
    LayoutError,
    Submission,
    discover,
    read_submission,
    safe_id,
    student_id,
)

#: Written into every result so a re-run can tell whether a stored result is still current.
#: 3: grader faults are grader errors, no longer a student's crash: older results are regraded.
GRADER_VERSION = "3"
#: `extra_data.status` of a result the grader failed to make: no score, regraded on the next run.
GRADER_ERROR_STATUS = GRADER_ERROR
#: What a student and the TA read instead of a score when the grader itself failed.
GRADER_ERROR_HEADLINE = (
    "The grader itself failed on this submission, so it has no score yet: this is NOT your "
    "grade, and nothing here is your code's fault. The course staff will regrade it."
)
#: Labs whose preamble imports TensorFlow need more address space than RLIMIT_AS's default.
TF_MEMORY_BYTES = 16 * 1024**3
#: A function that timed out on small cases in this many tests is not run in its other tests.
TIMEOUTS_BEFORE_GIVING_UP = 2
#: How much of what a submission printed goes into its feedback.
FEEDBACK_OUTPUT_CHARS = 4000


@dataclass
class StudentReport:
    """Everything decided about one submission: results.json fields plus feedback text."""

    student: str
    path: Path
    lab: str
    score: float
    max_score: float
    tests: list[TestResult]
    problems: list[str] = field(default_factory=list)
    output: str = ""
    sha256: str = ""
    seconds: float = 0.0
    #: More `extra_data` for results.json (the limits used, the shard, ...), set by the caller.
    extra: dict[str, Any] = field(default_factory=dict)
    #: How the student's code ran: "bubblewrap", "unprivileged-uid" or "none".
    isolation: str = ""
    #: What failed on the grader's side (worker setup, reference, checks, writing results): a
    #: report with any is a grader error, never a grade.
    grader_errors: list[str] = field(default_factory=list)

    @property
    def grader_error(self) -> bool:
        return bool(self.grader_errors)

    def results_json(self) -> dict[str, Any]:
        """Gradescope's results.json: only its spec's fields (tests/gradescope_results.schema.json).

        The spec has no top-level `max_score`: it is kept in `extra_data` with everything the
        class report reads (limits, seconds, per-test mistakes and why a test stopped).
        """
        summary = printable("\n".join(self.problems)) if self.problems else ""
        extra: dict[str, Any] = {
            "student": self.student,
            "lab": self.lab,
            "max_score": self.max_score,
            "seconds": round(self.seconds, 3),
            "submission_sha256": self.sha256,
            "grader_version": GRADER_VERSION,
            "problems": [printable(p) for p in self.problems],
        }
        if self.isolation:
            extra["isolation"] = self.isolation
        extra.update(self.extra)
        if self.grader_errors:
            # No score at all (Gradescope's spec allows it when no test has one): a 0 here would
            # read as the student's grade.
            extra.update(status=GRADER_ERROR_STATUS, grader_errors=list(self.grader_errors))
            return scrub({
                "execution_time": round(self.seconds, 2),
                "output": "\n".join([GRADER_ERROR_HEADLINE, *self.grader_errors]),
                "visibility": "visible",
                "stdout_visibility": "hidden",
                "tests": [],
                "extra_data": extra,
            })  # fmt: skip
        return scrub({
            "score": self.score,
            "execution_time": round(self.seconds, 2),
            "output": summary,
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [_test_json(t) for t in self.tests],
            "extra_data": extra,
        })  # fmt: skip


def is_grader_error(data: dict[str, Any]) -> bool:
    """Is this stored results.json a grader error (no score, to be regraded)?"""
    extra = data.get("extra_data")
    return isinstance(extra, dict) and extra.get("status") == GRADER_ERROR_STATUS


def safe_text(text: str) -> str:
    """`text` with anything UTF-8 cannot encode (a lone surrogate from an exception message or
    an undecodable file name) written as a visible escape, e.g. \\udcff."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def scrub(value: Any) -> Any:
    """A JSON-able value with every string made encodable (safe_text), keys included."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _test_json(t: TestResult) -> dict[str, Any]:
    """One test as Gradescope shows it, plus what the class report counts in `extra_data`."""
    data = t.gradescope()
    failures = getattr(t, "failures", None) or []
    mistakes: dict[str, str] = {}  # mistake -> the smallest case's message that showed it
    for f in sorted(failures, key=lambda f: getattr(f.case, "size", 0)):
        name = getattr(f, "mistake", None)
        if name and name not in mistakes:
            mistakes[name] = str(getattr(f, "message", ""))
    tiers = sorted({str(f.tier) for f in failures if getattr(f, "tier", None)})
    data["extra_data"] = {
        "function": t.function,
        "suite": t.suite,
        "hidden": bool(t.hidden),
        "cases_passed": t.passed,
        "cases": t.total,
        "seconds": round(float(getattr(t, "seconds", 0.0) or 0.0), 3),
        "stopped": getattr(t, "stopped", None),
        "forbidden": list(getattr(t, "forbidden", ()) or ()),
        "failed_tiers": tiers,
        "mistakes": list(mistakes),
        "mistake_examples": mistakes,
    }
    answers = [
        key
        for f in failures
        if (key := get_exercise(f.case.exercise).answer_key(getattr(f, "got", None))) is not None
    ]
    if answers:  # a prediction's wrong answer, which the class report counts
        data["extra_data"]["answer"] = answers[0]
    return data


def policy_for(lab: Lab) -> Policy:
    return Policy(
        forbidden_modules=lab.forbidden_modules,
        preamble=lab.preamble,
        forbid_numpy_convolve=lab.forbid_numpy_convolve,
    )


def workers_import_tensorflow(lab: Lab) -> bool:
    """Whether every worker of this lab imports TensorFlow (its preamble does: lab 04)."""
    return "tensorflow" in lab.preamble


def limits_for(lab: Lab, base: Limits | None = None) -> Limits:
    base = base or Limits()
    if workers_import_tensorflow(lab) and base.memory_bytes < TF_MEMORY_BYTES:
        return replace(base, memory_bytes=TF_MEMORY_BYTES, load_seconds=max(base.load_seconds, 60))
    return base


def _sha256(path: Path) -> str:
    try:
        if path.is_symlink():  # never read through a link: hash where it points instead
            return hashlib.sha256(b"symlink:" + os.fsencode(os.readlink(path))).hexdigest()
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def grade_submission(
    path: Path,
    lab: Lab,
    *,
    limits: Limits | None = None,
    student: str | None = None,
    hidden: bool = True,
    fresh: bool | None = None,
    prepare: bool = False,
) -> StudentReport:
    """Grade one submission file; whatever it contains, this returns a report (never raises).

    `hidden=False` runs the visible suites only (a student's self-check). `fresh` (default: as
    `hidden`) draws the visible suites from the course secret + lab + student + suite instead of
    the public seed 0: the grade of record never re-uses the cases a student can see beforehand.
    What the code prints during hidden tests, or any test drawn for the student, is left out of
    the report's output (with `fresh`, only what the top level printed is kept).

    `prepare` computes every TensorFlow answer the tests need in a short-lived process before
    the student's code starts (reference.prepared), so this process never holds TensorFlow
    while a worker that imports it runs (Gradescope's container); the verdicts are the same.
    """
    start = time.monotonic()
    fresh = hidden if fresh is None else fresh
    sub = _read(path, lab)
    student = policy.student_id(student, submission=sub.student)
    problems = list(sub.problems)
    findings = [
        (sub.cell_of(f.line), f"{sub.where(f.line)}: {f.message.split(': ', 1)[-1]}")
        for f in scan(sub.code, forbidden_modules=lab.forbidden_modules)
    ]
    selected = [
        (item, test) for item in lab.items for test in item.tests if hidden or not test.hidden
    ]
    # Visible tests first: the output kept for the report is taken before any hidden test runs.
    order = sorted(selected, key=lambda pair: pair[1].hidden)
    results: dict[tuple[str, str], TestResult] = {}
    output = isolation = ""
    grader_errors: list[str] = []
    try:
        with (
            _preparing(prepare, lab, order, student, fresh),
            Sandbox(
                sub.code,
                policy=policy_for(lab),
                limits=limits_for(lab, limits),
                filename=path.name,
                cell_starts=sub.cell_starts,
                cell_names=sub.cells,
            ) as box,
        ):
            load = box.load() if sub.code.strip() else None
            isolation = box.isolation
            if load is not None and load.status == GRADER_ERROR:
                grader_errors.append(load.message)
                order = []  # nothing of the student's ran: no test can be judged
            elif load is None:
                problems.append("No code to run was found in this submission.")
            elif not load.ok:
                problems.append(f"Running your code's top level: {load.message}")
            defined = set(load.defined) if load else set()
            timeouts: dict[str, int] = {}
            output_taken = False
            for item, test in order:  # after a grader error too: the TA sees every verdict
                seed = policy.seed_for(lab.id, test, student, fresh=fresh)
                if policy.drawn_for_student(test, seed) and not output_taken:
                    # What a call prints on a case drawn for the student stays out: it could
                    # print the case.
                    output, output_taken = box.output, True
                results[item.function, test.suite] = _one_test(
                    box, lab, item, test, seed, defined, load, timeouts, findings, path,
                    grader_errors,
                )  # fmt: skip
            if not output_taken:
                output = box.output
    except Exception as error:  # the sandbox itself failed: every test not yet run says why
        _log_grader_error(path, "the sandbox")
        grader_errors.append(f"The grader could not run this submission ({_error_text(error)}).")
    for item, test in selected:
        if (item.function, test.suite) not in results:
            seed = policy.seed_for(lab.id, test, student, fresh=fresh)
            why = "the grader could not run it (see the problems above)"
            results[item.function, test.suite] = _not_run(lab, item.function, test, seed, why)
    tests = [results[item.function, test.suite] for item, test in selected]
    score = round(sum(t.score for t in tests), 2)
    max_score = lab.max_score if hidden else sum(t.max_score for t in tests)
    if grader_errors:
        print(f"grader error on {safe_text(str(path))}: {safe_text(grader_errors[0])}",
              file=sys.stderr)  # fmt: skip
    return StudentReport(
        student, path, lab.id, score, max_score, tests, problems, output, _sha256(path),
        time.monotonic() - start, isolation=isolation, grader_errors=grader_errors,
    )  # fmt: skip


def _preparing(
    prepare: bool, lab: Lab, order: list[tuple[Item, Test]], student: str, fresh: bool
) -> contextlib.AbstractContextManager[Any]:
    """reference.prepared for every suite the submission is graded on, when asked to."""
    if not prepare:
        return contextlib.nullcontext()
    return prepared(
        [
            (item.exercise, test.suite, policy.seed_for(lab.id, test, student, fresh=fresh))
            for item, test in order
        ]
    )


def _one_test(
    box: Sandbox,
    lab: Lab,
    item: Item,
    test: Test,
    seed: int,
    defined: set[str],
    load: Any,
    timeouts: dict[str, int],
    findings: list[tuple[str | None, str]],
    path: Path,
    grader_errors: list[str],
) -> TestResult:
    """One test of a loaded submission; a failure of the grader's own (an exception here, a
    case the reference or a check could not judge) goes into `grader_errors`, not the grade."""
    if item.function not in defined:
        return _not_run(lab, item.function, test, seed, _missing_why(load))
    if timeouts.get(item.function, 0) >= TIMEOUTS_BEFORE_GIVING_UP:
        why = (
            f"{item.function} timed out in {TIMEOUTS_BEFORE_GIVING_UP} earlier tests "
            "on small cases; look for a loop that never ends"
        )
        return _not_run(lab, item.function, test, seed, why)
    mine = policy.findings_for(lab, item, findings)
    try:
        result = run_test(box.call, lab, item, test, seed, forbidden=mine)
    except Exception as error:  # the grader's fault: recorded as such, never the student's
        _log_grader_error(path, f"{item.function}: {test.suite}")
        grader_errors.append(f"{item.function}: {test.suite}: {_error_text(error)}")
        why = f"the grader failed on this test ({_error_text(error)})"
        return _not_run(lab, item.function, test, seed, why)
    judged_by_a_broken_grader = [
        f
        for f in result.failures
        if f.tier == Tier.GRADER or str(f.message).startswith("the grader could not")
    ]
    if judged_by_a_broken_grader:
        first = str(judged_by_a_broken_grader[0].message)[:400]
        grader_errors.append(f"{item.function}: {test.suite}: {first}")
    if result.stopped == "timeout":
        timeouts[item.function] = timeouts.get(item.function, 0) + 1
    return result


def _read(path: Path, lab: Lab) -> Submission:
    """read_submission, with anything it cannot handle (a RecursionError on deeply nested JSON,
    ...) a reading problem instead of a traceback."""
    try:
        return read_submission(path, lab=lab.id, expected_cells=lab.solution_cells)
    except Exception as error:  # RecursionError included
        kind = "ipynb" if path.suffix == ".ipynb" else "py"
        what = "notebook" if kind == "ipynb" else "file"
        problem = (
            f"the {what} could not be read ({_error_text(error)}); download it again from "
            "Jupyter, or save it as a fresh notebook and copy your cells over"
        )
        try:
            student = student_id(path, lab=lab.id)
        except Exception:
            student = path.stem
        return Submission(student, path, "", [problem], kind, [])


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def _log_grader_error(path: Path, what: str) -> None:
    """The traceback on stderr, for the TA (the student's report only says the error)."""
    try:
        print(
            safe_text(f"grader error on {one_line(str(path))} ({one_line(what)}):"), file=sys.stderr
        )
        print(safe_text(traceback.format_exc()), file=sys.stderr)
    except (OSError, ValueError):  # stderr itself gone (a full disk, a closed pipe)
        pass


def _not_run(lab: Lab, function: str, test: Any, seed: int, why: str) -> TestResult:
    return TestResult(
        lab.id, function, test.suite, test.hidden, seed, 0.0, test.points, 0, 0,
        f"✘ {function} — {test.suite}: not run — {why}.",
    )  # fmt: skip


def _missing_why(load: Any) -> str:
    if load is not None and not load.ok:
        return f"your code stopped before defining it ({load.status})"
    return "it is not defined in your submission (renamed, or its cell deleted?)"


# ----------------------------------------------------------------------------------------------
# Writing results


#: How long a write of the grader's that found the disk full waits for space to come back (a
#: submission that filled it is stopped and its scratch removed) before it is a grader error.
DISK_FULL_WAIT_SECONDS = 15.0
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def _write_atomic(path: Path, data: bytes) -> None:
    """Write from the parent's memory: a fresh temp file (O_EXCL, never a planted link), then
    an atomic rename, so a crash mid-write never leaves a half-written result behind.

    A full disk is waited out for DISK_FULL_WAIT_SECONDS; then the OSError is raised.
    """
    deadline = time.monotonic() + DISK_FULL_WAIT_SECONDS
    while True:
        try:
            return _write_once(path, data)
        except OSError as error:
            if error.errno not in DISK_FULL_ERRNOS or time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def _write_once(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            # As root (the uid isolation mode), results are for root only.
            os.fchmod(f.fileno(), 0o600 if os.geteuid() == 0 else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def feedback_markdown(report: StudentReport, *, heatmaps: dict[str, str] | None = None) -> str:
    """Feedback for the student: score, one section per test, pictures of value errors."""
    # Anything the student's code or file could have written (messages, printed text, names)
    # is inside a code block whose fence no line of it can close, or escaped: it never renders
    # as markdown or HTML, and a printed "Score: 25 / 25" stays printed text.
    md = markdown_inline
    lines = [
        f"# {md(report.lab)}: feedback for {md(report.student)}",
        "",
        f"**Score: {report.score:g} / {report.max_score:g}**",
        "",
        "| test | score |",
        "| --- | --- |",
    ]
    lines += [f"| {md(t.name)} | {t.score:g} / {t.max_score:g} |" for t in report.tests]
    if report.problems:
        lines += ["", "## Problems reading or running your submission", ""]
        lines += [fenced("\n".join(report.problems))]
    for t in report.tests:
        if t.score >= t.max_score:
            continue
        lines += ["", f"## {md(t.name)}", "", fenced(t.output)]
        if heatmaps and t.name in heatmaps:
            lines += ["", f"![where your output differs]({quote(heatmaps[t.name])})"]
    if report.output.strip():
        lines += ["", "## What your code printed while being graded", ""]
        lines += [fenced(report.output.strip()[:FEEDBACK_OUTPUT_CHARS])]
    return "\n".join(lines) + "\n"


def _heatmap(result: TestResult, path: Path) -> bool:
    """An error heatmap of the smallest value failure, when its exercise can picture one.

    The exercise picks the 2-D plane to show (NHWC results: the image and channel of the largest
    error); a result of several arrays shows the one holding the largest error. Anything else
    (numbers, 1-D, 3-D, ragged answers) is skipped.
    """
    values = [f for f in result.failures if f.tier == Tier.VALUES and f.got is not None]
    if not values:
        return False
    failure = min(values, key=lambda f: f.case.size)
    exercise = get_exercise(failure.case.exercise)
    got, expected, where = failure.got, failure.expected, failure.where
    if isinstance(got, tuple | list) and isinstance(expected, tuple | list):
        k = where[0] if where else 0
        if not (0 <= k < min(len(got), len(expected))):
            return False
        got, expected, where = got[k], expected[k], (where[1:] if where else None)
    try:
        got, expected = np.asarray(got, float), np.asarray(expected, float)
    except (TypeError, ValueError):
        return False
    if got.shape != expected.shape:
        return False
    got_plane, expected_plane = exercise.plane(got, where), exercise.plane(expected, where)
    if got_plane is None or expected_plane is None or got_plane.ndim != 2:
        return False
    from convlab.plots import error_heatmap

    fig = error_heatmap(
        got_plane, expected_plane, title=f"{result.name}: |yours - {exercise.oracle}|"
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    _write_atomic(path, buf.getvalue())
    return True


def grader_error_markdown(report: StudentReport) -> str:
    """Feedback for a submission the grader failed on: what failed, and no score."""
    lines = [f"# {report.lab}: feedback for {report.student}", "", GRADER_ERROR_HEADLINE, ""]
    lines += [f"- {e}" for e in report.grader_errors]
    return "\n".join(lines) + "\n"


def write_report(report: StudentReport, out_dir: Path) -> None:
    """<student>.json (results.json), feedback/<student>.md and its heatmaps, each atomically.

    Text nothing can encode (a lone surrogate) is escaped, never fatal. Raises OSError when the
    disk refuses a write (the caller records that student as a grader error).
    """
    feedback = out_dir / "feedback"
    feedback.mkdir(parents=True, exist_ok=True)
    student = safe_id(report.student)  # a file name: never a path, never too long
    data = json.dumps(report.results_json(), indent=2, sort_keys=True, ensure_ascii=False)
    if report.grader_error:
        markdown = grader_error_markdown(report)
        _write_atomic(feedback / f"{student}.md", markdown.encode("utf-8", "backslashreplace"))
        _write_atomic(out_dir / f"{student}.json", data.encode("utf-8", "backslashreplace"))
        return
    heatmaps = {}
    for i, t in enumerate(report.tests):
        name = f"{student}-{i}-{t.function}-{t.suite}.png"
        try:
            if t.score < t.max_score and _heatmap(t, feedback / name):
                heatmaps[t.name] = name
        except Exception:  # a picture is a courtesy: it never costs a report
            _log_grader_error(report.path, f"heatmap of {t.name}")
    markdown = feedback_markdown(report, heatmaps=heatmaps)
    _write_atomic(feedback / f"{student}.md", markdown.encode("utf-8", "backslashreplace"))
    _write_atomic(out_dir / f"{student}.json", data.encode("utf-8", "backslashreplace"))


def _stored_result(out_dir: Path, student: str, sha: str) -> dict[str, Any] | None:
    path = out_dir / f"{safe_id(student)}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    extra = data.get("extra_data", {})
    current = (
        extra.get("submission_sha256") == sha and extra.get("grader_version") == GRADER_VERSION
    )
    return data if current and not is_grader_error(data) else None  # grader errors: regrade


def stored_results(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Every results.json stored in `out_dir` (`<student>.json`), by file stem; unreadable ones
    are skipped."""
    found = {}
    for path in sorted(out_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("extra_data"), dict):
            found[path.stem] = data
    return found


def _max_score(data: dict[str, Any], lab: Lab) -> float:
    return data.get("extra_data", {}).get("max_score", data.get("max_score", lab.max_score))


def write_grades_csv(
    lab: Lab,
    out_dir: Path,
    students: Sequence[str] | None = None,
    *,
    unwritten: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """grades.csv: a row per student, a column per test, then the seconds grading took.

    Built from every result of this lab stored in `out_dir` (or only `students`), so regrading one
    student keeps everyone else's row; `unwritten` adds results that could not be stored (their
    grader error, say), by safe id.
    """
    columns = [f"{i.function}: {t.suite}" for i in lab.items for t in i.tests]
    stored = {
        student: data
        for student, data in stored_results(out_dir).items()
        if data["extra_data"].get("lab") == lab.id and (students is None or student in students)
    }
    stored.update(unwritten or {})
    rows, scores_of_graded = [], []
    for student in sorted(stored):
        data = stored[student]
        seconds = data.get("execution_time", data["extra_data"].get("seconds", ""))
        if is_grader_error(data):  # no score to show: say so, never a 0
            rows.append(
                [student, GRADER_ERROR_CELL, _max_score(data, lab)]
                + ["" for _ in columns]
                + [seconds]
            )
            continue
        scores = {t.get("name"): t.get("score", 0) for t in data.get("tests", [])}
        rows.append(
            [student, data.get("score", 0), _max_score(data, lab)]
            + [scores.get(c, 0) for c in columns]
            + [seconds]
        )
        scores_of_graded.append(float(data.get("score", 0)))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_cell(c) for c in ["student", "score", "max_score", *columns, "seconds"]])
    writer.writerows([[_cell(c) for c in row] for row in rows])
    path = out_dir / "grades.csv"
    _write_atomic(path, buf.getvalue().encode("utf-8", "backslashreplace"))
    if scores_of_graded:
        _write_histogram(lab, scores_of_graded, out_dir / "grades.png")
    return path


#: What grades.csv's score column says for a submission the grader failed on.
GRADER_ERROR_CELL = "grader error"


#: A spreadsheet evaluates a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _write_histogram(lab: Lab, scores: list[float], path: Path) -> None:
    from convlab.plots import histogram

    fig = histogram(
        scores,
        bins=np.linspace(0, lab.max_score, 11),
        title=f"{lab.id}: scores of {len(scores)} submissions",
        xlabel=f"score (of {lab.max_score:g})",
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _write_atomic(path, buf.getvalue())


class GradeError(ValueError):
    """A class cannot be graded as asked (missing path, nothing found, another lab's folder)."""


def shard_of(student: str, shards: int) -> int:
    """The shard (1..shards) a student belongs to: a stable hash of the id, the same anywhere."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def other_labs(out_dir: Path, lab_id: str) -> set[str]:
    """Labs other than `lab_id` whose results are stored in `out_dir`."""
    return {
        str(d["extra_data"].get("lab"))
        for d in stored_results(out_dir).values()
        if d["extra_data"].get("lab") not in (None, lab_id)
    }


def _graded_from(path: Path, lab: Lab, **kw: Any) -> StudentReport:
    """grade_submission, the report saying which file it graded (`_refuse_replacing` reads it)."""
    report = grade_submission(path, lab, **kw)
    report.extra["submission_file"] = _file_key(path)
    return report


def _file_key(path: Path) -> str:
    """`path` made absolute, as JSON can hold it and a terminal can show it (a name that is not
    UTF-8, or holds control characters, escaped)."""
    return one_line(_printable(os.path.abspath(path)))


def _printable(text: str) -> str:
    """`text` with what UTF-8 cannot encode (a file name's undecodable bytes) escaped."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "backslashreplace")
    return data.decode("utf-8", "backslashreplace")


def _refuse_replacing(found: Sequence[Any], out_dir: Path) -> None:
    """GradeError when an id that only a file's name gave (layout "files") would replace the
    stored result of another file: `grade alice/conv.py`, then `grade bob/conv.py`, into one
    --out. (Ids from a layout's folders or roster name the student, whatever the folder.)"""
    clashes = []
    for f in found:
        if f.layout != "files":
            continue
        try:
            stored = json.loads((out_dir / f"{safe_id(f.student)}.json").read_text())
            before = stored["extra_data"].get("submission_file")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if before and before != _file_key(f.path):
            clashes.append(f"  {f.path} would replace the result of {before} ({f.student!r})")
    if clashes:
        raise GradeError(
            f"{out_dir} already holds a result for the same file name from another file; "
            "nothing was graded:\n" + "\n".join(clashes) + "\nIf each folder is one student's, "
            "pass --layout folders; if it is the same student's new file, delete the old "
            "result first; else grade into another --out."
        )


def grade_class(
    paths: Sequence[Path],
    lab_id: str,
    *,
    out_dir: Path,
    jobs: int = 2,
    force: bool = False,
    limits: Limits | None = None,
    progress: bool = True,
    shard: tuple[int, int] | None = None,
    layout: str = "auto",
) -> list[dict[str, Any]]:
    """Grade every submission under `paths`; returns the results.json of each, by student.

    Students and their files come from `submission.discover` in the TA's folder `layout`
    (nbgrader, folders, gradescope, canvas, files, or "auto" to tell them apart).

    Finished students are skipped (their stored result reused) unless `force` or their file
    changed. Each student runs in their own worker processes, so one student's crash, hang or
    flood cannot touch another's grade. `shard=(i, n)` grades only the students of shard i of n
    (`shard_of`), so n machines can split a class and `report` merges their folders.

    Raises GradeError, before grading anyone, when a path is missing, no submission is found,
    the layout is ambiguous (a student's file cannot be chosen, two submissions would get one
    id, or an id from a file name would replace another file's result in `out_dir`), or
    `out_dir` already holds another lab's results; IsolationFailed (a GradeError) when no
    isolation mode allowed can run a known-good submission (`sandbox.prove_isolation`).

    A submission the grader failed on (its worker could not start, a reference or check raised,
    its results could not be written) is a grader error: no score, listed in the returned
    GradedClass's `grader_errors`, regraded on the next run.
    """
    lab = get_lab(lab_id)
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise GradeError(f"no such file or folder: {', '.join(missing)}")
    if out_dir.exists():
        others = other_labs(out_dir, lab.id)
        if others:
            raise GradeError(
                f"{out_dir} already holds results of {', '.join(sorted(others))}; grade "
                f"{lab.id} into its own folder (the default is grades/{lab.id}/)"
            )
    try:  # a course secret file other users can read stops the run before anyone is graded
        policy.check_secret_file(os.environ.get("CONVLAB_COURSE_SECRET_FILE") or "")
    except policy.SecretFileError as error:
        raise GradeError(str(error)) from None
    try:
        found, notes = discover(list(paths), lab=lab.id, layout=layout)
    except (LayoutError, OSError) as error:  # an unreadable folder is said, not a traceback
        raise GradeError(str(error)) from None
    if not found:
        raise GradeError(f"no .ipynb or .py submission found in {', '.join(str(p) for p in paths)}")
    _refuse_replacing(found, out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in found:
        if f.others:  # said, never silent: the student's folder holds more than the submission
            shown = ", ".join(str(o) for o in f.others)
            notes.append(f"{f.student}: graded {f.path}; also there, not graded: {shown}")
    for note in notes:  # a file name need not be valid UTF-8: escaped, never fatal
        print(_printable(f"note: {note}"))
    by_student: dict[str, Path] = {}
    for f in found:
        by_student[f.student] = f.path
    if shard is not None:
        index, count = shard
        by_student = {s: f for s, f in by_student.items() if shard_of(s, count) == index}
    effective = asdict(limits_for(lab, limits))
    todo, results = [], {}
    for sid, f in by_student.items():
        stored = None if force else _stored_result(out_dir, sid, _sha256(f))
        if stored is not None and stored.get("extra_data", {}).get("limits") != effective:
            stored = None  # graded under other limits: grade again
        if stored is None:
            todo.append((sid, f))
        else:
            results[sid] = stored
    graded = GradedClass()
    proof = _prove(lab, limits) if todo else None
    mode = proof.mode if proof else None
    if progress:
        where = f" (shard {shard[0]}/{shard[1]})" if shard else ""
        _say(
            f"{lab.id}{where}: {len(todo)} to grade, {len(results)} already graded"
            + (" (--force regrades them)" if results else "")
            + (f"; isolation: {mode} (a correct submission ran in it)" if mode else "")
        )
        if mode != "bubblewrap" and process_filter_note():
            print(f"WARNING: {process_filter_note()}", file=sys.stderr)
        if mode == "none":
            _say(
                "WARNING: submissions run WITHOUT isolation (no bubblewrap, not root): "
                "a hostile submission can reach anything this user can."
            )
    if proof is not None and proof.fell_back:
        graded.warnings.append(proof.warning())
        _say(f"WARNING: {proof.warning()}")  # loud whatever `progress` says
    # Import TensorFlow once here, not in every thread's first reference computation.
    if todo:
        from .reference import tensorflow

        tensorflow()
    extra: dict[str, Any] = {"limits": effective}
    if shard is not None:
        extra["shard"] = f"{shard[0]}/{shard[1]}"
    if proof is not None and proof.fell_back:
        extra["isolation_fallback"] = proof.warning()
    # Every worker runs in the proven mode (the Limits record kept in results stays as asked,
    # so a rerun's resume compares like with like).
    proven = replace(limits or Limits(), isolation=mode) if mode else limits
    unwritten: dict[str, dict[str, Any]] = {}
    bar = tqdm(total=len(todo), desc=f"grading {lab.id}", unit="student", disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(_graded_from, f, lab, limits=proven, student=sid): sid for sid, f in todo
        }
        for future in as_completed(futures):
            sid = futures[future]
            report = _finished(future, sid, by_student[sid], lab, extra)
            try:
                write_report(report, out_dir)
            except Exception as exc:  # ENOSPC, EIO, ...: this student's grader error, loudly
                _log_grader_error(by_student[sid], "writing the results")
                report.grader_errors.append(
                    f"The grader could not write this result ({_error_text(exc)})."
                )
                report.tests = []  # a grader error records no verdict
                try:  # the short grader-error form may still fit (a bug in the long one)
                    write_report(report, out_dir)
                except Exception:
                    unwritten[safe_id(sid)] = report.results_json()
            results[sid] = report.results_json()
            bar.update(1)
    bar.close()
    try:
        write_grades_csv(lab, out_dir, unwritten=unwritten)
    except Exception as exc:  # the class's results stay in memory and in the per-student files
        _log_grader_error(out_dir / "grades.csv", "writing grades.csv")
        graded.errors.append(f"grades.csv could not be written ({_error_text(exc)})")
    graded.extend(results[s] for s in sorted(results))
    graded.grader_errors.extend(s for s in sorted(results) if is_grader_error(results[s]))
    return graded


class IsolationFailed(GradeError):
    """No isolation mode allowed here can run a known-good submission: nobody is graded."""


class GradedClass(list):  # list[dict[str, Any]]: what grade_class always returned
    """The results.json of every student, plus what went wrong on the grader's side."""

    def __init__(self) -> None:
        super().__init__()
        #: Students whose result is a grader error (no score; regraded on the next run).
        self.grader_errors: list[str] = []
        #: Said loudly, the grades stand: the isolation mode had to fall back.
        self.warnings: list[str] = []
        #: The grader failed class-wide (grades.csv could not be written): a nonzero exit.
        self.errors: list[str] = []


def _say(text: str) -> None:
    """A line for the TA on stderr; unencodable text escaped, a closed stderr ignored."""
    try:
        print(safe_text(text), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _prove(lab: Lab, limits: Limits | None) -> Proof:
    """The isolation mode a known-good submission of this lab ran in (IsolationFailed if none)."""
    try:
        return prove_isolation(policy_for(lab), limits_for(lab, limits))
    except (IsolationUnavailable, ValueError) as error:
        raise IsolationFailed(str(error)) from None


def _finished(future: Any, sid: str, path: Path, lab: Lab, extra: dict[str, Any]) -> StudentReport:
    """The report a grading thread made; an exception there is that student's grader error."""
    try:
        report = future.result()
    except Exception as exc:  # a grader bug must cost one student, loudly, not the class
        _log_grader_error(path, "the whole submission")
        report = StudentReport(
            sid, path, lab.id, 0.0, lab.max_score, [],
            grader_errors=[f"The grader failed on this submission ({_error_text(exc)})."],
        )  # fmt: skip
    report.extra.update(extra)
    return report


# Re-exported for callers that build sandboxes themselves (the pytest face, Gradescope).
__all__ = [
    "CallResult",
    "GradeError",
    "StudentReport",
    "grade_class",
    "grade_submission",
    "limits_for",
    "policy_for",
    "write_report",
]
