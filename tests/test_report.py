"""Tests of the class report: `python -m autograder report OUT_DIR` -> OUT_DIR/report.html."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder.grade import grade_class
from autograder.registry import get_lab
from autograder.report import ReportError, load_results, summarize, write_class_report
from autograder.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("03_filter_banks")
SUBMISSIONS = ROOT / "tests" / "submissions"
FAST_LIMITS = Limits(call_seconds=3, total_seconds=40, memory_bytes=1024**3)
FLIP = "you flipped the kernel"


def _result(student, score, tests, **extra):
    return {
        "score": score,
        "execution_time": extra.pop("seconds", 1.0),
        "output": "",
        "tests": tests,
        "extra_data": {"student": student, "lab": LAB.id, "max_score": LAB.max_score, **extra},
    }


def _test(name, score, max_score, mistakes=(), stopped=None, forbidden=()):
    return {
        "name": name, "score": score, "max_score": max_score,
        "status": "passed" if score >= max_score else "failed", "output": "",
        "extra_data": {"mistakes": list(mistakes), "stopped": stopped,
                       "forbidden": list(forbidden),
                       "mistake_examples": {m: f"case 3: {m}, said to ada" for m in mistakes}},
    }  # fmt: skip


def _store(folder: Path, results: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        (folder / f"{r['extra_data']['student']}.json").write_text(json.dumps(r))
    return folder


def test_summary_counts_students_per_mistake_and_flags(tmp_path):
    """Is each mistake counted once per student, and each kind of trouble flagged?"""
    t = "conv2d: valid_stride1"
    folder = _store(tmp_path / "g", [
        _result("ada", 2, [_test(t, 0, 2, [FLIP]), _test("conv2d: hidden", 0, 4, [FLIP])]),
        _result("bob", 0, [_test(t, 0, 2, [FLIP], stopped="timeout")], seconds=90.0),
        _result("cy", 2, [_test(t, 2, 2)], isolation={"mechanism": "none", "isolated": False}),
        _result("dee", 0, [_test(t, 0, 2, stopped="forbidden", forbidden=["np.convolve"])],
                problems=["SyntaxError: invalid syntax (line 3)"]),
        _result("eve", 2, [_test(t, 2, 2)], isolation="bubblewrap"),
    ])  # fmt: skip
    summary = summarize(load_results([folder]))
    assert summary.mistakes == {FLIP: 2}
    assert summary.examples[FLIP] == f"case 3: {FLIP}, said to <student>"
    assert (summary.passed[t], summary.attempted[t]) == (2, 5)
    flags = {(f.student, f.kind) for f in summary.flags}
    assert flags == {
        ("bob", "timeout"),
        ("cy", "ran without isolation"),
        ("dee", "library use / forbidden"),
        ("dee", "could not run"),
    }
    page = write_class_report(folder).read_text()
    assert "ada" not in page.split("id='mistakes'")[1].split("id='flagged'")[0]
    slowest = page.split("id='slowest'")[1]
    assert slowest.index(">bob<") < slowest.index(">ada<")


def test_report_refuses_no_results_and_mixed_labs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no results"):
        write_class_report(tmp_path / "empty")
    folder = _store(tmp_path / "mixed", [_result("ada", 1, [])])
    other = _result("bob", 1, [])
    other["extra_data"]["lab"] = "01_convolution_by_hand"
    _store(folder, [other])
    with pytest.raises(ReportError, match="several labs"):
        write_class_report(folder)
    assert "<b>1</b> submissions" in write_class_report(folder, lab_id=LAB.id).read_text()


def test_report_merges_shard_folders(tmp_path):
    one = _store(tmp_path / "s1", [_result("ada", 2, []), _result("bob", 1, [])])
    two = _store(tmp_path / "s2", [_result("cy", 0, [])])
    page = write_class_report(one, extra_dirs=[two]).read_text()
    assert "<b>3</b> submissions" in page


# ----------------------------------------------------------------------------------------------
# A class really graded


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """Right, wrong (twice the same mistake) and hostile students, graded in two shards."""
    folder = tmp_path_factory.mktemp("class")
    for name, source in {
        "ann": SUBMISSIONS / "correct" / "vectorized.py",
        "ben": SUBMISSIONS / "wrong" / "flipped_kernel.py",
        "bea": SUBMISSIONS / "wrong" / "flipped_kernel.py",
        "tim": SUBMISSIONS / "wrong" / "transposed_kernel.py",
        "lou": SUBMISSIONS / "hostile" / "infinite_loop.py",
        "cat": SUBMISSIONS / "hostile" / "forbidden_np_convolve.py",
        "syd": SUBMISSIONS / "hostile" / "syntax_error.py",
    }.items():
        shutil.copy(source, folder / f"{name}.py")
    out = tmp_path_factory.mktemp("out")
    for i in (1, 2):
        grade_class([folder], LAB.id, out_dir=out / f"shard{i}", limits=FAST_LIMITS,
                    progress=False, shard=(i, 2))  # fmt: skip
    path = write_class_report(out / "shard1", extra_dirs=[out / "shard2"])
    return path, summarize(load_results([out / "shard1", out / "shard2"]))


@pytest.mark.slow
def test_report_of_a_graded_class(graded_class):
    """Does the page count the class's mistakes and flag its hostile students?"""
    path, summary = graded_class
    assert len(summary.students) == 7
    assert summary.mistakes[next(m for m in summary.mistakes if "flipped" in m)] == 2
    assert any("transpos" in m for m in summary.mistakes)
    kinds = {(f.student, f.kind) for f in summary.flags}
    assert {("lou", "timeout"), ("cat", "library use / forbidden"), ("syd", "could not run")} <= (
        kinds
    )
    assert not any(f.student in ("ann", "ben", "bea", "tim") for f in summary.flags)
    page = path.read_text()
    for section in ("scores", "tests", "mistakes", "flagged", "slowest"):
        assert f"id='{section}'" in page
    # self-contained: every image inline, nothing fetched
    sources = re.findall(r"src='([^']*)'", page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<script" not in page and "http://" not in page and "https://" not in page


#: Run in its own process: the browser tests keep a session-wide Playwright (and its asyncio
#: loop) open in this one, and the sync API refuses to start inside a running loop.
CHROMIUM_CHECK = """
import json, sys
from playwright.sync_api import sync_playwright
sys.path.insert(0, sys.argv[3])
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, screenshot

errors = []
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: errors.append("request failed: " + r.url))
        page.goto(sys.argv[1], wait_until="load")
        widths = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
        )
        title = page.locator("h1").inner_text()
        shot = screenshot(page, sys.argv[2], full_page=True)
    finally:
        browser.close()
print(json.dumps({"errors": errors, "widths": widths, "title": title, "shot": str(shot)}))
"""


@pytest.mark.slow
@pytest.mark.browser
def test_report_renders_in_chromium(graded_class):
    """Does the page load in headless Chromium without errors, with every image decoded?"""
    import os
    import subprocess
    import sys

    from browser_helpers import chromium_available

    if not chromium_available():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium (CI installs it)")
    path, _ = graded_class
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-c", CHROMIUM_CHECK, path.as_uri(), "class-report",
         str(ROOT / "tests")],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["errors"] == []
    assert len(seen["widths"]) == 2 and all(w > 0 for w in seen["widths"]), seen["widths"]
    assert seen["title"].startswith(LAB.id)
    assert Path(seen["shot"]).stat().st_size > 0


def test_report_counts_the_wrong_predictions(tmp_path):
    """Graded through the sandbox, does each wrong prediction reach the report as one canonical
    answer (a list, a tuple or a float of the same value count together), right answers and
    unanswered ones apart, so a TA sees the class's misconceptions?"""
    lab = get_lab("02_stride_padding")
    answers = {"ada": "4", "bob": "2", "cy": "[2.0][0]", "dee": "0", "eve": "None"}
    folder = tmp_path / "submitted"
    for student, value in answers.items():
        (folder / student / lab.id).mkdir(parents=True)
        (folder / student / lab.id / f"{lab.id}.py").write_text(f"my_p2_width = {value}\n")
    out = tmp_path / "grades"
    grade_class([folder], lab.id, out_dir=out, limits=FAST_LIMITS, progress=False)
    summary = summarize(load_results([out]))
    test = "my_p2_width: prediction"
    assert (summary.passed[test], summary.attempted[test]) == (1, 5)
    assert summary.predictions[test] == {"2": 2, "0": 1, "no prediction": 1}
    html = write_class_report(out).read_text()
    assert "What the class predicted" in html and "2 (2); 0 (1); no prediction (1)" in html


def test_prediction_answers_are_canonical():
    """Do equal predictions get one key whatever their type, and a set its items sorted?"""
    from autograder.exercise import get_exercise

    shape = get_exercise("my_mnist_shape")
    assert {shape.answer_key(v) for v in ((64, 28, 28, 16), [64, 28, 28, 16.0])} == {
        "(64, 28, 28, 16)"
    }
    pixels = get_exercise("my_pixels_v10")
    assert pixels.answer_key({(1, 0), (0, 1)}) == pixels.answer_key(frozenset({(0, 1), (1, 0)}))
    assert pixels.answer_key({(1, 0), (0, 1)}) == "{(0, 1), (1, 0)}"
    assert shape.answer_key(None) == "no prediction"
    assert get_exercise("conv2d").answer_key(np.zeros(3)) is None  # only predictions are counted
