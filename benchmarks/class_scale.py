"""Grading a large class with the CLI: seconds per submission and peak memory at `--jobs 2`.

Builds a synthetic lab-03 class of N distinct students (each a copy of one of the correct or
wrong fixtures in tests/submissions, made distinct by a comment, so every student is really
graded), runs `python -m autograder grade --lab 03_filter_banks --jobs 2` on it, samples the
whole process tree's memory (PSS summed, as benchmarks/memory.py), then builds the class report.

    python benchmarks/class_scale.py [--n 1000] [--jobs 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from memory import TreeSampler  # noqa: E402

LAB = "03_filter_banks"
SUBMISSIONS = ROOT / "tests" / "submissions"


def build_class(folder: Path, n: int) -> dict[str, str]:
    """N students cycling through the correct and wrong fixtures; student -> fixture name."""
    fixtures = sorted((SUBMISSIONS / "correct").glob("*.py")) + sorted(
        (SUBMISSIONS / "wrong").glob("*.py")
    )
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for i in range(n):
        fixture = fixtures[i % len(fixtures)]
        student = f"student{i:05d}"
        text = fixture.read_text() + f"\n# {student}: synthetic copy of {fixture.name}\n"
        (folder / f"{student}.py").write_text(text)
        made[student] = fixture.name
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="students (default 1000)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="grade into this folder and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="convlab-scale-") as tmp:
        base = args.keep or Path(tmp)
        submitted, out = base / "class", base / "grades"
        build_class(submitted, args.n)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.setdefault("CONVLAB_CACHE_DIR", str(base / "cache"))
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "grade", "--lab", LAB, "--jobs", str(args.jobs),
             "--out", str(out), str(submitted)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        sampler = TreeSampler(proc.pid)
        sampler.start()
        stdout, _ = proc.communicate()
        sampler.stop.set()
        sampler.join()
        wall = time.monotonic() - start
        if proc.returncode != 0:
            raise SystemExit(f"grade failed ({proc.returncode}): {stdout.decode()[-2000:]}")
        with (out / "grades.csv").open() as f:
            rows = list(csv.DictReader(f))
        per_student = [float(r["seconds"]) for r in rows]
        report_start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "autograder", "report", str(out)], env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        report_seconds = time.monotonic() - report_start
        figures = {
            "n": args.n,
            "graded": len(rows),
            "jobs": args.jobs,
            "wall_seconds": round(wall, 1),
            "seconds_per_submission": round(wall / max(len(rows), 1), 3),
            "median_student_seconds": round(statistics.median(per_student), 2),
            "p95_student_seconds": round(sorted(per_student)[int(0.95 * len(per_student))], 2),
            "peak_pss_mb": round(sampler.peak_pss),
            "peak_rss_sum_mb": round(sampler.peak_rss),
            "peak_processes": sampler.peak_processes,
            "report_seconds": round(report_seconds, 1),
        }
    print(json.dumps(figures, indent=2))
    f = figures
    print(
        f"{f['graded']} submissions of {LAB} with --jobs {args.jobs}: "
        f"{f['seconds_per_submission']} s per submission of wall time "
        f"({f['wall_seconds']} s in all; one student takes {f['median_student_seconds']} s "
        f"median, {f['p95_student_seconds']} s p95), peak memory {f['peak_pss_mb']} MB PSS "
        f"over the process tree ({f['peak_rss_sum_mb']} MB RSS summed); "
        f"report.html in {f['report_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
