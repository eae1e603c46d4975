"""What the convolution exercises share: argument forms and TensorFlow's size rule in words."""

from __future__ import annotations

from typing import Any

import numpy as np

from convlab.geometry import same_out_size, valid_out_size

from ..cases import Case
from ..checks import CaseResult, Returned, Tier
from ..mistake_models import NONE_FOR_PADDING_SPELLING, unrecognised_padding_message
from ..policy import Status

Strides = int | list[int]


def padding_form(rng: np.random.Generator, padding: str) -> str:
    """The padding word in mixed letter case ("SAME", "same", "Same"): the contract accepts any."""
    forms = [padding.upper(), padding.lower(), padding.capitalize()]
    return forms[int(rng.integers(len(forms)))]


def other_form(i: int, sh: int, sw: int, padding: str) -> tuple[Strides, str]:
    """The i-th of the accepted forms other than TensorFlow's canonical ([1, sh, sw, 1], upper
    case): an int, [s] or [sh, sw] for the strides, lower or capitalised padding; never both
    canonical. An int or [s] only when sh == sw ([sh, sw] otherwise)."""
    pair: Strides = [sh, sw]
    single: Strides = sh if sh == sw else pair
    one: Strides = [sh] if sh == sw else pair
    forms: list[tuple[Strides, str]] = [
        (pair, padding.lower()),
        (single, padding.upper()),
        (one, padding.capitalize()),
        ([1, sh, sw, 1], padding.lower()),
        (pair, padding.upper()),
        ([1, sh, sw, 1], padding.capitalize()),
    ]
    return forms[i % len(forms)]


def none_for_padding_spelling(
    case: Case, returned: Returned, expected: Any, padding: Any, function: str
) -> CaseResult | None:
    """The verdict on None returned for a padding spelled other than "SAME"/"VALID": the code
    did not recognise that spelling (not a forgotten return). None for anything else."""
    if returned.status != Status.OK or returned.value is not None:
        return None
    if isinstance(padding, str) and padding in ("SAME", "VALID"):
        return None
    message = unrecognised_padding_message(padding).replace(
        "conv2d returned None", f"{function} returned None", 1
    )
    return CaseResult(
        case, False, Tier.TYPE, message, NONE_FOR_PADDING_SPELLING, None, None, None, expected
    )


def formula(axis: str, n: int, f: int, s: int, padding: str) -> str:
    """TensorFlow's output-size rule for one axis with the numbers filled in."""
    if padding.upper() == "VALID":
        return (
            f"for padding 'VALID' the output {axis} is floor((in - f) / s) + 1 = "
            f"floor(({n} - {f}) / {s}) + 1 = {valid_out_size(n, f, s)}"
        )
    out = same_out_size(n, s)
    return f"for padding 'SAME' the output {axis} is ceil(in / s) = ceil({n} / {s}) = {out}"


class _Alternatives(dict[int, str]):
    """size -> mistake; two mistakes giving the same size are both named."""

    def __setitem__(self, size: int, text: str) -> None:
        if size in self and text not in self[size]:
            text = f"{self[size]}, or {text}"
        super().__setitem__(size, text)


def axis_mistakes(n: int, f: int, s: int, other_s: int, padding: str) -> dict[int, str]:
    """Sizes a student might produce along one axis, with the mistake each one betrays."""
    wrong = _Alternatives()
    if padding.upper() == "VALID":
        wrong[(n - f) // s] = "an off-by-one: there are floor((in - f) / s) + 1 window positions"
        wrong[(n - f) // s + 2] = (
            "an off-by-one: there are floor((in - f) / s) + 1 window positions"
        )
        wrong[-(-(n - f) // s) + 1] = "ceil where TensorFlow floors: a window must fit entirely"
        wrong[n - f + 1] = "the stride was ignored: step the window by s, not 1"
        wrong[same_out_size(n, s)] = (
            "SAME-style output although padding is 'VALID' (no zeros added)"
        )
        wrong[valid_out_size(n, f, other_s)] = "the strides were applied to the wrong axes"
    else:
        wrong[n // s] = "floor instead of ceil: SAME output size is ceil(in / s)"
        wrong[n] = "the stride was ignored: SAME keeps the size only when s = 1"
        wrong[valid_out_size(n, f, s)] = "no padding was added although padding is 'SAME'"
        sym = 2 * ((f - 1) // 2)
        wrong[(n + sym - f) // s + 1] = (
            "symmetric padding of (f - 1) // 2 on each side; TensorFlow pads "
            "max((out - 1)·s + f - in, 0) in total, the odd one at the bottom/right"
        )
        wrong[same_out_size(n, other_s)] = "the strides were applied to the wrong axes"
    expected = valid_out_size(n, f, s) if padding.upper() == "VALID" else same_out_size(n, s)
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
    # "not recognised as SAME" only when the whole output has the VALID size
    valid_like = all(got[axes[i]] == valid_out_size(in_hw[i], f_hw[i], s_hw[i]) for i in range(2))
    for i, axis in enumerate(("height", "width")):
        g, e = got[axes[i]], expected[axes[i]]
        if g == e:
            continue
        n, f, s = in_hw[i], f_hw[i], s_hw[i]
        if padding != padding.upper() and padding.upper() == "SAME" and valid_like:
            guess = guess or (
                f"padding {padding!r} was not recognised as SAME: compare padding.upper()"
            )
        rule = formula(axis, n, f, s, padding)
        lines.append(f"{rule[:1].upper()}{rule[1:]}; yours is {g}.")
        guess = guess or axis_mistakes(n, f, s, s_hw[1 - i], padding).get(g)
    return " ".join(lines), guess
