"""Tests of the suites (autograder.exercise.make_cases): seeded, deterministic, trap-covering."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.cases import Case
from autograder.exercise import get_exercise, make_cases
from autograder.exercises.conv2d import MAX_SIZE, ConvShape
from autograder.registry import LABS
from convlab.geometry import normalize_strides

VISIBLE_CONV2D = [t.suite for t in LABS["03_filter_banks"].item("conv2d").tests if not t.hidden]
#: Seeds standing in for "any student": the properties below must hold for every seed.
SEEDS = range(6)
#: Every (checker, suite) the registry grades, once each (labs 03 and 05 share conv2d's suites).
SUITES = sorted(
    {
        (item.exercise, test.suite)
        for lab in LABS.values()
        for item in lab.items
        for test in item.tests
    }
)
REGISTERED = [
    (lab.id, item.function, item.exercise, test.suite)
    for lab in LABS.values()
    for item in lab.items
    for test in item.tests
]


def args_equal(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        for x, y in zip(a, b, strict=True)
    )


def conv2d_cases(suites: list[str], seeds: range | list[int] = SEEDS) -> list[Case]:
    return [c for suite in suites for seed in seeds for c in make_cases("conv2d", suite, seed)]


def tf_same_total(n: int, f: int, s: int) -> int:
    """TensorFlow's documented SAME rule: out = ceil(n / s), total = max((out - 1)·s + f - n, 0)."""
    out = -(-n // s)
    return max((out - 1) * s + f - n, 0)


def strides_form(strides: Any) -> str:
    return "int" if isinstance(strides, int) else f"list of {len(strides)}"


@pytest.mark.parametrize(
    "lab, function, checker, suite", REGISTERED, ids=[f"{r[0]}-{r[1]}-{r[3]}" for r in REGISTERED]
)
def test_every_registered_test_has_cases(lab: str, function: str, checker: str, suite: str) -> None:
    """Does every (item, test) of every lab in the registry have cases, for any seed?"""
    for seed in (0, 987654321):
        cases = make_cases(checker, suite, seed)
        assert cases, f"{lab} {function} {suite} seed {seed}"
        family = get_exercise(checker).name  # conv2d_fast grades conv2d's cases
        assert all(c.exercise == family and c.suite == suite and c.seed == seed for c in cases)


@pytest.mark.parametrize("checker, suite", SUITES, ids=[f"{c}-{s}" for c, s in SUITES])
def test_same_seed_gives_identical_cases(checker: str, suite: str) -> None:
    """Does one seed always give the same cases, arrays included, label for label?"""
    first, second = make_cases(checker, suite, 7), make_cases(checker, suite, 7)
    assert [c.label for c in first] == [c.label for c in second]
    assert all(args_equal(a.args, b.args) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    "checker, suite",
    [s for s in SUITES if get_exercise(s[0]).Args.names()],  # no arguments: nothing to vary
    ids=[f"{c}-{s}" for c, s in SUITES if get_exercise(c).Args.names()],
)
def test_different_seeds_give_different_cases(checker: str, suite: str) -> None:
    """Do two seeds give suites that differ somewhere (a student cannot memorise one)?"""
    a, b = make_cases(checker, suite, 1), make_cases(checker, suite, 2)
    same = len(a) == len(b) and all(args_equal(x.args, y.args) for x, y in zip(a, b, strict=True))
    assert not same


@pytest.mark.parametrize("checker, suite", SUITES, ids=[f"{c}-{s}" for c, s in SUITES])
def test_cases_come_smallest_first(checker: str, suite: str) -> None:
    """Are cases ordered by size and indexed in that order, so the smallest failure is first?"""
    for seed in (0, 3):
        cases = make_cases(checker, suite, seed)
        sizes = [c.size for c in cases]
        assert sizes == sorted(sizes)
        assert [c.index for c in cases] == list(range(len(cases)))


def test_conv2d_strides_appear_in_every_accepted_form() -> None:
    """Do the visible conv2d suites pass strides as an int, [s], [sh, sw] and [1, sh, sw, 1]
    (the first three only in argument_forms), and the hidden suite only [1, sh, sw, 1]?"""
    visible = {strides_form(c.args[2]) for c in conv2d_cases(VISIBLE_CONV2D, [0])}
    forms = {strides_form(c.args[2]) for c in conv2d_cases(["argument_forms"], [0])}
    hidden = {strides_form(c.args[2]) for c in conv2d_cases(["hidden"])}
    every = {"int", "list of 1", "list of 2", "list of 4"}
    assert visible == every
    assert forms == every
    assert hidden == {"list of 4"}


def test_conv2d_strides_forms_agree_with_the_shape() -> None:
    """Does every strides form stand for the stride recorded in the case's shape?"""
    for case in conv2d_cases([*VISIBLE_CONV2D, "hidden"]):
        s: ConvShape = case.args.shape
        assert normalize_strides(case.args[2]) == (s.sh, s.sw), case.label
        if isinstance(case.args[2], list) and len(case.args[2]) == 4:
            assert case.args[2][0] == case.args[2][3] == 1


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv2d_padding_appears_in_every_letter_case(padding: str) -> None:
    """Does the padding word come in upper, lower and mixed case across the conv2d suites?"""
    words = {c.args[3] for c in conv2d_cases(VISIBLE_CONV2D, [0])}
    assert {padding, padding.lower(), padding.capitalize()} <= words


def test_other_padding_arguments_are_upper_case_but_in_letter_case() -> None:
    """output_size and convolve2d_strided: upper case in their main suites and hidden, lower and
    mixed case (to catch `== "SAME"`) only in letter_case, with both words."""
    for checker, suites in [
        ("output_size", ["output_size", "hidden"]),
        ("convolve2d_strided", ["strided_valid", "strided_same", "hidden"]),
    ]:
        words = {c.args[3] for s in suites for c in make_cases(checker, s, 0)}
        assert words <= {"SAME", "VALID"}, checker
        other = {c.args[3] for c in make_cases(checker, "letter_case", 0)}
        assert all(w != w.upper() for w in other), checker
        assert {w.upper() for w in other} == {"SAME", "VALID"}, checker


def has_odd_total(shape: ConvShape) -> bool:
    return bool(
        tf_same_total(shape.h, shape.kh, shape.sh) % 2
        or tf_same_total(shape.w, shape.kw, shape.sw) % 2
    )


def test_same_asymmetric_has_odd_total_padding() -> None:
    """Does same_asymmetric have an odd SAME total on some axis (TF's extra at the end) often?"""
    for seed in range(10):
        cases = make_cases("conv2d", "same_asymmetric", seed)
        odd = [c for c in cases if has_odd_total(c.args.shape)]
        # Half at least: random even kernels with a stride > 1 can pad evenly (3 of 6 at seed 2).
        assert len(odd) >= len(cases) // 2, seed
        assert all(c.args[3].upper() == "SAME" for c in cases)


def test_same_asymmetric_hand_picked_cases_have_odd_total_padding() -> None:
    """Does every hand-picked (odd-kernel) case of same_asymmetric have an odd total padding?"""
    for case in make_cases("conv2d", "same_asymmetric", 0):
        s: ConvShape = case.args.shape
        if s.kh % 2 and s.kw % 2 and s.sh > 1:  # the random cases have even kernels
            assert has_odd_total(s), case.label


def test_edges_cover_the_corner_cases() -> None:
    """Does edges hold 1x1 kernel, kernel = input, SAME kernel > input, stride > kernel, H/W = 1?"""
    shapes = [c.args.shape for c in make_cases("conv2d", "edges", 0)]
    checks = {
        "1x1 kernel": lambda s: (s.kh, s.kw) == (1, 1),
        "kernel = input size": lambda s: (s.kh, s.kw) == (s.h, s.w) and s.padding == "VALID",
        "SAME kernel > input": lambda s: s.padding == "SAME" and s.kh > s.h and s.kw > s.w,
        "stride > kernel": lambda s: s.sh > s.kh and s.sw > s.kw,
        "H = 1": lambda s: s.h == 1,
        "W = 1": lambda s: s.w == 1,
    }
    missing = [name for name, fits in checks.items() if not any(fits(s) for s in shapes)]
    assert not missing


def test_conv2d_cases_stay_small() -> None:
    """Are all conv2d cases at most MAX_SIZE (16) high and wide, with at most 4 input channels?"""
    assert MAX_SIZE == 16
    for case in conv2d_cases([*VISIBLE_CONV2D, "hidden"]):
        x, w = case.args[:2]
        n, h, wd, cin = x.shape
        kh, kw, _, cout = w.shape
        assert h <= 16 and wd <= 16 and cin <= 4, case.label
        assert case.args.shape == ConvShape(
            n, h, wd, cin, cout, kh, kw, *normalize_strides(case.args[2]), case.args[3].upper()
        )
        if case.args[3].upper() == "VALID":
            assert kh <= h and kw <= wd, case.label  # else there is no valid window at all


def test_conv2d_cases_have_at_most_4_output_channels() -> None:
    """Do all conv2d cases have at most 4 output channels, as the issue requires?"""
    for case in conv2d_cases([*VISIBLE_CONV2D, "hidden"]):
        assert case.args[1].shape[3] <= 4, case.label


@pytest.mark.parametrize("checker", ["conv2d", "mnist_conv", "cifar_conv"])
def test_filter_in_channels_equal_input_channels(checker: str) -> None:
    """Do filters always span the input's channels (else tf.nn.conv2d runs a grouped conv)?"""
    suites = [*VISIBLE_CONV2D, "hidden"] if checker == "conv2d" else [checker]
    for suite in suites:
        for case in make_cases(checker, suite, 0) + make_cases(checker, suite, 5):
            x, w = case.args[:2]
            assert x.shape[3] == w.shape[2], case.label


def test_conv2d_values_are_continuous() -> None:
    """Are inputs and filters distinct continuous values, so no wrong variant passes by a tie?"""
    for case in conv2d_cases(VISIBLE_CONV2D, [0]):
        for a in case.args[:2]:
            assert a.dtype == np.float64 and np.all(np.abs(a) <= 1)
            assert len(np.unique(a)) == a.size


ITEMS_WITH_HIDDEN = sorted(
    {
        (item.exercise, tuple(t.suite for t in item.tests if not t.hidden))
        for lab in LABS.values()
        for item in lab.items
        if item.hidden_tests()
    }
)


@pytest.mark.parametrize(
    "checker, visible", ITEMS_WITH_HIDDEN, ids=[c for c, _ in ITEMS_WITH_HIDDEN]
)
def test_hidden_suites_differ_from_visible_ones(checker: str, visible: tuple[str, ...]) -> None:
    """Does the hidden suite hold none of the visible cases (the released notebook shows those)?"""
    shown = [c for suite in visible for c in make_cases(checker, suite, 0)]
    shown_arrays = [a for c in shown for a in c.args if isinstance(a, np.ndarray)]
    shown_plain = {c.args for c in shown if not any(isinstance(a, np.ndarray) for a in c.args)}
    for seed in (0, 11, 2024):
        hidden = make_cases(checker, "hidden", seed)
        for case in hidden:
            arrays = [a for a in case.args if isinstance(a, np.ndarray)]
            for a in arrays:
                assert not any(a.shape == b.shape and np.array_equal(a, b) for b in shown_arrays)
            if not arrays:  # plain ints (output_size, same_padding): a chance repeat or two only
                assert len({c.args for c in hidden} & shown_plain) <= len(hidden) // 4


def test_unknown_checker_or_suite_is_a_clear_key_error() -> None:
    """Do an unknown checker and an unknown suite raise KeyErrors naming them?"""
    with pytest.raises(KeyError, match="no exercise 'conv3d'"):
        make_cases("conv3d", "hidden", 0)
    with pytest.raises(KeyError, match="exercise 'conv2d' has no suite 'nope'"):
        make_cases("conv2d", "nope", 0)


def test_conv2d_labels_describe_the_case() -> None:
    """Does each conv2d label spell batch, size, channels, kernel, strides and padding?"""
    for case in conv2d_cases(VISIBLE_CONV2D, [0]):
        s: ConvShape = case.args.shape
        prefix = f"N{s.n}-H{s.h}xW{s.w}-C{s.cin}to{s.cout}-K{s.kh}x{s.kw}-s"
        assert case.label.startswith(prefix) and case.label.endswith(f"-{case.args[3]}")
        assert " " not in case.label
        assert case.description.startswith(f"{case.label} (suite {case.suite!r}, seed 0")
