"""Widget latency: from a control change to the updated output, in-process and in a browser.

For every widget of the lecture demo and every control on it (the same controls the browser
tests drive), two measurements:

- **in-process**: the widget built in Python exactly as in the demo (``conv_fn=None``, i.e.
  ``tf.nn.conv2d``), ``control.value = new`` timed with ``time.perf_counter`` around the
  assignment. The widgets' observers run synchronously, so this is the callback's own cost
  (conv2d, PNG encoding, HTML), without any messaging.
- **browser**: ``demo/lecture_demo.ipynb`` served by Voila and driven in headless Chromium with
  real keyboard/mouse input. Both ends are read from the page's clock, ``performance.now()``:
  the start is the timeStamp of the event that commits the change as the widget receives it
  (a slider's keydown, a dropdown's change, a button's click, the Enter after typing a number;
  capture phase), the end the first DOM mutation in which the watched output (the
  widget's pictures, or its HTML panels) differs. That is the full round trip browser →
  Voila → kernel callback → browser, up to the DOM update (image decoding and paint come after).

Each control is changed forward and back alternately (a slider right then left, a dropdown to
another option then back), after one unmeasured warm-up change. Target: ≤ 100 ms in the browser.

    python benchmarks/widgets.py [--repeats N] [--skip-browser]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402
from browser_helpers import (  # noqa: E402
    ACTIONS,
    DEMO_NOTEBOOK,
    Action,
    chromium_available,
    chromium_page,
    copy_notebook,
    start_voila,
    tag_widgets,
    timed_action,
    widget_root,
)

from convlab.data import CIFAR10_CLASSES, load_cifar10, load_mnist  # noqa: E402
from convlab.kernels import LECTURE_EXAMPLES, as_filter_bank, get_kernel  # noqa: E402
from convlab.widgets import (  # noqa: E402
    build_connectivity,
    build_filter_bank,
    build_kernel_explorer,
    build_layer_stack,
    build_sliding_window,
    build_stride_demo,
    build_stride_padding_explorer,
)

TARGET_MS = 100.0
SEED = 0
# The demo's widgets in page order (tests/test_browser.py checks the same list), with a label.
DEMO_WIDGETS = {
    "sliding_window-1": "sliding window (4x4 lecture example)",
    "kernel_explorer-1": "kernel explorer (MNIST)",
    "kernel_explorer-2": "kernel explorer (CIFAR-10)",
    "stride_demo-1": "stride demo (MNIST digit)",
    "filter_bank-1": "filter bank (CIFAR-10, 6 named filters)",
    "connectivity-1": "connectivity (4x4, 3x3)",
    "stride_padding-1": "stride/padding explorer",
    "layer_stack-1": "layer stack (eating the border)",
    "filter_bank-2": "filter bank (MNIST, 8 learned 5x5)",
}
BROWSER_ACTION_TIMEOUT_S = 10.0


@dataclass
class Timings:
    """Milliseconds per control of one widget; ``missed`` counts changes never seen."""

    samples: dict[str, list[float]]
    missed: int = 0

    def all(self) -> list[float]:
        return [t for values in self.samples.values() for t in values]


def _kind(tag: str) -> str:
    return tag.rsplit("-", 1)[0]


# --- in-process ----------------------------------------------------------------------------------


def build_demo_widgets() -> dict[str, widgets.Widget]:
    """The demo's widgets, built as the notebook builds them (learned filters: seeded random)."""
    digits, digit_labels = load_mnist("test")
    photos, photo_labels = load_cifar10("test")
    example = LECTURE_EXAMPLES["first_output"]
    names = ["box_blur", "sharpen", "outline", "sobel_x", "sobel_y", "horizontal_edge"]
    # Same shape as the demo's trained first layer (5, 5, 1, 8): the cost does not depend on
    # the values, so the benchmark needs no training.
    learned = np.random.default_rng(SEED).normal(0.0, 0.1, (5, 5, 1, 8))
    return {
        "sliding_window-1": build_sliding_window(example.image, example.kernel, conv_fn=None),
        "kernel_explorer-1": build_kernel_explorer(
            digits[:20], conv_fn=None, labels=digit_labels[:20]
        ),
        "kernel_explorer-2": build_kernel_explorer(
            photos, conv_fn=None, labels=photo_labels, class_names=CIFAR10_CLASSES
        ),
        "stride_demo-1": build_stride_demo(digits[0, :, :, 0], get_kernel("box_blur"), None),
        "filter_bank-1": build_filter_bank(
            photos[3], as_filter_bank(names, in_channels=3), conv_fn=None, names=names
        ),
        "connectivity-1": build_connectivity(4, 4, 3),
        "stride_padding-1": build_stride_padding_explorer(),
        "layer_stack-1": build_layer_stack(),
        "filter_bank-2": build_filter_bank(digits[0], learned, conv_fn=None),
    }


def _descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(_descendants(child))
    return found


def _control(root: widgets.Widget, action: Action) -> tuple[widgets.Widget, list[Any]]:
    """The Python control an Action drives, and two values to alternate between."""
    for w in _descendants(root):
        if action.kind == "slider" and isinstance(w, widgets.IntSlider):
            if w.description == action.label:
                step = 1 if w.value < w.max else -1
                return w, [w.value + step, w.value]
        elif action.kind == "dropdown" and isinstance(w, widgets.Dropdown):
            if w.description == action.label:
                labels = [label for label, _ in w._options_full]
                other = labels.index(action.value) if action.value else 1
                return w, [w._options_full[other][1], w.value]
        elif action.kind == "toggle" and isinstance(w, widgets.ToggleButtons):
            if action.label in w.options:
                back = w.value if w.value != action.label else w.options[0]
                return w, [action.label, back]
        elif action.kind == "toggle" and isinstance(w, widgets.ToggleButton):
            if w.description == action.label:
                return w, [not w.value, w.value]
        elif action.kind == "number" and isinstance(w, widgets.FloatText):
            return w, [float(action.value), w.value]
    raise LookupError(f"no control for {action} in the widget")


def time_in_process(built: dict[str, widgets.Widget], repeats: int) -> dict[str, Timings]:
    """Time ``control.value = v`` (synchronous observers included) for every control."""
    results: dict[str, Timings] = {}
    for tag, root in built.items():
        samples: dict[str, list[float]] = {}
        for action in ACTIONS[_kind(tag)]:
            control, values = _control(root, action)
            control.value = values[0]  # warm-up, not measured
            control.value = values[1]
            times = []
            for k in range(repeats):
                start = time.perf_counter()
                control.value = values[k % 2]
                times.append((time.perf_counter() - start) * 1000.0)
            control.value = values[1]
            samples[action.name] = times
        results[tag] = Timings(samples)
    return results


# --- browser -------------------------------------------------------------------------------------


def _inverse(root: Any, action: Action) -> Action:
    """The action that undoes ``action``, read from the control's current state in the page."""
    if action.kind == "slider":
        return replace(action, value="ArrowLeft" if action.value != "ArrowLeft" else "ArrowRight")
    if action.kind == "dropdown":
        select = root.locator(".widget-dropdown").filter(
            has=root.page.get_by_text(action.label, exact=True)
        )
        current = select.first.locator("select").evaluate("(s) => s.options[s.selectedIndex].text")
        return replace(action, value=current)
    if action.kind == "toggle":
        button = root.get_by_role("button", name=action.label, exact=True).first
        active = button.evaluate(
            """(b) => {
                const group = b.closest('.widget-toggle-buttons');
                const on = group && group.querySelector('button.mod-active');
                return on ? on.innerText.trim() : null;
            }"""
        )
        return action if active is None else replace(action, label=active)
    if action.kind == "number":
        return replace(action, value=root.locator(".widget-text input").first.input_value())
    raise ValueError(action.kind)


def time_in_browser(repeats: int, log: Callable[[str], None]) -> dict[str, Timings]:
    """Serve the demo with Voila, drive every control in Chromium, time each change."""
    from playwright.sync_api import sync_playwright

    results: dict[str, Timings] = {}
    with tempfile.TemporaryDirectory(prefix="convlab-bench-") as tmp:
        work = Path(tmp)
        notebook = copy_notebook(DEMO_NOTEBOOK, work / "root")
        server = start_voila(notebook, work / "home")
        try:
            with sync_playwright() as pw, chromium_page(pw, work / "profile") as page:
                start = time.monotonic()
                page.goto(server.url, timeout=300_000, wait_until="commit")
                page.wait_for_function(
                    """(n) => Array.from(document.querySelectorAll('.widget-vbox'))
                        .filter((el) => !el.parentElement.closest('.widget-vbox')).length >= n
                        && !document.body.innerText.includes('Loading widget...')""",
                    arg=len(DEMO_WIDGETS),
                    timeout=300_000,
                    polling=500,
                )
                log(f"Voila rendered the demo in {time.monotonic() - start:.0f} s")
                tags = tag_widgets(page)
                for tag in DEMO_WIDGETS:
                    if tag not in tags:
                        raise RuntimeError(f"{tag} not on the page (found {tags})")
                    root = widget_root(page, tag)
                    root.scroll_into_view_if_needed()
                    timings = Timings({})
                    for action in ACTIONS[_kind(tag)]:
                        times = []
                        back = action
                        for k in range(repeats + 1):
                            # Forward from the original state, then back to it.
                            if k % 2 == 0:
                                back = _inverse(root, action)
                            step = action if k % 2 == 0 else back
                            ms = timed_action(page, root, step, BROWSER_ACTION_TIMEOUT_S)
                            if ms is None:
                                timings.missed += 1
                            elif k > 0:  # k = 0 is the warm-up
                                times.append(ms)
                        timings.samples[action.name] = times
                    results[tag] = timings
        finally:
            server.stop()
    return results


# --- report --------------------------------------------------------------------------------------


def _stats(values: list[float]) -> tuple[str, str]:
    if not values:
        return "-", "-"
    return f"{statistics.median(values):7.1f}", f"{max(values):7.1f}"


def _verdict(values: list[float], missed: int) -> str:
    if missed:
        return f"no ({missed} missed)"
    if not values:
        return "-"
    if max(values) <= TARGET_MS:
        return "yes"
    return "median only" if statistics.median(values) <= TARGET_MS else "no"


def report(
    local: dict[str, Timings], browser: dict[str, Timings] | None, repeats: int
) -> list[str]:
    """The result table: per widget (all its controls together), then per control."""
    head = (
        f"{'widget':42s} {'in-process ms':>17s}   {'browser ms':>17s}   "
        f"<= {TARGET_MS:.0f} ms in browser"
    )
    sub = f"{'':42s} {'median':>8s} {'worst':>8s}   {'median':>8s} {'worst':>8s}"
    lines = [head, sub, "-" * len(head)]
    for tag, label in DEMO_WIDGETS.items():
        lm, lw = _stats(local[tag].all())
        b = browser.get(tag) if browser else None
        bm, bw = _stats(b.all()) if b else ("-", "-")
        verdict = _verdict(b.all(), b.missed) if b else "not measured"
        lines.append(f"{label:42s} {lm:>8s} {lw:>8s}   {bm:>8s} {bw:>8s}   {verdict}")
    lines += ["", "per control:", sub.replace(f"{'':42s}", f"{'widget / control':42s}", 1)]
    for tag in DEMO_WIDGETS:
        for name, values in local[tag].samples.items():
            lm, lw = _stats(values)
            bm, bw = (
                _stats(browser[tag].samples.get(name, []))
                if browser and tag in browser
                else ("-", "-")
            )
            lines.append(f"{tag + ' / ' + name:42s} {lm:>8s} {lw:>8s}   {bm:>8s} {bw:>8s}")
    lines.append(
        f"\n{repeats} timed changes per control after 1 warm-up; browser = Voila + headless "
        "Chromium, event timeStamp -> DOM update (performance.now); in-process = .value "
        "assignment (perf_counter)."
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed changes per control")
    parser.add_argument(
        "--skip-browser", action="store_true", help="only the in-process timings (no Chromium)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    print(f"in-process: building the demo's widgets (seed {SEED}) ...", flush=True)
    local = time_in_process(build_demo_widgets(), args.repeats)
    browser = None
    if not args.skip_browser:
        if not chromium_available():
            print("browser: /usr/bin/chromium is missing, skipping (apt-get install chromium)")
        else:
            print("browser: serving demo/lecture_demo.ipynb with Voila ...", flush=True)
            browser = time_in_browser(args.repeats, lambda msg: print(msg, flush=True))
    print()
    print("\n".join(report(local, browser, args.repeats)))
    missed = sum(t.missed for t in (browser or {}).values())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
