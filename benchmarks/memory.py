"""Peak memory of grading one submission per lab, as Gradescope's container would see it.

Runs the bundle's `run_autograder` against a temporary root (the whole Gradescope path: the
trusted parent with TensorFlow for the reference, plus the sandbox workers) on each lab's
solution notebook, and samples the process tree every 50 ms: PSS summed over the tree (shared
pages counted once, in shares: what the container's memory cgroup is charged, near enough) and,
for comparison, RSS summed (shared pages counted once per process: an overestimate).

    python benchmarks/memory.py [--repeat 3] [--lab 04_tf_conv2d ...] [--env NAME=VALUE ...]

Gradescope's default container memory is 768 MB; the README lists the figures and which lab
needs the setting raised.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.gradescope import build_bundle  # noqa: E402
from autograder.registry import LABS  # noqa: E402

GRADESCOPE_DEFAULT_MB = 768
SAMPLE_SECONDS = 0.05


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_pids(root: int) -> list[int]:
    tree, todo, seen = _children(), [root], []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += tree.get(pid, [])
    return seen


def _rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB, from /proc/PID/smaps_rollup; (0, 0) once it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return pss, rss


class TreeSampler(threading.Thread):
    """Samples a process tree until stopped; keeps the peaks of summed PSS and RSS (MB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.peak_pss = self.peak_rss = 0.0
        self.peak_processes = 0

    def run(self) -> None:
        while not self.stop.is_set():
            pids = tree_pids(self.pid)
            sizes = [_rollup(p) for p in pids]
            self.peak_pss = max(self.peak_pss, sum(s[0] for s in sizes) / 1024)
            self.peak_rss = max(self.peak_rss, sum(s[1] for s in sizes) / 1024)
            self.peak_processes = max(self.peak_processes, sum(1 for s in sizes if s[0]))
            time.sleep(SAMPLE_SECONDS)


def grade_once(lab_id: str, workdir: Path, env_extra: dict[str, str]) -> dict:
    """Unpack a bundle into a fake /autograder, upload the solution, run it, sample its tree."""
    root = workdir / lab_id
    bundle = build_bundle(lab_id, workdir / f"{lab_id}.zip", secret="memory-benchmark")
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    solution = ROOT / "solutions" / lab_id / f"{lab_id}.ipynb"
    shutil.copy(solution, root / "submission" / solution.name)
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "m@x"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CONVLAB_"))}
    env.update(
        CONVLAB_GRADESCOPE_ROOT=str(root),
        CONVLAB_GRADESCOPE_PYTHON=sys.executable,
        PYTHONPATH=str(root / "source"),
        CONVLAB_CACHE_DIR=str(root / "cache"),
        **env_extra,
    )
    start = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(root / "run_autograder")],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    sampler.stop.set()
    sampler.join()
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{lab_id}: run_autograder failed:\n{out.decode()[-2000:]}")
    results = json.loads((root / "results" / "results.json").read_text())
    return {
        "lab": lab_id,
        "score": results["score"],
        "max_score": results["extra_data"]["max_score"],
        "seconds": seconds,
        "peak_pss_mb": sampler.peak_pss,
        "peak_rss_sum_mb": sampler.peak_rss,
        "processes": sampler.peak_processes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", action="append", choices=sorted(LABS), help="default: all")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per lab; the peak is kept")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    env_extra = dict(e.split("=", 1) for e in args.env)
    rows = []
    with tempfile.TemporaryDirectory(prefix="convlab-memory-") as tmp:
        for lab_id in args.lab or sorted(LABS):
            runs = [grade_once(lab_id, Path(tmp) / str(i), env_extra) for i in range(args.repeat)]
            row = max(runs, key=lambda r: r["peak_pss_mb"])
            row["pss_mb_each_run"] = [round(r["peak_pss_mb"]) for r in runs]
            rows.append(row)
            flag = (
                "  OVER Gradescope's 768 MB" if row["peak_pss_mb"] > GRADESCOPE_DEFAULT_MB else ""
            )
            print(
                f"{lab_id:24s} peak PSS {row['peak_pss_mb']:6.0f} MB  "
                f"(RSS summed {row['peak_rss_sum_mb']:6.0f} MB, {row['processes']} processes)  "
                f"{row['seconds']:5.1f} s  score {row['score']:g}/{row['max_score']:g}{flag}"
                + (f"  runs: {row['pss_mb_each_run']} MB" if args.repeat > 1 else ""),
                flush=True,
            )
    if args.env:
        print("with " + " ".join(args.env))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
