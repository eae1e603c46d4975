"""Interactive ipywidgets for the labs; each build_* returns a widget and never displays it."""

from ..geometry import connections, sizes_after_layers
from ._conv import ConvFn, ConvResult, run_conv
from ._render import format_number, html_matrix, png_bytes, to_display
from .adapters import from_single_channel, implemented, student_or_none
from .connectivity import build_connectivity, connectivity_svg, feed_counts
from .filter_bank import build_filter_bank, filter_html
from .kernel_explorer import as_nhwc, build_kernel_explorer, depthwise_filters, kernel_summary
from .projector import build_projector_switch, projector_css
from .receptive_field import (
    Region,
    Stack,
    build_receptive_field,
    layer_sizes,
    receptive_field_regions,
    receptive_field_size,
    receptive_field_svg,
)
from .reveal import build_reveal
from .sliding import build_sliding_window, sum_text, window_at, window_products
from .stride_padding import (
    build_layer_stack,
    build_stride_demo,
    build_stride_padding_explorer,
    layer_stack_html,
    padded_grid_svg,
)

__all__ = [
    "ConvFn",
    "ConvResult",
    "Region",
    "Stack",
    "as_nhwc",
    "build_connectivity",
    "build_filter_bank",
    "build_kernel_explorer",
    "build_layer_stack",
    "build_projector_switch",
    "build_receptive_field",
    "build_reveal",
    "build_sliding_window",
    "build_stride_demo",
    "build_stride_padding_explorer",
    "connections",
    "connectivity_svg",
    "depthwise_filters",
    "feed_counts",
    "filter_html",
    "format_number",
    "from_single_channel",
    "html_matrix",
    "implemented",
    "kernel_summary",
    "layer_sizes",
    "layer_stack_html",
    "padded_grid_svg",
    "png_bytes",
    "projector_css",
    "receptive_field_regions",
    "receptive_field_size",
    "receptive_field_svg",
    "run_conv",
    "sizes_after_layers",
    "student_or_none",
    "sum_text",
    "to_display",
    "window_at",
    "window_products",
]
