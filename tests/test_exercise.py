"""Tests for autograder.exercise: registering an Exercise, results of any shape, the cache codec."""

from __future__ import annotations

import json
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
    suites = ("split", "hidden")
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
        )  # fmt: skip


TOY_ITEM = Item(
    function="split_channels",
    exercise="split_channels",
    description="the two channels of an (H, W, 2) image",
    tests=(Graded("split", 2), Graded("hidden", 1, hidden=True)),
)
TOY_LAB = Lab(id="toy_lab", title="A toy lab", items=(TOY_ITEM,))

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
    del EXERCISES[exercise.name]


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
    return get_exercise(exercise).suites[0]


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
