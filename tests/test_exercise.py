"""Tests for autograder.exercise: registering an Exercise, results of any shape, the cache codec."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from autograder import grade, reference
from autograder.cases import Case, CaseArgs
from autograder.checks import CaseResult, Returned, Tier, check_arrays, scale
from autograder.exercise import (
    EXERCISES,
    Exercise,
    decode_result,
    encode_result,
    get_exercise,
    hidden_test,
    make_cases,
    register,
)
from autograder.grade import grade_class, grade_submission, write_report
from autograder.registry import LABS, Item, Lab
from autograder.registry import Test as Graded
from autograder.runner import TestResult as Verdict
from autograder.runner import in_process_caller, run_test
from autograder.sandbox import CallResult, Limits

FAST_LIMITS = Limits(call_seconds=5, total_seconds=60, memory_bytes=1024**3)
SWAPPED = "the channels are swapped: output 0 is x[..., 0]"


# ----------------------------------------------------------------------------------------------
# A toy exercise: split_channels(x) -> (x[..., 0], x[..., 1]), with numpy as its reference


@dataclass(frozen=True, eq=False)
class SplitArgs(CaseArgs):
    x: NDArray[Any]


class SplitChannels(Exercise):
    name = "split_channels"
    Args = SplitArgs
    description = "the two channels of an (H, W, 2) image"
    suites = (
        Graded("split", 2, about="{function} on random (H, W, 2) images."),
        hidden_test(1),
    )
    oracle = "numpy"

    def cases(self, suite: str, seed: int) -> list[Case]:
        rng = self.rng(seed, suite)
        out = []
        for _ in range(4):
            h, w = (int(v) for v in rng.integers(2, 6, size=2))
            x = rng.uniform(-1, 1, (h, w, 2))
            out.append(self.case(suite, seed, SplitArgs(x), f"H{h}xW{w}x2", x.size))
        return out

    def reference(self, args: SplitArgs) -> tuple[NDArray[Any], NDArray[Any]]:
        return args.x[..., 0].copy(), args.x[..., 1].copy()

    def mistakes(self, args: SplitArgs) -> dict[str, tuple[Any, str]]:
        return {"swapped": ((args.x[..., 1], args.x[..., 0]), SWAPPED)}

    def check(self, case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
        a: SplitArgs = case.args  # type: ignore[assignment]
        return check_arrays(
            case, returned, expected, function=function, layouts=("(H, W)", "(H, W)"),
            terms=1, scale=scale(a.x), variants=lambda: self.mistakes(a), oracle=self.oracle,
            float_rule="a channel of a float image is float",
        )  # fmt: skip


TOY_ITEM = Item(SplitChannels())  # grades through the registered one (the same declaration)
TOY_LAB = Lab(id="toy_lab", title="A toy lab", exercises=("split_channels",))

RIGHT = "def split_channels(x):\n    return x[..., 0], x[..., 1]\n"
SWAPPED_CODE = "def split_channels(x):\n    return x[..., 1], x[..., 0]\n"
ONE_ARRAY = "def split_channels(x):\n    return x[..., 0]\n"


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[SplitChannels]:
    """The toy exercise registered by name and its lab in the registry, for this test only."""
    get_exercise("conv2d")  # the built-in exercises first, so the toy is one more
    exercise = register(SplitChannels())
    monkeypatch.setitem(LABS, TOY_LAB.id, TOY_LAB)
    monkeypatch.setattr(reference, "_memory", {})
    yield exercise
    del EXERCISES[exercise.function]


def split_right(x: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    return x[..., 0], x[..., 1]


def split_swapped(x: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    return x[..., 1], x[..., 0]


def test_a_second_exercise_of_the_same_name_is_refused(toy: SplitChannels) -> None:
    """Is registering another exercise under a taken name an error?"""
    with pytest.raises(ValueError, match="split_channels"):
        register(SplitChannels())


def test_toy_cases_are_typed_records(toy: SplitChannels) -> None:
    """Do the toy's cases carry named arguments that unpack like the call's tuple?"""
    case = make_cases("split_channels", "split", 0)[0]
    assert case.args.names() == ("x",)
    (x,) = case.args
    assert x is case.args.x and case.args.describe() == f"x {x.shape}"


def test_toy_graded_in_process(toy: SplitChannels) -> None:
    """Does run_test grade a two-array answer right, and name the swapped one's mistake?"""
    right = run_test(in_process_caller(split_right), TOY_LAB, TOY_ITEM, TOY_ITEM.test("split"), 0)
    assert (right.score, right.passed, right.total) == (2.0, 4, 4)
    wrong = run_test(in_process_caller(split_swapped), TOY_LAB, TOY_ITEM, TOY_ITEM.test("split"), 0)
    assert (wrong.score, wrong.passed) == (0.0, 0)
    assert f"Likely mistake: {SWAPPED}" in wrong.output
    assert "Output 0 of 2: " in wrong.output and "differ from numpy" in wrong.output
    failure = wrong.failures[0]
    assert failure.tier == Tier.VALUES and failure.where is not None and failure.where[0] == 0
    assert isinstance(failure.got, tuple) and len(failure.got) == 2


def test_toy_one_array_instead_of_two_stops_at_the_type_tier(toy: SplitChannels) -> None:
    """Is a single array where two are expected refused at the type tier, saying so?"""
    result = run_test(
        in_process_caller(lambda x: x[..., 0]), TOY_LAB, TOY_ITEM, TOY_ITEM.test("split"), 0
    )
    assert result.failures[0].tier == Tier.TYPE
    assert "expected a tuple of 2 arrays" in result.output


def test_toy_reference_cache_round_trips(
    toy: SplitChannels, monkeypatch: pytest.MonkeyPatch, reference_cache_dir: Path
) -> None:
    """Are two-array references stored on disk and read back, equal, without recomputing?"""
    cases = make_cases("split_channels", "hidden", 99)
    first = reference.expected_outputs(cases)
    monkeypatch.setattr(reference, "_memory", {})

    def refuse(case: Case) -> Any:
        raise AssertionError("the cache should answer")

    monkeypatch.setattr(reference, "_expected", refuse)
    second = reference.expected_outputs(cases)
    assert [type(v) for v in second] == [tuple] * len(cases)
    for a, b in zip(first, second, strict=True):
        assert len(b) == 2
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_toy_graded_in_the_sandbox_with_feedback(toy: SplitChannels, tmp_path: Path) -> None:
    """Does a .py submission for the toy lab grade end to end in the sandbox, with a report and
    a heatmap of the swapped answer?"""
    scores = {}
    for name, code in (("right", RIGHT), ("swapped", SWAPPED_CODE), ("one", ONE_ARRAY)):
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        report = grade_submission(path, TOY_LAB, limits=FAST_LIMITS)
        scores[name] = report.score
        write_report(report, tmp_path / "out")
        if name == "swapped":
            assert all(f"Likely mistake: {SWAPPED}" in t.output for t in report.tests)
    assert scores == {"right": 3.0, "swapped": 0.0, "one": 0.0}
    feedback = tmp_path / "out" / "feedback"
    assert sorted(p.name for p in feedback.glob("swapped-*.png")) == [
        "swapped-0-split_channels-split.png",
        "swapped-1-split_channels-hidden.png",
    ]
    assert not list(feedback.glob("one-*.png"))  # a type failure has nothing to picture
    data = json.loads((tmp_path / "out" / "swapped.json").read_text())
    assert data["score"] == 0.0 and len(data["tests"]) == 2


# ----------------------------------------------------------------------------------------------
# The result codec


@pytest.mark.parametrize(
    "value",
    [
        np.arange(6.0).reshape(2, 3),
        3,
        -2.5,
        (1, 2),
        (5, 5, 3, 16),
        (np.zeros((2, 2)), np.ones((1, 3), dtype=np.float32)),
        [np.int64(4), (np.arange(3), 0.5)],
        None,
        True,
        frozenset({(0, 1), (2, 3), (1, 1)}),
        frozenset({"outline", "sobel_x"}),
    ],
    ids=[
        "array",
        "int",
        "float",
        "pair",
        "shape",
        "two-arrays",
        "nested",
        "none",
        "bool",
        "set-of-pairs",
        "set-of-names",
    ],
)
def test_codec_round_trips_every_shape_of_result(value: Any) -> None:
    """Does every kind of result come back with its types and values (numpy scalars as Python)?"""
    arrays: list[NDArray[Any]] = []
    spec = json.loads(json.dumps(encode_result(value, arrays)))
    back = decode_result(spec, arrays)

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, np.ndarray):
            return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
        if isinstance(a, tuple | list):
            return type(a) is type(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, np.generic):
            return type(b) is type(a.item()) and b == a.item()
        return type(a) is type(b) and a == b

    assert same(value, back)


def test_codec_refuses_what_it_cannot_store() -> None:
    """Is an object the codec does not know refused (so the reference is just not cached)?"""
    with pytest.raises(TypeError):
        encode_result({"a": 1}, [])


def test_codec_stores_a_set_in_one_order() -> None:
    """Do equal sets (a set or a frozenset, any insertion order) store as the same JSON?"""
    first = json.dumps(encode_result({(2, 3), (0, 1), (1, 1)}, []))
    assert first == json.dumps(encode_result(frozenset([(1, 1), (2, 3), (0, 1)]), []))
    assert decode_result(json.loads(first), []) == frozenset({(0, 1), (1, 1), (2, 3)})


@pytest.mark.parametrize(
    "content",
    [b"not a zip file", b"PK\x03\x04broken"],
    ids=["garbage", "truncated-zip"],
)
def test_a_corrupt_cache_entry_is_recomputed(
    toy: SplitChannels, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    """Is an unreadable cache file recomputed (whatever the error), never trusted?"""
    cases = make_cases("split_channels", "split", 5)
    first = reference.expected_outputs(cases)
    (path,) = [p for p in reference.cache_dir().glob("split_channels-split-5-*.npz")]
    path.write_bytes(content)
    monkeypatch.setattr(reference, "_memory", {})
    again = reference.expected_outputs(cases)
    np.testing.assert_array_equal(first[0][1], again[0][1])


def test_an_old_format_cache_entry_is_recomputed(
    toy: SplitChannels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is a readable npz without the codec's fields (an old entry) recomputed?"""
    cases = make_cases("split_channels", "split", 6)
    first = reference.expected_outputs(cases)
    (path,) = [p for p in reference.cache_dir().glob("split_channels-split-6-*.npz")]
    np.savez(path.open("wb"), kinds=np.array(["array"]), v0=np.zeros(1))
    monkeypatch.setattr(reference, "_memory", {})
    again = reference.expected_outputs(cases)
    np.testing.assert_array_equal(first[1][0], again[1][0])


# ----------------------------------------------------------------------------------------------
# Reports of odd results


def _verdict_with(got: Any, expected: Any, where: Any, exercise: str = "conv2d") -> Verdict:
    case = make_cases(exercise, make_cases_suite(exercise), 0)[0]
    failure = CaseResult(case, False, Tier.VALUES, "wrong", None, 1.0, where, got, expected)
    return Verdict("lab", "f", "s", False, 0, 0.0, 1.0, 0, 1, "✘", [failure])


def make_cases_suite(exercise: str) -> str:
    return get_exercise(exercise).suite_names[0]


@pytest.mark.parametrize(
    "got, expected, where",
    [
        (np.zeros((2, 3, 4)), np.ones((2, 3, 4)), (0, 1, 2)),
        (np.zeros(5), np.ones(5), (3,)),
        (1.5, 2.0, None),
        (np.zeros((1, 2, 2, 1, 1)), np.ones((1, 2, 2, 1, 1)), (0, 0, 0, 0, 0)),
        (np.zeros((2, 2)), np.ones((3, 3)), (0, 0)),
        ((np.zeros((2, 2)),), np.ones((2, 2)), (0, 0)),
        ("text", np.ones((2, 2)), None),
    ],
    ids=["3-D", "1-D", "scalar", "5-D", "shape-mismatch", "tuple-vs-array", "text"],
)
def test_heatmap_skips_what_it_cannot_picture(
    tmp_path: Path, got: Any, expected: Any, where: Any
) -> None:
    """Is a value failure of any other shape skipped, without an error or a file?"""
    assert grade._heatmap(_verdict_with(got, expected, where), tmp_path / "h.png") is False
    assert not (tmp_path / "h.png").exists()


def test_heatmap_pictures_an_nhwc_plane(tmp_path: Path) -> None:
    """Is a 4-D conv2d failure pictured as the plane of its largest error?"""
    got, expected = np.zeros((2, 3, 4, 2)), np.ones((2, 3, 4, 2))
    assert grade._heatmap(_verdict_with(got, expected, (1, 0, 0, 1)), tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 0


def test_a_failing_report_costs_only_that_student(
    toy: SplitChannels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does an error while writing one student's report leave the class run and the others,
    and make that student a grader error (no score), not a 0?"""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.py").write_text(RIGHT)
    (folder / "bob.py").write_text(SWAPPED_CODE)
    real = grade.write_report

    def flaky(report: Any, out_dir: Path) -> None:
        if report.student == "bob" and report.tests:
            raise RuntimeError("a report that cannot be written")
        real(report, out_dir)

    monkeypatch.setattr(grade, "write_report", flaky)
    out = tmp_path / "out"
    results = grade_class([folder], TOY_LAB.id, out_dir=out, jobs=1, progress=False,
                          limits=FAST_LIMITS)  # fmt: skip
    by_student = {r["extra_data"]["student"]: r for r in results}
    assert by_student["ada"]["score"] == 3.0
    assert "score" not in by_student["bob"] and results.grader_errors == ["bob"]
    assert "could not write this result (RuntimeError" in by_student["bob"]["output"]
    assert (out / "ada.json").exists() and (out / "bob.json").exists()


def test_conv2d_takes_more_named_mistakes_from_another_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Does a mistake source added to conv2d's name its mistake, after the built-in ones?"""
    from autograder.exercises.conv2d import CONV2D

    def halved(x: Any, w: Any, strides: Any, padding: str) -> dict[str, tuple[Any, str]]:
        return {"halved": (reference.tf_conv2d(x, w, strides, padding) / 2, "half of it")}

    monkeypatch.setattr(CONV2D, "mistake_sources", (*CONV2D.mistake_sources, halved))
    case = make_cases("conv2d", "batch", 0)[0]
    expected = reference.tf_conv2d(*case.args)
    assert list(CONV2D.mistakes(case.args))[-1] == "halved"
    answer = CallResult("ok", expected / 2, "ndarray")
    result = CONV2D.check(case, answer, expected, "conv2d")
    assert result.tier == Tier.VALUES and result.mistake == "half of it"


# ----------------------------------------------------------------------------------------------
# A new graded function the way README's "Adding a graded function" says: one Exercise module,
# one registry line, its answer cell. The toy is max pooling against tf.nn.max_pool2d (not a
# convolution), with a visible and a hidden suite; it is added to a copy of the project.

ROOT = Path(__file__).resolve().parents[1]
TOY_LAB_ID = "03_filter_banks"


def _readme_blocks() -> list[str]:
    """The code blocks of README's "Adding a graded function", in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Adding a graded function", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:python|text)\n(.*?)```", section, re.S)


def _worked_example() -> tuple[str, str, str]:
    """README's worked example: the module, the registry line, the answer cell."""
    module, line, answer = _readme_blocks()
    assert module.startswith("# autograder/exercises/max_pool.py\n")
    return module, line, answer.rstrip("\n")


POOL_RIGHT = """import numpy as np

def max_pool(inputs):
    n, h, w, c = inputs.shape
    x = inputs[:, : h // 2 * 2, : w // 2 * 2, :]
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
"""
POOL_MEAN = POOL_RIGHT.replace(".max(axis=(2, 4))", ".mean(axis=(2, 4))")


def _add_max_pool(copy: Path) -> None:
    """README's three steps, verbatim, in a copy of the project."""
    module, line, answer = _worked_example()
    (copy / "autograder" / "exercises" / "max_pool.py").write_text(module)
    registry = copy / "autograder" / "registry.py"
    old = line.replace(', "max_pool"', "")
    text = registry.read_text()
    assert text.count(old) == 1, old
    registry.write_text(text.replace(old, line))
    nb_path = copy / "solutions" / TOY_LAB_ID / f"{TOY_LAB_ID}.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"] += [
        {"cell_type": "markdown", "id": "max-pool-prose", "metadata": {},
         "source": "## Max pooling\n\nWrite `max_pool(inputs)`: the largest value of each 2x2 "
         "window, stride 2."},
        {"cell_type": "code", "execution_count": None, "id": "max-pool-answer",
         "metadata": {"nbgrader": {"grade": False, "grade_id": "max_pool", "locked": False,
                                   "schema_version": 3, "solution": True}},
         "outputs": [], "source": answer},
    ]  # fmt: skip
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def test_the_worked_example_is_the_solution_graded_below() -> None:
    """Is README's answer cell the right max_pool this test grades (markers aside)?"""
    answer = _worked_example()[2]
    lines = [ln for ln in answer.splitlines() if "### " not in ln]
    assert "\n".join(lines) + "\n" == POOL_RIGHT.split("\n\n", 1)[1]


def _project_copy(tmp: Path) -> Path:
    import shutil

    copy = tmp / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("autograder", "convlab"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copytree(ROOT / "solutions" / TOY_LAB_ID, copy / "solutions" / TOY_LAB_ID)
    shutil.copy(ROOT / "nbgrader_config.py", copy / "nbgrader_config.py")
    return copy


GRADE_THE_TOY = r"""
import json, sys
from pathlib import Path
from autograder.grade import grade_submission
from autograder.registry import get_lab
from autograder.runner import in_process_caller, run_test
from autograder.sandbox import Limits

lab = get_lab(sys.argv[1])
item = lab.item("max_pool")
limits = Limits(call_seconds=20, total_seconds=300, memory_bytes=1024**3)
out = {"tests": [(t.suite, t.points, t.hidden) for t in item.tests]}
if sys.argv[2] == "prepared":  # the Gradescope path of a lab whose workers import TensorFlow
    report = grade_submission(Path("right.py"), lab, limits=limits, student="toy", prepare=True)
    out["prepared/right"] = {
        t.suite: [t.score, t.max_score] for t in report.tests if t.function == "max_pool"
    }
    out["tensorflow_in_grader"] = "tensorflow" in sys.modules
    print(json.dumps(out))
    sys.exit()
for kind in ("right", "mean"):
    ns = {}
    exec(Path(f"{kind}.py").read_text(), ns)
    caller = in_process_caller(ns["max_pool"])
    results = {t.suite: run_test(caller, lab, item, t, 7 if t.hidden else 0) for t in item.tests}
    out[f"in_process/{kind}"] = {s: [r.score, r.max_score, r.output] for s, r in results.items()}
for kind in ("right", "mean"):
    report = grade_submission(Path(f"{kind}.py"), lab, limits=limits, student="toy")
    out[f"sandbox/{kind}"] = {
        t.suite: [t.score, t.max_score, t.output] for t in report.tests if t.function == "max_pool"
    }
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_new_exercise_is_one_module_and_one_registry_line(tmp_path: Path, monkeypatch) -> None:
    """A toy max_pool (oracle tf.nn.max_pool2d, a visible and a hidden suite) added by its module
    and one registry line: is it released with its locked cells, and graded in-process, in the
    sandbox and with prepared references (no TensorFlow in the grader), right and wrong?"""
    import difflib
    import os
    import subprocess
    import sys

    from autograder.classroom import make_course

    copy = _project_copy(tmp_path)
    before = (copy / "autograder" / "registry.py").read_text().splitlines()
    _add_max_pool(copy)
    after = (copy / "autograder" / "registry.py").read_text().splitlines()
    changed = [d for d in difflib.ndiff(before, after) if d[:2] in ("+ ", "- ")]
    assert len(changed) == 2, changed  # one registry line
    # The release: nbgrader's generate_assignment with this course's config, in the copy.
    monkeypatch.setenv("PYTHONPATH", str(copy))
    course = make_course(tmp_path / "course", TOY_LAB_ID, root=copy)
    released = json.loads((course / "labs" / TOY_LAB_ID / f"{TOY_LAB_ID}.ipynb").read_text())
    gids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in released["cells"]]
    at = gids.index("max_pool")
    assert gids[at + 1 : at + 3] == ["test_max_pool_pool", "test_max_pool_hidden"]
    pool, hidden = released["cells"][at + 1], released["cells"][at + 2]
    assert pool["metadata"]["nbgrader"]["points"] == 2 and pool["metadata"]["nbgrader"]["locked"]
    assert "".join(pool["source"]).endswith('check(max_pool, "max_pool", "pool")')
    assert hidden["metadata"]["nbgrader"]["points"] == 1
    assert "check_hidden" not in "".join(hidden["source"])  # nbgrader cleared the hidden test
    assert "raise NotImplementedError()" in "".join(released["cells"][at]["source"])
    # Grading, in a process of the copy.
    work = tmp_path / "work"
    work.mkdir()
    (work / "right.py").write_text(POOL_RIGHT)
    (work / "mean.py").write_text(POOL_MEAN)
    env = {**os.environ, "PYTHONPATH": str(copy), "CONVLAB_CACHE_DIR": str(tmp_path / "cache")}
    got: dict[str, Any] = {}
    for mode in ("grade", "prepared"):
        proc = subprocess.run(
            [sys.executable, "-c", GRADE_THE_TOY, TOY_LAB_ID, mode],
            cwd=work, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        got.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert got["tests"] == [["pool", 2, False], ["hidden", 1, True]]
    for path in ("in_process", "sandbox"):
        assert {s: v[:2] for s, v in got[f"{path}/right"].items()} == {
            "pool": [2.0, 2],
            "hidden": [1.0, 1],
        }, got[f"{path}/right"]
        for suite, (score, _, output) in got[f"{path}/mean"].items():
            assert score == 0.0, (path, suite, output)
            assert "differ from tf.nn.max_pool2d" in output
            assert "Likely mistake: you averaged each window" in output
    assert got["prepared/right"] == {"pool": [2.0, 2], "hidden": [1.0, 1]}
    assert got["tensorflow_in_grader"] is False


def test_a_declaration_must_name_its_oracle_and_its_hidden_suite() -> None:
    """Is an exercise refused when it does not say its oracle, declares a suite twice, hides a
    suite not named "hidden", or leaves a suite without its `about`?"""

    def refused(**attrs: Any) -> str:
        kind = type("Bad", (SplitChannels,), {"name": "bad_exercise", **attrs})
        with pytest.raises(ValueError) as raised:
            register(kind())
        assert "bad_exercise" not in EXERCISES
        return str(raised.value)

    assert "oracle" in refused(oracle="")
    assert "twice" in refused(suites=(Graded("a", 1, about="x"), Graded("a", 1, about="x")))
    assert "hidden" in refused(suites=(Graded("secret", 1, hidden=True, about="x"),))
    assert "about" in refused(suites=(Graded("a", 1),))


def test_the_oracle_and_dtype_rule_come_from_the_exercise() -> None:
    """Does a dtype failure quote the exercise's rule (not a convolution's), and a value failure
    its oracle?"""
    from autograder.checks import check_array

    case = make_cases("conv2d", "batch", 0)[0]
    expected = np.zeros((2, 2))
    common = dict(function="f", layout="2-D", explain=lambda got: ("", None), terms=1, scale=1.0)
    ints = check_array(
        case, CallResult("ok", np.zeros((2, 2), int), "ndarray"), expected, **common,
        variants=dict, oracle="tf.nn.max_pool2d", float_rule="the largest of floats is float",
    )  # fmt: skip
    assert ints.tier == Tier.DTYPE and "the largest of floats is float" in ints.message
    assert "convolution" not in ints.message
    off = check_array(
        case, CallResult("ok", np.ones((2, 2)), "ndarray"), expected, **common,
        variants=dict, oracle="tf.nn.max_pool2d", float_rule="x",
    )  # fmt: skip
    assert "differ from tf.nn.max_pool2d" in off.message
    assert not hasattr(Exercise, "oracle")  # no default: every exercise says its own


@pytest.mark.slow
def test_a_new_exercise_is_graded_by_nbgrader(tmp_path: Path, monkeypatch) -> None:
    """The same toy through nbgrader's autograde (the grade of record): does the right max_pool
    earn its locked cells' points and the averaging one none?"""
    import nbformat

    from autograder.classroom import make_course, nbgrader, solution_answers, student_notebook
    from autograder.classroom import submit as submit_notebook

    copy = _project_copy(tmp_path)
    _add_max_pool(copy)
    monkeypatch.setenv("PYTHONPATH", str(copy))
    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "toy-course-secret")
    course = make_course(tmp_path / "course", TOY_LAB_ID, root=copy)
    answers = solution_answers(TOY_LAB_ID, root=copy)
    mean = answers["max_pool"].replace(".max(axis=(2, 4))", ".mean(axis=(2, 4))")
    for student, answer in (("right", answers["max_pool"]), ("mean", mean)):
        notebook = student_notebook(TOY_LAB_ID, {**answers, "max_pool": answer}, root=course)
        submit_notebook(course, TOY_LAB_ID, student, notebook)
    run = nbgrader(course, "autograde", TOY_LAB_ID)
    assert run.returncode == 0, run.stderr[-2000:]
    for student, want in (("right", {"pool": 2.0, "hidden": 1.0}), ("mean", {"pool": 0.0})):
        path = course / "autograded" / student / TOY_LAB_ID / f"{TOY_LAB_ID}.ipynb"
        scores = {}
        for cell in nbformat.read(path, as_version=4).cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            values = [o for o in cell.get("outputs", []) if o.output_type == "execute_result"]
            if gid.startswith("test_max_pool_") and values:
                scores[gid.removeprefix("test_max_pool_")] = float(values[0]["data"]["text/plain"])
        assert {k: scores[k] for k in want} == want, (student, scores)
