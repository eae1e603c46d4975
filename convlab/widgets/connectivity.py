"""Convolution as a partially connected layer: which input pixels feed which output pixel."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from numpy.typing import NDArray

from ..geometry import axis_geometry, connections
from ._render import title_html

ALL = -1
SVG_CELL = 44
SVG_GAP = 160
# One colour per output pixel, as on the lecture slide; cycled past ten outputs.
OUTPUT_COLOURS = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#808000",
    "#000075",
)


def feed_counts(conn: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Return, per input pixel (flattened), how many output pixels it feeds: ``conn.sum(0)``."""
    return np.asarray(conn, bool).sum(axis=0).astype(np.int64)


def connectivity_svg(
    conn: NDArray[np.bool_],
    in_shape: tuple[int, int],
    out_shape: tuple[int, int],
    selected: int = ALL,
) -> str:
    """Draw inputs (left), outputs (right) and the connections of ``conn`` as inline SVG.

    ``conn`` is (out_h * out_w, in_h * in_w) as from ``connections`` (or all True for a fully
    connected layer). Each output pixel has its own colour; an input pixel is striped with the
    colours of the outputs it feeds (only the selected output's when ``selected`` is not
    ``ALL``) and shows that count. Lines join the selected output(s) to their inputs.
    """
    c = SVG_CELL
    in_h, in_w = in_shape
    out_h, out_w = out_shape
    conn = np.asarray(conn, bool)
    counts = feed_counts(conn)
    shown = range(conn.shape[0]) if selected == ALL else [selected]
    ox = in_w * c + SVG_GAP
    oy = max(0, (in_h - out_h) * c // 2)
    parts: list[str] = []
    for i in range(in_h * in_w):
        r, q = divmod(i, in_w)
        feeds = [o for o in shown if conn[o, i]]
        parts.append(
            f'<rect x="{q * c}" y="{r * c}" width="{c}" height="{c}" fill="#fff" stroke="none"/>'
        )
        for k, o in enumerate(feeds):
            width = c / len(feeds)
            parts.append(
                f'<rect x="{q * c + k * width:.2f}" y="{r * c}" width="{width:.2f}" '
                f'height="{c}" fill="{OUTPUT_COLOURS[o % len(OUTPUT_COLOURS)]}" '
                'fill-opacity="0.55"/>'
            )
        parts.append(
            f'<rect x="{q * c}" y="{r * c}" width="{c}" height="{c}" fill="none" stroke="#555"/>'
            f'<text x="{q * c + c / 2}" y="{r * c + c * 0.62}" font-size="13" '
            f'text-anchor="middle">{counts[i]}</text>'
        )
    for o in range(out_h * out_w):
        r, q = divmod(o, out_w)
        active = selected in (ALL, o)
        parts.append(
            f'<rect x="{ox + q * c}" y="{oy + r * c}" width="{c}" height="{c}" '
            f'fill="{OUTPUT_COLOURS[o % len(OUTPUT_COLOURS)]}" '
            f'fill-opacity="{0.8 if active else 0.15}" stroke="#555"/>'
        )
    for o in shown:
        r, q = divmod(o, out_w)
        x1, y1 = ox + q * c + c / 2, oy + r * c + c / 2
        colour = OUTPUT_COLOURS[o % len(OUTPUT_COLOURS)]
        for i in np.flatnonzero(conn[o]):
            ir, iq = divmod(int(i), in_w)
            parts.append(
                f'<line x1="{iq * c + c / 2}" y1="{ir * c + c / 2}" x2="{x1}" y2="{y1}" '
                f'stroke="{colour}" stroke-opacity="0.45" stroke-width="1.5"/>'
            )
    width = ox + out_w * c + 2
    height = max(in_h * c, oy + out_h * c) + 2
    labels = (
        f'<text x="0" y="{height + 14}" font-size="12">input {in_h}×{in_w} '
        "(number = output pixels it feeds)</text>"
        f'<text x="{ox}" y="{height + 14}" font-size="12">output {out_h}×{out_w}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20}" '
        f'viewBox="-1 -1 {width + 1} {height + 21}">' + "".join(parts) + labels + "</svg>"
    )


def build_connectivity(
    in_h: int = 4, in_w: int = 4, k: int = 3, *, stride: int = 1, padding: str = "VALID"
) -> widgets.VBox:
    """Build the connectivity view: each output pixel connects only to the inputs under it.

    The default (4x4 input, 3x3 filter, VALID, stride 1) is the lecture's: a 2x2 output whose
    four colours mark which inputs each output pixel sees (``connections``). Selecting an output
    pixel shows only its connections; "fully connected" shows a dense layer instead, where every
    input feeds every output. The text counts weights: k·k shared by all outputs versus one per
    (input, output) pair.

    Returns:
        The widget (not displayed).
    """
    gh = axis_geometry(in_h, k, stride, padding)
    gw = axis_geometry(in_w, k, stride, padding)
    out_shape = (gh.out_size, gw.out_size)
    if gh.out_size * gw.out_size == 0:
        raise ValueError(f"a {k}x{k} filter does not fit a {in_h}x{in_w} input with {padding}")
    conv = connections(in_h, in_w, k, k, stride, padding)
    dense = np.ones_like(conv)
    options = [("all output pixels", ALL)] + [
        (f"output row {o // gw.out_size}, column {o % gw.out_size}", o)
        for o in range(conv.shape[0])
    ]
    output = widgets.Dropdown(options=options, value=ALL, description="show")
    dense_toggle = widgets.ToggleButton(value=False, description="fully connected")
    picture = widgets.HTML()
    info = widgets.HTML()
    n_in, n_out = in_h * in_w, conv.shape[0]

    def render(_: object = None) -> None:
        conn = dense if dense_toggle.value else conv
        picture.value = connectivity_svg(conn, (in_h, in_w), out_shape, output.value)
        sel = "each output pixel" if output.value == ALL else "this output pixel"
        per = int(conn[0 if output.value == ALL else output.value].sum())
        if dense_toggle.value:
            text = (
                f"Fully connected: {sel} sees all {per} input pixels; "
                f"{n_in}·{n_out} = {n_in * n_out} weights, none shared."
            )
        else:
            text = (
                f"Convolution: {sel} sees only the {per} input pixels under the {k}×{k} filter; "
                f"all {n_out} outputs share the same {k * k} weights."
            )
        info.value = html.escape(text)

    output.observe(render, names="value")
    dense_toggle.observe(render, names="value")
    render()
    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Convolution is partially connected",
                    "Each output pixel is connected only to the input pixels under the filter.",
                )
            ),
            widgets.HBox([output, dense_toggle]),
            picture,
            info,
        ]
    )
