"""Servers (JupyterLab, Voila), headless Chromium and widget probes for the browser tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = ROOT / "ci-artifacts" / "screenshots"
LAB_NOTEBOOKS = {
    "01": ROOT / "labs" / "01_convolution_by_hand" / "01_convolution_by_hand.ipynb",
    "02": ROOT / "labs" / "02_stride_padding" / "02_stride_padding.ipynb",
}
DEMO_NOTEBOOK = ROOT / "demo" / "lecture_demo.ipynb"
# Without the background-networking flags Chromium keeps trying to reach Google services, which
# on a closed network means a flood of failing connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
# Generous but bounded: a 2-core CI box imports TensorFlow in a few seconds and the demo trains a
# small CNN for ~10-20 s before Voila has rendered the page.
SERVER_START_TIMEOUT_S = 90.0
VOILA_RENDER_TIMEOUT_S = 240.0
RUN_ALL_TIMEOUT_S = 240.0
OUTPUT_CHANGE_TIMEOUT_S = 30.0
POLL_S = 0.25

# Widget kind by the title every convlab widget starts with (convlab.widgets._render.title_html).
WIDGET_TITLES = {
    "Sliding window": "sliding_window",
    "Kernel explorer": "kernel_explorer",
    "Stride and padding": "stride_padding",
    "The filter eats at the border": "layer_stack",
    "Stride = controllable downsampling": "stride_demo",
    "Filter bank": "filter_bank",
    "Convolution is partially connected": "connectivity",
    "Receptive field": "receptive_field",
}
BROKEN_WIDGET_TEXTS = ("Error displaying widget", "Model not found", "Loading widget...")


@dataclass(frozen=True)
class Action:
    """One user action on a widget and the part of its output that must change.

    Attributes:
        kind: "slider" (focus the handle, press ``value`` or ArrowRight), "dropdown" (choose
            ``value``, or the second option when it is empty),
            "toggle" or "click" (click the button labelled ``label``: a toggle, or a plain button
            such as an output pixel) or "number" (type ``value`` into the first number box,
            press Enter).
        label: the control's description (slider, dropdown) or the button text (toggle).
        value: the key (slider), the option to choose (dropdown) or the number to type (number).
        watch: "img" (the widget's pictures must change), "html" (its HTML panels must) or
            "out" (the text of its output areas, e.g. a revealed answer).
    """

    kind: str
    label: str
    value: str = ""
    watch: str = "html"

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.label or self.value}".replace(" ", "_")


# What a lecturer or student does with each widget, and what must respond on screen.
ACTIONS: dict[str, list[Action]] = {
    "sliding_window": [Action("slider", "step")],
    "kernel_explorer": [
        Action("dropdown", "kernel", "box_blur", watch="img"),
        Action("slider", "image", watch="img"),
        Action("toggle", "normalize", watch="img"),
        Action("number", "", "2", watch="img"),
    ],
    "stride_padding": [
        Action("slider", "input height"),
        Action("toggle", "VALID"),
        Action("slider", "window"),
    ],
    "layer_stack": [Action("slider", "layers")],
    "stride_demo": [
        Action("slider", "stride", watch="img"),
        Action("toggle", "VALID", watch="img"),
    ],
    "filter_bank": [Action("dropdown", "filter", "", watch="img")],
    "connectivity": [
        Action("dropdown", "show", "output row 0, column 0"),
        Action("toggle", "fully connected"),
    ],
    # Click output pixel x=2, y=1 (its button), then another stack.
    # The answer (printed text and a figure) appears only after the click.
    "reveal": [Action("click", "Show the answer", watch="out")],
    # On, then off again: the controls after it are driven at the page's normal size.
    "projector": [Action("toggle", "projector mode"), Action("toggle", "projector mode")],
    "receptive_field": [
        Action("click", "2,1"),
        Action("dropdown", "stack", "three 3×3 layers, stride 1"),
        Action("click", "2,2"),
    ],
}

# Tags each top-level convlab widget view with data-convlab-widget="<kind>-<n>" and returns the
# tags in page order. Top level = a widget box not nested in another widget box.
TAG_WIDGETS_JS = """
(titles) => {
  const roots = Array.from(document.querySelectorAll('.widget-vbox'))
    .filter((el) => !el.parentElement.closest('.widget-vbox'));
  const counts = {};
  const tags = [];
  for (const el of roots) {
    const head = el.querySelector('.widget-html');
    const text = head ? head.innerText.trim() : '';
    const title = Object.keys(titles).find((t) => text.startsWith(t));
    const marked = ['reveal', 'projector'].find((k) => el.classList.contains(`convlab-${k}`));
    const kind = marked || titles[title];
    if (!kind) continue;
    counts[kind] = (counts[kind] || 0) + 1;
    const tag = `${kind}-${counts[kind]}`;
    el.setAttribute('data-convlab-widget', tag);
    tags.push(tag);
  }
  return tags;
}
"""

# The rendered output of a widget: its HTML panels and its pictures (image src: ipywidgets makes
# a new blob URL whenever the bytes change). Slider readouts and dropdowns are not included.
SIGNATURE_JS = """
(root) => ({
  html: Array.from(root.querySelectorAll('.widget-html-content')).map((e) => e.innerHTML).join('|'),
  img: Array.from(root.querySelectorAll('img')).map((e) => e.src).join('|'),
  out: Array.from(root.querySelectorAll('.widget-output')).map((e) => e.innerText).join('|'),
})
"""

# Arms a timer on a widget: the page clock (performance.now) at the next user event of type
# startOn on it (capture phase), and at the first DOM mutation after it that changes the watched
# part of the signature. Read back with READ_TIMER_JS.
ARM_TIMER_JS = """
([root, watch, startOn]) => {
  const parts = { img: ['img', (e) => e.src], out: ['.widget-output', (e) => e.innerText] };
  const [selector, read] = parts[watch] || ['.widget-html-content', (e) => e.innerHTML];
  const sig = () => Array.from(root.querySelectorAll(selector)).map(read).join('|');
  const timer = { start: null, end: null, before: sig() };
  const mark = (ev) => { if (timer.start === null) timer.start = ev.timeStamp; };
  root.addEventListener(startOn, mark, true);
  const observer = new MutationObserver(() => {
    if (timer.end === null && sig() !== timer.before) {
      timer.end = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  window.__convlabTimer = timer;
}
"""
READ_TIMER_JS = "() => window.__convlabTimer"
# The event that commits each kind of change: a slider's arrow key, a dropdown's change, a
# button's click, and the Enter that submits a typed number (typing itself is not timed).
START_EVENT = {
    "slider": "keydown",
    "dropdown": "change",
    "toggle": "click",
    "click": "click",
    "number": "keydown",
}


def chromium_available() -> bool:
    """Is Debian's chromium installed where the tests expect it?"""
    return CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A Jupyter server subprocess (its own process group) and where it answers."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    _log: Any = field(repr=False, default=None)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's combined stdout/stderr, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the whole process group (server and kernels), then kill what is left."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            # Kernels live in the same group; make sure none outlives the server.
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self._log is not None:
            self._log.close()


def isolated_env(home: Path) -> dict[str, str]:
    """Environment for the servers: every Jupyter, IPython, Keras and matplotlib dir in ``home``."""
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
        "MPLCONFIGDIR": home / "matplotlib",
        "KERAS_HOME": home / "keras",
        "CONVLAB_CACHE_DIR": home / "convlab-cache",
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONUNBUFFERED"] = "1"
    # The notebooks are copies outside the repo: make convlab importable without an install too.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    _write_lab_settings(home / "lab-settings")
    return env


def _write_lab_settings(settings_dir: Path) -> None:
    # All cells attached to the DOM (no virtual scrolling), and no news/update toasts that would
    # try the network and cover the page.
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for rel, content in files.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


def _wait_http(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.url + path, timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise TimeoutError(
        f"{server.name} did not answer {path} within {timeout:.0f} s ({last}):\n{server.log_tail()}"
    )


def _wait_port(server: Server, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{server.name} did not listen on {port} within {timeout:.0f} s")


def _spawn(name: str, args: list[str], cwd: Path, env: dict[str, str], home: Path) -> Server:
    log_path = home / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    port = args[args.index("--port") + 1] if "--port" in args else ""
    return Server(name, process, f"http://127.0.0.1:{port}", log_path, log)


def start_jupyterlab(root_dir: Path, home: Path) -> Server:
    """Start JupyterLab on a free port serving ``root_dir``, no token, no browser; wait for it."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        "--port",
        str(port),
        "--port-retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # CI containers run as root; harmless otherwise.
        "--allow-root",
    ]
    server = _spawn("jupyterlab", args, root_dir, isolated_env(home), home)
    try:
        _wait_http(server, "/api/status", SERVER_START_TIMEOUT_S)
    except BaseException:
        server.stop()
        raise
    return server


def start_voila(notebook: Path, home: Path) -> Server:
    """Start Voila on a free port for one notebook (no token, no browser); wait for it.

    The server answers at once; the notebook itself runs when the page is requested.
    """
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--port",
        str(port),
        "--Voila.port_retries=0",
        "--token=",
        "--show_tracebacks=True",
    ]
    server = _spawn("voila", args, notebook.parent, isolated_env(home), home)
    try:
        # Only the port: requesting the page would already run the notebook.
        _wait_port(server, port, SERVER_START_TIMEOUT_S)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def chromium_page(playwright: Any, profile_dir: Path) -> Iterator[Any]:
    """A page in headless Debian chromium with a fresh profile; console errors are collected.

    Yields a Playwright ``Page``; ``page.console_errors`` lists the console error texts.
    """
    context = playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.console_errors = errors  # type: ignore[attr-defined]
        yield page
    finally:
        context.close()


def copy_notebook(source: Path, dest_dir: Path) -> Path:
    """Copy a notebook into ``dest_dir`` (the servers never see the repository's files)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(source, dest_dir / source.name))


# --- JupyterLab ----------------------------------------------------------------------------------

# The notebook panel in front, through the app JupyterLab exposes with expose_app_in_browser.
_CELLS_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {
    kernel: kernel ? kernel.status : 'none',
    cells: panel.content.widgets.map((cell) => ({
      type: cell.model.type,
      count: cell.model.type === 'code' ? cell.model.executionCount : null,
      running: cell.model.type === 'code' && cell.promptNode
        ? cell.promptNode.textContent.includes('*') : false,
    })),
  };
}
"""


def lab_state(page: Any) -> dict[str, Any]:
    """Kernel status and, per cell, type, execution count and whether it is queued/running."""
    return page.evaluate(_CELLS_JS)


def wait_lab_idle(page: Any, timeout: float = RUN_ALL_TIMEOUT_S) -> dict[str, Any]:
    """Wait until the kernel is idle and no cell is queued or running; return lab_state."""
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        state = lab_state(page)
        busy = state["kernel"] != "idle" or any(c["running"] for c in state["cells"])
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 1.0:
            return state
        time.sleep(POLL_S)
    raise TimeoutError(f"the notebook was still running after {timeout:.0f} s")


def open_lab_notebook(page: Any, server: Server, name: str) -> None:
    """Open ``/lab/tree/<name>`` and wait until its kernel is idle."""
    # ?reset: start from an empty workspace, whatever an earlier page left open.
    page.goto(f"{server.url}/lab/tree/{name}?reset", timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=120_000,
    )
    wait_lab_idle(page, 120)


def shutdown_lab_kernel(page: Any) -> None:
    """Shut down the kernel of the notebook in front (best effort: the page may be gone)."""
    try:
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    except Exception:  # noqa: BLE001 - the server's own shutdown kills it anyway
        pass


def run_all_cells(page: Any) -> dict[str, Any]:
    """Run → Run All Cells from the menu, continuing past cells that raise, until every code cell
    has run; return the final lab_state.

    A cell that raises (a stub's NotImplementedError) makes the kernel abort the rest of the
    queue, exactly as for a student; like a student, this then runs the first cell that did not
    run and everything below it, until the end of the notebook.
    """
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()
    page.wait_for_timeout(500)
    state = wait_lab_idle(page)
    for _ in range(len(state["cells"])):
        pending = [
            i for i, c in enumerate(state["cells"]) if c["type"] == "code" and c["count"] is None
        ]
        if not pending:
            break
        page.evaluate(
            """(index) => {
                const app = window.jupyterapp;
                app.shell.currentWidget.content.activeCellIndex = index;
                return app.commands.execute('notebook:run-all-below');
            }""",
            pending[0],
        )
        page.wait_for_timeout(500)
        state = wait_lab_idle(page)
    return state


def lab_tracebacks(page: Any) -> list[str]:
    """Texts of the rendered stderr/error outputs in JupyterLab that contain a traceback."""
    texts = page.locator(
        '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_inner_texts()
    return [t for t in texts if "Traceback" in t]


# What the eye would miss: inside a widget, every box that scrolls or cuts its content sideways
# (a grid wider than its box), every label or button whose text is cut ("normal…"), and every
# dropdown too narrow for its chosen option.
CLIPPED_JS = """
(root) => {
  const found = [];
  const name = (el) => `${el.tagName.toLowerCase()}.${el.className.toString().split(' ').pop()}`;
  for (const el of root.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    const cut = el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
    if (cut && ['auto', 'scroll', 'hidden'].includes(cs.overflowX)) {
      found.push(`${name(el)} "${(el.innerText || '').slice(0, 30)}" needs ${el.scrollWidth}px,`
        + ` shows ${el.clientWidth}px`);
    }
  }
  const ctx = document.createElement('canvas').getContext('2d');
  for (const select of root.querySelectorAll('select')) {
    ctx.font = getComputedStyle(select).font;
    const option = select.options[select.selectedIndex];
    const need = option ? ctx.measureText(option.text).width + 24 : 0;
    if (need > select.clientWidth) found.push(`dropdown "${option.text}" cut`);
  }
  return found;
}
"""


def clipped(root: Any) -> list[str]:
    """What inside the widget is cut off or scrolls sideways (empty: nothing)."""
    return root.evaluate(CLIPPED_JS)


# --- widgets ------------------------------------------------------------------------------------


def tag_widgets(page: Any) -> list[str]:
    """Tag every convlab widget on the page; return tags like "kernel_explorer-1" in order."""
    return page.evaluate(TAG_WIDGETS_JS, WIDGET_TITLES)


def widget_root(page: Any, tag: str) -> Any:
    """The Playwright locator of a tagged widget."""
    return page.locator(f'[data-convlab-widget="{tag}"]')


def signature(root: Any) -> dict[str, str]:
    """The widget's rendered output: {"html": ..., "img": ...}."""
    return root.evaluate(SIGNATURE_JS)


def broken_widget_texts(page: Any) -> list[str]:
    """Placeholders ipywidgets shows instead of a widget it cannot render."""
    body = page.locator("body").inner_text()
    return [text for text in BROKEN_WIDGET_TEXTS if text in body]


def widget_errors(root: Any) -> list[str]:
    """Red error boxes a widget shows when its conv_fn failed."""
    return [
        t
        for t in root.locator('.widget-html-content div[style*="#b00020"]').all_inner_texts()
        if t.strip()
    ]


def perform(page: Any, root: Any, action: Action) -> None:
    """Do one user action on the widget with real mouse and keyboard events."""
    if action.kind == "slider":
        box = root.locator(".widget-slider").filter(has=page.get_by_text(action.label, exact=True))
        handle = box.first.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        handle.focus()
        handle.press(action.value or "ArrowRight")
    elif action.kind == "dropdown":
        box = root.locator(".widget-dropdown").filter(
            has=page.get_by_text(action.label, exact=True)
        )
        select = box.first.locator("select")
        select.scroll_into_view_if_needed()
        if action.value:
            select.select_option(label=action.value)
        else:
            # The second option, whatever it is called (e.g. the second filter of a bank).
            select.select_option(index=1)
    elif action.kind in ("toggle", "click"):
        button = root.get_by_role("button", name=action.label, exact=True).first
        button.scroll_into_view_if_needed()
        button.click()
    elif action.kind == "number":
        box = root.locator(".widget-text input").first
        box.scroll_into_view_if_needed()
        box.click()
        box.fill(action.value)
        box.press("Enter")
    else:
        raise ValueError(f"unknown action kind {action.kind!r}")


def wait_changed(
    root: Any, before: dict[str, str], watch: str, timeout: float = OUTPUT_CHANGE_TIMEOUT_S
) -> dict[str, str]:
    """Wait until the watched part of the widget's output differs from ``before``; return it."""
    deadline = time.monotonic() + timeout
    after = signature(root)
    while after[watch] == before[watch] and time.monotonic() < deadline:
        time.sleep(POLL_S / 5)
        after = signature(root)
    return after


def timed_action(page: Any, root: Any, action: Action, timeout: float = 10.0) -> float | None:
    """Milliseconds from the user event to the DOM update of the watched output (page clock).

    Both ends are ``performance.now()`` in the page: the start is the timeStamp of the event that
    commits the change (``START_EVENT``: keydown, change, click, or the Enter keydown after
    typing), as the widget receives it in the capture phase; the end the first DOM mutation that
    changed the watched output. None when it did not change within ``timeout`` seconds.
    """
    args = json.dumps([action.watch, START_EVENT[action.kind]])
    root.evaluate(f"(root) => ({ARM_TIMER_JS})([root, ...{args}])")
    perform(page, root, action)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        timer = page.evaluate(READ_TIMER_JS)
        if timer["end"] is not None and timer["start"] is not None:
            return float(timer["end"] - timer["start"])
        time.sleep(0.01)
    return None


def screenshot(target: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of a page or element under ci-artifacts/screenshots/; return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    if full_page:
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path


def retry(fn: Callable[[], Any], attempts: int = 3, pause: float = 0.5) -> Any:
    """Call ``fn`` until it does not raise, at most ``attempts`` times."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(pause)
    return None
