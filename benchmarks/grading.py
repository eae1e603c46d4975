"""Grading throughput: `python -m autograder grade --jobs 2` vs `nbgrader autograde`, same class.

Builds a synthetic class of lab 03 notebooks (correct vectorized and naive conv2d, every known
mistake, a few hostile submissions), grades it both ways in one run, and prints seconds per
submission, the ratio, and whether the verdicts agree. The class is graded twice by the
autograder in the same run, with the default isolation (bubblewrap where it runs) and with none,
and the cost of isolation per submission is printed, with a worker start-up micro-benchmark.

    python benchmarks/grading.py [--copies 6] [--keep DIR] [--skip-nbgrader]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.classroom import (  # noqa: E402
    make_course,
    nbgrader,
    solution_answers,
    student_notebook,
    submit,
)
from autograder.registry import get_lab  # noqa: E402
from autograder.sandbox import isolation_mode  # noqa: E402

LAB = "03_filter_banks"
SUBMISSIONS = ROOT / "tests" / "submissions"
#: Hostile code that is safe to run in nbgrader's kernel on any machine. Memory bombs, fork and
#: kill-the-parent submissions are left out: where bubblewrap is missing the kernel has no
#: sandbox, and they would take the benchmark machine (or nbgrader itself) down with them.
NBGRADER_SAFE_HOSTILE = (
    "infinite_loop",
    "output_flood",
    "exit_on_import",
    "syntax_error",
    "forbidden_tf",
    "tamper_numpy",
    "returns_dict",
)
#: Per-cell time limit for nbgrader, the same as the sandbox's per-call limit.
CELL_TIMEOUT = 10


def build_class(course: Path, copies: int) -> dict[str, str]:
    """Submit every corpus file as a student's conv2d cell; returns student -> kind."""
    answers = solution_answers(LAB)
    kinds = {}
    sources = [("correct", p) for p in sorted((SUBMISSIONS / "correct").glob("*.py"))]
    sources += [("wrong", p) for p in sorted((SUBMISSIONS / "wrong").glob("*.py"))]
    sources += [("hostile", SUBMISSIONS / "hostile" / f"{n}.py") for n in NBGRADER_SAFE_HOSTILE]
    for kind, path in sources:
        for i in range(copies if kind == "correct" else 1):
            student = f"{kind}-{path.stem}-{i}" if kind == "correct" else f"{kind}-{path.stem}"
            nb = student_notebook(LAB, {**answers, "conv2d": path.read_text()}, root=course)
            submit(course, LAB, student, nb)
            kinds[student] = kind
    return kinds


def run_ours(course: Path, out: Path, isolation: str = "") -> tuple[float, dict[str, float]]:
    env = dict(os.environ)
    if isolation:
        env["CONVLAB_ISOLATION"] = isolation
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--lab", LAB, "--jobs", "2", "--force",
         "--out", str(out), str(course / "submitted")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"autograder grade failed:\n{result.stderr[-3000:]}")
    with open(out / "grades.csv") as f:
        return seconds, {r["student"]: float(r["score"]) for r in csv.DictReader(f)}


def worker_startup(mode: str, runs: int = 20) -> float:
    """Median seconds to start a worker and load a tiny submission in one isolation mode."""
    from autograder.sandbox import Limits, Policy, Sandbox

    policy = Policy(forbidden_modules=get_lab(LAB).forbidden_modules)
    code = "import numpy as np\n\ndef conv2d(x, w, s, p):\n    return np.zeros(1)\n"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with Sandbox(code, policy=policy, limits=Limits(isolation=mode)) as box:
            box.call("conv2d", 1, 2, 3, 4)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_nbgrader(course: Path) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    result = nbgrader(course, "autograde", LAB, f"--Execute.timeout={CELL_TIMEOUT}", timeout=7200)
    seconds = time.perf_counter() - start
    if nbgrader(course, "export").returncode != 0 or result.returncode not in (0, 1):
        raise SystemExit(f"nbgrader failed:\n{result.stderr[-3000:]}")
    with open(course / "grades.csv") as f:
        return seconds, {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=6, help="students per correct variant")
    parser.add_argument("--keep", type=Path, help="keep the course folder here")
    parser.add_argument("--skip-nbgrader", action="store_true", help="isolation figures only")
    args = parser.parse_args()

    mode = isolation_mode()
    with tempfile.TemporaryDirectory() as tmp:
        course = make_course(args.keep or Path(tmp) / "course", LAB)
        kinds = build_class(course, args.copies)
        n = len(kinds)
        counts = ", ".join(
            f"{k}: {list(kinds.values()).count(k)}" for k in sorted(set(kinds.values()))
        )
        print(f"synthetic class: {n} submissions of {LAB} ({counts})")
        run_ours(course, Path(tmp) / "warm-up", isolation="none")  # fills the reference cache
        ours_s, ours = run_ours(course, Path(tmp) / "grades")
        bare_s, bare = run_ours(course, Path(tmp) / "grades-none", isolation="none")
        nbg_s, nbg = (0.0, {}) if args.skip_nbgrader else run_nbgrader(course)

    print(f"\n{'isolation':<28}{'total s':>10}{'s/submission':>15}")
    print(f"{mode:<28}{ours_s:>10.1f}{ours_s / n:>15.3f}")
    print(f"{'none':<28}{bare_s:>10.1f}{bare_s / n:>15.3f}")
    print(f"isolation costs {(ours_s - bare_s) / n:+.3f} s per submission (goal < 0.1 s)")
    ordinary = [s for s, k in kinds.items() if k != "hostile"]
    same = sum(abs(ours[s] - bare[s]) < 1e-6 for s in ordinary)
    print(f"same scores with and without isolation: {same} of {len(ordinary)} ordinary")
    for m in dict.fromkeys([mode, "none"]):
        print(f"worker start + one call, median of 20 ({m}): {worker_startup(m):.3f} s")
    if args.skip_nbgrader:
        return 0

    agree = [s for s in ordinary if abs(ours[s] - nbg.get(s, -1)) < 1e-6]
    hostile = [s for s, k in kinds.items() if k == "hostile"]
    print(f"\n{'path':<28}{'total s':>10}{'s/submission':>15}")
    print(f"{'autograder grade --jobs 2':<28}{ours_s:>10.1f}{ours_s / n:>15.2f}")
    print(f"{'nbgrader autograde':<28}{nbg_s:>10.1f}{nbg_s / n:>15.2f}")
    print(f"\nspeed-up over nbgrader autograde: {nbg_s / ours_s:.1f}x (target >= 10x)")
    print(f"seconds per submission (autograder): {ours_s / n:.2f} (target < 1 s)")
    print(f"verdicts agree on {len(agree)} of {len(ordinary)} ordinary submissions")
    for s in sorted(set(ordinary) - set(agree)):
        print(f"  DISAGREE {s}: autograder {ours[s]:g}, nbgrader {nbg.get(s)}")
    print("hostile submissions (nbgrader runs their answer cells in the student's kernel):")
    for s in hostile:
        print(f"  {s:<32} autograder {ours[s]:>5g}   nbgrader {nbg.get(s, float('nan')):>5g}")
    correct = [ours[s] for s, k in kinds.items() if k == "correct"]
    wrong = [ours[s] for s, k in kinds.items() if k == "wrong"]
    print(
        f"\nmean score: correct {statistics.mean(correct):.2f}, wrong {statistics.mean(wrong):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
