"""The widgets in a real browser: labs 01-02 in JupyterLab and the lecture demo in Voila.

Each target notebook is rendered once (JupyterLab: Run All Cells, continuing past the stubs'
NotImplementedError like a student would; Voila: the page itself runs it), then every widget on
the page gets real keyboard and mouse input and its rendered output must change on screen.
Screenshots of every step go to ci-artifacts/screenshots/.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    ACTIONS,
    DEMO_NOTEBOOK,
    LAB_NOTEBOOKS,
    VOILA_RENDER_TIMEOUT_S,
    Action,
    Server,
    broken_widget_texts,
    chromium_available,
    chromium_page,
    clipped,
    copy_notebook,
    lab_tracebacks,
    open_lab_notebook,
    perform,
    run_all_cells,
    screenshot,
    shutdown_lab_kernel,
    signature,
    start_jupyterlab,
    start_voila,
    tag_widgets,
    wait_changed,
    widget_errors,
    widget_root,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The widgets each target must show, tagged "<kind>-<n>" in page order (n counts that kind).
EXPECTED_WIDGETS = {
    "lab01": ["sliding_window-1", "kernel_explorer-1"],
    "lab02": ["stride_padding-1", "layer_stack-1", "stride_demo-1", "receptive_field-1"],
    "demo": [
        "projector-1",
        "sliding_window-1",
        "kernel_explorer-1",
        "reveal-1",  # which way does shift move the picture?
        "kernel_explorer-2",
        "reveal-2",  # the stride slide's 5×5: windows and output size
        "stride_demo-1",
        "filter_bank-1",
        "connectivity-1",
        "reveal-3",  # the padding slide, p = 2
        "reveal-4",  # the SAME slide's 4×4
        "stride_padding-1",
        "reveal-5",  # imaginary pixels: the 5×5 with SAME at stride 2
        "layer_stack-1",
        "receptive_field-1",
        "reveal-6",  # the Sobel SAME homework
        "reveal-7",  # the MNIST and CIFAR-10 output shapes
        "filter_bank-2",
    ],
}
LAB_FILES = {"lab01": LAB_NOTEBOOKS["01"], "lab02": LAB_NOTEBOOKS["02"]}
# Voila's message when a cell fails (with --show_tracebacks the traceback follows it).
VOILA_CELL_ERROR = "There was an error when executing cell"


@dataclass
class Rendered:
    """A target notebook rendered in the browser, with every convlab widget tagged."""

    target: str
    page: Any
    server: Server
    tags: list[str]
    tracebacks: list[str]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Playwright's sync API, or a skip when Debian's chromium is not installed."""
    if not chromium_available():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A scratch folder for notebook copies, server homes and browser profiles."""
    with tempfile.TemporaryDirectory(prefix="convlab-browser-") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def lab_server(workdir: Path) -> Iterator[Server]:
    """JupyterLab on a free port serving copies of the lab notebooks; stopped afterwards."""
    root = workdir / "lab-root"
    for source in LAB_FILES.values():
        copy_notebook(source, root)
    server = start_jupyterlab(root, workdir / "lab-home")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def render(
    request: pytest.FixtureRequest, playwright: Any, workdir: Path
) -> Iterator[Callable[[str], Rendered]]:
    """``render(target)``: "lab01", "lab02" or "demo" rendered and tagged in Chromium.

    One target at a time: the same target is reused, a new one closes the previous page (and its
    kernel, and the Voila server), so the browser, the servers and the kernels stay bounded.
    """
    current: dict[str, Any] = {}
    stack = ExitStack()

    def close() -> None:
        if "rendered" in current:
            rendered = current["rendered"]
            screenshot(rendered.page, f"{rendered.target}-page-after", full_page=True)
        stack.close()
        current.clear()

    def get(target: str) -> Rendered:
        if current.get("target") == target:
            return current["rendered"]
        close()
        current["target"] = target
        if target == "demo":
            notebook = copy_notebook(DEMO_NOTEBOOK, workdir / "demo-root")
            server = start_voila(notebook, workdir / "voila-home")
            stack.callback(server.stop)
        else:
            server = request.getfixturevalue("lab_server")
        page = stack.enter_context(chromium_page(playwright, workdir / f"profile-{target}"))
        try:
            if target == "demo":
                tracebacks = _render_voila(page, server)
            else:
                stack.callback(shutdown_lab_kernel, page)
                open_lab_notebook(page, server, LAB_FILES[target].name)
                run_all_cells(page)
                tracebacks = lab_tracebacks(page)
            tags = tag_widgets(page)
        finally:
            print(f"screenshot: {screenshot(page, f'{target}-page', full_page=True)}")
        current["rendered"] = Rendered(target, page, server, tags, tracebacks)
        return current["rendered"]

    yield get
    close()


def _render_voila(page: Any, server: Server) -> list[str]:
    # Voila runs the whole notebook (TensorFlow import, a short training) before the widgets
    # appear: wait for all of them, and for no "Loading widget..." placeholder left.
    page.goto(server.url, timeout=VOILA_RENDER_TIMEOUT_S * 1000, wait_until="commit")
    page.wait_for_function(
        """(n) => {
            const body = document.body ? document.body.innerText : '';
            if (body.includes('There was an error when executing cell')) return true;
            const roots = Array.from(document.querySelectorAll('.widget-vbox'))
              .filter((el) => !el.parentElement.closest('.widget-vbox'));
            return roots.length >= n && !body.includes('Loading widget...');
        }""",
        arg=len(EXPECTED_WIDGETS["demo"]),
        timeout=VOILA_RENDER_TIMEOUT_S * 1000,
        polling=500,
    )
    page.wait_for_timeout(1000)
    body = page.locator("body").inner_text()
    return [body] if ("Traceback" in body or VOILA_CELL_ERROR in body) else []


def _kind(tag: str) -> str:
    return tag.rsplit("-", 1)[0]


def _final_exception(traceback_text: str) -> str:
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    return lines[-1].split(":", 1)[0].strip() if lines else ""


def _page_renders_cleanly(rendered: Rendered) -> None:
    """Does the page show every widget, no broken placeholder and no unexpected traceback?"""
    page = rendered.page
    assert rendered.tags == EXPECTED_WIDGETS[rendered.target], (
        f"widgets on the page: {rendered.tags}; console errors: {page.console_errors[:5]}"
    )
    assert broken_widget_texts(page) == []
    if rendered.target == "demo":
        assert rendered.tracebacks == [], rendered.tracebacks[0][:3000]
    else:
        # The released lab's stubs raise NotImplementedError (and cells using them); nothing else.
        assert rendered.tracebacks, "expected the stubs' NotImplementedError tracebacks"
        unexpected = [
            t for t in rendered.tracebacks if _final_exception(t) != "NotImplementedError"
        ]
        assert unexpected == [], unexpected[0][-3000:]
    for tag in rendered.tags:
        assert widget_errors(widget_root(page, tag)) == [], tag


def _control_changes_output(rendered: Rendered, tag: str, action: Action) -> None:
    """Does this control, driven by real keyboard/mouse input, change the widget on screen?"""
    if tag not in rendered.tags:
        pytest.fail(f"{tag} is not on the page (found {rendered.tags})")
    page = rendered.page
    root = widget_root(page, tag)
    root.scroll_into_view_if_needed()
    name = f"{rendered.target}-{tag}-{action.name}"
    before_png = screenshot(root, f"{name}-before")
    before = signature(root)
    action_error = ""
    try:
        perform(page, root, action)
    except Exception as exc:  # noqa: BLE001 - reported below with the screenshots
        action_error = f"{type(exc).__name__}: {exc}"
    after = wait_changed(root, before, action.watch)
    page.wait_for_timeout(300)  # let a new image decode before the screenshot
    after_png = screenshot(root, f"{name}-after")
    paths = f"screenshots: {before_png} {after_png}"
    print(paths)
    assert not action_error, f"could not {action.kind} {action.label!r}: {action_error}; {paths}"
    assert after[action.watch] != before[action.watch], (
        f"{action.watch} output of {tag} did not change after {action}; {paths}; "
        f"console errors: {page.console_errors[-5:]}"
    )
    assert before_png.read_bytes() != after_png.read_bytes(), f"no visible change; {paths}"
    assert widget_errors(root) == [], paths
    assert broken_widget_texts(page) == [], paths


# The answers the demo's reveal buttons hold: none may be on the page before its click.
DEMO_ANSWERS = (
    "(8, 14, 14, 16)",  # the MNIST output shape
    "(8, 16, 16, 16)",  # the CIFAR-10 output shape
    "output(y, x) = input(y, x − 1)",  # which way shift moves the picture
    "floor((2 - 3 + 2·2) / 1) + 1 = 4",  # the padding slide's width
    "floor((5 - 3) / 2) + 1 = 2",  # the stride slide's output size
)


def _nothing_answered_before_asked(rendered: Rendered) -> None:
    """Before any click, is every reveal's answer absent from the whole page (Voila runs all)?"""
    page = rendered.page
    body = page.locator("body").inner_text()
    shown = [answer for answer in DEMO_ANSWERS if answer in body]
    assert shown == [], f"answers on the page before their question was asked: {shown}"
    for tag in rendered.tags:
        if _kind(tag) == "reveal":
            assert signature(widget_root(page, tag))["out"].strip() == "", tag


# Viewport widths: the test window at 100% browser zoom, and the same window at 150%.
ZOOM_WIDTHS = {"100%": 1400, "150%": 933}


def _nothing_clipped(rendered: Rendered, zoom: str) -> None:
    """At this browser zoom, is no grid, label, button or dropdown of any widget cut off?

    The kernel explorers show their widest preset (the 7×7 curve detector), and the reveals
    their answers, so the widest content is what gets measured.
    """
    page = rendered.page
    for tag in rendered.tags:
        if _kind(tag) == "kernel_explorer":
            perform(page, widget_root(page, tag), Action("dropdown", "kernel", "curve_detector"))
    page.set_viewport_size({"width": ZOOM_WIDTHS[zoom], "height": 1000})
    try:
        page.wait_for_timeout(1500)
        cut = {tag: found for tag in rendered.tags if (found := clipped(widget_root(page, tag)))}
        shot = screenshot(page, f"{rendered.target}-zoom-{zoom}", full_page=True)
        assert cut == {}, f"cut off at {zoom}: {cut}; screenshot {shot}"
    finally:
        page.set_viewport_size({"width": ZOOM_WIDTHS["100%"], "height": 1000})


def _projector_mode_zooms(rendered: Rendered) -> None:
    """Does projector mode make text and widgets 1.5× larger, with nothing cut, and undo it?"""
    page = rendered.page
    (tag,) = [t for t in rendered.tags if _kind(t) == "projector"]
    root = widget_root(page, tag)
    sizes_js = """() => {
      const md = document.querySelector('.jp-RenderedMarkdown');
      return [parseFloat(getComputedStyle(md).zoom || '1'), md.getBoundingClientRect().height];
    }"""
    (zoom_before, height_before) = page.evaluate(sizes_js)
    perform(page, root, Action("toggle", "projector mode"))
    try:
        page.wait_for_function(
            "() => getComputedStyle(document.querySelector('.jp-RenderedMarkdown')).zoom == '1.5'",
            timeout=10_000,
        )
        (zoom_on, height_on) = page.evaluate(sizes_js)
        assert zoom_before == 1 and zoom_on == 1.5 and height_on > 1.3 * height_before
        cut = {t: found for t in rendered.tags if (found := clipped(widget_root(page, t)))}
        shot = screenshot(page, "demo-projector", full_page=True)
        assert cut == {}, f"cut off in projector mode: {cut}; screenshot {shot}"
    finally:
        perform(page, root, Action("toggle", "projector mode"))
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.jp-RenderedMarkdown')).zoom == '1'",
        timeout=10_000,
    )


def _no_callback_errors(rendered: Rendered) -> None:
    """Did no widget callback raise in the kernel (its traceback lands in the server log)?"""
    log = rendered.server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[max(log.index("Traceback") - 500, 0) :][:4000]
    if rendered.target == "demo":
        body = rendered.page.locator("body").inner_text()
        assert "Traceback" not in body and VOILA_CELL_ERROR not in body


# One target after the other (each rendered once): the page, every control of every widget in
# page order, then the kernel log.
STEPS = [
    step
    for target, tags in EXPECTED_WIDGETS.items()
    for step in [
        pytest.param(target, _page_renders_cleanly, (), id=f"{target}-page-renders"),
        *(
            pytest.param(
                target,
                _control_changes_output,
                (tag, action),
                id=f"{target}-{tag}-{action.name}",
            )
            for tag in tags
            for action in ACTIONS[_kind(tag)]
        ),
        *(
            pytest.param(target, _nothing_clipped, (zoom,), id=f"{target}-nothing-clipped-{zoom}")
            for zoom in ZOOM_WIDTHS
        ),
        pytest.param(target, _no_callback_errors, (), id=f"{target}-no-callback-errors"),
    ]
]
# The demo's own checks: answers hidden until asked (right after rendering, before any click),
# projector mode (after every control was driven).
STEPS.insert(
    [p.id for p in STEPS].index("demo-page-renders") + 1,
    pytest.param("demo", _nothing_answered_before_asked, (), id="demo-answers-hidden-until-asked"),
)
STEPS.insert(
    [p.id for p in STEPS].index("demo-no-callback-errors"),
    pytest.param("demo", _projector_mode_zooms, (), id="demo-projector-mode"),
)


@pytest.mark.parametrize(("target", "check", "args"), STEPS)
def test_in_browser(
    render: Callable[[str], Rendered],
    target: str,
    check: Callable[..., None],
    args: tuple[Any, ...],
) -> None:
    """Does the target pass this check in a real browser (see each check's docstring)?"""
    check(render(target), *args)
