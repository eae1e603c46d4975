"""Tests for autograder.sandbox: limits, the reply protocol and forbidden use."""

from __future__ import annotations

import builtins
import io
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import (
    SANDBOX_LIMITS_DOC,
    Limits,
    Policy,
    ProtocolError,
    Sandbox,
    _decode_npy,
    _decode_value,
)

HOSTILE = Path(__file__).parent / "submissions" / "hostile"
POLICY = Policy(forbidden_modules=("tensorflow", "keras", "scipy", "torch", "convlab"))
#: Small limits keep the file fast; the worker needs ~100 MB of address space for numpy.
LIMITS = Limits(call_seconds=1.5, load_seconds=10.0, total_seconds=30.0, memory_bytes=512 * 1024**2)
#: Slack for process start and kill on a loaded CI box.
TIMEOUT_SLACK_SECONDS = 2.0
INPUTS = np.ones((1, 4, 4, 1))
FILTERS = np.ones((2, 2, 1, 1))
CONV2D_ARGS = (INPUTS, FILTERS, 1, "VALID")
PWNED_MARKER = Path("/tmp/convlab_pwned_marker")

TINY_CONV = """\
import numpy as np

def conv2d(inputs, filters, strides, padding):
    n, h, w, _ = inputs.shape
    kh, kw, _, c_out = filters.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1, c_out))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            patch = inputs[:, i:i + kh, j:j + kw, :]
            out[:, i, j, :] = np.tensordot(patch, filters, axes=3)
    return out

def fails(x):
    y = x + 1
    return y / undefined_name

def ok_again():
    return 42
"""


def hostile(name: str) -> str:
    return (HOSTILE / name).read_text()


def run(code: str, function: str = "conv2d", *args: object, limits: Limits = LIMITS):
    with Sandbox(code, policy=POLICY, limits=limits, filename="student.py") as sandbox:
        load = sandbox.load()
        result = sandbox.call(function, *args)
        return load, result, sandbox.used_forbidden, sandbox.output


def test_correct_function_returns_array():
    """Does a correct tiny conv2d come back as the array it computed?"""
    load, result, used, _ = run(TINY_CONV, "conv2d", *CONV2D_ARGS)
    assert load.ok and "conv2d" in load.defined
    assert result.status == "ok" and result.type_name == "ndarray"
    np.testing.assert_array_equal(result.value, np.full((1, 3, 3, 1), 4.0))
    assert used == ()


def test_exception_reports_student_line():
    """Does an exception give status 'error' with the student's line number and source?"""
    _, result, _, _ = run(TINY_CONV, "fails", 1)
    assert result.status == "error"
    assert "NameError" in result.message
    assert "line 15, in fails: return y / undefined_name" in result.message


def test_syntax_error_on_load_names_line():
    """Does a syntax error show on load with its line, and calls say conv2d is missing?"""
    load, result, _, _ = run(hostile("syntax_error.py"), "conv2d", *CONV2D_ARGS)
    assert load.status == "error" and "line 7: SyntaxError" in load.message
    assert result.status == "error" and "does not define a function named conv2d" in result.message


def test_infinite_loop_times_out_and_next_call_works():
    """Does a busy loop time out near call_seconds, with the next call served by a new worker?"""
    code = hostile("infinite_loop.py") + "\ndef answer():\n    return 7\n"
    with Sandbox(code, policy=POLICY, limits=LIMITS) as sandbox:
        begin = time.monotonic()
        result = sandbox.call("conv2d", *CONV2D_ARGS)
        elapsed = time.monotonic() - begin
        after = sandbox.call("answer")
    assert result.status == "timeout" and "1.5 s" in result.message
    assert elapsed < LIMITS.call_seconds + TIMEOUT_SLACK_SECONDS
    assert (after.status, after.value) == ("ok", 7)


def test_total_budget_stops_further_calls():
    """Once the whole-submission budget is used up, do calls return 'timeout' immediately?"""
    limits = Limits(call_seconds=1.0, total_seconds=2.5, memory_bytes=LIMITS.memory_bytes)
    with Sandbox(hostile("infinite_loop.py"), policy=POLICY, limits=limits) as sandbox:
        statuses = [sandbox.call("conv2d", *CONV2D_ARGS) for _ in range(4)]
        begin = time.monotonic()
        last = sandbox.call("conv2d", *CONV2D_ARGS)
    assert all(r.status == "timeout" for r in statuses)
    assert last.status == "timeout" and "whole submission" in last.message
    assert time.monotonic() - begin < 0.1


def test_memory_bomb_reports_memory_and_parent_survives():
    """Does allocating without end give status 'memory' while the grader keeps running?"""
    # A low limit keeps the bytes the bomb must touch (and so its run time) small.
    limits = Limits(call_seconds=10.0, memory_bytes=320 * 1024**2)
    code = hostile("memory_bomb.py") + "\ndef answer():\n    return 7\n"
    with Sandbox(code, policy=POLICY, limits=limits) as sandbox:
        result = sandbox.call("conv2d", *CONV2D_ARGS)
        after = sandbox.call("answer")
    assert result.status == "memory" and "0.312 GiB" in result.message
    assert (after.status, after.value) == ("ok", 7)


@pytest.mark.parametrize(
    ("fixture", "load_status", "call_status", "text"),
    [
        ("exit_on_import.py", "crashed", "crashed", "exit(3)"),
        ("sys_exit_in_call.py", "ok", "crashed", "exit(3)"),
        ("os_exit_in_call.py", "ok", "crashed", "exit code 0"),
    ],
    ids=["sys-exit-on-import", "sys-exit-in-call", "os-exit-in-call"],
)
def test_exit_is_crashed(fixture: str, load_status: str, call_status: str, text: str):
    """Does ending the process, on import or in a call, give 'crashed' with the exit code?"""
    load, result, _, _ = run(hostile(fixture), "conv2d", *CONV2D_ARGS)
    assert load.status == load_status
    assert result.status == call_status and text in result.message


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("def f():\n    return f()\n", "RecursionError"),
        ("def f():\n    raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ],
    ids=["recursion", "keyboard-interrupt"],
)
def test_student_exceptions_are_errors(code: str, text: str):
    """Are recursion errors and KeyboardInterrupt graded as the student's own errors?"""
    _, result, _, _ = run(code, "f")
    assert result.status == "error" and text in result.message


def test_ignoring_signals_still_times_out():
    """Does code that ignores SIGTERM/SIGINT and loops still time out?"""
    code = (
        "import signal\n"
        "def f():\n"
        "    for s in (signal.SIGTERM, signal.SIGINT):\n"
        "        signal.signal(s, signal.SIG_IGN)\n"
        "    while True:\n"
        "        pass\n"
    )
    _, result, _, _ = run(code, "f")
    assert result.status == "timeout"


def test_closing_all_fds_is_crashed():
    """Does closing every file descriptor (the protocol pipes too) give 'crashed', not a hang?"""
    _, result, _, _ = run("import os\ndef f():\n    os.closerange(0, 4096)\n", "f")
    assert result.status == "crashed"


def test_output_flood_is_capped():
    """Is ~50 MB of printing drained and capped, with the dropped amount noted?"""
    begin = time.monotonic()
    _, result, _, output = run(hostile("output_flood.py"), "conv2d", *CONV2D_ARGS)
    assert result.status == "ok"
    assert len(output) < LIMITS.output_bytes + 100
    assert "bytes dropped]" in output
    assert time.monotonic() - begin < 10


@pytest.mark.parametrize(
    ("body", "type_name"),
    [
        ("return {'out': 1}", "dict"),
        ("return object()", "object"),
        ("return (i for i in range(3))", "generator"),
        ("return np.array([object()])", "ndarray"),
        ("return ['a', 1]", "list"),
        ("return np.zeros(10**7)", "ndarray"),
        (
            "return {type('T', (), {'__array__': lambda s, dtype=None, copy=None: np.ones(2)})()}",
            "set",
        ),  # a hashable array-like: encoded as an array, which a set cannot hold
    ],
    ids=["dict", "object", "generator", "object-array", "mixed-list", "too-large", "set-of-arrays"],
)
def test_unsendable_returns_are_bad_return(body: str, type_name: str):
    """Is a return value that is not numbers graded 'bad_return' with its type named?"""
    limits = Limits(call_seconds=2.0, memory_bytes=LIMITS.memory_bytes, result_bytes=1024**2)
    code = f"import numpy as np\ndef f():\n    {body}\n"
    _, result, _, _ = run(code, "f", limits=limits)
    assert result.status == "bad_return"
    assert result.type_name == type_name
    assert result.message


@pytest.mark.parametrize(
    ("body", "type_name", "expected"),
    [
        ("return [[1.0, 2.0], [3.0, 4.0]]", "list", np.array([[1.0, 2.0], [3.0, 4.0]])),
        ("return (1, 2, 3)", "tuple", (1, 2, 3)),
        ("return np.float32(1.5)", "float32", 1.5),
        ("return 2", "int", 2),
        ("return None", "NoneType", None),
        ("return FakeTensor()", "FakeTensor", np.arange(3.0)),
        ("return {(0, 1), (np.int64(2), 3)}", "set", frozenset({(0, 1), (2, 3)})),
        (
            "return frozenset({'sobel_x', 'outline'})",
            "frozenset",
            frozenset({"outline", "sobel_x"}),
        ),
        ("return ['outline', 'sobel_x']", "list", ["outline", "sobel_x"]),
    ],
    ids=[
        "list",
        "int-tuple",
        "np-float32",
        "int",
        "none",
        "tensor-like",
        "set-of-pairs",
        "frozenset-of-names",
        "list-of-names",
    ],
)
def test_returns_are_converted(body: str, type_name: str, expected: object):
    """Are lists and tensor-likes converted to arrays, scalars and int tuples kept as JSON, sets
    (of pairs or names, graded predictions) kept as frozensets and lists of names as lists?"""
    code = (
        "import numpy as np\n"
        "class FakeTensor:\n"
        "    def __array__(self, dtype=None, copy=None):\n"
        "        return np.arange(3.0)\n"
        f"def f():\n    {body}\n"
    )
    _, result, _, _ = run(code, "f")
    assert result.status == "ok" and result.type_name == type_name
    if isinstance(expected, np.ndarray):
        np.testing.assert_array_equal(result.value, expected)
    else:
        assert result.value == expected and type(result.value) is type(expected)


@pytest.mark.parametrize(
    ("fixture", "used"),
    [
        ("forbidden_tf.py", "tensorflow"),
        ("obfuscated_import.py", "tensorflow"),
        ("fake_tensorflow.py", "tensorflow"),
        ("forbidden_np_convolve.py", "numpy.convolve"),
        ("fork.py", "os.fork"),
        ("kill_parent.py", "os.kill"),
        ("read_parent_environ.py", "/environ"),
    ],
    ids=["import-tf", "importlib-tf", "fake-tf-in-cwd", "np-convolve", "fork", "kill", "proc"],
)
def test_forbidden_use_is_blocked_and_recorded(fixture: str, used: str):
    """Is each forbidden import or call blocked, recorded and graded 'forbidden'?"""
    _, result, attempted, _ = run(hostile(fixture), "conv2d", *CONV2D_ARGS)
    assert result.status == "forbidden"
    assert any(used in item for item in attempted), attempted
    assert "not allowed in this lab" in result.message


def test_numpy_convolve_allowed_when_policy_says_so():
    """With forbid_numpy_convolve=False, does np.convolve work normally?"""
    policy = Policy(forbidden_modules=(), forbid_numpy_convolve=False)
    code = "import numpy as np\ndef f():\n    return np.convolve([1, 2], [1, 1])\n"
    with Sandbox(code, policy=policy, limits=LIMITS) as sandbox:
        result = sandbox.call("f")
    assert result.status == "ok"
    np.testing.assert_array_equal(result.value, [1, 3, 2])


def test_tampering_does_not_reach_parent():
    """Do patches to numpy, builtins and sys.modules in the worker leave the grader untouched?"""
    load, result, _, _ = run(hostile("tamper_numpy.py"), "conv2d", *CONV2D_ARGS)
    assert load.ok and result.status == "ok"
    assert not np.allclose(np.zeros(2), np.ones(2))
    assert builtins.abs(-1) == 1
    assert sys.modules["numpy"] is np


def test_workdir_is_empty_and_removed():
    """Does the code start in an empty private folder that is gone when the sandbox closes?"""
    code = "import os\ndef f():\n    open('scratch.txt', 'w').close()\n    return os.getcwd()\n"
    code += "def listing():\n    return tuple(os.listdir('.'))\n"
    with Sandbox(code, policy=POLICY, limits=LIMITS) as sandbox:
        assert sandbox.call("listing").value == ()
        workdir = Path(sandbox.call("f").value)
        assert sandbox.call("listing").value == ("scratch.txt",)
        mode = sandbox.isolation
    if mode == "bubblewrap":
        assert workdir == Path("/tmp")  # a tmpfs of its own, not the grader's /tmp
    assert not (workdir / "scratch.txt").exists()
    assert mode == "bubblewrap" or not workdir.exists()


def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch):
    """Is a course secret in the grader's environment invisible to the worker?"""
    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "xyz")
    monkeypatch.setenv("GITHUB_TOKEN", "abc")
    code = "import os\ndef f():\n    return repr(sorted(os.environ.items()))\n"
    _, result, _, _ = run(code, "f")
    assert result.status == "ok"
    assert "xyz" not in result.value and "CONVLAB_" not in result.value
    assert "abc" not in result.value and "OMP_NUM_THREADS" in result.value


def test_forged_pickle_reply_is_never_unpickled():
    """Is a forged reply carrying a pickle rejected without being unpickled?"""
    PWNED_MARKER.rmdir() if PWNED_MARKER.exists() else None
    _, result, _, _ = run(hostile("forged_pickle_reply.py"), "conv2d", *CONV2D_ARGS)
    assert result.status == "crashed" and "invalid reply" in result.message
    assert not PWNED_MARKER.exists()


def npy_bytes(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def lying_header() -> bytes:
    """A .npy header that claims 10**12 float64 values but carries 8 bytes."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 8


@pytest.mark.parametrize(
    "data",
    [
        npy_bytes(np.array([object()], dtype=object), allow_pickle=True),
        lying_header(),
        b"PK\x03\x04 not an npy file",
        npy_bytes(np.array(["text"])),
        npy_bytes(np.zeros(3, dtype=[("a", "f8")])),
    ],
    ids=["pickled-object-array", "lying-shape", "zip", "unicode", "structured"],
)
def test_decoder_rejects_malicious_arrays(data: bytes):
    """Does the parent's .npy decoder refuse pickles, lies about size and non-numeric data?"""
    with pytest.raises(ProtocolError):
        _decode_npy(data, budget=1024**2)


def test_decoder_accepts_numeric_arrays():
    """Does a plain float array round-trip through the decoder, Fortran order included?"""
    array = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(_decode_npy(npy_bytes(array), budget=1024), array)


@pytest.mark.parametrize(
    "value",
    [{"t": "nd", "i": 5}, {"t": "dict", "v": []}, {"__reduce__": "os.system"}, [1, 2]],
    ids=["bad-index", "unknown-kind", "reduce", "bare-list"],
)
def test_value_decoder_rejects_unexpected_shapes(value: object):
    """Are reply values outside the small vocabulary refused?"""
    with pytest.raises(ProtocolError):
        _decode_value(value, [])


def test_limits_doc_says_what_is_not_stopped():
    """Does the limits text name the modes and say plainly what each does not stop?"""
    for mode in ("bubblewrap", "unprivileged-uid", "none", "CONVLAB_ISOLATION"):
        assert mode in SANDBOX_LIMITS_DOC
    assert "does NOT stop" in SANDBOX_LIMITS_DOC
    assert "Only bubblewrap is a boundary" in SANDBOX_LIMITS_DOC


# ----------------------------------------------------------------------------------------------
# The worker's view: derived from what its interpreter imports (issue 18)

_VIEW_CACHES = ("_interpreter", "_checkout", "_python_roots", "_masked_paths", "_prefix_is_private")


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """A fake interpreter layout on disk (under /tmp, as pytest's folders are): `make(...)`
    points the sandbox's view functions at it; the real one is back after the test."""
    from autograder import sandbox

    cached = [getattr(sandbox, name) for name in _VIEW_CACHES]

    def clear() -> None:
        for function in cached:
            function.cache_clear()

    def make(venv: Path, *, repo_root: Path, path: tuple[Path, ...] = (), exe: Path | None = None):
        site = venv / "lib" / "python3.11" / "site-packages"
        for package in ("numpy", "tensorflow", "autograder", "convlab"):
            (site / package).mkdir(parents=True, exist_ok=True)
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        interpreter = sandbox._Interpreter(
            executable=str(exe or venv / "bin" / "python"),
            prefixes=(str(venv), str(venv)),
            path=(str(venv / "lib" / "python3.11"), str(site), *map(str, path)),
            site=(str(site),),
            folders=(str(site / "numpy"),),
        )
        clear()
        monkeypatch.setattr(sandbox, "_interpreter", lambda: interpreter)
        monkeypatch.setattr(sandbox, "REPO_ROOT", repo_root)
        return site

    clear()
    monkeypatch.setenv("CONVLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CONVLAB_COURSE_SECRET_FILE", raising=False)
    yield make
    monkeypatch.undo()
    clear()


def _view(policy: Policy = POLICY) -> tuple[tuple[str, ...], list[str]]:
    from autograder import sandbox

    roots = sandbox._python_roots(())
    masks = sandbox._masked_paths(tuple(policy.forbidden_modules), roots)
    return roots, sandbox._bwrap_command(policy, LIMITS, masks)


def _masked(command: list[str]) -> list[str]:
    return [command[i + 1] for i, a in enumerate(command[:-1]) if a == "--tmpfs"][1:]


def _bound(command: list[str]) -> list[str]:
    return [command[i + 2] for i, a in enumerate(command[:-2]) if a == "--ro-bind"]


def test_installed_package_keeps_site_packages_and_hides_our_packages(layout, tmp_path):
    """Installed (not editable), REPO_ROOT is the venv's site-packages: is that venv (numpy) in
    the view, bound over the /tmp scratch, with our own packages and TF masked?"""
    venv = tmp_path / "venv"
    site = layout(venv, repo_root=tmp_path / "venv" / "lib" / "python3.11" / "site-packages")
    roots, command = _view()
    assert roots == (str(venv),)
    assert command.index(str(venv)) > command.index("/tmp")  # the tmpfs first, then the venv
    masked = _masked(command)
    assert {str(site / "autograder"), str(site / "convlab"), str(site / "tensorflow")} <= set(
        masked
    )
    assert str(site / "numpy") not in masked


def test_checkout_is_never_in_the_view(layout, tmp_path):
    """Editable checkouts: a venv inside the checkout is bound, the checkout is not; a checkout
    inside the venv (pip install -e git+...) is masked; a .pth entry naming it is ignored."""
    checkout = tmp_path / "convlab"
    (checkout / "solutions").mkdir(parents=True)
    layout(checkout / ".venv", repo_root=checkout, path=(checkout,))
    roots, command = _view()
    assert roots == (str(checkout / ".venv"),)
    assert str(checkout) not in _bound(command)

    venv = tmp_path / "v"
    inner = venv / "src" / "convlab"
    (inner / "solutions").mkdir(parents=True)
    layout(venv, repo_root=inner, path=(inner,))
    roots, command = _view()
    assert roots == (str(venv),) and str(inner) in _masked(command)


def test_scratch_root_and_secrets_are_never_bound(layout, tmp_path, monkeypatch):
    """Are "/", /tmp itself and anything inside the reference cache left out, and a cache inside
    a bound folder masked?"""
    venv = tmp_path / "venv"
    cache = venv / "cache"  # a (silly) cache inside the venv
    (cache / "inner").mkdir(parents=True)
    monkeypatch.setenv("CONVLAB_CACHE_DIR", str(cache))
    layout(venv, repo_root=tmp_path / "checkout", path=(Path("/"), Path("/tmp"), cache / "inner"))
    roots, command = _view()
    assert roots == (str(venv),)
    assert str(cache) in _masked(command)
    assert command[command.index("--tmpfs") + 1] == "/tmp"


def test_symlinked_interpreter_is_recreated_not_its_folder(layout, tmp_path):
    """A venv made with a python3 found on PATH through a folder of symlinks: is the link
    recreated in the view rather than that folder bound?"""
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python3").symlink_to(sys.executable)
    (shims / "notes.txt").write_text("not for students")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(shims / "python3")
    layout(venv, repo_root=tmp_path / "checkout", exe=venv / "bin" / "python")
    _, command = _view()
    link = command.index(str(shims / "python3"))
    assert command[link - 2] == "--symlink" and command[link - 1] == sys.executable
    assert str(shims) not in _bound(command)


def test_real_view_holds_numpy_and_the_stdlib_but_not_the_checkout():
    """On this machine's interpreter: is every folder numpy and the stdlib load from inside the
    view, and the checkout (or a folder holding it) not?"""
    import json as json_module

    from autograder import sandbox

    roots = sandbox._python_roots(())
    seen = (*roots, *sandbox.SYSTEM_DIRS)
    for module in (np, json_module, np.linalg):
        real = str(Path(module.__file__).resolve())
        assert any(sandbox._inside(real, r) for r in seen), (real, roots)
    checkout = sandbox._checkout()
    if checkout is not None:
        assert not any(sandbox._inside(checkout, r) for r in roots)
    assert "/" not in roots and "/tmp" not in roots


UID_MODE = pytest.mark.skipif(os.geteuid() != 0, reason="the uid mode needs root")
IMPORTER = """\
import importlib

def try_imports(names):
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException as error:
            failed.append(f"{name}: {type(error).__name__}: {error}")
    return "\\n".join(failed)
"""


@UID_MODE
def test_uid_mode_imports_submodules_not_preimported():
    """After the drop to an unprivileged uid (Python under /root here), do numpy and stdlib
    submodules nobody imported before still import?"""
    names = ["numpy.typing", "numpy.polynomial", "email.mime.text", "xml.etree.ElementTree", "csv"]
    limits = Limits(**{**LIMITS.__dict__, "isolation": "uid", "call_seconds": 20.0})
    with Sandbox(IMPORTER, policy=POLICY, limits=limits) as box:
        result = box.call("try_imports", names)
    assert (result.status, result.value) == ("ok", ""), result


#: Left out of the sweep: stdlib modules that act on import (a browser, a banner), and
#: numpy.distutils (deprecated, gone on Python 3.12+; it imports multiprocessing, which the
#: policy refuses anyway, after probing the interpreter's build folder by absolute path).
SWEEP_SKIPPED = frozenset({"antigravity", "this", "numpy.distutils"})


def _importable_modules() -> list[str]:
    """Every public top-level stdlib module, and numpy's public submodules two levels deep."""
    import pkgutil

    names = [n for n in sorted(sys.stdlib_module_names) if not n.startswith("_")]
    names = [n for n in names if n not in SWEEP_SKIPPED]
    for info in pkgutil.walk_packages(np.__path__, "numpy."):
        parts = info.name.split(".")
        if len(parts) <= 3 and not any(p.startswith("_") or p == "tests" for p in parts):
            if not info.name.startswith(tuple(SWEEP_SKIPPED)):
                names.append(info.name)
    return names


@pytest.mark.slow
@UID_MODE
def test_every_stdlib_and_numpy_module_imports_as_well_after_the_uid_drop():
    """Does each stdlib module and numpy submodule import in the uid mode exactly as it does
    with no drop at all (same policy, same audit hook): the drop costs a student nothing?"""
    names = _importable_modules()
    code = (
        "import importlib\n\ndef try_import(name):\n    importlib.import_module(name)\n"
        "    return ''\n"
    )
    outcomes = {}
    for mode in ("none", "uid"):
        limits = Limits(**{**LIMITS.__dict__, "isolation": mode, "total_seconds": 600.0})
        limits = Limits(**{**limits.__dict__, "call_seconds": 20.0})
        with Sandbox(code, policy=POLICY, limits=limits) as box:
            outcomes[mode] = {
                n: (r.status, r.message[:200]) for n in names if (r := box.call("try_import", n))
            }
    differ = {
        n: (outcomes["none"][n], outcomes["uid"][n])
        for n in names
        if outcomes["none"][n] != outcomes["uid"][n]
    }
    assert differ == {}
    for name in ("numpy.typing", "numpy.polynomial", "email", "xml", "decimal", "sqlite3"):
        assert outcomes["uid"][name][0] == "ok", (name, outcomes["uid"][name])
