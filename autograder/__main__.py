"""Command line: `python -m autograder check|grade|gradescope ...` (see --help)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .registry import LABS, get_lab


def _guess_lab(path: Path) -> str | None:
    for lab_id in LABS:
        if lab_id in path.parts or path.stem == lab_id:
            return lab_id
    return None


def cmd_check(args: argparse.Namespace) -> int:
    from .grade import grade_submission

    lab_id = args.lab or _guess_lab(args.notebook)
    if lab_id is None:
        print(f"Which lab is {args.notebook}? Pass --lab, one of: {', '.join(LABS)}")
        return 2
    report = grade_submission(args.notebook, get_lab(lab_id), hidden=False)
    for problem in report.problems:
        print(f"! {problem}")
    for test in report.tests:
        print(test.output)
    print(f"\nVisible tests: {report.score:g} / {report.max_score:g} points.")
    print("Hidden tests run at grading time on cases drawn for you; pass these first.")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from .grade import grade_class

    results = grade_class(
        args.submissions, args.lab, out_dir=args.out, jobs=args.jobs, force=args.force
    )
    scores = [r["score"] for r in results]
    lab = get_lab(args.lab)
    print(
        f"graded {len(results)} submissions for {lab.id}: "
        f"mean {sum(scores) / max(len(scores), 1):.2f}"
        f" / {lab.max_score:g}; results in {args.out}/ (grades.csv, feedback/, grades.png)"
    )
    return 0


def cmd_gradescope(args: argparse.Namespace) -> int:
    from .gradescope import build_bundle

    path = build_bundle(args.lab, args.out)
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="self-check a notebook with the visible suites")
    p.add_argument("notebook", type=Path)
    p.add_argument("--lab", choices=sorted(LABS), help="default: guessed from the file name")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("grade", help="grade a class (files, folders or an nbgrader submitted/)")
    p.add_argument("--lab", required=True, choices=sorted(LABS))
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--out", type=Path, default=Path("grades"), help="output folder")
    p.add_argument("--force", action="store_true", help="regrade students already graded")
    p.add_argument("submissions", type=Path, nargs="+")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip for a lab")
    p.add_argument("--lab", required=True, choices=sorted(LABS))
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_gradescope)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
