"""Fast renderers shared by the widgets: PNG bytes for images, HTML tables for small matrices."""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image as PILImage

# Widgets redraw on every slider step, so rendering avoids matplotlib: PIL PNG encoding of a
# 224x224 image and an HTML string for a 10x10 table each take about a millisecond.
TARGET_PNG_PIXELS = 224
# Fast zlib level: the PNGs are tiny and short-lived, encoding speed matters more than size.
PNG_COMPRESS_LEVEL = 1
# NaN pixels mean "not computed yet" (e.g. output positions the sliding window has not reached).
BLANK_RGB = (238, 232, 205)
BOX_RGB = (230, 30, 30)
BOX_COLOURS_RGB = ((230, 30, 30), (255, 150, 0), (30, 160, 60), (140, 60, 200), (0, 170, 200))
CELL_PX = 34
HIGHLIGHT_CSS = "box-shadow: inset 0 0 0 3px #e61e1e;"
CURRENT_CSS = "box-shadow: inset 0 0 0 3px #ff9600;"
# Text on a cell darker than this (0..1 brightness) is drawn white.
DARK_CELL = 0.5
DISPLAY_MODES = ("auto", "signed", "abs", "clip", "normalize")
# The one colour convention of the bundle for signed values (outputs of edge filters, kernels,
# learned filters): white is 0, red positive, blue negative, on a scale symmetric around 0.
# These are ColorBrewer's RdBu anchors reversed, the colours of matplotlib's "RdBu_r"
# (convlab.plots.DIVERGING_CMAP), so widgets and lab figures agree without importing matplotlib.
SIGNED_ANCHORS_RGB = (
    (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
)  # fmt: skip
SIGNED_HELP = "white is 0, red positive, blue negative, scaled to the largest |value|"


def format_number(value: float) -> str:
    """Format a matrix entry for a student: integers without decimals, others with 3 digits."""
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if abs(value - round(value)) < 1e-9:
        # int() also turns -0.0 into a plain "0".
        return str(int(round(value)))
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3g}"


def signed_rgb(array: ArrayLike, limit: float | None = None) -> NDArray[np.float64]:
    """Colour signed values on the bundle's diverging scale: (..., 3) RGB in [0, 1].

    0 is white, ``+limit`` dark red, ``-limit`` dark blue (``SIGNED_ANCHORS_RGB``); ``limit``
    defaults to the largest absolute finite value, so the scale is symmetric around 0 and never
    hides a sign. NaN stays NaN (drawn as "not computed yet").
    """
    a = np.asarray(array, dtype=np.float64)
    finite = a[np.isfinite(a)]
    if limit is None:
        limit = float(np.abs(finite).max()) if finite.size else 0.0
    limit = limit if limit > 1e-12 else 1.0
    t = np.clip(np.nan_to_num(a) / limit, -1.0, 1.0)
    anchors = np.asarray(SIGNED_ANCHORS_RGB, dtype=np.float64) / 255.0
    knots = np.linspace(-1.0, 1.0, len(anchors))
    rgb = np.stack([np.interp(t, knots, anchors[:, k]) for k in range(3)], axis=-1)
    rgb[~np.isfinite(a)] = np.nan
    return rgb


def to_display(array: ArrayLike, mode: str = "clip") -> NDArray[np.float64]:
    """Map a filter output (any range, any shape) into [0, 1] for display.

    ``"signed"``: the bundle's diverging scale (``signed_rgb``): white 0, red positive, blue
    negative, symmetric around 0; an (H, W, C) output with C > 1 is averaged over its channels
    first, so the picture is (H, W, 3). The default view of every signed output: an edge
    filter's flat regions are white, its edges coloured by sign.
    ``"auto"`` (the widgets' default): ``"signed"`` when any value is negative; otherwise the
    output is an image and is shown as one, 0 black, 1 white (values above 1 scaled down to fit).
    ``"clip"``: values below 0 show black, above 1 white (what a plain image viewer does).
    ``"abs"``: ``|x|`` clipped to [0, 1], so strong responses of either sign are bright (edge
    filters give negative values on one side of an edge).
    ``"normalize"``: ``(x - min) / (max - min)`` over the whole array (all channels together, so
    colours keep their balance); a constant array shows mid-grey. NaN stays NaN.
    """
    a = np.asarray(array, dtype=np.float64)
    if mode == "auto":
        finite = a[np.isfinite(a)]
        if finite.size and finite.min() < 0:
            return to_display(a, "signed")
        top = float(finite.max()) if finite.size else 1.0
        return a / top if top > 1.0 else a.copy()
    if mode == "signed":
        if a.ndim == 3:
            a = a.mean(axis=2)
        return signed_rgb(a)
    if mode == "clip":
        return np.clip(a, 0.0, 1.0)
    if mode == "abs":
        return np.clip(np.abs(a), 0.0, 1.0)
    if mode == "normalize":
        finite = a[np.isfinite(a)]
        if finite.size == 0:
            return a.copy()
        lo, hi = float(finite.min()), float(finite.max())
        if hi - lo < 1e-12:
            return np.where(np.isfinite(a), 0.5, a)
        return (a - lo) / (hi - lo)
    raise ValueError(f"mode must be one of {DISPLAY_MODES}, got {mode!r}")


def auto_scale(shape: Sequence[int], target: int = TARGET_PNG_PIXELS) -> int:
    """Return the integer upscale factor that makes the longer side about ``target`` pixels."""
    return max(1, target // max(1, max(shape[0], shape[1])))


def _as_rgb_uint8(array: NDArray[np.float64]) -> NDArray[np.uint8]:
    # (H, W) or (H, W, 1) -> grey repeated; (H, W, 3) stays; NaN -> BLANK_RGB.
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W), (H, W, 1) or (H, W, 3) array, got {array.shape}")
    blank = np.isnan(array).any(axis=2)
    rgb = (np.clip(np.nan_to_num(array), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    rgb[blank] = BLANK_RGB
    return rgb


def png_bytes(
    array: ArrayLike,
    scale: int | None = None,
    *,
    normalize: bool = False,
    boxes: Sequence[tuple[int, int, int, int]] = (),
) -> bytes:
    """Encode an image as PNG bytes for ``ipywidgets.Image(value=..., format="png")``.

    Args:
        array: (H, W) or (H, W, 1) grey, or (H, W, 3) RGB. Values in [0, 1] are shown as they
            are (outside is clipped) unless ``normalize``; NaN pixels are drawn in a pale
            "not computed yet" colour.
        scale: integer nearest-neighbour upscale, so a 28x28 digit is big enough to see; None
            picks one that makes the longer side about 224 pixels.
        normalize: stretch ``min..max`` of the finite values to 0..1 first.
        boxes: rectangles ``(row, col, height, width)`` in array pixels, outlined in red (then
            orange, green, ...); parts outside the image are clipped.
    """
    a = np.asarray(array, dtype=np.float64)
    if normalize:
        a = to_display(a, "normalize")
    rgb = _as_rgb_uint8(a)
    scale = auto_scale(rgb.shape) if scale is None else int(scale)
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    big = rgb.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else rgb.copy()
    thick = max(1, scale // 4)
    for k, (row, col, h, w) in enumerate(boxes):
        colour = BOX_COLOURS_RGB[k % len(BOX_COLOURS_RGB)]
        y0, x0 = max(row * scale, 0), max(col * scale, 0)
        y1, x1 = min((row + h) * scale, big.shape[0]), min((col + w) * scale, big.shape[1])
        if y1 <= y0 or x1 <= x0:
            continue
        big[y0 : y0 + thick, x0:x1] = colour
        big[y1 - thick : y1, x0:x1] = colour
        big[y0:y1, x0 : x0 + thick] = colour
        big[y0:y1, x1 - thick : x1] = colour
    buffer = io.BytesIO()
    PILImage.fromarray(big, mode="RGB").save(
        buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL
    )
    return buffer.getvalue()


def _cell_style(value: float, shade: str | None, lo: float, hi: float) -> str:
    if shade is None or not np.isfinite(value):
        return "background:#fff;color:#000;"
    if shade == "gray":
        t = 0.5 if hi - lo < 1e-12 else (value - lo) / (hi - lo)
        g = int(round(255 * t))
        return f"background:rgb({g},{g},{g});color:{'#fff' if t < DARK_CELL else '#000'};"
    if shade == "sign":
        m = max(abs(lo), abs(hi), 1e-12)
        t = min(abs(value) / m, 1.0)
        # Light tints only, so the number on top stays readable: red positive, blue negative.
        fade = int(round(255 - 150 * t))
        colour = f"rgb(255,{fade},{fade})" if value > 0 else f"rgb({fade},{fade},255)"
        return f"background:{colour if value != 0 else '#fff'};color:#000;"
    raise ValueError(f"shade must be 'gray', 'sign' or None, got {shade!r}")


def html_matrix(
    matrix: ArrayLike,
    *,
    highlight: ArrayLike | None = None,
    current: tuple[int, int] | None = None,
    blank: ArrayLike | None = None,
    shade: str | None = "gray",
    title: str = "",
    cell_px: int = CELL_PX,
    vrange: tuple[float, float] | None = None,
) -> str:
    """Render a small 2-D matrix as an HTML table with its numbers in the cells.

    Args:
        matrix: (rows, cols) numbers.
        highlight: boolean (rows, cols) mask of cells outlined in red (e.g. the current window).
        current: one (row, col) cell outlined in orange (e.g. the output pixel being computed).
        blank: boolean mask of cells shown empty (e.g. outputs not computed yet); NaN is blank
            too.
        shade: ``"gray"`` colours cells like an image (dark = small), ``"sign"`` tints positive
            red and negative blue, None leaves them white.
        title: caption shown above the table.
        vrange: (low, high) for the shading; default the matrix's finite min and max.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"html_matrix needs a 2-D matrix, got shape {m.shape}")
    hl = np.zeros(m.shape, bool) if highlight is None else np.asarray(highlight, bool)
    bl = np.isnan(m) if blank is None else (np.asarray(blank, bool) | np.isnan(m))
    finite = m[np.isfinite(m) & ~bl]
    if vrange is not None:
        lo, hi = vrange
    elif finite.size:
        lo, hi = float(finite.min()), float(finite.max())
    else:
        lo, hi = 0.0, 1.0
    base = (
        f"width:{cell_px}px;height:{cell_px}px;min-width:{cell_px}px;text-align:center;"
        "border:1px solid #999;padding:0;font:12px monospace;"
    )
    rows = []
    for r in range(m.shape[0]):
        cells = []
        for c in range(m.shape[1]):
            if bl[r, c]:
                style, text = "background:#fafafa;", ""
            else:
                style, text = _cell_style(m[r, c], shade, lo, hi), format_number(m[r, c])
            if current is not None and (r, c) == tuple(current):
                style += CURRENT_CSS
            elif hl[r, c]:
                style += HIGHLIGHT_CSS
            cells.append(f'<td style="{base}{style}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = (
        f'<div style="font-weight:bold;margin:2px 0">{html.escape(title)}</div>' if title else ""
    )
    table = '<table style="border-collapse:collapse;margin:0">' + "".join(rows) + "</table>"
    return f'<div style="display:inline-block;margin:4px">{caption}{table}</div>'


def controls_row(*columns: object) -> object:
    """An HBox of columns (controls or a grid) that wraps onto the next line when the page is too
    narrow (a zoomed browser, JupyterLab's side panel) instead of squeezing them until they are
    cut off: each column (a widget, or a list of widgets stacked) keeps its own width."""
    import ipywidgets as widgets

    boxes = [
        c if isinstance(c, widgets.DOMWidget) else widgets.VBox(list(c))  # type: ignore[arg-type]
        for c in columns
    ]
    for column, box in zip(columns, boxes, strict=True):
        # Stacked controls keep their width; a single picture may shrink (its SVG scales down).
        single = isinstance(column, widgets.DOMWidget) and not isinstance(column, widgets.Box)
        box.layout.flex = "0 1 auto" if single else "0 0 auto"
        if single:
            box.layout.min_width = "0"
    return widgets.HBox(boxes, layout=widgets.Layout(flex_flow="row wrap"))


def title_html(title: str, subtitle: str = "") -> str:
    """Return the heading every widget starts with: a bold title and one line of explanation."""
    sub = f'<div style="color:#444">{html.escape(subtitle)}</div>' if subtitle else ""
    return f'<div style="font-size:1.2em;font-weight:bold">{html.escape(title)}</div>{sub}'


def error_html(message: str) -> str:
    """Return a red message box (used when the conv_fn being visualised fails)."""
    return (
        '<div style="color:#b00020;border:1px solid #b00020;padding:4px;white-space:pre-wrap">'
        f"{html.escape(message)}</div>"
    )
