"""Golden verdicts: the right, wrong and hostile corpora and every solution, pinned per item.

Each golden pins only the items its fixture targets: a conv2d corpus file pins conv2d's tests
(conv2d_fast's in lab 05), a wrong_small fixture `<function>__<mistake>` pins that function's,
a lab's solution pins every item of the lab. The files are one per graded function,
tests/golden/verdicts/<lab>/<function>.json, keyed by "<path>/<fixture>" (path: sandbox or
in_process); tests/golden/labs.json is the short digest of every lab (its tests and points).
Adding a function to a lab adds its own file and changes labs.json, and nothing else. The items a
fixture does not target are not pinned, only checked: they score 0 (a conv2d file defines no
conv_matrix).

Regenerate after an intended change of behaviour with `pytest tests/test_golden.py
--update-goldens`, and review the diff of tests/golden/ like code. The wrong answers for the
functions other than conv2d are tests/golden/wrong_small.py.
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


def _targets(text: str, lab_id: str) -> tuple[str, ...]:
    """The lab's graded functions a fixture defines at its top level (by name, read as text:
    a fixture may not even parse)."""
    defined = {a or b for a, b in re.findall(r"^(?:def\s+(\w+)\s*\(|(\w+)\s*=)", text, re.M)}
    return tuple(i.function for i in get_lab(lab_id).items if i.function in defined)


def _sandbox(path: Path, lab_id: str, text: str | None = None, tmp: Path | None = None) -> dict:
    if text is not None and tmp is not None:
        path = tmp / path.name
        path.write_text(text)
    report = grade_submission(path, get_lab(lab_id), limits=GOLDEN_LIMITS, student=STUDENT)
    return {
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


def _wrong_small() -> dict[tuple[str, str, str], dict]:
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
        out[(lab.id, function, f"in_process/{name}")] = {
            t.suite: _summary(
                run_test(in_process_caller(fn), lab, item, t, 0 if not t.hidden else 7)
            )
            for t in item.tests
        }
    return out


def _corpus(kinds: tuple[str, ...]) -> list[Path]:
    return sorted(p for k in kinds for p in (SUBMISSIONS / k).glob("*.py"))


def _pinned(lab_id: str, fixture: str, graded: dict, targets: tuple[str, ...]) -> dict:
    """One sandbox grading split by item: (lab, function, "sandbox/<fixture>") -> what is pinned
    of each targeted function; every other item is checked to score 0, not pinned."""
    out = {}
    for item in get_lab(lab_id).items:
        tests = {t.suite: graded["tests"][f"{item.function}: {t.suite}"] for t in item.tests}
        if item.function in targets:
            out[(lab_id, item.function, f"sandbox/{fixture}")] = {
                "problems": graded["problems"],
                "tests": tests,
            }
        else:
            assert all(t["score"] == 0 for t in tests.values()), (lab_id, fixture, item.function)
    assert graded["max_score"] == get_lab(lab_id).max_score
    return out


def _compute(tmp: Path) -> dict[tuple[str, str, str], dict]:
    """(lab, function, "<path>/<fixture>") -> the pinned verdicts of that function."""
    jobs: dict[tuple[str, str], Any] = {}
    targets: dict[tuple[str, str], tuple[str, ...]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for p in _corpus(("correct", "wrong", "hostile")):
            key = ("03_filter_banks", f"{p.parent.name}/{p.stem}")
            jobs[key] = pool.submit(_sandbox, p, "03_filter_banks")
            targets[key] = _targets(p.read_text(), key[0])
        for p in _corpus(("correct", "wrong")):
            key = ("05_fast_conv2d", f"{p.parent.name}/{p.stem}")
            d = tmp / key[1].replace("/", "-")
            d.mkdir(parents=True)
            jobs[key] = pool.submit(_sandbox, p, "05_fast_conv2d", p.read_text() + LAB05_ALIAS, d)
            targets[key] = _targets(p.read_text() + LAB05_ALIAS, key[0])
        for lab_id in sorted(LABS):
            path = ROOT / "solutions" / lab_id / f"{lab_id}.ipynb"
            jobs[(lab_id, "solution")] = pool.submit(_sandbox, path, lab_id)
            targets[(lab_id, "solution")] = get_lab(lab_id).solution_cells
        graded = {k: f.result() for k, f in jobs.items()}
    results: dict[tuple[str, str, str], dict] = {}
    for (lab_id, fixture), verdicts in graded.items():
        assert targets[(lab_id, fixture)], f"{lab_id}/{fixture} targets no graded function"
        results.update(_pinned(lab_id, fixture, verdicts, targets[(lab_id, fixture)]))
    for p in _corpus(("correct", "wrong")):
        results[("03_filter_banks", "conv2d", f"in_process/{p.parent.name}/{p.stem}")] = (
            _in_process(p, "03_filter_banks", "conv2d")
        )
    results.update(_wrong_small())
    return results


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], dict]:
    return _compute(tmp_path_factory.mktemp("golden"))


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


GRADED = [(lab.id, item.function) for lab in LABS.values() for item in lab.items]


@pytest.mark.parametrize(("lab_id", "function"), GRADED, ids=[f"{a}/{b}" for a, b in GRADED])
def test_verdicts_match_the_goldens(verdicts, lab_id, function, request) -> None:
    """Does every fixture targeting this function get exactly its pinned verdicts, suite by
    suite?"""
    got = {k: v for (lab, fn, k), v in verdicts.items() if (lab, fn) == (lab_id, function)}
    path = GOLDEN / "verdicts" / lab_id / f"{function}.json"
    if request.config.getoption("--update-goldens"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dump(got))
    want = json.loads(path.read_text())
    assert set(got) == set(want)
    for key in sorted(want):
        assert got[key] == want[key], key


def test_every_golden_file_is_of_a_graded_function() -> None:
    """Is there no golden of a function (or lab) that is no longer graded?"""
    files = {(p.parent.name, p.stem) for p in (GOLDEN / "verdicts").glob("*/*.json")}
    assert files == set(GRADED)


def test_the_labs_digest(request) -> None:
    """The short digest of every lab: its graded tests in order, their points, its maximum."""
    got = {
        lab.id: {
            "max_score": lab.max_score,
            "tests": [
                f"{i.function}: {t.suite} ({t.points:g}{', hidden' if t.hidden else ''})"
                for i in lab.items
                for t in i.tests
            ],
        }
        for lab in LABS.values()
    }
    path = GOLDEN / "labs.json"
    if request.config.getoption("--update-goldens"):
        path.write_text(_dump(got))
    assert got == json.loads(path.read_text())


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
