"""Tests for autograder.checks: the tiers, the named mistakes, a corpus of student conv2d code."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from autograder.cases import Case
from autograder.checks import TOL_PER_TERM, CaseResult
from autograder.exercise import all_exercises, check_case, get_exercise, make_cases
from autograder.exercises.conv2d import Conv2dArgs
from autograder.reference import expected_outputs, tf_conv2d
from autograder.registry import LABS, get_lab
from autograder.runner import Returned, in_process_caller, run_test

if TYPE_CHECKING:  # imported by name, pytest would try to collect TestResult as a test class
    from autograder.runner import TestResult

SUBMISSIONS = Path(__file__).parent / "submissions"
LAB = get_lab("03_filter_banks")
CONV2D = LAB.item("conv2d")
VISIBLE_SUITES = tuple(t.suite for t in CONV2D.tests if not t.hidden)
EVERY_SUITE = frozenset((*VISIBLE_SUITES, "hidden"))
#: The hidden suite's seed in the corpus table; the golden failing suites hold for this seed.
HIDDEN_SEED = 2024
#: Seeds of the hidden suite a correct submission must pass.
CORRECT_HIDDEN_SEEDS = range(5)


# ----------------------------------------------------------------------------------------------
# The corpus of student submissions


def load_student(path: Path) -> ModuleType:
    """Import one corpus file by path, without putting tests/submissions on sys.path."""
    spec = importlib.util.spec_from_file_location(f"student_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def grade_corpus_file(folder: str, stem: str) -> dict[str, TestResult]:
    """Every visible conv2d suite (seed 0) and the hidden suite (HIDDEN_SEED), in process."""
    fn = load_student(SUBMISSIONS / folder / f"{stem}.py").conv2d
    return {
        t.suite: run_test(in_process_caller(fn), LAB, CONV2D, t, HIDDEN_SEED if t.hidden else 0)
        for t in CONV2D.tests
    }


@dataclass(frozen=True)
class Expect:
    """Golden outcome of a wrong submission: the suites it fails and the mistake named in one."""

    stem: str
    failing: frozenset[str]
    mistake: str
    named_in: str

    def __str__(self) -> str:
        return self.stem


def suites(*names: str) -> frozenset[str]:
    return frozenset(names)


SAME_SUITES = suites(
    "same_odd", "same_asymmetric", "multichannel", "filter_bank", "batch", "edges",
    "argument_forms", "hidden",
)  # fmt: skip
MULTI_CHANNEL_SUITES = suites(
    "multichannel", "filter_bank", "batch", "edges", "argument_forms", "hidden"
)

CORRECT = [
    ("correct", "naive_loops"),
    ("correct", "vectorized"),
    ("correct", "float32_accumulate"),
    ("correct", "returns_list"),
    ("wrong", "mutates_inputs"),  # wrong manners, right values: the runner copies the arguments
]

WRONG = [
    Expect("flipped_kernel", EVERY_SUITE, "you flipped the kernel", "valid_stride1"),
    Expect("transposed_kernel", EVERY_SUITE, "the kernel is transposed", "batch"),
    Expect("same_split_top", SAME_SUITES, "TensorFlow puts it at the bottom/right", "edges"),
    Expect("same_symmetric", SAME_SUITES, "symmetric padding of (f - 1) // 2", "filter_bank"),
    Expect(
        "same_stride1_padding",
        suites("same_odd", "same_asymmetric", "edges", "argument_forms", "hidden"),
        "your SAME padding is the stride-1 rule",
        "edges",
    ),
    Expect(
        "floor_output_size",
        suites(
            "same_odd",
            "same_asymmetric",
            "multichannel",
            "filter_bank",
            "edges",
            "argument_forms",
            "hidden",
        ),  # fmt: skip
        "floor instead of ceil",
        "same_odd",
    ),
    Expect(
        "valid_off_by_one",
        EVERY_SUITE - {"same_odd", "same_asymmetric"},
        "an off-by-one",
        "valid_stride1",
    ),
    Expect(
        "strides_swapped",
        EVERY_SUITE - {"valid_stride1", "multichannel"},  # multichannel: equal strides only
        "the strides were applied to the wrong axes",
        "valid_strided",
    ),
    Expect(
        "channels_not_summed",
        MULTI_CHANNEL_SUITES,
        "you overwrite (=) where you should accumulate (+=)",
        "multichannel",
    ),
    Expect("first_channel_only", MULTI_CHANNEL_SUITES, "only input channel 0", "multichannel"),
    Expect(
        "batch_ignored",
        suites("batch", "edges", "hidden"),
        "only the first image of the batch",
        "batch",
    ),
    Expect("batch_dropped", EVERY_SUITE, "keep the batch axis", "valid_stride1"),
    Expect("integer_output", EVERY_SUITE, "returned dtype int64", "valid_stride1"),
    Expect(
        # only argument_forms spells the padding in lower or mixed case
        "padding_case_sensitive",
        suites("argument_forms"),
        "was not recognised as SAME: compare padding.upper()",
        "argument_forms",
    ),
    Expect("stride_ignored", EVERY_SUITE - {"valid_stride1"}, "stride was ignored", "batch"),
    Expect("returns_none", EVERY_SUITE, "returned None", "valid_stride1"),
    Expect("nan_output", EVERY_SUITE, "NaN/inf values", "valid_stride1"),
    Expect(
        "filter_zero_only",
        suites("filter_bank", "batch", "edges", "argument_forms", "hidden"),
        "every output channel used filter 0",
        "filter_bank",
    ),
    Expect(
        "raises_on_strided",
        EVERY_SUITE - {"valid_stride1"},
        "not implemented yet (it raises NotImplementedError)",
        "valid_strided",
    ),
]


def test_corpus_table_lists_every_file() -> None:
    """Does every corpus file have a golden expectation here, and every row a file?"""
    on_disk = {(p.parent.name, p.stem) for p in SUBMISSIONS.glob("[cw]*/*.py")}
    in_table = set(CORRECT) | {("wrong", e.stem) for e in WRONG}
    assert on_disk == in_table


@pytest.mark.parametrize(
    "path", sorted(SUBMISSIONS.glob("[cw]*/*.py")), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_corpus_file_states_its_expected_outcome(path: Path) -> None:
    """Does each corpus file open with a comment saying what is wrong and what is expected?"""
    header = path.read_text().split("import", 1)[0]
    assert header.startswith("# ") and "Expected" in header


@pytest.mark.parametrize("folder, stem", CORRECT, ids=[s for _, s in CORRECT])
def test_correct_submission_scores_full_marks(folder: str, stem: str) -> None:
    """Does a correct conv2d score full marks on every visible suite and several hidden seeds?"""
    fn = load_student(SUBMISSIONS / folder / f"{stem}.py").conv2d
    for test in CONV2D.tests:
        for seed in CORRECT_HIDDEN_SEEDS if test.hidden else [0]:
            result = run_test(in_process_caller(fn), LAB, CONV2D, test, seed)
            assert result.score == result.max_score, result.output


@pytest.mark.parametrize("expect", WRONG, ids=str)
def test_wrong_submission_fails_exactly_the_expected_suites(expect: Expect) -> None:
    """Does each known mistake fail exactly its golden suites, and score below full marks?"""
    results = grade_corpus_file("wrong", expect.stem)
    failing = {suite for suite, r in results.items() if r.score < r.max_score}
    assert failing == expect.failing
    total = sum(r.score for r in results.values())
    assert total < CONV2D.max_score


@pytest.mark.parametrize("expect", WRONG, ids=str)
def test_wrong_submission_report_names_the_mistake(expect: Expect) -> None:
    """Does the report of the golden suite name the mistake in words?"""
    output = grade_corpus_file("wrong", expect.stem)[expect.named_in].output
    assert expect.mistake in output, output


@pytest.mark.parametrize("expect", WRONG, ids=str)
def test_wrong_submission_passing_suites_say_so(expect: Expect) -> None:
    """Does every suite a wrong submission passes still report all cases right?"""
    for suite, result in grade_corpus_file("wrong", expect.stem).items():
        if suite not in expect.failing:
            assert result.passed == result.total and result.output.startswith("✔"), suite


def test_unfinished_submission_gets_partial_credit() -> None:
    """Does raising NotImplementedError for strides > 1 still earn the stride-1 cases?"""
    results = grade_corpus_file("wrong", "raises_on_strided")
    assert results["valid_stride1"].score == results["valid_stride1"].max_score
    partial = {s for s, r in results.items() if 0 < r.score < r.max_score}
    assert partial == EVERY_SUITE - {"valid_stride1", "valid_strided", "same_asymmetric"}
    assert results["valid_strided"].score == results["same_asymmetric"].score == 0


def test_stride1_padding_is_named_even_when_it_equals_swapped_padding() -> None:
    """Is stride-1 SAME padding named in same_odd, where its output equals swapped padding's?"""
    output = grade_corpus_file("wrong", "same_stride1_padding")["same_odd"].output
    assert "your SAME padding is the stride-1 rule" in output, output


# ----------------------------------------------------------------------------------------------
# The tiers, on hand-made returned values


def conv_case(
    n: int, h: int, w: int, cin: int, cout: int, kh: int, kw: int, sh: int, sw: int, padding: str
) -> tuple[Case, np.ndarray]:
    """A conv2d case built here (independent of the suites) and its reference output."""
    rng = np.random.default_rng([n, h, w, cin, cout, kh, kw, sh, sw])
    x = rng.uniform(-1, 1, (n, h, w, cin))
    f = rng.uniform(-1, 1, (kh, kw, cin, cout))
    strides = [1, sh, sw, 1]
    label = f"N{n}-H{h}xW{w}-C{cin}to{cout}-K{kh}x{kw}-s{sh}x{sw}-{padding}"
    case = Case("conv2d", "unit", 0, 0, Conv2dArgs(x, f, strides, padding), label, x.size)
    return case, tf_conv2d(x, f, strides, padding)


def check(
    case: Case, expected: Any, value: Any = None, status: str = "ok", **kw: Any
) -> CaseResult:
    type_name = kw.pop("type_name", type(value).__name__)
    return check_case(case, Returned(status, value, type_name, **kw), expected, "conv2d")


@pytest.fixture(scope="module")
def same_case() -> tuple[Case, np.ndarray]:
    """7x9 input, 3x3 kernel, stride 2, SAME: output 4x5, two channels in, three out."""
    return conv_case(1, 7, 9, 2, 3, 3, 3, 2, 2, "SAME")


def test_correct_value_passes(same_case: tuple[Case, np.ndarray]) -> None:
    """Does the reference itself pass, with a zero error recorded?"""
    result = check(*same_case, same_case[1].copy())
    assert result.passed and result.tier == "ok" and result.max_abs_error == 0.0


@pytest.mark.parametrize(
    "status, message, expected_text",
    [
        ("error", "conv2d raised ValueError: boom", "conv2d raised ValueError: boom"),
        ("timeout", "", "did not return (timeout)"),
        ("crashed", "the worker died", "the worker died"),
    ],
    ids=["error", "timeout-no-message", "crashed"],
)
def test_a_failed_call_stops_at_the_call_tier(
    same_case: tuple[Case, np.ndarray], status: str, message: str, expected_text: str
) -> None:
    """Does a call that did not return stop at the call tier with its message?"""
    result = check(*same_case, None, status=status, message=message)
    assert (result.passed, result.tier) == (False, "call")
    assert expected_text in result.message


@pytest.mark.parametrize(
    "value, expected_text",
    [
        (None, "returned None: did you forget the `return` statement?"),
        (3.0, "returned a single float (3.0)"),
        (np.float64(2.5), "returned a single float64"),
        ({"output": 1}, "returned a dict that is not a numeric array"),
        ("SAME", "returned a single str"),
        ([[1, 2], [3]], "that is not a numeric array"),
    ],
    ids=["None", "float", "numpy-scalar", "dict", "str", "ragged-list"],
)
def test_non_arrays_stop_at_the_type_tier(
    same_case: tuple[Case, np.ndarray], value: Any, expected_text: str
) -> None:
    """Is anything that is not a numeric array refused at the type tier, saying what it was?"""
    result = check(*same_case, value)
    assert (result.passed, result.tier) == (False, "type")
    assert expected_text in result.message


def test_nested_lists_and_tensors_are_converted(same_case: tuple[Case, np.ndarray]) -> None:
    """Are array-likes (nested lists, objects with .numpy()) converted and graded on values?"""

    class FakeTensor:
        def __init__(self, value: np.ndarray) -> None:
            self.value = value

        def numpy(self) -> np.ndarray:
            return self.value

    case, expected = same_case
    assert check(case, expected, expected.tolist()).passed
    assert check(case, expected, FakeTensor(expected)).passed


@pytest.mark.parametrize(
    "transform, expected_text, mistake",
    [
        (
            lambda e: e[0],
            "It has the shape of one image: keep the batch axis",
            "batch axis dropped",
        ),
        (lambda e: e[..., None], "An extra axis of length 1", None),
        (lambda e: e[0, :, :, 0], "returned a 2-D array", None),
    ],
    ids=["batch-dropped", "extra-axis", "2-D"],
)
def test_wrong_rank_is_named(
    same_case: tuple[Case, np.ndarray], transform: Any, expected_text: str, mistake: str | None
) -> None:
    """Does a wrong number of axes stop at the rank tier with the expected layout?"""
    case, expected = same_case
    result = check(case, expected, transform(expected))
    assert (result.passed, result.tier, result.mistake) == (False, "rank", mistake)
    assert expected_text in result.message and "NHWC" in result.message


@pytest.mark.parametrize(
    "shape, rule_texts, mistake",
    [
        (
            (1, 3, 4, 3),
            ["ceil(in / s) = ceil(7 / 2) = 4; yours is 3", "ceil(9 / 2) = 5; yours is 4"],
            "floor instead of ceil",
        ),
        ((1, 7, 9, 3), ["ceil(7 / 2) = 4; yours is 7"], "the stride was ignored"),
        ((1, 3, 4, 3), ["ceil(7 / 2) = 4"], "no padding was added"),
        ((1, 4, 5, 2), ["filters.shape[3] = 3; yours has 2"], "taken from the input channels"),
        ((2, 4, 5, 3), ["The batch size is 1 (inputs.shape[0]); yours is 2"], None),
    ],
    ids=["floor-not-ceil", "stride-ignored", "no-padding", "channels-from-input", "batch-size"],
)
def test_wrong_shape_quotes_the_rule_with_numbers(
    same_case: tuple[Case, np.ndarray], shape: tuple[int, ...], rule_texts: list[str], mistake: Any
) -> None:
    """Does a wrong shape quote TensorFlow's rule with the case's numbers, and guess the cause?"""
    case, expected = same_case
    result = check(case, expected, np.zeros(shape))
    assert (result.passed, result.tier) == (False, "shape")
    for text in rule_texts:
        assert text in result.message
    if mistake:
        assert mistake in result.message and mistake in (result.mistake or "")


def test_valid_shape_quotes_the_floor_rule() -> None:
    """Does a VALID shape error quote floor((in - f) / s) + 1 with numbers and an off-by-one?"""
    case, expected = conv_case(1, 7, 8, 1, 1, 3, 2, 2, 3, "valid")
    assert expected.shape == (1, 3, 3, 1)
    result = check(case, expected, np.zeros((1, 2, 3, 1)))
    assert result.tier == "shape"
    assert "floor((7 - 3) / 2) + 1 = 3; yours is 2" in result.message
    assert "off-by-one" in result.message


@pytest.mark.parametrize(
    "dtype, mistake",
    [(np.complex128, "complex output"), (np.int64, "integer output"), (bool, "integer output")],
    ids=["complex", "int", "bool"],
)
def test_non_float_dtype_stops_at_the_dtype_tier(
    same_case: tuple[Case, np.ndarray], dtype: Any, mistake: str
) -> None:
    """Is a non-float output refused at the dtype tier, even with the right shape?"""
    case, expected = same_case
    result = check(case, expected, expected.astype(dtype))
    assert (result.passed, result.tier, result.mistake) == (False, "dtype", mistake)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan], ids=["inf", "-inf", "nan"])
def test_non_finite_values_stop_at_the_finite_tier(
    same_case: tuple[Case, np.ndarray], bad: float
) -> None:
    """Is one inf or NaN refused at the finite tier, saying where the first one is?"""
    case, expected = same_case
    got = expected.copy()
    got[0, 2, 1, 0] = bad
    result = check(case, expected, got)
    assert (result.passed, result.tier) == (False, "finite")
    assert "1 NaN/inf values (first at index (0, 2, 1, 0))" in result.message


def tolerance(case: Case) -> float:
    """TOL_PER_TERM per multiply-add (kh * kw * c_in of them), times max|x| * max|w|."""
    x, w = case.args[:2]
    return TOL_PER_TERM * w.shape[0] * w.shape[1] * w.shape[2] * np.abs(x).max() * np.abs(w).max()


@pytest.mark.parametrize(
    "factor, passes", [(0.0, True), (0.9, True), (1.1, False), (10.0, False)], ids=str
)
def test_tolerance_scales_with_accumulation_length(
    same_case: tuple[Case, np.ndarray], factor: float, passes: bool
) -> None:
    """Does an error just inside the scaled tolerance pass and one just outside fail?"""
    case, expected = same_case
    got = expected.copy()
    got[0, 1, 2, 1] += factor * tolerance(case)
    result = check(case, expected, got)
    assert result.passed is passes
    if not passes:
        assert result.tier == "values"
        assert result.where == (0, 1, 2, 1)
        assert "1 of 60 values differ" in result.message
        assert "at index (0, 1, 2, 1)" in result.message


def test_float32_round_off_passes() -> None:
    """Does a float32 result of a long accumulation (5x5 kernel, 4 channels) still pass?"""
    case, expected = conv_case(2, 12, 12, 4, 3, 5, 5, 1, 1, "SAME")
    x, w = (a.astype(np.float32) for a in case.args[:2])
    got = tf_conv2d(x, w, 1, "SAME").astype(np.float32)
    assert not np.array_equal(got, expected)
    assert check(case, expected, got).passed


# ----------------------------------------------------------------------------------------------
# The checkers of the single-channel and TensorFlow items


def one_case(checker: str, args: tuple[Any, ...]) -> tuple[Case, Any]:
    """A hand-made case of `checker` and the oracle's answer for it."""
    case = Case(checker, "unit", 0, 0, get_exercise(checker).Args(*args), f"{checker}-unit", 1)
    return case, expected_outputs([case], use_disk=False)[0]


def check_single(case: Case, expected: Any, value: Any, function: str) -> CaseResult:
    return check_case(case, Returned("ok", value, type(value).__name__), expected, function)


def window_sum(image: np.ndarray, kernel: np.ndarray, row: int, col: int) -> float:
    kh, kw = kernel.shape
    return float((image[row : row + kh, col : col + kw] * kernel).sum())


@pytest.fixture(scope="module")
def apply_case() -> tuple[Case, float]:
    """A 7x8 image, a 2x3 kernel and the pixel x=3 (column), y=1 (row)."""
    rng = np.random.default_rng(3)
    image, kernel = rng.uniform(-1, 1, (7, 8)), rng.uniform(-1, 1, (2, 3))
    return one_case("apply_kernel", (image, kernel, 3, 1))


def test_apply_kernel_right_answer_passes(apply_case: tuple[Case, float]) -> None:
    """Does image[y + n, x + m] · kernel[n, m] pass, as a float, numpy scalar or 1-element array?"""
    case, expected = apply_case
    image, kernel, x, y = case.args
    value = window_sum(image, kernel, y, x)
    for returned in (value, np.float64(value), np.array([value])):
        assert check_single(case, expected, returned, "apply_kernel").passed


@pytest.mark.parametrize(
    "student, mistake",
    [
        (lambda im, k, x, y: window_sum(im, k[::-1, ::-1], y, x), "you flipped the kernel"),
        (lambda im, k, x, y: window_sum(im, k, x, y), "x and y are swapped"),
    ],
    ids=["flipped", "x-y-swapped"],
)
def test_apply_kernel_names_the_mistake(
    apply_case: tuple[Case, float], student: Any, mistake: str
) -> None:
    """Are a flipped kernel and swapped x/y named for one output pixel?"""
    case, expected = apply_case
    result = check_single(case, expected, student(*case.args), "apply_kernel")
    assert (result.passed, result.tier) == (False, "values")
    assert mistake in result.message


def test_apply_kernel_names_swapped_x_y_on_the_lecture_example() -> None:
    """Is a student who swapped x and y told so on the lecture example V(1, 0)?"""
    case = make_cases("apply_kernel", "apply_kernel", 0)[1]
    assert case.label == "lecture-4x4-V(1,0)"
    image, kernel, x, y = case.args
    expected = expected_outputs([case], use_disk=False)[0]
    result = check_single(case, expected, window_sum(image, kernel, x, y), "apply_kernel")
    assert "x and y are swapped" in result.message, result.message


def test_apply_kernel_none_is_a_type_failure(apply_case: tuple[Case, float]) -> None:
    """Is None (a forgotten return) refused as not one number?"""
    result = check_single(*apply_case, None, "apply_kernel")
    assert (result.tier, "expected one number" in result.message) == ("type", True)


def convolve2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    return np.array([[window_sum(image, kernel, i, j) for j in range(ow)] for i in range(oh)])


def convolve2d_strided(
    image: np.ndarray, kernel: np.ndarray, stride: Any, padding: str, *, split_top: bool = False
) -> np.ndarray:
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    kh, kw = kernel.shape
    h, w = image.shape
    if padding.upper() == "SAME":
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        top, left = (ph - ph // 2, pw - pw // 2) if split_top else (ph // 2, pw // 2)
        image = np.pad(image, ((top, ph - top), (left, pw - left)))
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    return np.array(
        [[window_sum(image, kernel, i * sh, j * sw) for j in range(ow)] for i in range(oh)]
    )


def run_single(lab_id: str, function: str, suite: str, fn: Any) -> TestResult:
    lab = get_lab(lab_id)
    item = lab.item(function)
    return run_test(in_process_caller(fn), lab, item, item.test(suite), 0)


@pytest.mark.parametrize(
    "function, suite, fn, mistake",
    [
        ("convolve2d", "convolve2d", convolve2d, None),
        ("convolve2d", "convolve2d", lambda im, k: convolve2d(im, k[::-1, ::-1]), "flipped"),
        ("convolve2d_strided", "strided_valid", convolve2d_strided, None),
        ("convolve2d_strided", "strided_same", convolve2d_strided, None),
        (
            "convolve2d_strided",
            "strided_same",
            lambda im, k, s, p: convolve2d_strided(im, k, s, p, split_top=True),
            "TensorFlow puts it at the bottom/right",
        ),
        (
            "convolve2d_strided",
            "strided_valid",
            lambda im, k, s, p: convolve2d_strided(im, k, 1, p),
            "the stride was ignored",
        ),
    ],
    ids=[
        "convolve2d-right",
        "convolve2d-flipped",
        "strided-valid-right",
        "strided-same-right",
        "strided-same-split-top",
        "strided-valid-stride-ignored",
    ],
)
def test_single_channel_convolutions(function: str, suite: str, fn: Any, mistake: Any) -> None:
    """Do the single-channel convolutions pass when right and name the mistake when wrong?"""
    lab_id = "01_convolution_by_hand" if function == "convolve2d" else "02_stride_padding"
    result = run_single(lab_id, function, suite, fn)
    if mistake is None:
        assert result.score == result.max_score, result.output
    else:
        assert result.score < result.max_score and mistake in result.output, result.output


@pytest.mark.parametrize(
    "args, value, passes, text",
    [
        ((7, 3, 2, "SAME"), 4, True, ""),
        ((7, 3, 2, "SAME"), 4.0, True, ""),
        ((7, 3, 2, "SAME"), 3, False, "floor instead of ceil"),
        ((8, 3, 2, "same"), 3, False, "padding 'same' was not recognised"),
        ((8, 3, 2, "Valid"), 4, False, "padding 'Valid' was not recognised"),
        ((7, 3, 2, "VALID"), 2, False, "floor((7 - 3) / 2) + 1 = 3"),
        ((7, 3, 2, "SAME"), 3.5, False, "not a whole number"),
        ((7, 3, 2, "SAME"), None, False, "Missing `return`"),
    ],
    ids=[
        "right",
        "right-float",
        "floor-not-ceil",
        "lowercase-same",
        "mixed-case-valid",
        "valid-rule",
        "fraction",
        "None",
    ],
)
def test_output_size_checker(args: tuple[Any, ...], value: Any, passes: bool, text: str) -> None:
    """Does output_size accept the right int and name floor-vs-ceil and unrecognised padding?"""
    case, expected = one_case("output_size", args)
    result = check_single(case, expected, value, "output_size")
    assert result.passed is passes
    assert text in result.message


@pytest.mark.parametrize(
    "args, value, passes, text",
    [
        ((4, 4, 1), (1, 2), True, ""),
        ((4, 4, 1), [1, 2], True, ""),
        ((4, 4, 1), (2, 1), False, "before and after are swapped"),
        ((6, 3, 2), (1, 1), False, "the stride-1 total f - 1 was used"),
        ((5, 4, 2), (1, 1), False, "symmetric padding"),
        ((7, 3, 2), 2, False, "expected 2 ints"),
    ],
    ids=["right", "right-list", "swapped", "stride-1", "symmetric", "one-int"],
)
def test_same_padding_checker(args: tuple[int, ...], value: Any, passes: bool, text: str) -> None:
    """Does same_padding accept TF's (before, after) and name swapped/stride-1/symmetric?"""
    case, expected = one_case("same_padding", args)
    result = check_single(case, expected, value, "same_padding")
    assert result.passed is passes
    assert text in result.message


@pytest.mark.parametrize(
    "pads, passes, text",
    [
        (((2, 0), (1, 3)), True, ""),
        (((0, 2), (1, 3)), False, "top and bottom are swapped"),
        (((2, 0), (3, 1)), False, "left and right are swapped"),
        (((2, 0), (1, 2)), False, "width 4 + left 1 + right 3 = 8"),
    ],
    ids=["right", "top-bottom-swapped", "left-right-swapped", "wrong-width"],
)
def test_zero_pad_checker(pads: Any, passes: bool, text: str) -> None:
    """Does zero_pad accept np.pad's result and name swapped sides?"""
    image = np.random.default_rng(5).uniform(-1, 1, (3, 4))
    case, expected = one_case("zero_pad", (image, 2, 0, 1, 3))
    result = check_single(case, expected, np.pad(image, pads), "zero_pad")
    assert result.passed is passes
    assert text in result.message


def test_conv_matrix_checker() -> None:
    """Does conv_matrix pass the oracle's matrix and name a transposed or flipped one?"""
    kernel = np.random.default_rng(6).uniform(-1, 1, (2, 3))
    case, expected = one_case("conv_matrix", (kernel, 3, 5))
    assert expected.shape == (2 * 3, 3 * 5)
    assert check_single(case, expected, expected.copy(), "conv_matrix").passed
    transposed = check_single(case, expected, expected.T, "conv_matrix")
    assert transposed.tier == "shape" and "the matrix is transposed" in transposed.message
    assert "(2·3 = 6)" in transposed.message and "(3·5 = 15)" in transposed.message
    _, flipped = one_case("conv_matrix", (kernel[::-1, ::-1].copy(), 3, 5))
    result = check_single(case, expected, flipped, "conv_matrix")
    assert result.tier == "values" and "you flipped the kernel" in result.message


@pytest.mark.parametrize(
    "value, passes, text",
    [
        ([5, 5, 3, 16], True, ""),
        ((5, 5, 3, 16), True, ""),
        (np.array([5, 5, 3, 16]), True, ""),
        ([5, 5, 16, 3], False, "in_channels and out_channels are swapped"),
        ([5, 5, 1, 16], False, "all 3 colour channels of the input"),
        ([5, 5, 16], False, "expected 4 ints"),
    ],
    ids=["list", "tuple", "array", "swapped", "one-channel", "three-ints"],
)
def test_cifar_filter_shape_checker(value: Any, passes: bool, text: str) -> None:
    """Does cifar_filter_shape accept HWIO [5, 5, 3, 16] in any sequence and name the mix-ups?"""
    case = make_cases("cifar_filter_shape", "cifar_filter_shape", 0)[0]
    expected = expected_outputs([case], use_disk=False)[0]
    result = check_single(case, expected, value, "cifar_filter_shape")
    assert result.passed is passes
    assert text in result.message


@pytest.mark.parametrize(
    "checker, wrong_stride, rule",
    [("mnist_conv", 1, "ceil(28 / 2) = 14; yours is 28"), ("cifar_conv", 1, "ceil(32 / 2) = 16")],
    ids=["mnist-stride-1-not-2", "cifar-stride-1-not-2"],
)
def test_tf_call_with_the_wrong_stride_gets_a_shape_message(
    checker: str, wrong_stride: int, rule: str
) -> None:
    """Does calling tf.nn.conv2d with the wrong stride give the SAME rule with numbers?"""
    case = make_cases(checker, checker, 0)[0]
    expected = expected_outputs([case], use_disk=False)[0]
    images, filters = case.args
    assert check_single(case, expected, expected.astype(np.float32), checker).passed
    got = tf_conv2d(images, filters, wrong_stride, "SAME").astype(np.float32)
    result = check_single(case, expected, got, checker)
    assert result.tier == "shape" and rule in result.message


def test_every_item_names_a_registered_exercise() -> None:
    """Does every item of every lab name an exercise that is registered?"""
    used = {item.exercise for lab in LABS.values() for item in lab.items}
    assert used <= set(all_exercises())
