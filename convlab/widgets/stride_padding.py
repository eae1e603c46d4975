"""Stride and padding: where the windows go, how big the output gets, and why padding matters."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from numpy.typing import ArrayLike

from ..geometry import (
    AxisGeometry,
    axis_geometry,
    explicit_axis_geometry,
    formula_text,
    normalize_padding,
    sizes_after_layers,
    window_starts,
)
from ._conv import ConvFn, resolve_conv_fn, run_conv
from ._render import auto_scale, controls_row, error_html, png_bytes, title_html, to_display

SVG_CELL = 26
#: The explorer's third padding choice: the lecture's explicit p zeros on every side.
EXPLICIT = "EXPLICIT"
SVG_GAP = 40
# Above this many windows only their top-left corners are marked, or the picture turns to mush.
MAX_OUTLINED_WINDOWS = 49
INPUT_FILL = "#ffffff"
PAD_FILL = "#d9d9d9"
EXTRA_PAD_FILL = "#f6b26b"
UNSEEN_FILL = "#fff2cc"
WINDOW_STROKE = "#e61e1e"
ALL_WINDOWS_STROKE = "#3c78d8"
BAR_VALID = "#3c78d8"
BAR_SAME = "#6aa84f"
BAR_MAX_PX = 260


def _covered(geom: AxisGeometry) -> list[bool]:
    # Which input positions (unpadded) fall under at least one window: with f < s, or VALID when
    # (in - f) is not a multiple of s, some are never seen by the filter at all.
    seen = [False] * geom.in_size
    for start in window_starts(geom):
        for p in range(start - geom.pad_before, start - geom.pad_before + geom.filter_size):
            if 0 <= p < geom.in_size:
                seen[p] = True
    return seen


def padded_grid_svg(gh: AxisGeometry, gw: AxisGeometry, window: int | None = None) -> str:
    """Draw the padded input, the window positions and the output grid as an inline SVG string.

    Input cells are white, zero-padding cells grey with a 0, the odd extra SAME row/column
    (bottom/right) orange, input cells no window ever covers pale yellow. Every window is
    outlined faintly (or, when there are many, only its top-left corner dotted); window number
    ``window`` (raster order) is outlined in red together with its output cell on the right.
    """
    c = SVG_CELL
    rows, cols = gh.padded_size, gw.padded_size
    seen_h, seen_w = _covered(gh), _covered(gw)
    parts: list[str] = []

    def kind(pos: int, g: AxisGeometry) -> str:
        if pos < g.pad_before:
            return "pad"
        if pos >= g.pad_before + g.in_size:
            # SAME puts the odd extra pad after; draw that one apart so the asymmetry shows.
            return "extra" if pos - g.pad_before - g.in_size >= g.pad_before else "pad"
        return "in"

    for r in range(rows):
        for q in range(cols):
            kr, kq = kind(r, gh), kind(q, gw)
            if "extra" in (kr, kq):
                fill, text = EXTRA_PAD_FILL, "0"
            elif "pad" in (kr, kq):
                fill, text = PAD_FILL, "0"
            else:
                unseen = not (seen_h[r - gh.pad_before] and seen_w[q - gw.pad_before])
                fill, text = (UNSEEN_FILL if unseen else INPUT_FILL), ""
            parts.append(
                f'<rect x="{q * c}" y="{r * c}" width="{c}" height="{c}" fill="{fill}" '
                'stroke="#888" stroke-width="1"/>'
            )
            if text:
                parts.append(
                    f'<text x="{q * c + c / 2}" y="{r * c + c * 0.65}" font-size="11" '
                    f'text-anchor="middle" fill="#555">{text}</text>'
                )
    starts = [(y, x) for y in window_starts(gh) for x in window_starts(gw)]
    for y, x in starts:
        if len(starts) <= MAX_OUTLINED_WINDOWS:
            parts.append(
                f'<rect x="{x * c + 2}" y="{y * c + 2}" width="{gw.filter_size * c - 4}" '
                f'height="{gh.filter_size * c - 4}" fill="none" stroke="{ALL_WINDOWS_STROKE}" '
                'stroke-opacity="0.35" stroke-width="1.5"/>'
            )
        parts.append(
            f'<circle cx="{x * c + 6}" cy="{y * c + 6}" r="3" fill="{ALL_WINDOWS_STROKE}"/>'
        )
    ox0 = cols * c + SVG_GAP
    for r in range(gh.out_size):
        for q in range(gw.out_size):
            parts.append(
                f'<rect x="{ox0 + q * c}" y="{r * c}" width="{c}" height="{c}" fill="#eef3fc" '
                'stroke="#888" stroke-width="1"/>'
            )
    if window is not None and starts:
        wy, wx = divmod(window, gw.out_size)
        y, x = starts[window]
        parts.append(
            f'<rect x="{x * c}" y="{y * c}" width="{gw.filter_size * c}" '
            f'height="{gh.filter_size * c}" fill="{WINDOW_STROKE}" fill-opacity="0.12" '
            f'stroke="{WINDOW_STROKE}" stroke-width="3"/>'
        )
        parts.append(
            f'<rect x="{ox0 + wx * c}" y="{wy * c}" width="{c}" height="{c}" '
            f'fill="{WINDOW_STROKE}" fill-opacity="0.5" stroke="{WINDOW_STROKE}" stroke-width="3"/>'
        )
    width = ox0 + max(gw.out_size, 1) * c + 2
    height = max(rows, gh.out_size, 1) * c + 2
    labels = (
        f'<text x="0" y="{height + 14}" font-size="12">input {gh.in_size}×{gw.in_size} '
        f"padded to {rows}×{cols}</text>"
        f'<text x="{ox0}" y="{height + 14}" font-size="12">output '
        f"{gh.out_size}×{gw.out_size}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20}" '
        f'viewBox="-1 -1 {width + 1} {height + 21}">' + "".join(parts) + labels + "</svg>"
    )


LEGEND_HTML = (
    '<div style="font-size:12px">'
    f'<span style="background:{PAD_FILL};padding:0 6px">0</span> zero padding &nbsp; '
    f'<span style="background:{EXTRA_PAD_FILL};padding:0 6px">0</span> the odd extra pad '
    "(SAME puts it at the bottom/right) &nbsp; "
    f'<span style="background:{UNSEEN_FILL};border:1px solid #888;padding:0 6px">&nbsp;</span> '
    "input no window covers &nbsp; "
    f'<span style="color:{ALL_WINDOWS_STROKE}">●</span> where each window starts</div>'
)


def build_stride_padding_explorer() -> widgets.VBox:
    """Build the stride/padding explorer: sizes, strides and padding in, windows and formula out.

    Sliders set the input and filter height/width and the stride per axis, a toggle the padding
    (``tf.nn.conv2d``'s VALID or SAME, or the lecture's explicit p zeros on every side, with a
    slider for p: ``explicit_axis_geometry``). The picture is ``padded_grid_svg`` for the current
    geometry (``axis_geometry`` per axis); a slider steps through the windows in raster order.
    The formulas are ``formula_text`` with the numbers filled in.

    Returns:
        The widget (not displayed).
    """

    def slider(description: str, value: int, lo: int, hi: int) -> widgets.IntSlider:
        return widgets.IntSlider(
            value=value,
            min=lo,
            max=hi,
            description=description,
            style={"description_width": "90px"},
        )

    in_h, in_w = slider("input height", 5, 1, 12), slider("input width", 6, 1, 12)
    k_h, k_w = slider("filter height", 3, 1, 6), slider("filter width", 2, 1, 6)
    s_h, s_w = slider("stride (down)", 2, 1, 4), slider("stride (right)", 2, 1, 4)
    padding = widgets.ToggleButtons(
        options=[("VALID", "VALID"), ("SAME", "SAME"), ("p zeros", EXPLICIT)],
        value="SAME",
        description="padding",
        tooltips=[
            "no padding: windows stay inside the input",
            "TensorFlow's rule: out = ceil(in / stride), the odd extra zero bottom/right",
            "the lecture's formula: p zeros on every side (set p below)",
        ],
    )
    p = slider("p (zeros)", 2, 0, 4)
    p.disabled = True
    window = slider("window", 0, 0, 0)
    picture = widgets.HTML()
    formulas = widgets.HTML()
    state = {"busy": False}

    def geometry() -> tuple[AxisGeometry, AxisGeometry]:
        if padding.value == EXPLICIT:
            return (
                explicit_axis_geometry(in_h.value, k_h.value, s_h.value, p.value),
                explicit_axis_geometry(in_w.value, k_w.value, s_w.value, p.value),
            )
        return (
            axis_geometry(in_h.value, k_h.value, s_h.value, padding.value),
            axis_geometry(in_w.value, k_w.value, s_w.value, padding.value),
        )

    def render() -> None:
        gh, gw = geometry()
        n = gh.out_size * gw.out_size
        picture.value = padded_grid_svg(gh, gw, window.value if n else None)
        status = (
            f"window {window.value + 1} of {n}: output row {window.value // gw.out_size}, "
            f"column {window.value % gw.out_size}"
            if n
            else "no window fits: the filter is larger than the (padded) input"
        )
        formulas.value = (
            '<div style="font:13px monospace;white-space:pre-wrap">'
            f"height: {html.escape(formula_text(gh, axis='height'))}\n"
            f"width:  {html.escape(formula_text(gw, axis='width'))}\n"
            f"<b>output {gh.out_size} × {gw.out_size}</b>; {status}</div>"
        )

    def on_geometry(_: object) -> None:
        gh, gw = geometry()
        n = gh.out_size * gw.out_size
        # Changing the window slider's range may move its value; render once, not twice.
        state["busy"] = True
        try:
            p.disabled = padding.value != EXPLICIT
            window.max = max(n - 1, 0)
            window.disabled = n == 0
        finally:
            state["busy"] = False
        render()

    def on_window(_: object) -> None:
        if not state["busy"]:
            render()

    for control in (in_h, in_w, k_h, k_w, s_h, s_w, padding, p):
        control.observe(on_geometry, names="value")
    window.observe(on_window, names="value")
    on_geometry(None)

    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Stride and padding",
                    "How far the filter moves each step, what SAME adds around the input, "
                    "and how big the output becomes.",
                )
            ),
            controls_row([in_h, in_w], [k_h, k_w]),
            controls_row([s_h, s_w], [padding, p, window]),
            picture,
            widgets.HTML(LEGEND_HTML),
            formulas,
        ]
    )


def layer_stack_html(in_size: int, f: int, s: int, layers: int) -> str:
    """Return an HTML table of the size after each layer, VALID next to SAME, with bars.

    Row 0 is the input; row k the size after k stacked (f x f, stride s) convolutions, from
    ``sizes_after_layers``.
    """
    valid = [in_size, *sizes_after_layers(in_size, f, s, "VALID", layers)]
    same = [in_size, *sizes_after_layers(in_size, f, s, "SAME", layers)]

    def bar(size: int, colour: str) -> str:
        width = round(BAR_MAX_PX * size / in_size)
        return (
            f'<div style="display:inline-block;width:{width}px;height:12px;background:{colour};'
            f'vertical-align:middle"></div> {size}×{size}'
        )

    rows = "".join(
        f'<tr><td style="padding:1px 8px">{"input" if k == 0 else f"after layer {k}"}</td>'
        f'<td style="padding:1px 8px">{bar(v, BAR_VALID)}</td>'
        f'<td style="padding:1px 8px">{bar(m, BAR_SAME)}</td></tr>'
        for k, (v, m) in enumerate(zip(valid, same, strict=True))
    )
    head = (
        "<tr><th></th><th style='text-align:left;padding:1px 8px'>VALID (no padding)</th>"
        "<th style='text-align:left;padding:1px 8px'>SAME (zero padding)</th></tr>"
    )
    lost = in_size - valid[-1]
    summary = (
        f"After {layers} layer{'s' if layers != 1 else ''} of {f}×{f} filters (stride {s}): "
        f"VALID {valid[-1]}×{valid[-1]} (lost {lost} pixels per side-length"
        + (", the filter no longer fits" if valid[-1] == 0 else "")
        + f"), SAME {same[-1]}×{same[-1]}."
    )
    return f"<table style='border-collapse:collapse'>{head}{rows}</table><div>{summary}</div>"


def build_layer_stack() -> widgets.VBox:
    """Build "the filter eats at the border": the size after each layer, VALID vs SAME.

    Sliders set the number of stacked layers (1..10), the (square) input size, the filter size
    and the stride; the table is ``layer_stack_html``.

    Returns:
        The widget (not displayed).
    """
    style = {"description_width": "90px"}
    layers = widgets.IntSlider(value=5, min=1, max=10, description="layers", style=style)
    size = widgets.IntSlider(value=28, min=4, max=64, description="input size", style=style)
    f = widgets.IntSlider(value=3, min=1, max=7, description="filter size", style=style)
    s = widgets.IntSlider(value=1, min=1, max=3, description="stride", style=style)
    table = widgets.HTML()

    def render(_: object = None) -> None:
        table.value = layer_stack_html(size.value, f.value, s.value, layers.value)

    for control in (layers, size, f, s):
        control.observe(render, names="value")
    render()
    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "The filter eats at the border",
                    "Without padding every layer shrinks the image by (filter size - 1); "
                    "SAME padding keeps the size at stride 1.",
                )
            ),
            controls_row([layers, size], [f, s]),
            table,
        ]
    )


def build_stride_demo(
    image: ArrayLike, kernel: ArrayLike, conv_fn: ConvFn | None = None
) -> widgets.VBox:
    """Build the stride demo: stride as a controllable downsampling of a real image.

    The output is ``conv_fn(image[None, :, :, None], kernel[:, :, None, None], stride, padding)``
    (NHWC input, HWIO filter, cross-correlation like ``tf.nn.conv2d``), shown on the
    signed scale when they have negative values (white 0, red positive,
    blue negative), else as images at the same pixel scale as the input, so
    its shrinking is visible.

    Args:
        image: (H, W) or (H, W, 1), e.g. one MNIST digit.
        kernel: (kh, kw).
        conv_fn: the conv2d to visualise; None uses ``tf.nn.conv2d``.

    Returns:
        The widget (not displayed).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    ker = np.asarray(kernel, dtype=np.float64)
    if img.ndim != 2 or ker.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got {img.shape} and {ker.shape}")
    call = resolve_conv_fn(conv_fn)
    scale = auto_scale(img.shape)
    stride = widgets.IntSlider(value=1, min=1, max=4, description="stride")
    padding = widgets.ToggleButtons(options=["VALID", "SAME"], value="SAME", description="padding")
    input_image = widgets.Image(value=png_bytes(img, scale=scale), format="png")
    output_image = widgets.Image(format="png")
    info = widgets.HTML()
    # Eight (stride, padding) combinations at most: keep every output so revisits are free.
    cache: dict[tuple[int, str], tuple[np.ndarray | None, str]] = {}

    def render(_: object = None) -> None:
        s, p = stride.value, normalize_padding(padding.value)
        gh = axis_geometry(img.shape[0], ker.shape[0], s, p)
        gw = axis_geometry(img.shape[1], ker.shape[1], s, p)
        if (s, p) not in cache:
            result = run_conv(
                call,
                img[None, :, :, None],
                ker[:, :, None, None],
                s,
                p,
                (1, gh.out_size, gw.out_size, 1),
            )
            cache[(s, p)] = (result.output, result.error)
        output, error = cache[(s, p)]
        if output is None:
            info.value = error_html(error)
            return
        if output.size:
            output_image.value = png_bytes(to_display(output[0, :, :, 0], "auto"), scale)
        info.value = (
            f"<b>{img.shape[0]}×{img.shape[1]} input → {gh.out_size}×{gw.out_size} output</b> "
            f"(stride {s}, {p}): the window moves {s} pixel{'s' if s > 1 else ''} per step."
            f'<div style="font:12px monospace">{html.escape(formula_text(gh))}</div>'
        )

    stride.observe(render, names="value")
    padding.observe(render, names="value")
    render()
    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Stride = controllable downsampling",
                    "A larger stride skips positions, so the same image gives a smaller output.",
                )
            ),
            widgets.HBox([stride, padding]),
            widgets.HBox(
                [
                    widgets.VBox([widgets.HTML("<b>input</b>"), input_image]),
                    widgets.VBox(
                        [widgets.HTML("<b>output (same pixel size)</b>"), output_image],
                        layout=widgets.Layout(margin="0 0 0 12px"),
                    ),
                ],
                layout=widgets.Layout(align_items="flex-start"),
            ),
            info,
        ]
    )
