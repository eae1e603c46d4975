"""Tests for autograder.reference: the TensorFlow oracle, its geometry and its disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder import reference
from autograder.exercise import make_cases
from autograder.reference import (
    cache_dir,
    expected_outputs,
    tf_conv2d,
    tf_conv2d_single,
    tf_conv_matrix,
    tf_output_size,
    tf_same_padding,
)

ROOT = Path(__file__).resolve().parents[1]


def documented_same_pads(n: int, f: int, s: int) -> tuple[int, int]:
    """TF's documented SAME rule: total = max((ceil(n / s) - 1)·s + f - n, 0), the extra after."""
    total = max((-(-n // s) - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def naive_conv2d(
    x: np.ndarray, w: np.ndarray, sh: int, sw: int, pads: tuple[tuple[int, int], ...]
) -> np.ndarray:
    """Cross-correlation: out[b, i, j, k] = sum x[b, i·sh+dy, j·sw+dx, c]·w[dy, dx, c, k]."""
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    n, h, wd, cin = x.shape
    kh, kw, _, cout = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, oh, ow, cout))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for k in range(cout):
                    for dy in range(kh):
                        for dx in range(kw):
                            for c in range(cin):
                                out[b, i, j, k] += (
                                    x[b, i * sh + dy, j * sw + dx, c] * w[dy, dx, c, k]
                                )
    return out


SHAPES = [
    # n, h, w, cin, cout, kh, kw, sh, sw, padding
    (2, 7, 5, 3, 4, 3, 2, 2, 1, "SAME"),
    (1, 8, 5, 1, 1, 3, 1, 3, 2, "SAME"),  # odd total padding on height: the extra goes below
    (1, 6, 7, 2, 2, 4, 2, 1, 1, "SAME"),  # even kernels: odd totals on both axes
    (1, 4, 5, 1, 2, 5, 6, 1, 1, "SAME"),  # kernel larger than the input
    (1, 9, 7, 2, 3, 3, 3, 2, 3, "VALID"),
    (3, 5, 6, 1, 1, 5, 6, 1, 1, "VALID"),  # kernel = input: a 1x1 output
]


def shape_id(s: tuple[Any, ...]) -> str:
    n, h, w, cin, cout, kh, kw, sh, sw, padding = s
    return f"N{n}-H{h}xW{w}-C{cin}to{cout}-K{kh}x{kw}-s{sh}x{sw}-{padding}"


def random_pair(s: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    n, h, w, cin, cout, kh, kw = s[:7]
    rng = np.random.default_rng(list(s[:9]))
    return rng.uniform(-1, 1, (n, h, w, cin)), rng.uniform(-1, 1, (kh, kw, cin, cout))


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_tf_conv2d_equals_a_naive_loop(shape: tuple[Any, ...]) -> None:
    """Is the oracle cross-correlation with TensorFlow's padding, in float64?"""
    x, w = random_pair(shape)
    n, h, wd, _, _, kh, kw, sh, sw, padding = shape
    pads = (
        (documented_same_pads(h, kh, sh), documented_same_pads(wd, kw, sw))
        if padding == "SAME"
        else ((0, 0), (0, 0))
    )
    got = tf_conv2d(x, w, [1, sh, sw, 1], padding)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, naive_conv2d(x, w, sh, sw, pads), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "strides", [2, [2], [2, 2], [1, 2, 2, 1], (2, 2)], ids=["int", "[s]", "[sh,sw]", "4", "tuple"]
)
def test_every_strides_form_means_the_same(strides: Any) -> None:
    """Do an int, [s], [sh, sw], [1, sh, sw, 1] and a tuple all mean stride 2 on both axes?"""
    x, w = random_pair(SHAPES[0])
    np.testing.assert_array_equal(tf_conv2d(x, w, strides, "SAME"), tf_conv2d(x, w, 2, "SAME"))


def test_uneven_strides_step_height_then_width() -> None:
    """Does [sh, sw] step sh between rows and sw between columns?"""
    x, w = random_pair(SHAPES[4])
    got = tf_conv2d(x, w, [2, 3], "VALID")
    np.testing.assert_allclose(got, naive_conv2d(x, w, 2, 3, ((0, 0), (0, 0))), atol=1e-12)


@pytest.mark.parametrize("padding", ["same", "Same", "valid", "Valid"])
def test_padding_in_any_letter_case(padding: str) -> None:
    """Does the oracle accept the padding word in any letter case?"""
    x, w = random_pair(SHAPES[0])
    np.testing.assert_array_equal(tf_conv2d(x, w, 2, padding), tf_conv2d(x, w, 2, padding.upper()))


def test_explicit_padding() -> None:
    """Does [[top, bottom], [left, right]] pad exactly that many zeros on each side?"""
    x, w = random_pair(SHAPES[0])
    got = tf_conv2d(x, w, [2, 1], [[1, 2], [0, 3]])
    np.testing.assert_allclose(got, naive_conv2d(x, w, 2, 1, ((1, 2), (0, 3))), atol=1e-12)


def test_grouped_convolution_is_refused() -> None:
    """Is a filter whose in_channels divides the input's refused (TF would run a grouped conv)?"""
    x = np.ones((1, 5, 5, 4))
    w = np.ones((3, 3, 2, 1))
    with pytest.raises(ValueError, match="input channels 4 != filter in_channels 2"):
        tf_conv2d(x, w, 1, "VALID")


def test_float32_inputs_are_computed_in_float64() -> None:
    """Are float32 inputs promoted, so the reference never carries float32 round-off?"""
    x, w = random_pair(SHAPES[2])
    got = tf_conv2d(x.astype(np.float32), w.astype(np.float32), 1, "SAME")
    assert got.dtype == np.float64
    exact = naive_conv2d(
        x.astype(np.float32).astype(float), w.astype(np.float32).astype(float), 1, 1,
        (documented_same_pads(6, 4, 1), documented_same_pads(7, 2, 1)),
    )  # fmt: skip
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-12)


def test_output_size_and_same_padding_follow_the_documented_rule() -> None:
    """Do tf_output_size and tf_same_padding agree with TF's rule for in 1..12, f 1..6, s 1..4?"""
    wrong = []
    for n in range(1, 13):
        for f in range(1, 7):
            for s in range(1, 5):
                if tf_output_size(n, f, s, "SAME") != -(-n // s):
                    wrong.append(("SAME size", n, f, s))
                if f <= n and tf_output_size(n, f, s, "VALID") != (n - f) // s + 1:
                    wrong.append(("VALID size", n, f, s))
                if tf_same_padding(n, f, s) != documented_same_pads(n, f, s):
                    wrong.append(("SAME pads", n, f, s))
    assert not wrong


def test_conv_matrix_times_image_is_the_convolution() -> None:
    """Is tf_conv_matrix(kernel, h, w) @ image.ravel() the VALID stride-1 convolution?"""
    rng = np.random.default_rng(4)
    kernel, image = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (4, 6))
    matrix = tf_conv_matrix(kernel, 4, 6)
    assert matrix.shape == (3 * 4, 4 * 6)
    np.testing.assert_allclose(
        matrix @ image.ravel(), tf_conv2d_single(image, kernel).ravel(), rtol=0, atol=1e-12
    )


LECTURE_EXAMPLES = [
    (
        [[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]],
        [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        [[-4, -3], [3, -8]],
    ),
    (
        [[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]],
        [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        [[1, 2], [0, -1]],
    ),
    (
        [[2, 0, 3, 1], [1, 1, 0, 0], [1, 0, 2, 0], [1, 0, 1, 2]],
        [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
        [[0, 1], [-1, -1]],
    ),
]


@pytest.mark.parametrize(
    "image, kernel, expected", LECTURE_EXAMPLES, ids=["horizontal-edge", "padding-slide", "sobel-x"]
)
def test_lecture_worked_examples(image: list, kernel: list, expected: list) -> None:
    """Does the oracle reproduce the lecture's worked examples (4x4 image, 3x3 kernel, VALID)?"""
    got = tf_conv2d_single(np.array(image, float), np.array(kernel, float), 1, "VALID")
    np.testing.assert_array_equal(got, np.array(expected, float))


# ----------------------------------------------------------------------------------------------
# The cache


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder and an empty in-memory cache, for this test only."""
    monkeypatch.setenv("CONVLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(reference, "_memory", {})
    return tmp_path / "reference"


def forget_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "_memory", {})


def refuse_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    def _expected(case: Any) -> Any:
        raise AssertionError(f"TensorFlow was asked for {case.label}; the cache should answer")

    monkeypatch.setattr(reference, "_expected", _expected)


def assert_same_values(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert type(x) is type(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_cache_dir_comes_from_the_environment(fresh_cache: Path) -> None:
    """Is the cache under $CONVLAB_CACHE_DIR/reference (the session's tmp dir in tests)?"""
    assert cache_dir() == fresh_cache


def test_cache_dir_defaults_to_the_home_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without $CONVLAB_CACHE_DIR, is the cache ~/.cache/convlab/reference?"""
    monkeypatch.delenv("CONVLAB_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "convlab" / "reference"


@pytest.mark.parametrize(
    "checker, suite",
    [("conv2d", "same_asymmetric"), ("output_size", "output_size"), ("same_padding", "hidden")],
    ids=["arrays", "ints", "tuples"],
)
def test_disk_cache_round_trips(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch, checker: str, suite: str
) -> None:
    """Does a second process (no memory) read the values, types included, without TensorFlow?"""
    cases = make_cases(checker, suite, 0)
    first = expected_outputs(cases)
    assert len(list(fresh_cache.glob("*.npz"))) == 1
    forget_memory(monkeypatch)
    refuse_tensorflow(monkeypatch)
    assert_same_values(expected_outputs(cases), first)


def test_memory_cache_answers_without_the_disk(fresh_cache: Path) -> None:
    """Does a repeated call in one process answer from memory, even with the file gone?"""
    cases = make_cases("conv2d", "edges", 0)
    first = expected_outputs(cases)
    for path in fresh_cache.glob("*.npz"):
        path.unlink()
    assert expected_outputs(cases) is first


def test_corrupt_cache_file_is_recomputed(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is a corrupt cache file ignored, the values recomputed by TensorFlow and the file fixed?"""
    cases = make_cases("conv2d", "valid_stride1", 0)
    first = expected_outputs(cases)
    (path,) = fresh_cache.glob("*.npz")
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    forget_memory(monkeypatch)
    calls = []
    original = reference._expected

    def counting(case: Any) -> Any:
        calls.append(case.label)
        return original(case)

    monkeypatch.setattr(reference, "_expected", counting)
    assert_same_values(expected_outputs(cases), first)
    assert len(calls) == len(cases)
    forget_memory(monkeypatch)
    refuse_tensorflow(monkeypatch)
    assert_same_values(expected_outputs(cases), first)


def test_cache_entry_is_per_suite_and_seed(fresh_cache: Path) -> None:
    """Do two seeds of one suite get two cache entries (never each other's answers)?"""
    a = expected_outputs(make_cases("conv2d", "batch", 0))
    b = expected_outputs(make_cases("conv2d", "batch", 1))
    assert len(list(fresh_cache.glob("*.npz"))) == 2
    assert not all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b, strict=False))


def test_use_disk_false_writes_nothing(fresh_cache: Path) -> None:
    """Does use_disk=False compute without touching the cache folder?"""
    expected_outputs(make_cases("same_padding", "same_padding", 0), use_disk=False)
    assert not fresh_cache.exists()


def test_unwritable_cache_still_grades(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the cache folder cannot be created, are the values still returned?"""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("CONVLAB_CACHE_DIR", str(blocker))
    forget_memory(monkeypatch)
    values = expected_outputs(make_cases("output_size", "output_size", 0))
    assert all(isinstance(v, int) for v in values)


def test_empty_case_list_needs_no_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Is an empty list of cases answered with an empty list, without TensorFlow?"""
    refuse_tensorflow(monkeypatch)
    assert expected_outputs([]) == []


# ----------------------------------------------------------------------------------------------
# Importing TensorFlow


FAKE_TENSORFLOW = """\
from pathlib import Path
Path(__file__).with_name("FAKE_TENSORFLOW_WAS_IMPORTED").write_text("yes")
__version__ = "0.0-fake"
"""

PROBE = """\
import os, sys
sys.path.insert(0, "")
sys.path.insert(0, os.getcwd())
from autograder.reference import tensorflow
tf = tensorflow()
print(tf.__file__)
print(tf.__version__)
"""


@pytest.mark.slow  # a fresh interpreter imports TensorFlow: ~10 s
def test_a_tensorflow_py_in_the_working_folder_is_not_imported(tmp_path: Path) -> None:
    """Does tensorflow() skip a student's tensorflow.py in the cwd, even with cwd on sys.path?

    Run in a fresh interpreter: in this one TensorFlow may already be imported (sys.modules).
    """
    (tmp_path / "tensorflow.py").write_text(FAKE_TENSORFLOW)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "FAKE_TENSORFLOW_WAS_IMPORTED").exists()
    tf_file, version = result.stdout.split()[-2:]
    assert not Path(tf_file).resolve().is_relative_to(tmp_path.resolve())
    assert version != "0.0-fake"


def test_importing_convlab_sets_tensorflows_environment_unless_set():
    """Before any lab imports TensorFlow, does `import convlab` switch oneDNN off and TF's C++
    logs down (the grader's settings), leaving a value the user set alone?"""
    code = (
        "import os, convlab\n"
        "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["0", "3"], out.stderr
    env["TF_ENABLE_ONEDNN_OPTS"] = "1"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["1", "3"], out.stderr


# ----------------------------------------------------------------------------------------------
# Any TensorFlow op: by name and arguments, float64, recorded and replayed


def _no_tensorflow() -> Any:
    raise AssertionError("TensorFlow was asked although the answer was prepared")


def test_any_op_is_asked_by_name_in_float64() -> None:
    """Does tf_op run a non-convolution op (max pooling) on float64 inputs, whatever dtype the
    caller's arrays have, and answer a float64 array equal to numpy's?"""
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 6, 3))
    want = x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))
    for given in (x, x.astype(np.float32)):
        got = reference.tf_op("tf.nn.max_pool2d", given, ksize=2, strides=2, padding="VALID")
        assert got.dtype == np.float64
        np.testing.assert_allclose(
            got, want if given.dtype == np.float64 else want.astype(np.float32)
        )


def test_a_reference_that_is_not_float64_is_refused() -> None:
    """Is an op that answers in float32 refused loudly, never passed on as a reference?"""
    with pytest.raises(reference.ReferenceDtypeError, match="float32.*must be float64"):
        reference.tf_op("cast", np.ones((2, 2)), "float32")


def test_any_op_is_recorded_and_replayed_without_tensorflow(monkeypatch, capsys) -> None:
    """Is a non-conv op's answer (and only for the same arguments) replayed from a preparing
    run, without TensorFlow; and does an unprepared call say so on stderr?"""
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    monkeypatch.setattr(reference, "_recording", {})
    first = reference.tf_op("nn.max_pool2d", x, ksize=2, strides=2, padding="VALID")
    other = reference.tf_op("nn.avg_pool2d", x, ksize=2, strides=2, padding="VALID")
    assert len(reference._recording) == 2
    monkeypatch.setattr(reference, "_prepared", dict(reference._recording))
    monkeypatch.setattr(reference, "_recording", None)
    monkeypatch.setattr(reference, "tensorflow", _no_tensorflow)
    again = reference.tf_op("tf.nn.max_pool2d", x, ksize=2, strides=2, padding="VALID")
    assert np.array_equal(again, first) and again is not first
    assert np.array_equal(
        reference.tf_op("nn.avg_pool2d", x, ksize=2, strides=2, padding="VALID"), other
    )
    monkeypatch.setattr(reference, "_unprepared", set())
    with pytest.raises(AssertionError, match="TensorFlow was asked"):
        reference.tf_op("nn.max_pool2d", x, ksize=2, strides=1, padding="VALID")
    assert (
        "tf.nn.max_pool2d was asked with arguments that were not prepared"
        in capsys.readouterr().err
    )


def test_the_call_key_tells_arguments_apart() -> None:
    """Do the op's name, an array's bytes, dtype or shape, and a keyword change the key?"""
    x = np.arange(6.0).reshape(1, 2, 3, 1)
    key = reference._call_key("nn.max_pool2d", (x,), {"ksize": 2})
    assert key == reference._call_key("nn.max_pool2d", (x.copy(),), {"ksize": 2})
    assert key != reference._call_key("nn.avg_pool2d", (x,), {"ksize": 2})
    assert key != reference._call_key("nn.max_pool2d", (x + 1,), {"ksize": 2})
    assert key != reference._call_key("nn.max_pool2d", (x.reshape(1, 3, 2, 1),), {"ksize": 2})
    assert key != reference._call_key("nn.max_pool2d", (x.astype(np.float32),), {"ksize": 2})
    assert key != reference._call_key("nn.max_pool2d", (x,), {"ksize": 3})
    assert key != reference._call_key("nn.max_pool2d", (x,), {"strides": 2})


def test_reference_imports_nothing_from_the_runner() -> None:
    """Does the oracle stand below the runner (GraderError and expected_or_errors live here)?"""
    import ast

    tree = ast.parse((ROOT / "autograder" / "reference.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"runner", "grade", "sandbox"}
    assert reference.GraderError and reference.expected_or_errors
