"""Peak memory of grading one submission per lab, as Gradescope's container would see it.

Runs the bundle's `run_autograder` against a temporary root (the whole Gradescope path: the
trusted grader, the process that prepares lab 04's references, the sandbox workers) on each lab's
solution notebook, and samples the process tree: its resident pages with each physical page
counted once (from /proc/PID/pagemap: what a container's memory cgroup is charged for them), and
for comparison PSS summed over the tree (shared pages split among every process on the machine
that maps them, so other programs using TensorFlow lower it) and RSS summed (shared pages counted
once per process: an overestimate). Anonymous memory (summed) is the part that cannot be
reclaimed: a container without swap is killed when that alone reaches its limit; file-backed
pages (TensorFlow's libraries) are charged too but can be dropped and re-read under pressure.
Run it as root for the first figure. A second line per lab says where the memory is: the RSS of
each kind of process (grader, reference, worker) at the peak, and each one's own highest RSS.

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


def _rollup(pid: int) -> tuple[int, int, int]:
    """(PSS, RSS, anonymous) of one process in kB, from /proc/PID/smaps_rollup; 0s once gone."""
    pss = rss = anon = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Anonymous:"):
                    anon = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return pss, rss, anon


def role(pid: int) -> str:
    """What a process of the tree is: the grader, the reference process, a worker, the shell."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "_worker.py" in cmd:
        return "worker"
    if "autograder.reference import _child" in cmd:
        return "reference"
    if "autograder.gradescope" in cmd:
        return "grader"
    if "run_autograder" in cmd:
        return "shell"
    return "other"


PAGE = os.sysconf("SC_PAGE_SIZE")
PFN_MASK = (1 << 55) - 1
PRESENT = 1 << 63


def unique_pages(pids: list[int]) -> int:
    """Resident pages of the tree, each physical page counted once (from /proc/PID/pagemap).

    PSS divides a shared page among every process on the machine that maps it, so other
    programs using the same TensorFlow libraries lower it; in a container only this tree maps
    them, and its memory cgroup is charged each page once: what this counts. Needs root (the
    page frame numbers are zero otherwise); returns 0 then.
    """
    frames: set[int] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pm:
                for line in maps:
                    start, end = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
                    if end - start > 8 * 1024**3:  # address-space reservations, never resident
                        continue
                    pm.seek(start // PAGE * 8)
                    data = pm.read((end - start) // PAGE * 8)
                    for i in range(0, len(data), 8):
                        entry = int.from_bytes(data[i : i + 8], "little")
                        if entry & PRESENT:
                            frames.add(entry & PFN_MASK)
        except (OSError, ValueError):
            continue
    frames.discard(0)
    return len(frames)


class TreeSampler(threading.Thread):
    """Samples a process tree until stopped; keeps the peaks of summed PSS and RSS (MB)."""

    def __init__(self, pid: int, *, unique: bool = False) -> None:
        super().__init__(daemon=True)
        self.unique = unique
        self.pid, self.stop = pid, threading.Event()
        self.peak_pss = self.peak_rss = 0.0
        self.peak_processes = 0
        self.peak_unique = self.peak_anon = 0.0
        #: At the sample of the highest peak: RSS (MB) of each kind of process then alive.
        self.at_peak: dict[str, float] = {}
        #: The highest RSS (MB) each kind of process reached at any time.
        self.role_peaks: dict[str, float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            pids = tree_pids(self.pid)
            sizes = [_rollup(p) for p in pids]
            roles: dict[str, float] = {}
            for pid, size in zip(pids, sizes, strict=True):
                if size[1]:
                    kind = role(pid)
                    roles[kind] = roles.get(kind, 0.0) + size[1] / 1024
            for kind, mb in roles.items():
                self.role_peaks[kind] = max(self.role_peaks.get(kind, 0.0), mb)
            total = unique_pages(pids) * PAGE / 1024**2 if self.unique else sum(roles.values())
            if total > (self.peak_unique if self.unique else sum(self.at_peak.values())):
                self.at_peak = roles
            if self.unique:
                self.peak_unique = max(self.peak_unique, total)
            self.peak_pss = max(self.peak_pss, sum(s[0] for s in sizes) / 1024)
            self.peak_rss = max(self.peak_rss, sum(s[1] for s in sizes) / 1024)
            self.peak_anon = max(self.peak_anon, sum(s[2] for s in sizes) / 1024)
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
    sampler = TreeSampler(proc.pid, unique=True)
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
        "peak_mb": sampler.peak_unique,
        "peak_anon_mb": sampler.peak_anon,
        "peak_pss_mb": sampler.peak_pss,
        "peak_rss_sum_mb": sampler.peak_rss,
        "processes": sampler.peak_processes,
        "rss_at_peak_mb": {k: round(v) for k, v in sorted(sampler.at_peak.items())},
        "rss_peak_by_role_mb": {k: round(v) for k, v in sorted(sampler.role_peaks.items())},
    }


def _roles(sizes: dict[str, int]) -> str:
    order = ("grader", "reference", "worker", "shell", "other")
    rank = {k: i for i, k in enumerate(order)}
    return ", ".join(f"{k} {sizes[k]} MB" for k in sorted(sizes, key=lambda k: rank.get(k, 9)))


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
            row = max(runs, key=lambda r: r["peak_mb"])
            row["mb_each_run"] = [round(r["peak_mb"]) for r in runs]
            rows.append(row)
            flag = "  OVER Gradescope's 768 MB" if row["peak_mb"] > GRADESCOPE_DEFAULT_MB else ""
            print(
                f"{lab_id:24s} peak {row['peak_mb']:5.0f} MB (pages counted once; anonymous "
                f"{row['peak_anon_mb']:4.0f}, PSS {row['peak_pss_mb']:4.0f}, "
                f"RSS summed {row['peak_rss_sum_mb']:5.0f}, "
                f"{row['processes']} processes)  "
                f"{row['seconds']:5.1f} s  score {row['score']:g}/{row['max_score']:g}{flag}"
                + (f"  runs: {row['mb_each_run']} MB" if args.repeat > 1 else ""),
                flush=True,
            )
            print(
                f"{'':24s} at the peak (RSS): {_roles(row['rss_at_peak_mb'])}; each one's own "
                f"peak: {_roles(row['rss_peak_by_role_mb'])}",
                flush=True,
            )
    if args.env:
        print("with " + " ".join(args.env))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
