"""Tests for autograder.mistake_models against a corpus of realistic student conv2d mistakes.

Every file in tests/submissions/realistic holds one mistake (or none, the controls). On a table of
cases the file's output must equal the variant of its mistake wherever it is wrong, no other
variant may match except the coincidences pinned below, and a correct conv2d never matches any.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from autograder.mistake_models import (
    MISTAKES,
    NONE_FOR_PADDING_SPELLING,
    TOL_PER_TERM,
    known_mistakes,
    unrecognised_padding_message,
)
from autograder.reference import tf_conv2d

SUBMISSIONS = Path(__file__).parent / "submissions"
REALISTIC = SUBMISSIONS / "realistic"


@dataclass(frozen=True)
class Shape:
    """One case: input (n, h, w, c), filter (kh, kw, c, k), strides and padding as passed."""

    n: int
    h: int
    w: int
    c: int
    kh: int
    kw: int
    k: int
    strides: Any
    padding: str


#: id -> case. Non-square inputs and filters, strides 1-3 (also different per axis), SAME with an
#: odd total padding (same_even_s1, same_k4_s3, same_wide_s1), several channels, batches.
CASES: dict[str, Shape] = {
    "valid_square_s1": Shape(1, 5, 5, 1, 3, 3, 1, [1, 1, 1, 1], "VALID"),
    "valid_tall_s1": Shape(1, 7, 5, 2, 3, 3, 2, [1, 1, 1, 1], "VALID"),
    "valid_wide_s2": Shape(2, 5, 8, 1, 2, 3, 1, [1, 2, 2, 1], "VALID"),
    "valid_tall_s21": Shape(1, 9, 6, 3, 3, 2, 2, [1, 2, 1, 1], "VALID"),
    "same_square_s1": Shape(1, 5, 5, 1, 3, 3, 1, [1, 1, 1, 1], "SAME"),
    "same_even_s1": Shape(2, 6, 6, 2, 4, 4, 3, [1, 1, 1, 1], "SAME"),
    "same_odd_total_s2": Shape(1, 7, 7, 1, 3, 3, 1, [1, 2, 2, 1], "SAME"),
    "same_nonsq_s2": Shape(2, 7, 9, 3, 3, 3, 2, [1, 2, 2, 1], "SAME"),
    "same_k5_s2": Shape(1, 9, 10, 1, 5, 5, 1, [1, 2, 2, 1], "SAME"),
    "same_k4_s3": Shape(1, 10, 8, 2, 4, 2, 2, [1, 3, 2, 1], "SAME"),
    "same_k2_s3": Shape(1, 7, 6, 1, 2, 2, 1, [1, 3, 3, 1], "SAME"),
    "same_wide_s1": Shape(1, 4, 7, 1, 3, 2, 1, [1, 1, 1, 1], "SAME"),
    "same_int_stride": Shape(1, 8, 8, 1, 3, 3, 2, 2, "SAME"),
    "same_two_strides": Shape(1, 8, 6, 2, 3, 3, 1, [2, 1], "SAME"),
    "same_lower_s2": Shape(2, 6, 5, 2, 3, 3, 2, [2], "same"),
    "valid_mixed_case": Shape(1, 6, 7, 1, 2, 2, 1, [1, 1, 2, 1], "Valid"),
}
STRIDED = ("same_odd_total_s2", "same_nonsq_s2", "same_k5_s2", "same_k4_s3", "same_k2_s3")
STRIDED += ("same_int_stride", "same_two_strides", "same_lower_s2")
SAME_PADDED = ("same_square_s1", "same_even_s1", *STRIDED, "same_wide_s1")


@dataclass(frozen=True)
class Expect:
    """What a realistic file shows: `label` on the cases `shows_on`, right on every other case.

    `also`: case -> further labels whose output coincides there (both are named, both are true
    descriptions of that output). `instead`: case -> the labels named there in place of `label`
    (another mistake's model gives exactly this output). `raises`: cases where the file raises
    (no value, so no label; the student sees the exception).
    """

    label: str | None
    shows_on: tuple[str, ...] = ()
    also: dict[str, frozenset[str]] = field(default_factory=dict)
    instead: dict[str, frozenset[str]] = field(default_factory=dict)
    raises: tuple[str, ...] = ()


def _set(*labels: str) -> frozenset[str]:
    return frozenset(labels)


#: The pinned table: realistic corpus file -> the label a student should see, and where.
EXPECTED: dict[str, Expect] = {
    "stride_not_applied_to_window": Expect(
        "stride_not_applied_to_window",
        ("valid_wide_s2", "valid_tall_s21", *STRIDED, "valid_mixed_case"),
    ),
    "same_total_f_minus_1": Expect(
        "same_total_f_minus_1",
        ("same_k5_s2", "same_int_stride", "same_two_strides", "same_lower_s2"),
    ),
    "same_total_f_minus_s": Expect(
        "same_total_f_minus_s",
        ("same_odd_total_s2", "same_nonsq_s2", "same_k5_s2", "same_k4_s3", "same_lower_s2"),
    ),
    "same_total_from_in_size": Expect(
        "same_total_from_in_size",
        ("same_odd_total_s2", "same_nonsq_s2", "same_k5_s2", "same_k4_s3", "same_k2_s3")
        + ("same_int_stride", "same_two_strides", "same_lower_s2"),
    ),
    # For an odd filter f // 2 == (f - 1) // 2: the output is the stride-1 rule's, named so.
    "same_half_kernel_each_side": Expect(
        "same_half_kernel_each_side",
        ("same_even_s1", "same_k4_s3", "same_k2_s3", "same_wide_s1"),
        also={"same_even_s1": _set("padding_twice")},
        instead={
            case: _set("same_total_f_minus_1")
            for case in ("same_k5_s2", "same_int_stride", "same_two_strides", "same_lower_s2")
        },
    ),
    "hw_swapped": Expect(
        "hw_swapped",
        # not valid_mixed_case: wider than tall, but no window reaches a column >= the height
        ("valid_tall_s1", "valid_wide_s2", "valid_tall_s21", "same_k4_s3", "same_k2_s3"),
        also={"same_k2_s3": _set("loop_unpadded_extent")},
        raises=("same_nonsq_s2", "same_k5_s2", "same_wide_s1", "same_two_strides")
        + ("same_lower_s2",),
    ),
    "padding_twice": Expect(
        "padding_twice",
        tuple(c for c in SAME_PADDED if c not in ("same_k2_s3", "same_int_stride")),
        also={"same_even_s1": _set("same_half_kernel_each_side")},
    ),
    "edge_padding": Expect("edge_padding", SAME_PADDED),
    "reflect_padding": Expect("reflect_padding", SAME_PADDED),
    "loop_unpadded_extent": Expect(
        "loop_unpadded_extent", SAME_PADDED, also={"same_k2_s3": _set("hw_swapped")}
    ),
    # Right on "SAME"/"VALID"; None on any other spelling (tested on its own below).
    "none_for_lowercase_padding": Expect(None),
    "correct_scalar_guard": Expect(None),
    "correct_slicing_einsum": Expect(None),
    "correct_helpers": Expect(None),
    "correct_im2col": Expect(None),
}
CORRECT_FILES = sorted((SUBMISSIONS / "correct").glob("*.py"))


def load(path: Path) -> ModuleType:
    """Import one corpus file by path, without putting tests/submissions on sys.path."""
    spec = importlib.util.spec_from_file_location(f"student_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def case_data(case_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, w, the tf.nn.conv2d result) for a case; seeded by the case's position in CASES."""
    s = CASES[case_id]
    rng = np.random.default_rng(list(CASES).index(case_id))
    x = rng.normal(size=(s.n, s.h, s.w, s.c))
    w = rng.normal(size=(s.kh, s.kw, s.c, s.k))
    return x, w, tf_conv2d(x, w, s.strides, s.padding)


@functools.cache
def variants(case_id: str) -> dict[str, tuple[np.ndarray, str]]:
    x, w, _ = case_data(case_id)
    return known_mistakes(x, w, CASES[case_id].strides, CASES[case_id].padding)


def tolerance(case_id: str) -> float:
    """The grader's allowance for this case, at the 4x it matches variants with."""
    x, w, _ = case_data(case_id)
    scale = float(np.abs(x).max()) * float(np.abs(w).max())
    return 4 * max(TOL_PER_TERM * w.shape[0] * w.shape[1] * w.shape[2] * scale, 1e-9)


def same(a: Any, b: np.ndarray, case_id: str) -> bool:
    a = np.asarray(a, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=tolerance(case_id)))


def run(stem: str, case_id: str, folder: Path = REALISTIC) -> Any:
    x, w, _ = case_data(case_id)
    return load(folder / f"{stem}.py").conv2d(
        x.copy(), w.copy(), CASES[case_id].strides, CASES[case_id].padding
    )


def matching(got: Any, case_id: str) -> frozenset[str]:
    return frozenset(k for k, (v, _) in variants(case_id).items() if same(got, v, case_id))


# ----------------------------------------------------------------------------------------------
# The corpus and the pinned table agree


def test_every_corpus_file_is_pinned() -> None:
    assert sorted(p.stem for p in REALISTIC.glob("*.py")) == sorted(EXPECTED)
    labels = {e.label for e in EXPECTED.values()} - {None}
    assert labels == set(MISTAKES), "every mistake has a corpus file showing it"


@pytest.mark.parametrize("stem", sorted(EXPECTED))
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_file_shows_its_pinned_labels(stem: str, case_id: str) -> None:
    expect = EXPECTED[stem]
    if stem == "none_for_lowercase_padding" and CASES[case_id].padding not in ("SAME", "VALID"):
        assert run(stem, case_id) is None  # named by unrecognised_padding_message, tested below
        return
    if case_id in expect.raises:
        with pytest.raises((IndexError, ValueError)):
            run(stem, case_id)
        assert expect.label not in variants(case_id), "undefined where the mistake raises"
        return
    got = run(stem, case_id)
    correct = case_data(case_id)[2]
    if case_id in expect.instead:
        assert not same(got, correct, case_id)
        assert matching(got, case_id) == expect.instead[case_id]
    elif case_id in expect.shows_on:
        assert not same(got, correct, case_id), "the mistake shows on this case"
        # (a) the model of the mistake reproduces the file's output exactly
        assert expect.label is not None and same(got, variants(case_id)[expect.label][0], case_id)
        # (d) no other label, except the pinned coincidences
        assert matching(got, case_id) == {expect.label} | expect.also.get(case_id, frozenset())
    else:
        # right on this case, so (c) no label at all: a variant equal to the answer is omitted
        assert same(got, correct, case_id)
        assert matching(got, case_id) == frozenset()


@pytest.mark.parametrize("path", CORRECT_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_correct_submissions_get_no_label(path: Path, case_id: str) -> None:
    got = run(path.stem, case_id, folder=path.parent)
    assert same(got, case_data(case_id)[2], case_id)
    assert matching(got, case_id) == frozenset()


def test_float32_correct_answer_gets_no_label() -> None:
    for case_id in CASES:
        x, w, correct = case_data(case_id)
        s = CASES[case_id]
        got = tf_conv2d(x.astype(np.float32), w.astype(np.float32), s.strides, s.padding)
        assert matching(got.astype(np.float32), case_id) == frozenset(), case_id


@pytest.mark.parametrize("padding", ["same", "Same", "valid", "Valid"])
def test_none_for_other_spellings(padding: str) -> None:
    conv2d = load(REALISTIC / "none_for_lowercase_padding.py").conv2d
    x, w, _ = case_data("same_nonsq_s2")
    assert conv2d(x, w, [1, 2, 2, 1], padding) is None
    assert conv2d(x, w, [1, 2, 2, 1], padding.upper()) is not None
    message = unrecognised_padding_message(padding)
    assert message.startswith(f"conv2d returned None for padding={padding!r}")
    assert f"padding.upper() == {padding.upper()!r}" in message
    assert NONE_FOR_PADDING_SPELLING == "none_for_lowercase_padding"


def test_unknown_padding_message_names_it() -> None:
    message = unrecognised_padding_message("full")
    assert "padding='full'" in message and "raise ValueError" in message


# ----------------------------------------------------------------------------------------------
# The module itself


def test_every_mistake_is_distinguishable_somewhere() -> None:
    """Each label is, on at least one case, the only one matching its output."""
    alone = {
        name
        for case_id in CASES
        for name, (v, _) in variants(case_id).items()
        if matching(v, case_id) == {name}
    }
    assert alone == set(MISTAKES)


def test_argument_forms_give_the_same_variants() -> None:
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=(1, 7, 9, 2)), rng.normal(size=(4, 3, 2, 2))
    base = known_mistakes(x, w, [1, 2, 2, 1], "SAME")
    assert base  # a strided SAME case with padding: several mistakes show
    for strides, padding in [(2, "same"), ([2], "Same"), ([2, 2], "SAME"), ((1, 2, 2, 1), "sAmE")]:
        other = known_mistakes(x, w, strides, padding)
        assert sorted(other) == sorted(base)
        for name, (v, text) in other.items():
            np.testing.assert_array_equal(v, base[name][0])
            assert text == base[name][1]


def test_valid_filter_larger_than_input_names_nothing() -> None:
    x, w = np.ones((1, 2, 3, 1)), np.ones((3, 3, 1, 1))
    assert known_mistakes(x, w, 1, "VALID") == {}


def test_messages_are_finished_sentences_with_the_case_numbers() -> None:
    x, w, _ = case_data("same_k4_s3")
    found = known_mistakes(x, w, [1, 3, 2, 1], "SAME")
    assert set(found) >= {"stride_not_applied_to_window", "same_total_f_minus_s", "edge_padding"}
    for name, (_, text) in found.items():
        assert text[:1].islower() and text.endswith("."), name
        assert "{" not in text and "}" not in text, name
    assert "row i·3 and column j·2" in found["stride_not_applied_to_window"][1]
    assert "ceil(10 / 3) = 4" in found["same_total_f_minus_s"][1]


def test_module_imports_only_numpy_and_geometry() -> None:
    """Others restructure checks/cases/runner: this module depends on none of them."""
    tree = ast.parse((Path(__file__).parents[1] / "autograder" / "mistake_models.py").read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {
        "__future__",
        "dataclasses",
        "typing",
        "numpy",
        "numpy.typing",
        "convlab.geometry",
    }
