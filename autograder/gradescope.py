"""A Gradescope autograder bundle per lab, and the entry point it runs in Gradescope's container."""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

from .registry import get_lab

ROOT = Path(__file__).resolve().parents[1]
#: What the bundle carries: the two packages, the bundled data and the pinned requirements.
BUNDLE_PATHS = ("autograder", "convlab", "data", "requirements.txt", "pyproject.toml", "README.md")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-pip >/dev/null || true
cd /autograder/source
python3 -m pip install -q -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; results land in /autograder/results/results.json.
cd /autograder/source
python3 -m autograder.gradescope run --lab {lab} \\
    --submission-dir /autograder/submission \\
    --metadata /autograder/submission_metadata.json \\
    --results /autograder/results/results.json
"""


def build_bundle(lab_id: str, out: Path, *, secret: str | None = None) -> Path:
    """Write the zip Gradescope takes as a programming assignment's autograder.

    The course secret (hidden-case seeds) goes in `course_secret.txt` when given; only the staff
    see the bundle, and the student's code runs in the sandbox, which cannot read that file.
    """
    lab = get_lab(lab_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("setup.sh"), SETUP_SH)
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        z.writestr(info, RUN_AUTOGRADER.format(lab=lab.id))
        for name in BUNDLE_PATHS:
            path = ROOT / name
            files = [path] if path.is_file() else sorted(path.rglob("*"))
            for f in files:
                if f.is_file() and "__pycache__" not in f.parts:
                    z.write(f, f.relative_to(ROOT).as_posix())
        if secret:
            z.writestr("course_secret.txt", secret)
    return out


def _student(metadata: Path) -> str | None:
    try:
        users = json.loads(metadata.read_text()).get("users") or []
        return str(users[0].get("email") or users[0].get("id")) if users else None
    except (OSError, ValueError, AttributeError, IndexError):
        return None


def run(lab_id: str, submission_dir: Path, metadata: Path, results: Path) -> int:
    """Grade the one submission Gradescope put in `submission_dir`; always write results.json."""
    import os

    from .grade import grade_submission
    from .submission import find_submissions

    secret_file = Path(__file__).resolve().parents[1] / "course_secret.txt"
    if secret_file.exists():
        os.environ.setdefault("CONVLAB_COURSE_SECRET_FILE", str(secret_file))
    lab = get_lab(lab_id)
    files = find_submissions([submission_dir], lab=lab.id)
    preferred = [f for f in files if f.stem == lab.id] or files
    results.parent.mkdir(parents=True, exist_ok=True)
    if not preferred:
        data = {
            "score": 0,
            "output": f"No .ipynb or .py file was submitted; upload {lab.id}.ipynb.",
            "tests": [],
        }
    else:
        report = grade_submission(preferred[0], lab, student=_student(metadata))
        data = report.results_json()
    results.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade inside Gradescope's container")
    p.add_argument("--lab", required=True)
    p.add_argument("--submission-dir", type=Path, required=True)
    p.add_argument("--metadata", type=Path, required=True)
    p.add_argument("--results", type=Path, required=True)
    args = parser.parse_args(argv)
    return run(args.lab, args.submission_dir, args.metadata, args.results)


if __name__ == "__main__":
    sys.exit(main())
