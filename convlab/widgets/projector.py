"""Projector mode for the lecture demo: everything larger, readable from the back of the room."""

from __future__ import annotations

import os

import ipywidgets as widgets

#: Set to 1 to open the demo in projector mode (e.g. ``CONVLAB_PROJECTOR=1 voila ...``).
PROJECTOR_ENV = "CONVLAB_PROJECTOR"
#: How much larger outputs (widgets, figures) and text get in projector mode.
PROJECTOR_ZOOM = 1.5
# Page-wide CSS, applied while the switch is on: outputs and markdown zoomed (inline pixel sizes
# of the widgets' cells and SVGs scale with them), code cells' inputs hidden in JupyterLab too.
PROJECTOR_CSS = f"""<style>
.jp-OutputArea-output, .jp-RenderedMarkdown {{ zoom: {PROJECTOR_ZOOM}; }}
.jp-CodeCell .jp-InputArea {{ display: none; }}
.jp-Notebook, .voila-Notebook, body {{ max-width: none; }}
</style>"""


def projector_css(on: bool) -> str:
    """The ``<style>`` block of projector mode, or "" when it is off."""
    return PROJECTOR_CSS if on else ""


def build_projector_switch(on: bool | None = None) -> widgets.VBox:
    """Build the demo's projector switch: a toggle and the page-wide style it controls.

    ``on`` None reads ``$CONVLAB_PROJECTOR`` ("1" = on). Projector mode zooms every output
    and markdown cell by ``PROJECTOR_ZOOM`` and hides code inputs, so the page shows only the
    lecture; switching it off restores the page.

    Returns:
        The widget (not displayed).
    """
    if on is None:
        on = os.environ.get(PROJECTOR_ENV, "") == "1"
    toggle = widgets.ToggleButton(
        value=on,
        description="projector mode",
        tooltip=f"everything {PROJECTOR_ZOOM:g}× larger, code hidden",
        layout=widgets.Layout(width="max-content"),
    )
    style = widgets.HTML(projector_css(on))
    toggle.observe(lambda change: setattr(style, "value", projector_css(change["new"])), "value")
    box = widgets.VBox([toggle, style])
    box.add_class("convlab-projector")  # what the browser tests find it by
    return box
