"""Golden verdicts: the right, wrong and hostile corpora and every solution, pinned test by test.

Regenerate after an intended change of behaviour with `pytest tests/test_golden.py
--update-goldens`, and review the diff of tests/golden/*.json like code.
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.exercise import make_cases
from autograder.grade import grade_submission
from autograder.registry import LABS, find_item, get_lab
from autograder.runner import TestResult as Verdict
from autograder.runner import in_process_caller, run_test
from autograder.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SUBMISSIONS = ROOT / "tests" / "submissions"
#: Limits with room for a loaded machine (a timeout would change a verdict), a small memory cap.
GOLDEN_LIMITS = Limits(call_seconds=20, total_seconds=300, memory_bytes=1024**3)
#: Every golden submission is graded as this student, so the hidden seeds are fixed.
STUDENT = "golden"
#: Lab 05 grades the same function under another name; its fixtures get this alias appended.
LAB05_ALIAS = "\n\nconv2d_fast = conv2d\n"

pytestmark = pytest.mark.slow


def _summary(t: Verdict) -> dict[str, Any]:
    """What is pinned per test: points, counts, the verdict line and the failing case in words."""
    lines = t.output.splitlines()
    return {
        "score": t.score,
        "max_score": t.max_score,
        "passed": t.passed,
        "total": t.total,
        "head": lines[0] if lines else "",
        # the smallest failing case and its arguments: pins labels, order and describe_args
        "case": [ln.strip() for ln in lines[1:3] if ln.startswith("  ")]
        if t.score < t.max_score
        else [],
        "mistakes": re.findall(r"Likely mistake: (.*?)(?:\n|$)", t.output),
    }


def _sandbox(path: Path, lab_id: str, text: str | None = None, tmp: Path | None = None) -> dict:
    if text is not None and tmp is not None:
        path = tmp / path.name
        path.write_text(text)
    report = grade_submission(path, get_lab(lab_id), limits=GOLDEN_LIMITS, student=STUDENT)
    return {
        "score": report.score,
        "max_score": report.max_score,
        "problems": [p.splitlines()[0] for p in report.problems],
        "tests": {t.name: _summary(t) for t in report.tests},
    }


def _in_process(path: Path, lab_id: str, function: str) -> dict:
    """The notebook path: the fixture's function run in this process, every suite."""
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    lab = get_lab(lab_id)
    item = lab.item(function)
    fn = namespace["conv2d"]
    return {
        t.suite: _summary(run_test(in_process_caller(fn), lab, item, t, 0 if not t.hidden else 7))
        for t in item.tests
    }


def _wrong_small() -> dict[str, dict]:
    """The notebook path for the other graded functions: one named mistake per fixture."""
    namespace: dict[str, Any] = {}
    path = GOLDEN / "wrong_small.py"
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    out = {}
    for name, fn in namespace.items():
        if "__" not in name or name.startswith("_"):
            continue
        function = name.split("__")[0]
        lab, item = find_item(function)
        out[f"{lab.id}/{name}"] = {
            t.suite: _summary(
                run_test(in_process_caller(fn), lab, item, t, 0 if not t.hidden else 7)
            )
            for t in item.tests
        }
    return out


def _corpus(kinds: tuple[str, ...]) -> list[Path]:
    return sorted(p for k in kinds for p in (SUBMISSIONS / k).glob("*.py"))


def _compute(tmp: Path) -> dict[str, dict]:
    jobs: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for p in _corpus(("correct", "wrong", "hostile")):
            key = f"{p.parent.name}/{p.stem}"
            jobs[f"sandbox/03_filter_banks/{key}"] = pool.submit(_sandbox, p, "03_filter_banks")
        for p in _corpus(("correct", "wrong")):
            key = f"{p.parent.name}/{p.stem}"
            d = tmp / key.replace("/", "-")
            d.mkdir(parents=True)
            jobs[f"sandbox/05_fast_conv2d/{key}"] = pool.submit(
                _sandbox, p, "05_fast_conv2d", p.read_text() + LAB05_ALIAS, d
            )
        for lab_id in sorted(LABS):
            path = ROOT / "solutions" / lab_id / f"{lab_id}.ipynb"
            jobs[f"sandbox/{lab_id}/solution"] = pool.submit(_sandbox, path, lab_id)
        results = {k: f.result() for k, f in jobs.items()}
    for p in _corpus(("correct", "wrong")):
        results[f"in_process/03_filter_banks/{p.parent.name}/{p.stem}"] = _in_process(
            p, "03_filter_banks", "conv2d"
        )
    results.update({f"in_process/{k}": v for k, v in _wrong_small().items()})
    return dict(sorted(results.items()))


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return _compute(tmp_path_factory.mktemp("golden"))


def _golden_files() -> list[str]:
    return ["sandbox", "in_process"]


@pytest.mark.parametrize("face", _golden_files())
def test_verdicts_match_the_goldens(verdicts, face, request) -> None:
    """Does every corpus file get exactly the pinned verdicts, test by test?"""
    got = {k[len(face) + 1 :]: v for k, v in verdicts.items() if k.startswith(face + "/")}
    path = GOLDEN / f"{face}.json"
    text = json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if request.config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    want = json.loads(path.read_text())
    assert set(got) == set(want)
    for key in sorted(want):
        assert got[key] == want[key], key


def _cases_digest(cases: list) -> str:
    """A digest of every case's label, order, size and argument bytes (type, dtype, shape)."""
    h = hashlib.sha256()
    for c in cases:
        h.update(f"|{c.index}|{c.label}|{c.size}|{c.suite}|{c.seed}|".encode())
        for a in c.args:
            if isinstance(a, np.ndarray):
                h.update(f"{a.dtype}{a.shape}".encode() + a.tobytes())
            else:
                h.update(f"{type(a).__name__}:{a!r}".encode())
    return h.hexdigest()


def test_cases_are_bit_identical(request) -> None:
    """Are the cases of every suite, for a visible and a hidden seed, exactly the pinned ones?"""
    got = {}
    for lab in LABS.values():
        for item in lab.items:
            for t in item.tests:
                for seed in (0, 12345):
                    key = f"{lab.id}/{item.function}/{t.suite}/{seed}"
                    got[key] = _cases_digest(make_cases(item.exercise, t.suite, seed))
    path = GOLDEN / "cases.json"
    if request.config.getoption("--update-goldens"):
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(path.read_text())
