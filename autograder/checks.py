"""Tiered checks of one returned value against the oracle, naming the likely mistake in words."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .cases import Case, ConvShape, normalize_strides

#: Allowance per multiply-add: a student may accumulate in float32 (64 ulps of float32 per term).
TOL_PER_TERM = 64 * float(np.finfo(np.float32).eps)
#: Floor of the absolute tolerance, so all-zero references still admit float32 round-off.
TOL_FLOOR = 1e-9


class Returned(Protocol):
    """What a call gave back: sandbox.CallResult, or the in-process equivalent."""

    status: str
    value: Any
    type_name: str
    message: str


@dataclass
class CaseResult:
    """The verdict on one case; `tier` is where it stopped (ok, call, type, rank, shape, ...)."""

    case: Case
    passed: bool
    tier: str
    message: str = ""
    mistake: str | None = None
    max_abs_error: float | None = None
    where: tuple[int, ...] | None = None
    got: Any = None
    expected: Any = None


class CheckFailure(Exception):
    """Raised inside a check to stop at a tier with a message for the student."""

    def __init__(self, tier: str, message: str, mistake: str | None = None) -> None:
        super().__init__(message)
        self.tier, self.message, self.mistake = tier, message, mistake


# ----------------------------------------------------------------------------------------------
# Geometry used in explanations (TensorFlow's rules; the oracle itself is tf.nn.conv2d)


def valid_size(n: int, f: int, s: int) -> int:
    return (n - f) // s + 1


def same_size(n: int, s: int) -> int:
    return -(-n // s)


def same_pads(n: int, f: int, s: int) -> tuple[int, int]:
    total = max((same_size(n, s) - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def formula(axis: str, n: int, f: int, s: int, padding: str) -> str:
    """TensorFlow's output-size rule for one axis with the numbers filled in."""
    if padding.upper() == "VALID":
        return (
            f"for padding 'VALID' the output {axis} is floor((in - f) / s) + 1 = "
            f"floor(({n} - {f}) / {s}) + 1 = {valid_size(n, f, s)}"
        )
    out = same_size(n, s)
    return f"for padding 'SAME' the output {axis} is ceil(in / s) = ceil({n} / {s}) = {out}"


class _Alternatives(dict[int, str]):
    """size -> mistake; two mistakes giving the same size are both named."""

    def __setitem__(self, size: int, text: str) -> None:
        if size in self and text not in self[size]:
            text = f"{self[size]}, or {text}"
        super().__setitem__(size, text)


def _axis_mistakes(n: int, f: int, s: int, other_s: int, padding: str) -> dict[int, str]:
    """Sizes a student might produce along one axis, with the mistake each one betrays."""
    wrong = _Alternatives()
    if padding.upper() == "VALID":
        wrong[(n - f) // s] = "an off-by-one: there are floor((in - f) / s) + 1 window positions"
        wrong[(n - f) // s + 2] = (
            "an off-by-one: there are floor((in - f) / s) + 1 window positions"
        )
        wrong[-(-(n - f) // s) + 1] = "ceil where TensorFlow floors: a window must fit entirely"
        wrong[n - f + 1] = "the stride was ignored: step the window by s, not 1"
        wrong[same_size(n, s)] = "SAME-style output although padding is 'VALID' (no zeros added)"
        wrong[valid_size(n, f, other_s)] = "the strides were applied to the wrong axes"
    else:
        wrong[n // s] = "floor instead of ceil: SAME output size is ceil(in / s)"
        wrong[n] = "the stride was ignored: SAME keeps the size only when s = 1"
        wrong[valid_size(n, f, s)] = "no padding was added although padding is 'SAME'"
        sym = 2 * ((f - 1) // 2)
        wrong[(n + sym - f) // s + 1] = (
            "symmetric padding of (f - 1) // 2 on each side; TensorFlow pads "
            "max((out - 1)·s + f - in, 0) in total, the odd one at the bottom/right"
        )
        wrong[same_size(n, other_s)] = "the strides were applied to the wrong axes"
    expected = valid_size(n, f, s) if padding.upper() == "VALID" else same_size(n, s)
    wrong.pop(expected, None)
    return wrong


def explain_spatial_shape(
    got: tuple[int, ...],
    expected: tuple[int, ...],
    *,
    in_hw: tuple[int, int],
    f_hw: tuple[int, int],
    s_hw: tuple[int, int],
    padding: str,
    axes: tuple[int, int],
) -> tuple[str, str | None]:
    """Why the height/width of `got` differ from `expected`: the rule with numbers, and a guess."""
    lines, guess = [], None
    for i, axis in enumerate(("height", "width")):
        g, e = got[axes[i]], expected[axes[i]]
        if g == e:
            continue
        n, f, s = in_hw[i], f_hw[i], s_hw[i]
        if padding != padding.upper() and padding.upper() == "SAME" and g == valid_size(n, f, s):
            guess = guess or (
                f"padding {padding!r} was not recognised as SAME: compare padding.upper()"
            )
        rule = formula(axis, n, f, s, padding)
        lines.append(f"{rule[:1].upper()}{rule[1:]}; yours is {g}.")
        guess = guess or _axis_mistakes(n, f, s, s_hw[1 - i], padding).get(g)
    return " ".join(lines), guess


# ----------------------------------------------------------------------------------------------
# The tiers


def _as_array(returned: Returned, function: str, expected: NDArray[Any]) -> NDArray[Any]:
    """Tiers 1-2: the call worked, and what came back is (or converts to) a numeric array."""
    if returned.status != "ok":
        raise CheckFailure(
            "call", returned.message or f"{function} did not return ({returned.status})."
        )
    value = returned.value
    if value is None:
        raise CheckFailure(
            "type", f"{function} returned None: did you forget the `return` statement?"
        )
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()  # a TF tensor, when called in-process
    if np.isscalar(value) and expected.ndim > 0:
        raise CheckFailure(
            "type",
            f"{function} returned a single {type(value).__name__} ({value!r}); "
            f"expected an array of shape {expected.shape}.",
        )
    try:
        arr = np.asarray(value)
    except Exception:
        arr = np.asarray(None)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CheckFailure(
            "type",
            f"{function} returned a {returned.type_name or type(value).__name__} that is not a "
            f"numeric array; expected a numpy array of shape {expected.shape}.",
        )
    return arr


def _check_rank_shape_dtype(
    arr: NDArray[Any],
    expected: NDArray[Any],
    function: str,
    layout: str,
    explain: Callable[[tuple[int, ...]], tuple[str, str | None]],
) -> None:
    """Tiers 3-6: rank, shape (with the rule the student broke), float dtype, finite values."""
    if arr.ndim != expected.ndim:
        hint = ""
        if arr.shape == expected.shape[1:]:
            hint = " It has the shape of one image: keep the batch axis even when batch = 1."
        elif arr.ndim == expected.ndim + 1 and 1 in arr.shape:
            hint = (
                " An extra axis of length 1: drop it (np.squeeze on that axis) or index [..., 0]."
            )
        raise CheckFailure(
            "rank",
            f"{function} returned a {arr.ndim}-D array of shape {arr.shape}; expected "
            f"{expected.ndim}-D {layout} of shape {expected.shape}.{hint}",
            "batch axis dropped" if arr.shape == expected.shape[1:] else None,
        )
    if arr.shape != expected.shape:
        why, guess = explain(arr.shape)
        msg = f"{function} returned shape {arr.shape}; expected {expected.shape} ({layout}). {why}"
        if guess:
            msg += f" Likely mistake: {guess}."
        raise CheckFailure("shape", msg.strip(), guess)
    if not np.issubdtype(arr.dtype, np.floating):
        kind = "complex" if np.issubdtype(arr.dtype, np.complexfloating) else str(arr.dtype)
        raise CheckFailure(
            "dtype",
            f"{function} returned dtype {kind}; a convolution of float inputs is float. "
            "Create the output with np.zeros(shape) (float64 by default), not dtype=int or "
            "np.zeros_like of an integer array, and don't round.",
            "integer output" if kind != "complex" else "complex output",
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailure(
            "finite",
            f"{function} returned {int(bad.sum())} NaN/inf values (first at index {first}); "
            "check for uninitialised memory (np.empty) or a division.",
        )


def _compare_values(
    arr: NDArray[Any],
    expected: NDArray[Any],
    *,
    terms: int,
    scale: float,
    variants: Callable[[], dict[str, tuple[NDArray[Any], str]]],
) -> CaseResult | CheckFailure:
    """Tier 7: values within a tolerance scaled to the accumulation length, else the mistake."""
    tol = max(TOL_PER_TERM * terms * max(scale, 1e-12), TOL_FLOOR)
    err = np.abs(arr.astype(np.float64) - expected)
    if err.size == 0 or float(err.max()) <= tol:
        max_err = float(err.max()) if err.size else 0.0
        return CaseResult(None, True, "ok", max_abs_error=max_err)  # type: ignore[arg-type]
    where = tuple(int(i) for i in np.unravel_index(int(err.argmax()), err.shape))
    rel = float(err.max()) / max(float(np.abs(expected).max()), 1e-12)
    n_bad = int((err > tol).sum())
    msg = (
        f"{n_bad} of {err.size} values differ from tf.nn.conv2d; the largest error is "
        f"{float(err.max()):.3g} (relative {rel:.2g}, tolerance {tol:.2g}) at index {where}: "
        f"yours {float(arr[where]):.6g}, expected {float(expected[where]):.6g}."
    )
    try:
        # Two mistakes can give the same numbers on a case (e.g. stride-1 padding that equals
        # the swapped split): name every one that matches.
        matches = [
            explanation
            for variant, explanation in variants().values()
            if variant.shape == arr.shape and np.allclose(arr, variant, rtol=0, atol=tol * 4)
        ]
    except Exception:  # naming a mistake is a courtesy; it must never break grading
        matches = []
    mistake = " Or: ".join(matches) or None
    if mistake:
        msg += f" Likely mistake: {mistake}"
    failure = CheckFailure("values", msg, mistake)
    failure.max_abs_error, failure.where = float(err.max()), where  # type: ignore[attr-defined]
    return failure


# ----------------------------------------------------------------------------------------------
# Known-wrong variants, computed by the oracle on transformed inputs


def _conv_variants(
    x: NDArray[Any], w: NDArray[Any], strides: Any, padding: str
) -> dict[str, tuple[NDArray[Any], str]]:
    from .reference import tf_conv2d

    sh, sw = normalize_strides(strides)
    kh, kw, cin, cout = w.shape
    h, wd = x.shape[1], x.shape[2]
    out: dict[str, tuple[NDArray[Any], str]] = {}

    def add(name: str, fn: Callable[[], NDArray[Any]], text: str) -> None:
        try:
            out[name] = (fn(), text)
        except Exception:
            pass  # a variant that TF cannot compute for this shape is simply not a candidate

    add(
        "flipped",
        lambda: tf_conv2d(x, w[::-1, ::-1], strides, padding),
        "you flipped the kernel (a true convolution). tf.nn.conv2d computes cross-correlation: "
        "multiply each kernel value with the pixel under it, without flipping the kernel.",
    )
    if kh == kw:
        add(
            "transposed",
            lambda: tf_conv2d(x, w.transpose(1, 0, 2, 3), strides, padding),
            "the kernel is transposed: filters[dy, dx] multiplies inputs[y + dy, x + dx] "
            "(kernel rows go with image rows).",
        )
    if padding.upper() == "SAME":
        (t, b), (l, r) = same_pads(h, kh, sh), same_pads(wd, kw, sw)
        if (t, l) != (b, r):
            add(
                "same_swapped",
                lambda: tf_conv2d(x, w, strides, [[b, t], [r, l]]),
                "your SAME padding puts the extra row/column on top/left; TensorFlow puts it "
                "at the bottom/right (pad_top = total // 2, pad_bottom = total - pad_top).",
            )
        t1, l1 = (kh - 1) // 2, (kw - 1) // 2
        if (t1, kh - 1 - t1, l1, kw - 1 - l1) != (t, b, l, r):
            add(
                "same_stride1",
                lambda: tf_conv2d(x, w, strides, [[t1, kh - 1 - t1], [l1, kw - 1 - l1]]),
                "you computed SAME padding as for stride 1 (total = f - 1). TensorFlow's total "
                "padding depends on the stride: max((out - 1)·s + f - in, 0), out = ceil(in / s).",
            )
    if sh != sw:
        add(
            "strides_swapped",
            lambda: tf_conv2d(x, w, [sw, sh], padding),
            "the strides are applied to the wrong axes: strides [1, sh, sw, 1] step sh between "
            "rows (height) and sw between columns (width).",
        )
    if cin > 1:
        add(
            "first_channel",
            lambda: tf_conv2d(x[..., :1], w[:, :, :1, :], strides, padding),
            "only input channel 0 contributes: each filter spans all input channels, so sum "
            "over them (over filters.shape[2]).",
        )
        add(
            "last_channel",
            lambda: tf_conv2d(x[..., -1:], w[:, :, -1:, :], strides, padding),
            "only the last input channel contributes: you overwrite (=) where you should "
            "accumulate (+=) over input channels.",
        )
    if x.shape[0] > 1:

        def batch_first() -> NDArray[Any]:
            ref = tf_conv2d(x, w, strides, padding)
            ref[1:] = 0
            return ref

        def batch_repeat() -> NDArray[Any]:
            ref = tf_conv2d(x, w, strides, padding)
            ref[1:] = ref[:1]
            return ref

        add("batch_first", batch_first, "only the first image of the batch was convolved.")
        add(
            "batch_repeat",
            batch_repeat,
            "every image of the batch got the first image's result: index inputs[b] inside "
            "the batch loop.",
        )
    if cout > 1:

        def filter_first() -> NDArray[Any]:
            ref = tf_conv2d(x, w[..., :1], strides, padding)
            return np.repeat(ref, cout, axis=3)

        add(
            "filter_first",
            filter_first,
            "every output channel used filter 0: output channel k comes from filters[:, :, :, k].",
        )
    return out


# ----------------------------------------------------------------------------------------------
# One function per checker: (case, returned, expected) -> CaseResult


def _finish(case: Case, result: CaseResult | CheckFailure, got: Any, expected: Any) -> CaseResult:
    if isinstance(result, CheckFailure):
        return CaseResult(
            case,
            False,
            result.tier,
            result.message,
            result.mistake,
            getattr(result, "max_abs_error", None),
            getattr(result, "where", None),
            got,
            expected,
        )
    result.case, result.got, result.expected = case, got, expected
    return result


def _array_check(
    case: Case,
    returned: Returned,
    expected: NDArray[Any],
    *,
    function: str,
    layout: str,
    explain: Callable[[tuple[int, ...]], tuple[str, str | None]],
    terms: int,
    scale: float,
    variants: Callable[[], dict[str, tuple[NDArray[Any], str]]],
) -> CaseResult:
    got: NDArray[Any] | None = None
    try:
        got = _as_array(returned, function, expected)
        _check_rank_shape_dtype(got, expected, function, layout, explain)
        outcome = _compare_values(got, expected, terms=terms, scale=scale, variants=variants)
    except CheckFailure as failure:
        outcome = failure
    return _finish(case, outcome, got, expected)


def _scale(*arrays: NDArray[Any]) -> float:
    return math.prod(float(np.abs(a).max()) if np.size(a) else 1.0 for a in arrays)


def check_conv2d(
    case: Case, returned: Returned, expected: NDArray[Any], function: str
) -> CaseResult:
    x, w, strides, padding = case.args
    s: ConvShape = case.params["shape"]
    sh, sw = normalize_strides(strides)

    def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
        why, guess = explain_spatial_shape(
            got,
            expected.shape,
            in_hw=(s.h, s.w),
            f_hw=(s.kh, s.kw),
            s_hw=(sh, sw),
            padding=padding,
            axes=(1, 2),
        )
        if got[0] != expected.shape[0]:
            why += f" The batch size is {expected.shape[0]} (inputs.shape[0]); yours is {got[0]}."
            guess = guess or "the batch axis was not kept"
        if got[3] != expected.shape[3]:
            why += (
                f" The output has one channel per filter: filters.shape[3] = {s.cout}; "
                f"yours has {got[3]}."
            )
            if got[3] == s.cin:
                guess = guess or "output channels taken from the input channels, not the filters"
        return why, guess

    return _array_check(
        case, returned, expected, function=function,
        layout="NHWC (batch, out_height, out_width, out_channels)", explain=explain,
        terms=s.kh * s.kw * s.cin, scale=_scale(x, w),
        variants=lambda: _conv_variants(x, w, strides, padding),
    )  # fmt: skip


def _single_variants(
    image: NDArray[Any], kernel: NDArray[Any], stride: Any = 1, padding: str = "VALID"
) -> dict[str, tuple[NDArray[Any], str]]:
    strides = list(stride) if isinstance(stride, tuple) else stride
    return {
        k: (v[0, :, :, 0], text)
        for k, (v, text) in _conv_variants(
            np.asarray(image, float)[None, :, :, None],
            np.asarray(kernel, float)[:, :, None, None],
            strides,
            padding,
        ).items()
    }


def check_convolve2d(
    case: Case, returned: Returned, expected: NDArray[Any], function: str
) -> CaseResult:
    image, kernel = case.args[:2]
    stride, padding = case.args[2:] if len(case.args) == 4 else (1, "VALID")
    sh, sw = normalize_strides(list(stride) if isinstance(stride, tuple) else stride)

    def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
        return explain_spatial_shape(
            got, expected.shape, in_hw=image.shape, f_hw=kernel.shape, s_hw=(sh, sw),
            padding=padding, axes=(0, 1),
        )  # fmt: skip

    return _array_check(
        case, returned, expected, function=function,
        layout="2-D (out_height, out_width)", explain=explain,
        terms=kernel.size, scale=_scale(image, kernel),
        variants=lambda: _single_variants(image, kernel, stride, padding),
    )  # fmt: skip


def check_conv_matrix(
    case: Case, returned: Returned, expected: NDArray[Any], function: str
) -> CaseResult:
    kernel, h, w = case.args

    def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
        oh, ow = valid_size(h, kernel.shape[0], 1), valid_size(w, kernel.shape[1], 1)
        why = (
            f"One row per output pixel ({oh}·{ow} = {oh * ow}) and one column per input pixel "
            f"({h}·{w} = {h * w})."
        )
        return why, ("the matrix is transposed" if got == expected.shape[::-1] else None)

    def variants() -> dict[str, tuple[NDArray[Any], str]]:
        from .reference import tf_conv_matrix

        flipped = tf_conv_matrix(kernel[::-1, ::-1], h, w)
        text = "you flipped the kernel (a true convolution, not cross-correlation)."
        return {"flipped": (flipped, text)}

    return _array_check(
        case, returned, expected, function=function,
        layout="(out_h*out_w, in_h*in_w), row-major pixels", explain=explain,
        terms=kernel.size, scale=_scale(kernel), variants=variants,
    )  # fmt: skip


def check_zero_pad(
    case: Case, returned: Returned, expected: NDArray[Any], function: str
) -> CaseResult:
    image, t, b, l, r = case.args

    def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
        h, w = image.shape
        return (
            f"Height {h} + top {t} + bottom {b} = {h + t + b}; width {w} + left {l} + right {r} "
            f"= {w + l + r}.",
            None,
        )

    def variants() -> dict[str, tuple[NDArray[Any], str]]:
        return {
            "tb_swapped": (np.pad(image, ((b, t), (l, r))), "top and bottom are swapped."),
            "lr_swapped": (np.pad(image, ((t, b), (r, l))), "left and right are swapped."),
            "axes_swapped": (
                np.pad(image, ((l, r), (t, b))),
                "rows and columns are swapped: top/bottom pad the rows (axis 0).",
            ),
        }

    return _array_check(
        case, returned, expected, function=function, layout="2-D", explain=explain,
        terms=1, scale=_scale(image), variants=variants,
    )  # fmt: skip


def _values_failure(message: str, guess: str | None) -> CheckFailure:
    """A wrong value, with the likely mistake appended when one was recognised."""
    return CheckFailure("values", message + (f" Likely mistake: {guess}." if guess else ""), guess)


def _as_ints(returned: Returned, function: str, count: int) -> tuple[int, ...]:
    if returned.status != "ok":
        raise CheckFailure("call", returned.message or f"{function} did not return.")
    value = returned.value
    seq = (
        list(np.asarray(value).ravel()) if not np.isscalar(value) and value is not None else [value]
    )
    what = "an int" if count == 1 else f"{count} ints"
    if value is None:
        raise CheckFailure("type", f"{function} returned None; expected {what}. Missing `return`?")
    if len(seq) != count:
        raise CheckFailure("type", f"{function} returned {value!r}; expected {what}.")
    out = []
    for v in seq:
        if isinstance(v, (bool, np.bool_)) or not isinstance(
            v, (int, float, np.integer, np.floating)
        ):
            raise CheckFailure("type", f"{function} returned {value!r}; expected {what}.")
        if float(v) != int(v):
            raise CheckFailure(
                "type",
                f"{function} returned {value!r}, not a whole number: sizes and paddings are "
                "integers (use // or math.ceil).",
            )
        out.append(int(v))
    return tuple(out)


def check_output_size(case: Case, returned: Returned, expected: int, function: str) -> CaseResult:
    n, f, s, padding = case.args
    try:
        (got,) = _as_ints(returned, function, 1)
        if got == expected:
            return CaseResult(case, True, "ok", got=got, expected=expected)
        guess = _axis_mistakes(n, f, s, s, padding).get(got)
        if padding.upper() != padding and got == (
            valid_size(n, f, s) if padding.upper() == "SAME" else same_size(n, s)
        ):
            guess = f"padding {padding!r} was not recognised: compare padding.upper()"
        rule = formula("size", n, f, s, padding)
        msg = f"{function}({n}, {f}, {s}, {padding!r}) returned {got}; {rule}."
        raise _values_failure(msg, guess)
    except CheckFailure as failure:
        return _finish(case, failure, None, expected)


def check_same_padding(
    case: Case, returned: Returned, expected: tuple[int, int], function: str
) -> CaseResult:
    n, f, s = case.args
    try:
        got = _as_ints(returned, function, 2)
        if got == tuple(expected):
            return CaseResult(case, True, "ok", got=got, expected=expected)
        out = same_size(n, s)
        total = sum(expected)
        guess = None
        if got == tuple(expected)[::-1]:
            guess = "before and after are swapped: the odd extra goes after (bottom/right)"
        elif got == ((f - 1) // 2, f - 1 - (f - 1) // 2):
            guess = "the stride-1 total f - 1 was used; the total depends on the stride"
        elif got[0] == got[1]:
            guess = "symmetric padding; TensorFlow puts total // 2 before and the rest after"
        msg = (
            f"{function}({n}, {f}, {s}) returned {got}; TensorFlow pads {tuple(expected)}: "
            f"out = ceil({n} / {s}) = {out}, "
            f"total = max(({out} - 1)·{s} + {f} - {n}, 0) = {total}, "
            f"before = total // 2 = {total // 2}, after = {total - total // 2}."
        )
        raise _values_failure(msg, guess)
    except CheckFailure as failure:
        return _finish(case, failure, None, expected)


def check_apply_kernel(
    case: Case, returned: Returned, expected: float, function: str
) -> CaseResult:
    image, kernel, x, y = case.args
    kh, kw = kernel.shape
    try:
        if returned.status != "ok":
            raise CheckFailure("call", returned.message)
        value = returned.value
        if hasattr(value, "item") and np.size(value) == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CheckFailure(
                "type", f"{function} returned {value!r}; expected one number (the output pixel)."
            )
        tol = max(TOL_PER_TERM * kernel.size * _scale(image, kernel), TOL_FLOOR)
        if abs(value - expected) <= tol:
            return CaseResult(case, True, "ok", max_abs_error=abs(value - expected))
        guesses = []
        window = image[y : y + kh, x : x + kw]
        if abs(value - float((window * kernel[::-1, ::-1]).sum())) <= tol:
            guesses.append(
                "you flipped the kernel (true convolution); deep learning uses cross-correlation"
            )
        if x + kh <= image.shape[0] and y + kw <= image.shape[1]:
            swapped = image[x : x + kh, y : y + kw]
            if abs(value - float((swapped * kernel).sum())) <= tol:
                guesses.append("x and y are swapped: x is the column (image[y, x]), y the row")
        guess = "; or ".join(guesses) or None
        msg = (
            f"{function}(image {image.shape}, kernel {kernel.shape}, x={x}, y={y}) returned "
            f"{value:.6g}; expected {expected:.6g} = sum of image[y + n, x + m] · kernel[n, m]."
        )
        raise _values_failure(msg, guess)
    except CheckFailure as failure:
        return _finish(case, failure, None, expected)


def check_cifar_filter_shape(
    case: Case, returned: Returned, expected: tuple[int, ...], function: str
) -> CaseResult:
    try:
        got = _as_ints(returned, function, 4)
        if got == tuple(expected):
            return CaseResult(case, True, "ok", got=got, expected=expected)
        guess = None
        if got == (5, 5, 16, 3):
            guess = "in_channels and out_channels are swapped: HWIO is [fh, fw, in, out]"
        elif got[2] == 1:
            guess = "each filter spans all 3 colour channels of the input: in_channels = 3"
        msg = (
            f"{function}() returned {list(got)}; "
            "16 5x5 filters over RGB images are HWIO [5, 5, 3, 16]."
        )
        raise _values_failure(msg, guess)
    except CheckFailure as failure:
        return _finish(case, failure, None, expected)


def check_tf_call(
    case: Case, returned: Returned, expected: NDArray[Any], function: str
) -> CaseResult:
    images, filters = case.args
    stride, padding = (2, "SAME") if case.checker == "mnist_conv" else (1, "SAME")

    def explain(got: tuple[int, ...]) -> tuple[str, str | None]:
        return explain_spatial_shape(
            got, expected.shape, in_hw=images.shape[1:3], f_hw=filters.shape[:2],
            s_hw=(stride, stride), padding=padding, axes=(1, 2),
        )  # fmt: skip

    return _array_check(
        case, returned, expected, function=function,
        layout="NHWC (batch, out_height, out_width, 16)", explain=explain,
        terms=int(np.prod(filters.shape[:3])), scale=_scale(images, filters),
        variants=lambda: _conv_variants(images, filters, stride, padding),
    )  # fmt: skip


CHECKERS: dict[str, Callable[[Case, Returned, Any, str], CaseResult]] = {
    "conv2d": check_conv2d,
    "apply_kernel": check_apply_kernel,
    "convolve2d": check_convolve2d,
    "convolve2d_strided": check_convolve2d,
    "output_size": check_output_size,
    "same_padding": check_same_padding,
    "zero_pad": check_zero_pad,
    "conv_matrix": check_conv_matrix,
    "mnist_conv": check_tf_call,
    "cifar_conv": check_tf_call,
    "cifar_filter_shape": check_cifar_filter_shape,
}


def check_case(case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
    """Run every tier for one case; the first tier that fails gives the verdict."""
    return CHECKERS[case.checker](case, returned, expected, function)
