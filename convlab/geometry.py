"""Output size, padding and window positions of a 2-D convolution, one axis at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# This module knows TensorFlow's padding rule so the widgets can draw it. Graded student code may
# not import convlab, so knowing the rule here gives no shortcut; it still holds no conv2d.
PADDINGS = ("VALID", "SAME")


@dataclass(frozen=True)
class AxisGeometry:
    """How ``tf.nn.conv2d`` lays windows along one spatial axis (height or width).

    Attributes:
        in_size: input length along the axis (pixels).
        filter_size: filter length along the axis.
        stride: step between neighbouring windows.
        padding: ``"VALID"`` or ``"SAME"`` (upper case), or ``"EXPLICIT"`` for the lecture's
            explicit padding p (``explicit_axis_geometry``: p zeros on both sides).
        out_size: number of windows = output length; 0 when a VALID filter does not fit.
        pad_before: zero rows/columns added at the top/left.
        pad_after: zero rows/columns added at the bottom/right (SAME puts the odd one here).
    """

    in_size: int
    filter_size: int
    stride: int
    padding: str
    out_size: int
    pad_before: int
    pad_after: int

    @property
    def padded_size(self) -> int:
        """Length of the padded input: ``pad_before + in_size + pad_after``."""
        return self.pad_before + self.in_size + self.pad_after

    @property
    def total_padding(self) -> int:
        """``pad_before + pad_after``."""
        return self.pad_before + self.pad_after


def normalize_padding(padding: str) -> str:
    """Return ``"VALID"`` or ``"SAME"`` for any letter case; raise ValueError for anything else."""
    if not isinstance(padding, str) or padding.upper() not in PADDINGS:
        raise ValueError(f"padding must be 'VALID' or 'SAME' (any case), got {padding!r}")
    return padding.upper()


def _check_positive(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def valid_out_size(in_size: int, filter_size: int, stride: int) -> int:
    """TensorFlow's VALID output length ``floor((in - f) / s) + 1``, unclamped (<= 0 when the
    filter is larger than the input)."""
    return (in_size - filter_size) // stride + 1


def same_out_size(in_size: int, stride: int) -> int:
    """TensorFlow's SAME output length ``ceil(in / s)``."""
    return -(-in_size // stride)


def out_size(in_size: int, filter_size: int, stride: int, padding: str) -> int:
    """TensorFlow's output length along one axis for ``"VALID"``/``"SAME"`` in any letter case
    (VALID unclamped, like ``valid_out_size``)."""
    if normalize_padding(padding) == "VALID":
        return valid_out_size(in_size, filter_size, stride)
    return same_out_size(in_size, stride)


def same_pads(in_size: int, filter_size: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding ``(before, after)``: total ``max((out - 1)·s + f - in, 0)``,
    ``before = total // 2``, the odd extra one after (bottom/right)."""
    total = max((same_out_size(in_size, stride) - 1) * stride + filter_size - in_size, 0)
    return total // 2, total - total // 2


def normalize_strides(strides: int | Sequence[int]) -> tuple[int, int]:
    """``(stride_height, stride_width)`` from an int or a list of 1, 2 or 4 ints, as tf.nn.conv2d
    reads them (``[s]``, ``[sh, sw]``, ``[1, sh, sw, 1]``)."""
    if isinstance(strides, int | np.integer):
        return int(strides), int(strides)
    s = [int(v) for v in strides]
    if len(s) == 1:
        return s[0], s[0]
    if len(s) == 2:
        return s[0], s[1]
    if len(s) == 4:
        return s[1], s[2]
    raise ValueError(f"strides must be an int or a list of 1, 2 or 4 ints, got {strides!r}")


def axis_geometry(in_size: int, filter_size: int, stride: int, padding: str) -> AxisGeometry:
    """Return the window layout ``tf.nn.conv2d`` uses along one axis.

    VALID: no padding, ``out = floor((in - f) / s) + 1``, or 0 when ``f > in`` (TF then returns
    an empty output, or refuses the call when ``f - in >= 2 * s``). SAME: ``out = ceil(in / s)``,
    total padding ``max((out - 1) * s + f - in, 0)``, ``pad_before = total // 2`` and the odd
    extra row or column goes after (bottom/right).

    Raises:
        ValueError: a size or the stride is not a positive integer, or padding is unknown.
    """
    in_size = _check_positive("in_size", in_size)
    filter_size = _check_positive("filter_size", filter_size)
    stride = _check_positive("stride", stride)
    padding = normalize_padding(padding)
    if padding == "VALID":
        out = max(valid_out_size(in_size, filter_size, stride), 0)
        return AxisGeometry(in_size, filter_size, stride, padding, out, 0, 0)
    before, after = same_pads(in_size, filter_size, stride)
    out = same_out_size(in_size, stride)
    return AxisGeometry(in_size, filter_size, stride, padding, out, before, after)


def explicit_axis_geometry(in_size: int, filter_size: int, stride: int, p: int) -> AxisGeometry:
    """Return the window layout for the lecture's explicit padding: ``p`` zeros on both sides.

    ``out = floor((in - f + 2p) / s) + 1`` (0 when even the padded input is smaller than the
    filter): the formula of the lecture's padding slide, e.g. a 2×2 image padded by p = 2 with a
    3×3 filter at stride 1 gives 4. (``tf.nn.conv2d`` takes this as explicit paddings; its
    "SAME" chooses p itself.)

    Raises:
        ValueError: a size or the stride is not a positive integer, or ``p`` is negative.
    """
    in_size = _check_positive("in_size", in_size)
    filter_size = _check_positive("filter_size", filter_size)
    stride = _check_positive("stride", stride)
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 0:
        raise ValueError(f"p must be a non-negative integer, got {p!r}")
    out = max(valid_out_size(in_size + 2 * int(p), filter_size, stride), 0)
    return AxisGeometry(in_size, filter_size, stride, "EXPLICIT", out, int(p), int(p))


def window_starts(geom: AxisGeometry) -> list[int]:
    """Return where each window starts, in padded coordinates (0 = first pad cell, if any).

    Window ``i`` covers padded positions ``start .. start + filter_size - 1``; subtract
    ``geom.pad_before`` to get input coordinates (negative = in the padding).
    """
    return [i * geom.stride for i in range(geom.out_size)]


def formula_text(geom: AxisGeometry, *, axis: str = "height") -> str:
    """Return the output-size (and, for SAME, padding) formula with this axis's numbers filled in.

    ``axis`` is ``"height"`` (pads named top/bottom) or ``"width"`` (left/right).
    """
    before, after = ("pad_top", "pad_bottom") if axis == "height" else ("pad_left", "pad_right")
    i, f, s, o = geom.in_size, geom.filter_size, geom.stride, geom.out_size
    if geom.padding == "EXPLICIT":
        p = geom.pad_before
        text = f"p = {p}: out = floor((in - f + 2p) / s) + 1 = floor(({i} - {f} + 2·{p}) / {s}) + 1"
        raw = valid_out_size(i + 2 * p, f, s)
        if raw < 1:
            return f"{text} = {raw} → 0: the filter is larger than the padded input"
        return f"{text} = {o}"
    if geom.padding == "VALID":
        text = f"VALID: out = floor((in - f) / s) + 1 = floor(({i} - {f}) / {s}) + 1"
        raw = valid_out_size(i, f, s)
        if raw < 1:
            return f"{text} = {raw} → 0: the filter is larger than the input, no window fits"
        return f"{text} = {o}"
    total = geom.total_padding
    return (
        f"SAME: out = ceil(in / s) = ceil({i} / {s}) = {o}; "
        f"total padding = max((out - 1)·s + f - in, 0) = max(({o} - 1)·{s} + {f} - {i}, 0)"
        f" = {total}; {before} = total // 2 = {geom.pad_before}, "
        f"{after} = total - {before} = {geom.pad_after}"
    )


def sizes_after_layers(in_size: int, f: int, s: int, padding: str, layers: int) -> list[int]:
    """Return the spatial size after each of ``layers`` stacked convolutions (length ``layers``).

    Every layer uses filter size ``f``, stride ``s`` and the same padding, as in a plain stack of
    ``tf.nn.conv2d`` calls on a square input. Once a VALID filter no longer fits the size is 0 and
    stays 0.

    Raises:
        ValueError: bad sizes, stride or padding, or ``layers < 0``.
    """
    if layers < 0:
        raise ValueError(f"layers must be >= 0, got {layers}")
    sizes: list[int] = []
    size = _check_positive("in_size", in_size)
    for _ in range(layers):
        size = axis_geometry(size, f, s, padding).out_size if size > 0 else 0
        sizes.append(size)
    return sizes


def connections(
    in_h: int, in_w: int, k_h: int, k_w: int, stride: int = 1, padding: str = "VALID"
) -> NDArray[np.bool_]:
    """Return which input pixels each output pixel of a convolution is connected to.

    Shape ``(out_h * out_w, in_h * in_w)``, both flattened in raster (row-major) order: entry
    ``[o, i]`` is True when input pixel ``i`` lies under the filter window of output pixel ``o``.
    Zero-padding cells are not inputs, so they connect to nothing. A fully connected layer would
    be all True.
    """
    gh = axis_geometry(in_h, k_h, stride, padding)
    gw = axis_geometry(in_w, k_w, stride, padding)
    out = np.zeros((gh.out_size * gw.out_size, gh.in_size * gw.in_size), dtype=bool)
    mask = np.zeros((gh.in_size, gw.in_size), dtype=bool)
    for oy, sy in enumerate(window_starts(gh)):
        for ox, sx in enumerate(window_starts(gw)):
            mask[:] = False
            # Slices clipped at 0 drop the window's rows/columns that fall in the padding.
            y0, x0 = sy - gh.pad_before, sx - gw.pad_before
            mask[max(y0, 0) : max(y0 + k_h, 0), max(x0, 0) : max(x0 + k_w, 0)] = True
            out[oy * gw.out_size + ox] = mask.ravel()
    return out
