"""Tests for convlab.geometry: output sizes, padding and window positions, checked against TF."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from convlab.geometry import (
    AxisGeometry,
    axis_geometry,
    connections,
    formula_text,
    normalize_padding,
    normalize_strides,
    out_size,
    same_out_size,
    same_pads,
    sizes_after_layers,
    valid_out_size,
    window_starts,
)

IN_SIZES = range(1, 13)
FILTER_SIZES = range(1, 7)
STRIDES = range(1, 5)


@pytest.fixture(scope="module")
def tf():
    """TensorFlow, imported once for the module (quietly), or the test is skipped."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("tensorflow")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((4, 3, 1, "VALID"), (2, 0, 0), id="lecture-w4-f3-s1-VALID"),
        pytest.param((4, 3, 1, "SAME"), (4, 1, 1), id="lecture-w4-f3-s1-SAME"),
        pytest.param((5, 3, 2, "VALID"), (2, 0, 0), id="lecture-w5-f3-s2-VALID"),
        pytest.param((4, 2, 1, "SAME"), (4, 0, 1), id="even-filter-extra-pad-after"),
        pytest.param((28, 5, 2, "same"), (14, 1, 2), id="mnist-f5-s2-lowercase-SAME"),
        pytest.param((7, 1, 3, "SAME"), (3, 0, 0), id="filter-smaller-than-stride-no-pad"),
        pytest.param((2, 3, 1, "VALID"), (0, 0, 0), id="filter-larger-than-input-VALID"),
        pytest.param((2, 5, 1, "SAME"), (2, 2, 2), id="filter-larger-than-input-SAME"),
    ],
)
def test_axis_geometry_known_cases(args, expected):
    """Does axis_geometry give the lecture's and TF's output size and pads on known cases?"""
    geom = axis_geometry(*args)
    assert (geom.out_size, geom.pad_before, geom.pad_after) == expected
    assert geom.padding == args[3].upper()
    assert geom.padded_size == args[0] + expected[1] + expected[2]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((0, 3, 1, "SAME"), id="zero-input"),
        pytest.param((4, 0, 1, "SAME"), id="zero-filter"),
        pytest.param((4, 3, 0, "SAME"), id="zero-stride"),
        pytest.param((4, 3, 1.5, "SAME"), id="fractional-stride"),
        pytest.param((4, 3, 1, "FULL"), id="unknown-padding"),
    ],
)
def test_axis_geometry_rejects_bad_arguments(args):
    """Is a bad size, stride or padding refused with a ValueError?"""
    with pytest.raises(ValueError):
        axis_geometry(*args)


def test_normalize_padding_accepts_any_case():
    """Is 'Same' read as 'SAME', like the lecture's case-insensitive padding?"""
    assert normalize_padding("Same") == "SAME"
    assert normalize_padding("valid") == "VALID"


def test_window_starts_step_by_stride():
    """Do windows start every `stride` cells of the padded input?"""
    assert window_starts(axis_geometry(7, 3, 2, "VALID")) == [0, 2, 4]
    assert window_starts(axis_geometry(2, 3, 1, "VALID")) == []


@pytest.mark.parametrize(
    ("geom", "needles"),
    [
        pytest.param(
            axis_geometry(7, 3, 2, "VALID"),
            ["floor((7 - 3) / 2) + 1 = 3"],
            id="VALID",
        ),
        pytest.param(
            axis_geometry(4, 2, 1, "SAME"),
            [
                "ceil(4 / 1) = 4",
                "max((4 - 1)·1 + 2 - 4, 0) = 1",
                "pad_top = total // 2 = 0",
                "pad_bottom = total - pad_top = 1",
            ],
            id="SAME-odd-total",
        ),
        pytest.param(axis_geometry(2, 3, 1, "VALID"), ["no window fits"], id="VALID-too-big"),
    ],
)
def test_formula_text_fills_in_numbers(geom, needles):
    """Does the formula text show the rule with this case's numbers filled in?"""
    text = formula_text(geom)
    for needle in needles:
        assert needle in text


def test_formula_text_names_width_pads_left_right():
    """Are the width axis's pads called pad_left / pad_right?"""
    text = formula_text(axis_geometry(4, 2, 1, "SAME"), axis="width")
    assert "pad_left" in text and "pad_right" in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((28, 3, 1, "VALID", 5), [26, 24, 22, 20, 18], id="VALID-eats-border"),
        pytest.param((28, 3, 1, "SAME", 5), [28] * 5, id="SAME-keeps-size"),
        pytest.param((5, 3, 1, "VALID", 4), [3, 1, 0, 0], id="VALID-runs-out"),
        pytest.param((28, 3, 2, "SAME", 3), [14, 7, 4], id="SAME-stride2-halves"),
        pytest.param((28, 3, 1, "SAME", 0), [], id="no-layers"),
    ],
)
def test_sizes_after_layers(args, expected):
    """Does the size after each stacked layer follow the one-layer rule?"""
    assert sizes_after_layers(*args) == expected


def test_connections_lecture_example():
    """Does each of the lecture's 4 output pixels connect to its own 3x3 block of the 4x4 input?"""
    conn = connections(4, 4, 3, 3)
    assert conn.shape == (4, 16) and conn.dtype == np.bool_
    top_left = np.zeros((4, 4), bool)
    top_left[:3, :3] = True
    np.testing.assert_array_equal(conn[0], top_left.ravel())
    np.testing.assert_array_equal(
        conn.sum(axis=0).reshape(4, 4),
        [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]],
    )


# slow: the checks take under a second, but importing TensorFlow takes 5-10 s on a 2-core box.
@pytest.mark.slow
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
@pytest.mark.parametrize("stride", list(STRIDES), ids=lambda s: f"s{s}")
def test_axis_geometry_matches_tf_shapes_and_explicit_padding(tf, stride, padding):
    """On every in 1..12, f 1..6: do out_size and the pads reproduce tf.nn.conv2d exactly?

    The output shape must equal TF's; TF's SAME result must equal TF with our explicit pads;
    and each output pixel must be the sum over the window that window_starts says it is.
    """
    rng = np.random.default_rng(1000 * stride + len(padding))
    for in_size in IN_SIZES:
        x = rng.normal(size=(1, in_size, in_size, 1))
        for f in FILTER_SIZES:
            w = rng.normal(size=(f, f, 1, 1))
            g = axis_geometry(in_size, f, stride, padding)
            case = f"in={in_size} f={f} s={stride} {padding}"
            if g.out_size == 0:
                # TF returns an empty output when the filter overshoots by less than a stride
                # and refuses the call ("output size would be negative") beyond that.
                try:
                    got = tf.nn.conv2d(x, w, stride, padding).numpy()
                except tf.errors.InvalidArgumentError:
                    continue
                assert got.size == 0, case
                continue
            got = tf.nn.conv2d(x, w, stride, padding).numpy()
            assert got.shape == (1, g.out_size, g.out_size, 1), case
            pads = [[0, 0], [g.pad_before, g.pad_after], [g.pad_before, g.pad_after], [0, 0]]
            explicit = tf.nn.conv2d(x, w, stride, pads).numpy()
            np.testing.assert_allclose(explicit, got, rtol=1e-12, atol=1e-12, err_msg=case)
            padded = np.pad(x[0, :, :, 0], (g.pad_before, g.pad_after))
            starts = window_starts(g)
            windows = np.array(
                [
                    [(padded[y : y + f, q : q + f] * w[:, :, 0, 0]).sum() for q in starts]
                    for y in starts
                ]
            ).reshape(g.out_size, g.out_size)
            np.testing.assert_allclose(
                got[0, :, :, 0], windows, rtol=1e-10, atol=1e-10, err_msg=case
            )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("in_hw", "k_hw", "stride", "padding"),
    [
        pytest.param((4, 4), (3, 3), 1, "VALID", id="H4xW4-K3x3-s1-VALID"),
        pytest.param((5, 6), (3, 2), 2, "SAME", id="H5xW6-K3x2-s2-SAME"),
        pytest.param((6, 5), (4, 1), 3, "SAME", id="H6xW5-K4x1-s3-SAME"),
        pytest.param((7, 7), (2, 2), 2, "VALID", id="H7xW7-K2x2-s2-VALID"),
    ],
)
def test_connections_match_tf(tf, in_hw, k_hw, stride, padding):
    """Is input pixel i connected to output o exactly when a one-hot at i reaches o in TF?"""
    in_h, in_w = in_hw
    conn = connections(in_h, in_w, *k_hw, stride, padding)
    ones = np.ones((*k_hw, 1, 1))
    for i in range(in_h * in_w):
        onehot = np.zeros((1, in_h, in_w, 1))
        onehot.reshape(-1)[i] = 1.0
        reached = tf.nn.conv2d(onehot, ones, stride, padding).numpy().reshape(-1) != 0
        np.testing.assert_array_equal(conn[:, i], reached, err_msg=f"input pixel {i}")


def test_axis_geometry_is_a_frozen_record():
    """Is AxisGeometry immutable, so a widget cannot change a shared geometry by accident?"""
    geom = axis_geometry(4, 3, 1, "VALID")
    assert isinstance(geom, AxisGeometry)
    with pytest.raises(AttributeError):
        geom.out_size = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "strides, expected",
    [(2, (2, 2)), ([3], (3, 3)), ([2, 3], (2, 3)), ([1, 2, 3, 1], (2, 3)), (np.int64(2), (2, 2))],
    ids=["int", "list-1", "list-2", "list-4", "numpy-int"],
)
def test_normalize_strides_reads_every_form(strides: Any, expected: tuple[int, int]) -> None:
    """Does normalize_strides read each form tf.nn.conv2d accepts?"""
    assert normalize_strides(strides) == expected


def test_normalize_strides_refuses_three_ints() -> None:
    """Is a list of 3 strides refused with the accepted forms in the message?"""
    with pytest.raises(ValueError, match="1, 2 or 4 ints"):
        normalize_strides([1, 2, 3])


def test_one_axis_rules_agree_with_axis_geometry() -> None:
    """Do out_size, same_pads and the unclamped VALID size say what axis_geometry lays out?"""
    for n in IN_SIZES:
        for f in FILTER_SIZES:
            for s in STRIDES:
                same = axis_geometry(n, f, s, "same")
                assert (same.pad_before, same.pad_after) == same_pads(n, f, s)
                assert same.out_size == same_out_size(n, s) == out_size(n, f, s, "Same")
                valid = axis_geometry(n, f, s, "VALID")
                assert valid.out_size == max(valid_out_size(n, f, s), 0)
                assert out_size(n, f, s, "valid") == valid_out_size(n, f, s)


@pytest.mark.parametrize(
    ("args", "out", "needle"),
    [
        pytest.param((2, 3, 1, 2), 4, "floor((2 - 3 + 2·2) / 1) + 1 = 4", id="lecture-p2-slide"),
        pytest.param((5, 3, 2, 1), 3, "floor((5 - 3 + 2·1) / 2) + 1 = 3", id="in5-f3-s2-p1"),
        pytest.param((4, 3, 1, 0), 2, "floor((4 - 3 + 2·0) / 1) + 1 = 2", id="p0-is-valid"),
        pytest.param((1, 5, 1, 1), 0, "→ 0", id="filter-larger-than-padded"),
    ],
)
def test_explicit_axis_geometry_is_the_lectures_formula(args, out, needle):
    """Does explicit padding p give out = floor((in - f + 2p) / s) + 1, p zeros on both sides?"""
    from convlab.geometry import explicit_axis_geometry

    geom = explicit_axis_geometry(*args)
    assert geom.out_size == out and geom.pad_before == geom.pad_after == args[3]
    assert needle in formula_text(geom, axis="width")


@pytest.mark.parametrize("p", [-1, 1.5, True, "2"])
def test_explicit_axis_geometry_rejects_a_bad_p(p):
    """Is a negative, fractional, boolean or text p an error, not a silent guess?"""
    from convlab.geometry import explicit_axis_geometry

    with pytest.raises(ValueError):
        explicit_axis_geometry(4, 3, 1, p)
