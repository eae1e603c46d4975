"""Command line: `python -m autograder check|grade|gradescope|report ...` (see --help)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .registry import LABS, get_lab
from .safe_text import printable
from .submission import LAYOUTS

#: Exit codes: 0 every submission graded; 1 `check` found a failing test; 2 bad input (a missing
#: path, nothing to grade, ...); 3 the grader failed (no isolation mode runs correct code, a
#: submission's grader error, grades.csv not written): rerun once fixed, nothing is lost.
EXIT_GRADER_FAILED = 3


def _say(text: object, *, file=None) -> None:  # noqa: ANN001
    """print, with control characters escaped: a file name, id or message from a submission
    never moves the TA's cursor, recolours or retitles their terminal."""
    print(printable(str(text)), file=file or sys.stdout)


def _guess_lab(path: Path) -> str | None:
    for lab_id in LABS:
        if lab_id in path.parts or path.stem == lab_id:
            return lab_id
    return None


def _fail(message: str, code: int = 2) -> int:
    _say(f"error: {message}", file=sys.stderr)
    return code


def cmd_check(args: argparse.Namespace) -> int:
    """0 when every visible test passes, 1 when one fails, 2 when the notebook cannot be used,
    3 when the grader itself failed."""
    from .grade import grade_submission

    if not args.notebook.is_file():
        return _fail(f"no such file: {args.notebook}")
    lab_id = args.lab or _guess_lab(args.notebook)
    if lab_id is None:
        return _fail(f"which lab is {args.notebook}? Pass --lab, one of: {', '.join(LABS)}")
    report = grade_submission(args.notebook, get_lab(lab_id), hidden=False)
    if report.grader_error:  # not the notebook's fault: no verdict to show
        print("! The grader itself failed, so these checks say nothing about your code:")
        for error in report.grader_errors:
            _say(f"! {error}")
        return EXIT_GRADER_FAILED
    for problem in report.problems:
        _say(f"! {problem}")
    for test in report.tests:
        _say(test.output)
    print(f"\nVisible tests: {report.score:g} / {report.max_score:g} points.")
    print("Hidden tests run at grading time on cases drawn for you; pass these first.")
    return 0 if report.score >= report.max_score and not report.problems else 1


def _limits(args: argparse.Namespace):
    from .sandbox import Limits

    base = Limits()
    return Limits(
        call_seconds=args.call_seconds or base.call_seconds,
        total_seconds=args.total_seconds or base.total_seconds,
        load_seconds=args.load_seconds or base.load_seconds,
        cpu_seconds=args.cpu_seconds or base.cpu_seconds,
        memory_bytes=args.memory_mb * 1024**2 if args.memory_mb else base.memory_bytes,
        output_bytes=base.output_bytes,
        result_bytes=base.result_bytes,
        file_bytes=base.file_bytes,
        isolation=getattr(args, "isolation", None),
    )


#: Where `--shard auto/N` finds this machine's index: a Kubernetes Indexed Job's pods (0-based),
#: a Slurm job array's tasks (SLURM_ARRAY_TASK_ID counted from SLURM_ARRAY_TASK_MIN).
SHARD_INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID")


def _auto_shard_index() -> int:
    """This machine's shard (1-based) from the job engine's environment."""
    env = os.environ
    try:
        if env.get("JOB_COMPLETION_INDEX", "").strip():
            return int(env["JOB_COMPLETION_INDEX"]) + 1
        if env.get("SLURM_ARRAY_TASK_ID", "").strip():
            first = int(env.get("SLURM_ARRAY_TASK_MIN") or 0)
            return int(env["SLURM_ARRAY_TASK_ID"]) - first + 1
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--shard auto: {error}") from None
    raise argparse.ArgumentTypeError(
        "--shard auto needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or "
        "SLURM_ARRAY_TASK_ID (a Slurm job array); neither is set"
    )


def _shard(text: str) -> tuple[int, int]:
    """`i/n` (1-based), or `auto/n`: i from the job engine (see SHARD_INDEX_VARIABLES)."""
    first, _, rest = text.partition("/")
    try:
        count = int(rest)
        index = _auto_shard_index() if first.strip().lower() == "auto" else int(first)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shard takes i/n or auto/n, e.g. 1/4; got {text!r}"
        ) from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(
            f"--shard {text}: shard {index} is not between 1 and {count}"
        )
    return index, count


def cmd_grade(args: argparse.Namespace) -> int:
    from .grade import GradeError, IsolationFailed, grade_class

    lab = get_lab(args.lab)
    out: Path = args.out or Path("grades") / lab.id
    try:
        results = grade_class(
            args.submissions,
            lab.id,
            out_dir=out,
            jobs=args.jobs,
            force=args.force,
            limits=_limits(args),
            shard=args.shard,
            layout=args.layout,
        )
    except IsolationFailed as error:
        return _fail(str(error), EXIT_GRADER_FAILED)
    except GradeError as error:
        return _fail(str(error))
    failed = set(getattr(results, "grader_errors", ()))
    scores = [r["score"] for r in results if "score" in r]  # a grader error has none
    _say(
        f"graded {len(scores)} submissions for {lab.id}: "
        f"mean {sum(scores) / max(len(scores), 1):.2f} / {lab.max_score:g}; "
        f"results in {out}/ (grades.csv, feedback/, grades.png); "
        f"class report: python -m autograder report {out}"
    )
    for warning in getattr(results, "warnings", ()):
        _say(f"warning: {warning}", file=sys.stderr)
    errors = list(getattr(results, "errors", ()))
    for error in errors:
        _say(f"error: {error}", file=sys.stderr)
    if failed:
        _say(
            f"error: the GRADER failed on {len(failed)} submission(s), which have no score (not "
            f"a 0): {', '.join(sorted(failed))}. Their feedback and the messages above say why; "
            "run the same command again to regrade them.",
            file=sys.stderr,
        )
    if failed or errors:
        return EXIT_GRADER_FAILED
    return 0


def cmd_gradescope(args: argparse.Namespace) -> int:
    from .gradescope import BundleError, build_bundle, resolve_secret

    try:
        secret = resolve_secret(args.secret_file)
        path = build_bundle(args.lab, args.out, secret=secret, trial=args.trial)
    except BundleError as error:
        return _fail(str(error))
    kind = "a TRIAL bundle (no course secret)" if not secret else "with the course secret"
    _say(
        f"wrote {path}, {kind}: upload it as the autograder of a Gradescope programming "
        "assignment (Ubuntu 22.04 or 24.04 base image)"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import ReportError, write_class_report

    try:
        path = write_class_report(args.out_dir, extra_dirs=args.more, lab_id=args.lab)
    except ReportError as error:
        return _fail(str(error))
    _say(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="self-check a notebook with the visible suites")
    p.add_argument("notebook", type=Path)
    p.add_argument("--lab", choices=sorted(LABS), help="default: guessed from the file name")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "grade", help="grade a class: files or folders in any layout TAs download (see --layout)"
    )
    p.add_argument("--lab", required=True, choices=sorted(LABS))
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--out", type=Path, help="output folder (default grades/LAB/)")
    p.add_argument("--force", action="store_true", help="regrade students already graded")
    p.add_argument(
        "--shard",
        type=_shard,
        help="grade only shard i of n (by student id), e.g. 1/4; auto/n takes i from a Kubernetes "
        "Indexed Job (JOB_COMPLETION_INDEX) or a Slurm array (SLURM_ARRAY_TASK_ID)",
    )
    p.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="auto",
        help="how SUBMISSIONS name the students (default auto: told apart per folder): "
        "nbgrader = <any>/<student>/LAB/..., folders = one folder per student (GitHub "
        "Classroom), gradescope = Gradescope's export (submission_metadata.yml), canvas = "
        "Canvas's name_id_id_file downloads, files = each file a student, named by its stem. "
        "A student's file is the only one in their folder or the one named LAB.ipynb; any "
        "doubt stops the run, naming the files",
    )
    p.add_argument(
        "--isolation",
        choices=("bubblewrap", "uid", "none"),
        help="force an isolation mode (default $CONVLAB_ISOLATION, else the strongest that runs a "
        "known-good submission here; a forced mode that cannot is an error, never downgraded)",
    )
    limits = p.add_argument_group("limits per submission (written into each result)")
    limits.add_argument("--call-seconds", type=float, help="wall time per call (default 10)")
    limits.add_argument("--total-seconds", type=float, help="wall time per submission (120)")
    limits.add_argument("--load-seconds", type=float, help="start + top-level code (30)")
    limits.add_argument("--cpu-seconds", type=int, help="CPU time per worker (120)")
    limits.add_argument(
        "--memory-mb",
        type=int,
        help="address space per worker (2048; labs that import TensorFlow get at least 16384, "
        "which TensorFlow reserves without using)",
    )
    p.add_argument("submissions", type=Path, nargs="+")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip for a lab")
    p.add_argument("--lab", required=True, choices=sorted(LABS))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--secret-file",
        type=Path,
        help="the course secret (default: $CONVLAB_COURSE_SECRET or $CONVLAB_COURSE_SECRET_FILE)",
    )
    p.add_argument(
        "--trial", action="store_true", help="build without a course secret (not for a real class)"
    )
    p.set_defaults(func=cmd_gradescope)

    p = sub.add_parser("report", help="OUT_DIR/report.html: the class at a glance")
    p.add_argument("out_dir", type=Path, help="a `grade --out` folder; the report is written here")
    p.add_argument("more", type=Path, nargs="*", help="more folders to merge (e.g. other shards)")
    p.add_argument("--lab", choices=sorted(LABS), help="default: the lab of the stored results")
    p.set_defaults(func=cmd_report)

    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate in a name or message: escaped
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
