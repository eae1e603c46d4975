"""Receptive fields: which input pixels one output pixel of a stack of conv layers sees."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from ._render import controls_row, title_html

SVG_CELL = 16
SVG_GAP = 34
REGION_FILL = "#f4a259"
REGION_STROKE = "#c0392b"
GRID_STROKE = "#999"
BUTTON_PX = 46
SELECTED_STYLE = "danger"


@dataclass(frozen=True)
class Region:
    """A rectangle of pixels in one layer: rows ``top..top+height-1``, columns ``left..``."""

    top: int
    left: int
    height: int
    width: int


@dataclass(frozen=True)
class Stack:
    """A stack of VALID conv (or pooling) layers, from the input to the output, and its sizes.

    Attributes:
        name: shown in the preset menu.
        kernel_sizes: one (square) window size per layer, input side first.
        strides: one stride per layer.
        in_size: the (square) input size the widget draws.
    """

    name: str
    kernel_sizes: tuple[int, ...]
    strides: tuple[int, ...]
    in_size: int


# Small stacks whose output has 2-4 pixels per side, so every output pixel is a button.
PRESETS = (
    Stack("two 3×3 layers, stride 1", (3, 3), (1, 1), 7),
    Stack("three 3×3 layers, stride 1", (3, 3, 3), (1, 1, 1), 9),
    Stack("3×3 stride 2, then 3×3 stride 2", (3, 3), (2, 2), 11),
    Stack("5×5, 2×2 pool (stride 2), 5×5: lab 04's CNN", (5, 2, 5), (1, 2, 1), 16),
)


def _check_stack(kernel_sizes: Sequence[int], strides: Sequence[int]) -> None:
    if len(kernel_sizes) != len(strides):
        raise ValueError(f"{len(kernel_sizes)} kernel sizes but {len(strides)} strides")
    if not kernel_sizes:
        raise ValueError("a stack needs at least one layer")
    if min(kernel_sizes) < 1 or min(strides) < 1:
        raise ValueError(f"kernel sizes and strides must be >= 1, got {kernel_sizes}, {strides}")


def layer_sizes(in_size: int, kernel_sizes: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Sizes of the input and of every layer's output (VALID): ``n' = (n - k) // s + 1``.

    Raises:
        ValueError: the lists differ in length, are empty, hold values < 1, or a window no longer
            fits (a layer's output would be empty).
    """
    _check_stack(kernel_sizes, strides)
    sizes = [int(in_size)]
    for k, s in zip(kernel_sizes, strides, strict=True):
        if sizes[-1] < k:
            raise ValueError(f"a {k}-pixel window does not fit a {sizes[-1]}-pixel layer")
        sizes.append((sizes[-1] - k) // s + 1)
    return sizes


def receptive_field_size(kernel_sizes: Sequence[int], strides: Sequence[int]) -> int:
    """How many input pixels (per side) one output pixel of the last layer sees.

    Walking back from the output, a field of ``r`` pixels of a layer's output covers
    ``(r - 1)·s + k`` pixels of its input. The size does not depend on the padding.
    """
    _check_stack(kernel_sizes, strides)
    size = 1
    for k, s in zip(reversed(kernel_sizes), reversed(strides), strict=True):
        size = (size - 1) * s + k
    return size


def receptive_field_regions(
    kernel_sizes: Sequence[int], strides: Sequence[int], row: int, col: int
) -> list[Region]:
    """The region output pixel ``(row, col)`` of the last layer sees in every layer (VALID).

    Output pixel ``i`` of a layer reads its input's pixels ``i·s .. i·s + k - 1``; a region
    ``top..bottom`` therefore reads ``top·s .. bottom·s + k - 1``. Returns one ``Region`` per
    layer, the input first and the 1×1 output pixel itself last (``len(kernel_sizes) + 1``).
    """
    _check_stack(kernel_sizes, strides)
    if row < 0 or col < 0:
        raise ValueError(f"the output pixel must have row, col >= 0, got ({row}, {col})")
    top, bottom, left, right = row, row, col, col
    regions = [Region(top, left, 1, 1)]
    for k, s in zip(reversed(kernel_sizes), reversed(strides), strict=True):
        top, bottom = top * s, bottom * s + k - 1
        left, right = left * s, right * s + k - 1
        regions.append(Region(top, left, bottom - top + 1, right - left + 1))
    return regions[::-1]


def receptive_field_svg(sizes: Sequence[int], regions: Sequence[Region]) -> str:
    """Draw every layer as a grid, left to right, with its region filled; inline SVG.

    ``sizes`` as from ``layer_sizes`` and ``regions`` as from ``receptive_field_regions``
    (same length). Each region is one ``<rect class="rf-region">``.
    """
    if len(sizes) != len(regions):
        raise ValueError(f"{len(sizes)} layer sizes but {len(regions)} regions")
    c = SVG_CELL
    tallest = max(sizes) * c
    parts: list[str] = []
    x0 = 0
    for layer, (size, region) in enumerate(zip(sizes, regions, strict=True)):
        y0 = (tallest - size * c) // 2
        parts.append(
            f'<rect x="{x0 + region.left * c}" y="{y0 + region.top * c}" '
            f'width="{region.width * c}" height="{region.height * c}" fill="{REGION_FILL}" '
            f'stroke="{REGION_STROKE}" stroke-width="2" class="rf-region"/>'
        )
        for q in range(size + 1):
            parts.append(
                f'<line x1="{x0 + q * c}" y1="{y0}" x2="{x0 + q * c}" y2="{y0 + size * c}" '
                f'stroke="{GRID_STROKE}" stroke-width="0.6"/>'
                f'<line x1="{x0}" y1="{y0 + q * c}" x2="{x0 + size * c}" y2="{y0 + q * c}" '
                f'stroke="{GRID_STROKE}" stroke-width="0.6"/>'
            )
        label = "input" if layer == 0 else f"layer {layer}"
        parts.append(
            f'<text x="{x0}" y="{tallest + 16}" font-size="12">{label} {size}×{size}</text>'
        )
        x0 += max(size * c, 70) + SVG_GAP
    width, height = x0 - SVG_GAP + 2, tallest + 22
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'style="max-width:100%;height:auto" '
        f'viewBox="-1 -1 {width + 1} {height + 1}">' + "".join(parts) + "</svg>"
    )


def _span(name: str, start: int, length: int) -> str:
    return f"{name} {start}" if length == 1 else f"{name}s {start}–{start + length - 1}"


def regions_text(sizes: Sequence[int], regions: Sequence[Region]) -> str:
    """One line per layer: which rows and columns the selected output pixel depends on."""
    lines = []
    for layer, (size, r) in enumerate(zip(sizes, regions, strict=True)):
        label = "input" if layer == 0 else f"layer {layer}"
        lines.append(
            f"{label} ({size}×{size}): {_span('row', r.top, r.height)}, "
            f"{_span('column', r.left, r.width)} ({r.height}×{r.width} pixels)"
        )
    return "\n".join(lines)


def build_receptive_field(presets: Sequence[Stack] = PRESETS) -> widgets.VBox:
    """Build the receptive-field view: click an output pixel, see what it sees in every layer.

    A menu picks a stack of VALID layers (``presets``); the last layer's pixels are buttons
    labelled ``x,y`` (column, row, as the lecture names pixels). Clicking one fills, in every
    layer, the region that pixel depends on (``receptive_field_regions``) and lists it.

    Returns:
        The widget (not displayed).
    """
    if not presets:
        raise ValueError("presets must hold at least one stack")
    stacks = {stack.name: stack for stack in presets}
    menu = widgets.Dropdown(options=list(stacks), value=presets[0].name, description="stack")
    grid = widgets.GridBox()
    picture = widgets.HTML()
    info = widgets.HTML()
    state = {"row": 0, "col": 0}
    buttons: dict[tuple[int, int], widgets.Button] = {}

    def render() -> None:
        stack = stacks[menu.value]
        sizes = layer_sizes(stack.in_size, stack.kernel_sizes, stack.strides)
        regions = receptive_field_regions(
            stack.kernel_sizes, stack.strides, state["row"], state["col"]
        )
        for (row, col), button in buttons.items():
            chosen = (row, col) == (state["row"], state["col"])
            button.button_style = SELECTED_STYLE if chosen else ""
        picture.value = receptive_field_svg(sizes, regions)
        size = receptive_field_size(stack.kernel_sizes, stack.strides)
        info.value = (
            f"<b>output pixel x={state['col']}, y={state['row']}</b> sees "
            f"{size}×{size} input pixels (kernel sizes {list(stack.kernel_sizes)}, "
            f"strides {list(stack.strides)})"
            f'<pre style="margin:4px 0">{html.escape(regions_text(sizes, regions))}</pre>'
        )

    def select(row: int, col: int) -> None:
        state["row"], state["col"] = row, col
        render()

    def rebuild(_: object = None) -> None:
        stack = stacks[menu.value]
        out = layer_sizes(stack.in_size, stack.kernel_sizes, stack.strides)[-1]
        buttons.clear()
        for row in range(out):
            for col in range(out):
                button = widgets.Button(
                    description=f"{col},{row}",
                    tooltip=f"output pixel x={col}, y={row}",
                    # No margin: the grid's columns are exactly BUTTON_PX wide.
                    layout=widgets.Layout(
                        width=f"{BUTTON_PX}px", height=f"{BUTTON_PX}px", margin="0"
                    ),
                )
                button.on_click(lambda _b, r=row, c=col: select(r, c))
                buttons[(row, col)] = button
        grid.children = tuple(buttons.values())
        grid.layout = widgets.Layout(
            grid_template_columns=f"repeat({out}, {BUTTON_PX}px)", grid_gap="2px"
        )
        state["row"] = state["col"] = 0
        render()

    menu.observe(rebuild, names="value")
    rebuild()
    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Receptive field",
                    "Click an output pixel (x,y): the coloured region in each layer is what it "
                    "depends on; stacking layers, and striding, make it grow.",
                )
            ),
            menu,
            controls_row([widgets.HTML("<b>last layer</b>"), grid], picture),
            info,
        ]
    )
