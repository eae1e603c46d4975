"""Grade submissions in isolated workers: per-student results.json, feedback, grades.csv."""

from __future__ import annotations

import contextlib
import csv
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

import numpy as np
from tqdm import tqdm

from . import policy
from .checks import Tier
from .exercise import get_exercise
from .forbidden import scan
from .reference import prepared
from .registry import Item, Lab, Test, get_lab
from .runner import TestResult, run_test
from .sandbox import CallResult, Limits, Policy, Sandbox, isolation_mode, process_filter_note
from .submission import Submission, find_submissions, read_submission, safe_id, student_id

#: Written into every result so a re-run can tell whether a stored result is still current.
GRADER_VERSION = "2"
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

    def results_json(self) -> dict[str, Any]:
        """Gradescope's results.json: only its spec's fields (tests/gradescope_results.schema.json).

        The spec has no top-level `max_score`: it is kept in `extra_data` with everything the
        class report reads (limits, seconds, per-test mistakes and why a test stopped).
        """
        summary = "\n".join(self.problems) if self.problems else ""
        extra: dict[str, Any] = {
            "student": self.student,
            "lab": self.lab,
            "max_score": self.max_score,
            "seconds": round(self.seconds, 3),
            "submission_sha256": self.sha256,
            "grader_version": GRADER_VERSION,
            "problems": list(self.problems),
        }
        if self.isolation:
            extra["isolation"] = self.isolation
        extra.update(self.extra)
        return {
            "score": self.score,
            "execution_time": round(self.seconds, 2),
            "output": summary,
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [_test_json(t) for t in self.tests],
            "extra_data": extra,
        }


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
    What the code prints during hidden tests is left out of the report's output.

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
            if load is None:
                problems.append("No code to run was found in this submission.")
            elif not load.ok:
                problems.append(f"Running your code's top level: {load.message}")
            defined = set(load.defined) if load else set()
            timeouts: dict[str, int] = {}
            output_taken = False
            for item, test in order:
                if test.hidden and not output_taken:
                    output, output_taken = box.output, True
                seed = policy.seed_for(lab.id, test, student, fresh=fresh)
                results[item.function, test.suite] = _one_test(
                    box, lab, item, test, seed, defined, load, timeouts, findings, path
                )
            if not output_taken:
                output = box.output
            isolation = box.isolation
    except Exception as error:  # the sandbox itself failed: every test not yet run says why
        _log_grader_error(path, "the sandbox")
        problems.append(
            f"The grader could not run your code ({_error_text(error)}); tell the course staff."
        )
    for item, test in selected:
        if (item.function, test.suite) not in results:
            seed = policy.seed_for(lab.id, test, student, fresh=fresh)
            why = "the grader could not run it (see the problems above)"
            results[item.function, test.suite] = _not_run(lab, item.function, test, seed, why)
    tests = [results[item.function, test.suite] for item, test in selected]
    score = round(sum(t.score for t in tests), 2)
    max_score = lab.max_score if hidden else sum(t.max_score for t in tests)
    return StudentReport(
        student, path, lab.id, score, max_score, tests, problems, output, _sha256(path),
        time.monotonic() - start, isolation=isolation,
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
) -> TestResult:
    """One test of a loaded submission; an exception in the grader costs this test only."""
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
    except Exception as error:  # one failing test costs that test, not the student
        _log_grader_error(path, f"{item.function}: {test.suite}")
        why = f"the grader failed on this test ({_error_text(error)}); tell the course staff"
        return _not_run(lab, item.function, test, seed, why)
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
    print(f"grader error on {path} ({what}):", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)


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


def _write_atomic(path: Path, data: bytes) -> None:
    """Write from the parent's memory: a fresh temp file (O_EXCL, never a planted link), then
    an atomic rename, so a crash mid-write never leaves a half-written result behind."""
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
    lines = [
        f"# {report.lab}: feedback for {report.student}",
        "",
        f"**Score: {report.score:g} / {report.max_score:g}**",
        "",
        "| test | score |",
        "| --- | --- |",
    ]
    lines += [f"| {t.name} | {t.score:g} / {t.max_score:g} |" for t in report.tests]
    if report.problems:
        lines += ["", "## Problems reading or running your submission", ""]
        lines += [f"- {p}" for p in report.problems]
    for t in report.tests:
        if t.score >= t.max_score:
            continue
        lines += ["", f"## {t.name}", "", "```", t.output, "```"]
        if heatmaps and t.name in heatmaps:
            lines += ["", f"![where your output differs]({heatmaps[t.name]})"]
    if report.output.strip():
        lines += ["", "## What your code printed while being graded", "", "```"]
        lines += [report.output.strip()[:FEEDBACK_OUTPUT_CHARS], "```"]
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


def write_report(report: StudentReport, out_dir: Path) -> None:
    """<student>.json (results.json), feedback/<student>.md and its heatmaps, each atomically."""
    feedback = out_dir / "feedback"
    feedback.mkdir(parents=True, exist_ok=True)
    heatmaps = {}
    student = safe_id(report.student)  # a file name: never a path, never too long
    for i, t in enumerate(report.tests):
        name = f"{student}-{i}-{t.function}-{t.suite}.png"
        try:
            if t.score < t.max_score and _heatmap(t, feedback / name):
                heatmaps[t.name] = name
        except Exception:  # a picture is a courtesy: it never costs a report
            _log_grader_error(report.path, f"heatmap of {t.name}")
    _write_atomic(feedback / f"{student}.md", feedback_markdown(report, heatmaps=heatmaps).encode())
    data = json.dumps(report.results_json(), indent=2, sort_keys=True, ensure_ascii=False)
    _write_atomic(out_dir / f"{student}.json", data.encode())


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
    return data if current else None


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


def write_grades_csv(lab: Lab, out_dir: Path, students: Sequence[str] | None = None) -> Path:
    """grades.csv: a row per student, a column per test, then the seconds grading took.

    Built from every result of this lab stored in `out_dir` (or only `students`), so regrading one
    student keeps everyone else's row.
    """
    columns = [f"{i.function}: {t.suite}" for i in lab.items for t in i.tests]
    stored = {
        student: data
        for student, data in stored_results(out_dir).items()
        if data["extra_data"].get("lab") == lab.id and (students is None or student in students)
    }
    rows = []
    for student in sorted(stored):
        data = stored[student]
        scores = {t.get("name"): t.get("score", 0) for t in data.get("tests", [])}
        seconds = data.get("execution_time", data["extra_data"].get("seconds", ""))
        rows.append(
            [student, data.get("score", 0), _max_score(data, lab)]
            + [scores.get(c, 0) for c in columns]
            + [seconds]
        )
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_cell(c) for c in ["student", "score", "max_score", *columns, "seconds"]])
    writer.writerows([[_cell(c) for c in row] for row in rows])
    path = out_dir / "grades.csv"
    _write_atomic(path, buf.getvalue().encode())
    if rows:
        _write_histogram(lab, [float(r[1]) for r in rows], out_dir / "grades.png")
    return path


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
) -> list[dict[str, Any]]:
    """Grade every submission under `paths`; returns the results.json of each, by student.

    Finished students are skipped (their stored result reused) unless `force` or their file
    changed. Each student runs in their own worker processes, so one student's crash, hang or
    flood cannot touch another's grade. `shard=(i, n)` grades only the students of shard i of n
    (`shard_of`), so n machines can split a class and `report` merges their folders.

    Raises GradeError, before grading anyone, when a path is missing, no submission is found, or
    `out_dir` already holds another lab's results.
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
    files = find_submissions(list(paths), lab=lab.id)
    if not files:
        raise GradeError(f"no .ipynb or .py submission found in {', '.join(str(p) for p in paths)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, Path] = {}
    for f in files:
        sid = student_id(f, lab=lab.id)
        if sid in by_student:  # two files for one student: keep the first, say so
            print(f"note: {f} ignored; {by_student[sid]} is already graded for {sid}")
            continue
        by_student[sid] = f
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
    mode = isolation_mode(limits.isolation if limits else None)
    if progress:
        where = f" (shard {shard[0]}/{shard[1]})" if shard else ""
        print(
            f"{lab.id}{where}: {len(todo)} to grade, {len(results)} already graded"
            + (" (--force regrades them)" if results else "")
            + f"; isolation: {mode}",
            file=sys.stderr,
        )
        if mode != "bubblewrap" and process_filter_note():
            print(f"WARNING: {process_filter_note()}", file=sys.stderr)
        if mode == "none":
            print(
                "WARNING: submissions run WITHOUT isolation (no bubblewrap, not root): "
                "a hostile submission can reach anything this user can.",
                file=sys.stderr,
            )
    # Import TensorFlow once here, not in every thread's first reference computation.
    if todo:
        from .reference import tensorflow

        tensorflow()
    extra: dict[str, Any] = {"limits": effective}
    if shard is not None:
        extra["shard"] = f"{shard[0]}/{shard[1]}"
    bar = tqdm(total=len(todo), desc=f"grading {lab.id}", unit="student", disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(grade_submission, f, lab, limits=limits, student=sid): sid
            for sid, f in todo
        }
        for future in as_completed(futures):
            sid = futures[future]
            try:
                report = future.result()
                report.extra.update(extra)
                write_report(report, out_dir)
            except Exception as exc:  # a grader bug must cost one student, loudly, not the class
                _log_grader_error(by_student[sid], "the whole submission")
                report = StudentReport(
                    sid, by_student[sid], lab.id, 0.0, lab.max_score, [],
                    [f"The grader failed on this submission ({type(exc).__name__}: {exc}); "
                     "tell the course staff."],
                )  # fmt: skip
                report.extra.update(extra)
                write_report(report, out_dir)
            results[sid] = report.results_json()
            bar.update(1)
    bar.close()
    write_grades_csv(lab, out_dir)
    return [results[s] for s in sorted(results)]


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
