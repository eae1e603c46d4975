"""Lab 05's `vectorized` test: conv2d_fast's CPU time, measured by the grader, against a vectorized
reference timed just before (autograder/vectorized.py; issue 19, deliverable 2).

The corpus tests/submissions/vectorized/ holds per-pixel loops hidden every way we know (the six of
issue 19 and our own) and honest vectorized variants; each file's header says its expected score.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import vectorized
from autograder.exercises.conv2d import Conv2d
from autograder.grade import grade_class
from autograder.registry import get_lab
from autograder.runner import in_process_caller, run_test
from autograder.sandbox import CpuSample, Limits, Policy, Sandbox, bubblewrap_works

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "submissions" / "vectorized"
NAMES = sorted(p.name for p in CORPUS.glob("*.py"))
LAB = get_lab("05_fast_conv2d")
FAST = LAB.item("conv2d_fast")
TEST = FAST.test("vectorized")
POLICY = Policy(forbidden_modules=LAB.forbidden_modules)

MODES = [
    pytest.param(
        "bubblewrap",
        marks=pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap cannot run here"),
    ),
    pytest.param(
        "uid", marks=pytest.mark.skipif(os.geteuid() != 0, reason="the uid mode needs root")
    ),
    "none",
]


def _expected(name: str) -> float:
    if name == "solution":
        return float(TEST.points)
    head = (CORPUS / name).read_text().split("\n\n")[0]
    found = re.search(r"Expected: vectorized (\d+)", head)
    assert found, f"{name}: the header must say 'Expected: vectorized N'"
    return float(found.group(1))


def _solution_cell() -> str:
    """The lab 05 solution's conv2d_fast cell (its helpers included)."""
    nb = nbformat.read(ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb", as_version=4)
    (cell,) = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == FAST.function
    ]
    return cell.source


def _grade_vectorized(name: str, mode: str | None = None, seed: int = 3):
    """The vectorized test alone (no static scan): what the measurement says."""
    code = _solution_cell() if name == "solution" else (CORPUS / name).read_text()
    with Sandbox(code, policy=POLICY, limits=Limits(isolation=mode), filename=name) as box:
        return run_test(box.call, LAB, FAST, TEST, seed)


def test_corpus_headers_say_what_is_expected():
    """Does every fixture say what it tries and its expected score, with honest ones among them?"""
    expected = {name: _expected(name) for name in NAMES}
    assert set(expected.values()) == {0.0, TEST.points}
    assert sum(v == 0 for v in expected.values()) >= 15  # the six of issue 19 and our own


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_corpus_in_every_isolation_mode(name, mode):
    """Does each loop over pixels, however hidden, get 0 of the 10 points and each honest
    vectorized variant all of them, in every isolation mode?"""
    result = _grade_vectorized(name, mode)
    assert result.score == _expected(name), result.output
    if result.score == 0 and name != "fast_wrong_when_large.py":
        assert "more than 8× the CPU time" in result.output
        assert "a Python loop still runs once per output pixel" in result.output


@pytest.fixture
def two_busy_loops():
    """Two processes that each keep a core busy (the machine has two) while a test runs."""
    code = "while True:\n    pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    time.sleep(0.2)
    yield
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["solution", *NAMES])
def test_corpus_on_a_loaded_machine(name, two_busy_loops):
    """With both cores kept busy by other programs, is every verdict the same (the lab's
    solution's 10/10 too)?"""
    result = _grade_vectorized(name)
    assert result.score == _expected(name), result.output


@pytest.mark.slow
def test_graded_beside_honest_classmates(tmp_path):
    """The whole of lab 05 for a class: honest students (the solution, the corpus's vectorized
    variants) keep every point of conv2d_fast; each attacker keeps at most the half that
    correctness gives, and 0 of `vectorized`."""
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    solution = ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb"
    (class_dir / "solution.ipynb").write_bytes(solution.read_bytes())
    for name in NAMES:
        (class_dir / name).write_text((CORPUS / name).read_text())
    results = grade_class(
        [class_dir], LAB.id, out_dir=tmp_path / "out", jobs=2, limits=Limits(), progress=False
    )
    by = {r["extra_data"]["student"]: r for r in results}
    for student, result in by.items():
        tests = {t["name"]: t for t in result["tests"] if t["name"].startswith("conv2d_fast:")}
        points = sum(t["score"] for t in tests.values())
        vec = tests["conv2d_fast: vectorized"]["score"]
        if student == "solution" or _expected(f"{student}.py") == TEST.points:
            assert vec == TEST.points, (student, tests["conv2d_fast: vectorized"]["output"])
        else:
            assert vec == 0 and points <= FAST.max_score / 2, (student, points)


# ----------------------------------------------------------------------------------------------
# The measurement itself


def test_cpu_sample_since_prefers_the_exact_count():
    """Live threads count to the nanosecond; ticks (which also hold exited threads and reaped
    children) count only beyond their rounding."""
    before = CpuSample(1_000_000_000, {"7": (100, 0)})
    assert CpuSample(1_030_000_000, {"7": (103, 0)}).since(before) == pytest.approx(0.03)
    # a thread that ran 0.5 s and exited: gone from the exact count, still in the ticks
    after = CpuSample(1_010_000_000, {"7": (151, 0)})
    assert after.since(before) == pytest.approx(0.49)
    # a child reaped during the call: its time arrives in cutime/cstime
    reaped = CpuSample(1_000_000_000, {"7": (100, 40)})
    assert reaped.since(before) == pytest.approx(0.38)
    assert CpuSample(900_000_000, {"7": (100, 0)}).since(before) == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_cpu_of_the_worker_tree_is_read_by_the_grader(mode):
    """Sandbox.call(measure_cpu=True): busy work counts (a thread's too), sleeping does not, and
    a reply the student's code forges cannot change it."""
    code = (
        "import sys, threading, time\n\n"
        "def spin(seconds):\n"
        "    end = time.thread_time() + seconds\n"
        "    while time.thread_time() < end:\n"
        "        pass\n\n"
        "def busy(seconds):\n"
        "    spin(seconds)\n"
        "    return 1\n\n"
        "def busy_thread(seconds):\n"
        "    t = threading.Thread(target=spin, args=(seconds,))\n"
        "    t.start()\n"
        "    t.join()\n"
        "    return 2\n\n"
        "def sleepy(seconds):\n"
        "    time.sleep(seconds)\n"
        "    return 3\n\n"
        "def forged(seconds):\n"
        "    spin(seconds)\n"
        "    worker = sys.modules['__main__']\n"
        "    header = {'kind': 'result', 'status': 'ok', 'message': '', 'type_name': 'int'}\n"
        "    header.update(value=worker.encode(4, [], 'forged'), cpu_seconds=0.0)\n"
        "    worker.send_message(header, [])\n"
        "    return 4\n"
    )
    with Sandbox(code, policy=POLICY, limits=Limits(isolation=mode)) as box:
        plain = box.call("busy", 0.01)
        busy = box.call("busy", 0.15, measure_cpu=True)
        thread = box.call("busy_thread", 0.15, measure_cpu=True)
        sleepy = box.call("sleepy", 0.15, measure_cpu=True)
        forged = box.call("forged", 0.15, measure_cpu=True)
    assert plain.cpu_seconds is None
    assert (busy.value, thread.value, sleepy.value) == (1, 2, 3)
    assert 0.15 <= busy.cpu_seconds < 1.0
    # the thread has exited by the reply: it counts through the ticks, less their rounding
    assert 0.15 - 3 / os.sysconf("SC_CLK_TCK") <= thread.cpu_seconds < 1.0
    assert sleepy.cpu_seconds < 0.05 and sleepy.seconds >= 0.15
    assert forged.status == "ok" and forged.cpu_seconds >= 0.15


def test_baseline_runs_while_the_worker_is_stopped():
    """A thread the student's code left spinning uses no CPU while the grader's baseline runs."""
    code = (
        "import threading\n\n"
        "def _spin():\n"
        "    while True:\n"
        "        pass\n\n"
        "threading.Thread(target=_spin, daemon=True).start()\n\n"
        "def f():\n"
        "    return 1\n"
    )
    seen = []

    with Sandbox(code, policy=POLICY) as box:
        box.load()

        def baseline():
            first = box.worker_cpu()
            time.sleep(0.3)
            seen.append(box.worker_cpu().since(first))

        result = box.call("f", measure_cpu=True, baseline=baseline)
        spun = box.worker_cpu()
        time.sleep(0.3)
        spinning = box.worker_cpu().since(spun)
    assert result.value == 1 and seen[0] < 0.005
    assert spinning > 0.01  # running again after the baseline (on a busy machine: a share)


def test_yardstick_is_conv2d_same():
    """The reference timed by the grader computes tf.nn.conv2d's SAME convolution."""
    rng = np.random.default_rng(5)
    x, w = rng.uniform(-1, 1, (1, 9, 7, 2)), rng.uniform(-1, 1, (3, 3, 2, 3))
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    brute = np.zeros((1, 9, 7, 3))
    for i in range(9):
        for j in range(7):
            brute[0, i, j] = np.einsum("abc,abck->k", padded[0, i : i + 3, j : j + 3], w)
    np.testing.assert_allclose(vectorized.yardstick(x, w), brute, atol=1e-12)


def _conv2d_fast_loops(inputs, filters, strides, padding):
    """SAME, stride 1, 3×3 (the cases of the test): a loop over output pixels."""
    x = np.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
    n, h, w, c = inputs.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * w, 9 * c)
    weights = filters.reshape(9 * c, -1)
    out = np.empty((n * h * w, weights.shape[1]))
    for p in range(n * h * w):
        out[p] = cols[p] @ weights
    return out.reshape(n, h, w, -1)


def _conv2d_fast_vectorized(inputs, filters, strides, padding):
    return vectorized.yardstick(np.asarray(inputs, float), np.asarray(filters, float))


def test_in_process_self_check():
    """The notebook's check: the same verdicts, timed in the notebook's own thread."""
    loops = run_test(in_process_caller(_conv2d_fast_loops), LAB, FAST, TEST, 0)
    fast = run_test(in_process_caller(_conv2d_fast_vectorized), LAB, FAST, TEST, 0)
    assert loops.score == 0 and "more than 8× the CPU time" in loops.output
    assert fast.score == TEST.points and "less than 8× the CPU time" in fast.output


def test_right_first_and_grader_failures_said_as_such():
    """A wrong small case: 0 and why; a caller that cannot read CPU time: 0 and 'tell the
    course staff', never a verdict on the student's code."""

    def zeros(inputs, filters, strides, padding):
        return np.zeros((*np.shape(inputs)[:3], np.shape(filters)[3]))

    wrong = run_test(in_process_caller(zeros), LAB, FAST, TEST, 0)
    assert wrong.score == 0 and "must first be right on N1-H8xW8" in wrong.output

    inner = in_process_caller(_conv2d_fast_vectorized)

    def blind(name, *args, measure_cpu=False, baseline=None):
        returned = inner(name, *args, measure_cpu=measure_cpu, baseline=baseline)
        returned.cpu_seconds = None
        return returned

    failed = run_test(blind, LAB, FAST, TEST, 0)
    assert failed.score == 0
    assert "the grader could not measure it" in failed.output
    assert "tell the course staff" in failed.output


def test_the_hook_is_the_exercises_and_the_runner_names_no_exercise(monkeypatch):
    """runner.py knows no suite by name: any suite an Exercise grades as a whole goes through
    `graded_property`, and the runner imports no exercise module."""
    source = (ROOT / "autograder" / "runner.py").read_text()
    assert "vectorized" not in source and "conv2d" not in source

    def verdict(self, suite, call, function, cases, expected):
        return (True, f"{len(cases)} cases, measured as a whole") if suite == "edges" else None

    monkeypatch.setattr(Conv2d, "graded_property", verdict)
    result = run_test(in_process_caller(_conv2d_fast_vectorized), LAB, FAST, FAST.test("edges"), 0)
    assert result.score == FAST.test("edges").points and result.total == 1
    assert result.output.endswith("7 cases, measured as a whole")
