"""Prepared references: TensorFlow asked beforehand by a process that exits before student code
runs, so the grader of a lab whose workers import TensorFlow (lab 04) never holds a second copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder import reference
from autograder.exercise import get_exercise, make_cases
from autograder.registry import get_lab

ROOT = Path(__file__).resolve().parents[1]
LAB4 = get_lab("04_tf_conv2d")
WRONG4 = ROOT / "tests" / "submissions" / "lab04" / "named_mistakes.py"


def _requests() -> list[tuple[str, str, int]]:
    """Every suite of lab 04 (hidden ones too) and a few conv2d suites with many mistakes."""
    lab4 = [(i.exercise, t.suite, 11) for i in LAB4.items for t in i.tests]
    return lab4 + [("conv2d", "batch", 3), ("conv2d", "same_asymmetric", 5)]


def _asked_anyway() -> Any:
    raise AssertionError("TensorFlow was asked although the answer was prepared")


def _everything(requests: list[tuple[str, str, int]]) -> list[Any]:
    """What grading these suites asks TensorFlow for: the cases, references and mistakes."""
    out: list[Any] = []
    for exercise, suite, seed in requests:
        ex = get_exercise(exercise)
        cases = make_cases(exercise, suite, seed)
        out.append(reference.expected_outputs(cases))
        for case in cases:
            out.append([case.label, list(case.args.values())])
            out.append(sorted((k, v) for k, (v, _) in ex.mistakes(case.args).items()))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_prepared_answers_replay_every_exercise_without_tensorflow(monkeypatch, tmp_path):
    """With the prepared answers installed and TensorFlow out of reach, do cases, references and
    named mistakes of every lab 04 exercise (and conv2d's) come out bit for bit as computed?"""
    requests = _requests()
    truth = _everything(requests)
    data = reference.prepare_here(requests)
    assert data["calls"] and data["expected"]
    monkeypatch.setenv("CONVLAB_CACHE_DIR", str(tmp_path))  # nothing from the disk cache
    monkeypatch.setattr(reference, "_memory", dict(data["expected"]))
    monkeypatch.setattr(reference, "_prepared", dict(data["calls"]))
    monkeypatch.setattr(reference, "tensorflow", _asked_anyway)
    assert _same(_everything(requests), truth)


def test_a_replayed_answer_is_a_fresh_copy(monkeypatch):
    """Can a caller write into what tf_conv2d returned without changing the next answer?"""
    x, w = np.arange(16.0).reshape(1, 4, 4, 1), np.ones((2, 2, 1, 1))
    monkeypatch.setattr(reference, "_recording", {})
    first = reference.tf_conv2d(x, w, 1, "VALID")
    monkeypatch.setattr(reference, "_prepared", dict(reference._recording))
    monkeypatch.setattr(reference, "_recording", None)
    monkeypatch.setattr(reference, "tensorflow", _asked_anyway)
    replayed = reference.tf_conv2d(x, w, 1, "VALID")
    replayed[:] = -1
    assert np.array_equal(reference.tf_conv2d(x, w, 1, "VALID"), first)


def test_an_error_is_replayed_with_its_name_and_message(monkeypatch):
    """Does a call TensorFlow refused (an explicit padding leaving no window) fail again, with
    the class name and message a grader message quotes, without TensorFlow?"""
    x, w = np.ones((1, 2, 2, 1)), np.ones((5, 5, 1, 1))
    monkeypatch.setattr(reference, "_recording", {})
    with pytest.raises(Exception) as raised:
        reference.tf_conv2d(x, w, 1, [[0, 0], [0, 0]])
    monkeypatch.setattr(reference, "_prepared", dict(reference._recording))
    monkeypatch.setattr(reference, "_recording", None)
    monkeypatch.setattr(reference, "tensorflow", _asked_anyway)
    with pytest.raises(Exception) as again:
        reference.tf_conv2d(x, w, 1, [[0, 0], [0, 0]])
    assert type(again.value).__name__ == type(raised.value).__name__
    assert str(again.value) == str(raised.value)
    # the oracle's own check (no TensorFlow involved) raises exactly as before
    with pytest.raises(ValueError, match="input channels 2 != filter in_channels 1"):
        reference.tf_conv2d(np.ones((1, 3, 3, 2)), w, 1, "SAME")


def test_a_failed_preparation_leaves_grading_to_the_grader(monkeypatch, capsys):
    """When the preparing process cannot run, does `prepared` say so (False, a note on stderr)
    and leave nothing half-installed?"""
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with reference.prepared([("conv2d", "batch", 3)]) as ok:
        assert ok is False
        assert reference._prepared == {}
    assert "could not be prepared beforehand" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# The guard: Gradescope's path grades lab 04 without TensorFlow in the grader's process

GUARD = textwrap.dedent(
    """
    import json, shutil, sys
    from pathlib import Path
    from autograder.gradescope import run
    from autograder.grade import grade_submission
    from autograder.registry import get_lab

    lab = get_lab("04_tf_conv2d")
    tmp = Path(sys.argv[1])
    meta = tmp / "submission_metadata.json"
    meta.write_text(json.dumps({"users": [{"email": "guard@example.edu"}]}))
    out = {}
    for name, path in (("solution", Path(sys.argv[2])), ("wrong", Path(sys.argv[3]))):
        sub = tmp / name / "submission"
        sub.mkdir(parents=True)
        shutil.copy(path, sub / path.name)
        results = tmp / name / "results.json"
        run(lab.id, sub, meta, results)
        out[name] = json.loads(results.read_text())
        out[name + "_tensorflow_in_grader"] = "tensorflow" in sys.modules
    # the same wrong submission, references computed in this process as grade_class does
    report = grade_submission(Path(sys.argv[3]), lab, student="guard@example.edu")
    out["unprepared"] = {t.name: t.output for t in report.tests}
    out["unprepared_tensorflow_in_grader"] = "tensorflow" in sys.modules
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_gradescope_grades_lab04_without_a_second_tensorflow(tmp_path):
    """Does Gradescope's entry point grade lab 04 (its solution, and a submission with a named
    mistake in every item) without ever importing TensorFlow in the grader's process, with the
    same verdicts, word for word, as a grader that asks TensorFlow itself?"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["CONVLAB_CACHE_DIR"] = str(tmp_path / "cache")  # nothing answered from an earlier run
    solution = ROOT / "solutions" / LAB4.id / f"{LAB4.id}.ipynb"
    done = subprocess.run(
        [sys.executable, "-c", GUARD, str(tmp_path), str(solution), str(WRONG4)],
        capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["solution_tensorflow_in_grader"] is False
    assert out["wrong_tensorflow_in_grader"] is False
    assert out["unprepared_tensorflow_in_grader"] is True  # the comparison did ask TensorFlow
    assert out["solution"]["score"] == LAB4.max_score
    wrong = {t["name"]: t["output"] for t in out["wrong"]["tests"]}
    assert out["wrong"]["score"] == 0
    assert wrong == out["unprepared"]
    # the mistake-naming paths ran (variants of the references, from the prepared answers)
    assert "Likely mistake: you flipped the kernel" in wrong["mnist_conv: mnist_conv"]
    assert "Likely mistake: only input channel 0" in wrong["cifar_conv: hidden"]
    assert "Likely mistake: all zeros" in wrong["learn_kernel: learn_kernel"]
