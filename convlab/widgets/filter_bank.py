"""A filter bank: many filters on one image, one feature map (output channel) per filter."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from numpy.typing import ArrayLike

from ..geometry import axis_geometry, normalize_padding
from ._conv import ConvFn, resolve_conv_fn, run_conv
from ._render import (
    SIGNED_HELP,
    auto_scale,
    error_html,
    format_number,
    html_matrix,
    png_bytes,
    signed_rgb,
    title_html,
    to_display,
)

# Filters up to 7x7 (the curve detector) are shown as numbers; larger ones as pictures.
MAX_TABLE_CELLS = 49
THUMB_PIXELS = 96
SELECTED_BORDER = "3px solid #e61e1e"
PLAIN_BORDER = "3px solid transparent"
RGB_CHANNEL_NAMES = ("red", "green", "blue")


def filter_html(filt: ArrayLike, channel_names: Sequence[str] | None = None) -> str:
    """Render one filter (kh, kw, C) as one small table (or picture) per input channel.

    Positive weights are tinted red and negative blue; each table is titled by its channel.
    """
    f = np.asarray(filt, dtype=np.float64)
    if f.ndim != 3:
        raise ValueError(f"a filter must be (kh, kw, in_channels), got shape {f.shape}")
    channels = f.shape[2]
    if channel_names is None:
        channel_names = (
            RGB_CHANNEL_NAMES if channels == 3 else [f"channel {c}" for c in range(channels)]
        )
    lim = float(np.abs(f).max()) or 1.0
    parts = []
    for c in range(channels):
        title = f"input {channel_names[c]}"
        if f.shape[0] * f.shape[1] <= MAX_TABLE_CELLS:
            parts.append(
                html_matrix(f[:, :, c], shade="sign", title=title, cell_px=30, vrange=(-lim, lim))
            )
        else:
            # A picture for big filters, on the same scale as the tables: white 0.
            png = png_bytes(signed_rgb(f[:, :, c], lim), scale=auto_scale(f.shape, 120))
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<div style="display:inline-block;margin:4px"><b>{html.escape(title)}</b><br>'
                f'<img src="data:image/png;base64,{data}"></div>'
            )
    return "".join(parts)


def build_filter_bank(
    image: ArrayLike,
    filters: ArrayLike,
    conv_fn: ConvFn | None = None,
    *,
    names: Sequence[str] | None = None,
    padding: str = "SAME",
) -> widgets.VBox:
    """Build the filter-bank view: pick one filter to see its weights and its feature map.

    All feature maps come from one call ``conv_fn(image[None], filters, 1, padding)`` (NHWC
    input, HWIO filters, cross-correlation like ``tf.nn.conv2d``): output channel k is filter
    ``filters[:, :, :, k]`` summed over all input channels. Feature maps are shown on the
    signed scale when they have negative values (white 0, red positive,
    blue negative), else as images; a grid below shows all of them, the
    selected one outlined.

    Args:
        image: (H, W, C) or (H, W) in [0, 1].
        filters: HWIO (kh, kw, C, n_filters).
        conv_fn: the conv2d to visualise; None uses ``tf.nn.conv2d``.
        names: optional name per filter (e.g. kernel names used for ``as_filter_bank``).
        padding: ``"SAME"`` (default, maps keep the image size) or ``"VALID"``.

    Returns:
        The widget (not displayed).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    bank = np.asarray(filters, dtype=np.float64)
    if img.ndim != 3 or bank.ndim != 4:
        raise ValueError(f"need image (H, W, C) and filters HWIO, got {img.shape}, {bank.shape}")
    if bank.shape[2] != img.shape[2]:
        raise ValueError(
            f"filters have {bank.shape[2]} input channels but the image has {img.shape[2]}"
        )
    count = bank.shape[3]
    labels = list(names) if names is not None else [f"filter {k}" for k in range(count)]
    if len(labels) != count:
        raise ValueError(f"{len(labels)} names for {count} filters")
    padding = normalize_padding(padding)
    gh = axis_geometry(img.shape[0], bank.shape[0], 1, padding)
    gw = axis_geometry(img.shape[1], bank.shape[1], 1, padding)
    result = run_conv(
        resolve_conv_fn(conv_fn),
        img[None],
        bank,
        1,
        padding,
        (1, gh.out_size, gw.out_size, count),
    )
    choose = widgets.Dropdown(options=[(label, k) for k, label in enumerate(labels)], value=0)
    choose.description = "filter"
    weights = widgets.HTML()
    feature = widgets.Image(format="png")
    info = widgets.HTML()
    thumbs: list[widgets.Image] = []
    maps = None if result.output is None else result.output[0]
    if maps is not None and maps.size:
        for k in range(count):
            thumbs.append(
                widgets.Image(
                    value=png_bytes(
                        to_display(maps[:, :, k], "auto"), auto_scale(maps.shape, THUMB_PIXELS)
                    ),
                    format="png",
                    layout=widgets.Layout(border=PLAIN_BORDER),
                )
            )

    def render(_: object = None) -> None:
        k = choose.value
        weights.value = filter_html(bank[:, :, :, k])
        if maps is None:
            info.value = error_html(result.error)
            return
        fmap = maps[:, :, k]
        if fmap.size:
            feature.value = png_bytes(to_display(fmap, "auto"), auto_scale(fmap.shape))
        info.value = (
            f"feature map {k} ({html.escape(labels[k])}): {fmap.shape[0]}×{fmap.shape[1]}, "
            f"min {format_number(fmap.min()) if fmap.size else '-'}, "
            f"max {format_number(fmap.max()) if fmap.size else '-'} "
            f"(shown: {SIGNED_HELP if fmap.size and fmap.min() < 0 else 'as an image, 0 black'})"
        )
        for j, thumb in enumerate(thumbs):
            thumb.layout.border = SELECTED_BORDER if j == k else PLAIN_BORDER

    choose.observe(render, names="value")
    render()
    grid = widgets.GridBox(
        [
            widgets.VBox([widgets.HTML(html.escape(labels[k])), thumb])
            for k, thumb in enumerate(thumbs)
        ],
        layout=widgets.Layout(
            grid_template_columns=f"repeat(auto-fill, minmax({THUMB_PIXELS + 16}px, 1fr))",
            grid_gap="4px",
        ),
    )
    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Filter bank",
                    f"{count} filters on one image give a {count}-channel output: "
                    "each filter picks out a different feature.",
                )
            ),
            choose,
            widgets.HBox(
                [
                    widgets.VBox(
                        [
                            widgets.HTML("<b>image</b>"),
                            widgets.Image(
                                value=png_bytes(img if img.shape[2] == 3 else img[:, :, 0]),
                                format="png",
                            ),
                        ]
                    ),
                    widgets.VBox(
                        [widgets.HTML("<b>feature map</b>"), feature],
                        layout=widgets.Layout(margin="0 0 0 12px"),
                    ),
                ],
                layout=widgets.Layout(align_items="flex-start"),
            ),
            info,
            widgets.HTML("<b>weights</b> (one table per input channel)"),
            weights,
            widgets.HTML("<b>all feature maps</b>"),
            grid,
        ]
    )
