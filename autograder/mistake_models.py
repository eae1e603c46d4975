"""The conv2d mistakes students really make, each computed by one generic loop-free model
(the classic ones the oracle computes on transformed inputs are exercises/conv2d.py's
`oracle_mistakes`).

`known_mistakes(x, w, strides, padding)` returns, for every mistake whose output on this case is
defined and differs from the correct one, what that mistaken implementation returns and the
sentence a student should read. The model of a mistake is a change to one ingredient of the
correct computation, never a call of student code:

* per axis, how many output positions there are, how many zero rows/columns go before the input
  (top/left) and how far the window moves per output position (the stride, or 1);
* what the padding is filled with (zeros, the border pixel, a mirror image);
* which output positions the loops visit (all, or only those inside the unpadded input);
* the bounds check of a by-hand loop (height compared with the width and vice versa).

Zero padding is modelled as a by-hand loop with a bounds check: a read outside the input gives 0.
A student who slices a padded array instead gets the same numbers wherever their windows fit,
and an exception (no value, so no label) where they do not.

The catalogue and where each mistake was seen in public student code:
tests/submissions/realistic/SOURCES.md; the label each corpus file gets: EXPECTED.md there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlab.geometry import AxisGeometry, axis_geometry, formula_text, normalize_strides

#: Every label `known_mistakes` can return, in the order it returns them.
MISTAKES = (
    "stride_not_applied_to_window",
    "same_total_f_minus_1",
    "same_total_f_minus_s",
    "same_total_from_in_size",
    "same_half_kernel_each_side",
    "hw_swapped",
    "padding_twice",
    "edge_padding",
    "reflect_padding",
    "loop_unpadded_extent",
)
#: The grader's allowance per multiply-add (64 ulps of float32), as in autograder.checks.
TOL_PER_TERM = 64 * float(np.finfo(np.float32).eps)
#: The label of a conv2d that returns None for a spelling of the padding it does not recognise.
NONE_FOR_PADDING_SPELLING = "none_for_lowercase_padding"


@dataclass(frozen=True)
class _Axis:
    """How one spatial axis is walked: `out` windows, `top` pad cells first, `step` apart."""

    out: int
    top: int
    step: int


def _correlate(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    ah: _Axis,
    aw: _Axis,
    *,
    mode: str = "constant",
    bottom: int = 0,
    right: int = 0,
) -> NDArray[np.float64]:
    """out[b, i, j, k] = sum of padded[b, i·step_h + m, j·step_w + n, c] · w[m, n, c, k].

    `padded` is x with `top`/`left` cells before it. With mode "constant" (zeros) any amount after
    it is allowed (a bounds-checked loop reads 0 there). Other np.pad modes pad exactly
    `bottom`/`right` after it, and a window that leaves that array makes the mistake undefined.
    """
    kh, kw = w.shape[:2]
    rows = np.arange(ah.out)[:, None] * ah.step + np.arange(kh)[None, :]  # (out_h, kh)
    cols = np.arange(aw.out)[:, None] * aw.step + np.arange(kw)[None, :]  # (out_w, kw)
    if mode == "constant":
        bottom = max(bottom, int(rows.max(initial=0)) + 1 - ah.top - x.shape[1], 0)
        right = max(right, int(cols.max(initial=0)) + 1 - aw.top - x.shape[2], 0)
    pads = ((0, 0), (ah.top, bottom), (aw.top, right), (0, 0))
    xp = np.pad(x, pads, mode=mode)  # type: ignore[call-overload]
    if rows.size and rows.max() >= xp.shape[1] or cols.size and cols.max() >= xp.shape[2]:
        raise IndexError("a window leaves the padded input")
    patches = xp[:, rows[:, None, :, None], cols[None, :, None, :], :]  # (N, oh, ow, kh, kw, C)
    return np.einsum("nijmlc,mlck->nijk", patches, w)


def _geometries(
    x: NDArray[Any], w: NDArray[Any], sh: int, sw: int, padding: str
) -> tuple[AxisGeometry, AxisGeometry]:
    return (
        axis_geometry(x.shape[1], w.shape[0], sh, padding),
        axis_geometry(x.shape[2], w.shape[1], sw, padding),
    )


def _same_text(gh: AxisGeometry, gw: AxisGeometry) -> str:
    return f"Height: {formula_text(gh, axis='height')}. Width: {formula_text(gw, axis='width')}."


def _variants(
    x: NDArray[np.float64], w: NDArray[np.float64], sh: int, sw: int, padding: str
) -> dict[str, tuple[Any, str]]:
    """name -> (thunk computing the mistaken output, message); thunks may raise (= undefined)."""
    gh, gw = _geometries(x, w, sh, sw, padding)
    h, wd = x.shape[1], x.shape[2]
    kh, kw = w.shape[:2]

    def axes(top_h: int, top_w: int, step_h: int = sh, step_w: int = sw) -> tuple[_Axis, _Axis]:
        return _Axis(gh.out_size, top_h, step_h), _Axis(gw.out_size, top_w, step_w)

    out: dict[str, tuple[Any, str]] = {}
    out["stride_not_applied_to_window"] = (
        lambda: _correlate(x, w, *axes(gh.pad_before, gw.pad_before, 1, 1)),
        f"your window does not move by the stride. Your output has the right size, but output "
        f"position (i, j) must read the window that starts at row i·{sh} and column j·{sw} of "
        f"the padded input; yours starts at row i, column j. Multiply the loop index by the "
        f"stride where you slice: padded[b, i*sh : i*sh + kh, j*sw : j*sw + kw, :].",
    )
    if gh.padding == "SAME":

        def same_with(total: Any) -> tuple[_Axis, _Axis]:
            return axes(max(total(h, kh, sh), 0) // 2, max(total(wd, kw, sw), 0) // 2)

        out["same_total_f_minus_1"] = (
            lambda: _correlate(x, w, *same_with(lambda n, f, s: f - 1)),
            f"your SAME padding is the stride-1 rule: f - 1 zeros in total, (f - 1) // 2 of them "
            f"on top/left (for an odd filter that is f // 2 on each side). That keeps the size "
            f"only at stride 1. TensorFlow's total depends on "
            f"the stride: max((out - 1)·s + f - in, 0) with out = ceil(in / s), pad_top = "
            f"total // 2 and the rest at the bottom. {_same_text(gh, gw)}",
        )
        out["same_total_f_minus_s"] = (
            lambda: _correlate(x, w, *same_with(lambda n, f, s: f - s)),
            f"your SAME padding totals f - s zeros per axis. TensorFlow pads "
            f"max((out - 1)·s + f - in, 0) with out = ceil(in / s): the input size matters "
            f"whenever it is not a multiple of the stride. Put total // 2 zeros on top/left and "
            f"the rest at the bottom/right. {_same_text(gh, gw)}",
        )
        out["same_total_from_in_size"] = (
            lambda: _correlate(x, w, *same_with(lambda n, f, s: (n - 1) * s + f - n)),
            f"your SAME padding (in - 1)·s + f - in would keep the output as large as the input, "
            f"but with stride s the SAME output is ceil(in / s): the padding formula needs that "
            f"output size, total = max((out - 1)·s + f - in, 0). {_same_text(gh, gw)}",
        )
    if gh.padding == "SAME" and (kh % 2 == 0 or kw % 2 == 0):
        # For an odd filter f // 2 == (f - 1) // 2: the same padding as same_total_f_minus_1.
        out["same_half_kernel_each_side"] = (
            lambda: _correlate(x, w, *axes(kh // 2, kw // 2)),
            f"you put f // 2 zeros on top/left, a rule that only holds for odd filters at "
            f"stride 1. TensorFlow puts total // 2 there, total = max((out - 1)·s + f - in, 0), "
            f"and the odd extra one at the bottom/right. {_same_text(gh, gw)}",
        )

    def hw_swapped() -> NDArray[np.float64]:
        # A bounds-checked loop that tests rows against the width and columns against the height.
        rows = np.arange(gh.out_size)[:, None] * sh + np.arange(kh) - gh.pad_before
        cols = np.arange(gw.out_size)[:, None] * sw + np.arange(kw) - gw.pad_before
        if np.any((rows >= h) & (rows < wd)) or np.any((cols >= wd) & (cols < h)):
            raise IndexError("the swapped bounds check lets a read past the input through")
        cropped = x.copy()
        cropped[:, wd:, :, :] = 0  # rows the check wrongly skips (height > width)
        cropped[:, :, h:, :] = 0  # columns the check wrongly skips (width > height)
        return _correlate(cropped, w, *axes(gh.pad_before, gw.pad_before))

    out["hw_swapped"] = (
        hw_swapped,
        f"height and width are swapped in your bounds check (or loop limits): input rows run "
        f"0..{h - 1} (inputs.shape[1] = {h}) and columns 0..{wd - 1} (inputs.shape[2] = {wd}), "
        f"but your code compares the row with the width and the column with the height, so part "
        f"of the image is treated as padding. This only shows when the image is not square: "
        f"check every place where you use h and w.",
    )
    if gh.total_padding or gw.total_padding:
        out["padding_twice"] = (
            lambda: _correlate(x, w, *axes(2 * gh.pad_before, 2 * gw.pad_before)),
            f"the input is padded twice: your code adds the SAME zeros (pad_top = "
            f"{gh.pad_before}, pad_left = {gw.pad_before}) to an input that is already padded "
            f"(e.g. zero_pad and then np.pad again, or a padded array passed to a function that "
            f"pads). Pad once, then slide the window over that padded input.",
        )
        for mode, how in (("edge", "repeating the border pixels"), ("reflect", "mirroring")):
            out[f"{mode}_padding"] = (
                lambda mode=mode: _correlate(
                    x,
                    w,
                    *axes(gh.pad_before, gw.pad_before),
                    mode=mode,
                    bottom=gh.pad_after,
                    right=gw.pad_after,
                ),
                f"you pad by {how} (np.pad mode={mode!r}); SAME pads with zeros. Use "
                f"np.pad(inputs, pads) with the default mode='constant', or fill a "
                f"np.zeros array.",
            )

        def loop_unpadded_extent() -> NDArray[np.float64]:
            res = _correlate(x, w, *axes(gh.pad_before, gw.pad_before))
            # `for i in range(0, in - f + 1, s)`: the positions inside the *unpadded* extent.
            res[:, max(h - kh, -1) // sh + 1 :] = 0
            res[:, :, max(wd - kw, -1) // sw + 1 :] = 0
            return res

        out["loop_unpadded_extent"] = (
            loop_unpadded_extent,
            f"your loops stop where the filter would leave the unpadded input (range(0, in - f "
            f"+ 1, s)), so the last output rows/columns keep their initial 0. With SAME the "
            f"window slides over the padded input: visit all out_h = {gh.out_size} by out_w = "
            f"{gw.out_size} output positions.",
        )
    return out


def known_mistakes(
    x: NDArray[Any], w: NDArray[Any], strides: Any, padding: str
) -> dict[str, tuple[NDArray[np.float64], str]]:
    """name -> (the output that mistaken conv2d returns on this case, the sentence to show).

    `x` NHWC, `w` HWIO (converted to float64); `strides` an int or a list of 1, 2 or 4 ints;
    `padding` "SAME"/"VALID" in any letter case. A mistake is left out when its output is
    undefined here (that implementation would raise) or equals the correct output (then there is
    nothing to name). Two mistakes can give the same output on a case; both are returned.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    sh, sw = normalize_strides(strides)
    gh, gw = _geometries(x, w, sh, sw, padding)
    correct = _correlate(
        x, w, _Axis(gh.out_size, gh.pad_before, sh), _Axis(gw.out_size, gw.pad_before, sw)
    )
    # A mistake is only worth naming if its output is farther from the right one than the
    # grader's allowance (float32 accumulation, matched at 4x): else a correct float32 answer
    # could match it.
    scale = float(np.abs(x).max(initial=0.0)) * float(np.abs(w).max(initial=0.0))
    atol = 4 * max(TOL_PER_TERM * w.shape[0] * w.shape[1] * w.shape[2] * scale, 1e-9)
    found: dict[str, tuple[NDArray[np.float64], str]] = {}
    for name, (compute, message) in _variants(x, w, sh, sw, gh.padding).items():
        try:
            got = compute()
        except (IndexError, ValueError):
            continue  # that implementation raises on this case: nothing to compare with
        if got.shape == correct.shape and np.allclose(got, correct, rtol=0, atol=atol):
            continue  # right on this case: no label
        found[name] = (got, message)
    return found


def unrecognised_padding_message(padding: str) -> str:
    """What to tell a student whose conv2d returned None for this spelling of the padding."""
    canonical = padding.upper() if isinstance(padding, str) else ""
    if canonical in ("SAME", "VALID") and padding != canonical:
        return (
            f"conv2d returned None for padding={padding!r}: your code only recognises the exact "
            f"spellings 'SAME' and 'VALID', so no branch ran and the function ended without a "
            f"return. Padding may come in any letter case ({padding!r} means {canonical!r}): "
            f"compare padding.upper() == {canonical!r}, and end with a return (or raise "
            f"ValueError) for anything else."
        )
    return (
        f"conv2d returned None for padding={padding!r}: no branch of your code handled it and "
        f"the function ended without a return. Compare padding.upper() with 'SAME' and 'VALID', "
        f"and raise ValueError for anything else instead of returning nothing."
    )
