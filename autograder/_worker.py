"""Worker process that runs one student's code for autograder.sandbox; needs only numpy."""

# This file is run by path (`python -I .../_worker.py IN_FD OUT_FD`), never imported by the
# grader, so it must stay self-contained: the student's code runs in this process and anything
# it could reach here must be harmless to the grader.

from __future__ import annotations

import ast
import builtins
import fcntl
import importlib.abc
import importlib.util
import io
import itertools
import json
import os
import resource
import struct
import sys
import types

import numpy as np
import numpy.fft._pocketfft
import numpy.fft._pocketfft_umath
import numpy.lib.format  # noqa: F401  (loaded before the audit hook is installed)

FRAME_HEADER = struct.Struct(">Q")
#: Protocol fds are moved at least this high so student code that opens files or closes low fds
#: does not collide with them by accident.
HIGH_FD = 200
#: How many forbidden-use events are forwarded live to the parent; the rest are only counted.
MAX_EVENTS_SENT = 100
MAX_MESSAGE_CHARS = 4000
STUDENT_FRAMES_SHOWN = 3
#: Exit code used when even the reply to a MemoryError cannot be sent.
MEMORY_EXIT_CODE = 86
NUMERIC_KINDS = "biufc"
MAX_RETURN_DEPTH = 4

STDLIB_PREFIXES = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)})

FORBIDDEN_WHY = "write the convolution yourself with numpy loops or array operations"

BLOCKED_EVENTS = {
    "os.system": "os.system",
    "os.exec": "os.exec*",
    "os.fork": "os.fork",
    "os.forkpty": "os.forkpty",
    "os.posix_spawn": "os.posix_spawn",
    "os.spawn": "os.spawn*",
    "subprocess.Popen": "subprocess",
    "pty.spawn": "pty.spawn",
    "os.kill": "os.kill",
    "os.killpg": "os.killpg",
    "signal.pthread_kill": "signal.pthread_kill",
    "socket.__new__": "socket",
    "socket.connect": "socket",
    "socket.bind": "socket",
    "socket.getaddrinfo": "socket",
    "socket.sendto": "socket",
    "resource.setrlimit": "resource.setrlimit",
    "resource.prlimit": "resource.prlimit",
    # The audit hook's state must stay out of reach: gc would hand it over.
    "gc.get_referrers": "gc.get_referrers",
    "gc.get_referents": "gc.get_referents",
    "gc.get_objects": "gc.get_objects",
    "sys.setprofile": "sys.setprofile",
    # Busy threads would take CPU from classmates graded at the same time; no convolution needs
    # one (numpy's own threads are C threads, limited by OMP_NUM_THREADS=1).
    "_thread.start_new_thread": "starting a thread",
}
#: Modules that start processes or reach raw memory; a convolution needs neither.
BLOCKED_IMPORTS = frozenset({"multiprocessing", "ctypes"})
PATH_EVENTS = (
    "os.remove",
    "os.rmdir",
    "os.rename",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.symlink",
    "os.link",
    "os.truncate",
    "os.utime",
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

IN_FD = -1
OUT_FD = -1


class Forbidden(PermissionError):
    """Raised in the student's code when it uses something this lab does not allow."""


# ---------------------------------------------------------------- framing


def send_frame(payload: bytes) -> None:
    data = FRAME_HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(OUT_FD, view)
        view = view[written:]


def read_exact(count: int) -> bytes:
    chunks = []
    while count:
        chunk = os.read(IN_FD, min(count, 1 << 20))
        if not chunk:
            raise EOFError("parent closed the pipe")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def send_message(header: dict, arrays: list[np.ndarray] = ()) -> None:
    header = dict(header, n_arrays=len(arrays))
    send_frame(json.dumps(header).encode())
    for array in arrays:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        send_frame(buffer.getvalue())


def read_message() -> tuple[dict, list[np.ndarray]]:
    (length,) = FRAME_HEADER.unpack(read_exact(FRAME_HEADER.size))
    header = json.loads(read_exact(length))
    arrays = []
    for _ in range(header.get("n_arrays", 0)):
        (length,) = FRAME_HEADER.unpack(read_exact(FRAME_HEADER.size))
        arrays.append(np.load(io.BytesIO(read_exact(length)), allow_pickle=False))
    return header, arrays


def decode(value: object, arrays: list[np.ndarray]) -> object:
    if isinstance(value, dict):
        if value["t"] == "nd":
            return arrays[value["i"]]
        items = [decode(item, arrays) for item in value["v"]]
        return tuple(items) if value["t"] == "tuple" else items
    return value


# ---------------------------------------------------------------- return values


class BadReturn(Exception):
    """The student's return value cannot be sent back as numbers."""


def describe(value: object) -> str:
    return type(value).__name__


def numeric_array(value: object, what: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:
        raise BadReturn(f"{what} could not be turned into a numpy array ({error})") from None
    if array.dtype.kind not in NUMERIC_KINDS or array.dtype.hasobject:
        raise BadReturn(
            f"{what} holds {array.dtype} values (not numbers); expected a numeric numpy array"
        )
    return array


def encode(value: object, arrays: list[np.ndarray], what: str, depth: int = 0) -> object:
    """Turn a return value into JSON plus arrays; raises BadReturn for anything else."""
    if depth > MAX_RETURN_DEPTH:
        raise BadReturn(f"{what} is nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        arrays.append(numeric_array(value, what))
        return {"t": "nd", "i": len(arrays) - 1}
    if isinstance(value, tuple) and all(isinstance(v, int | np.integer) for v in value):
        return {"t": "tuple", "v": [int(v) for v in value]}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [encode(v, arrays, what, depth + 1) for v in value]}
    if isinstance(value, set | frozenset):
        # A set of (row, col) pairs or of names: items are numbers, text or tuples of them.
        items = [encode(v, arrays, what, depth + 1) for v in value]
        if not all(wire_hashable(item) for item in items):
            raise BadReturn(f"{what} a set holding arrays; expected pairs of ints or names")
        return {"t": "set", "v": items}
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return {"t": "list", "v": list(value)}  # a list of names (a set's items, in a list)
    if isinstance(value, list | complex | np.complexfloating) or hasattr(value, "__array__"):
        # Lists of numbers and tensors (TF, torch, jax) are array-likes: grade the numbers.
        arrays.append(numeric_array(value, what))
        return {"t": "nd", "i": len(arrays) - 1}
    raise BadReturn(f"{what} a {describe(value)}; expected a numpy array")


def wire_hashable(item: object) -> bool:
    """Is this encoded item a number, text, or a tuple of them (so the parent can hash it)?"""
    if isinstance(item, dict):
        return item.get("t") == "tuple" and all(wire_hashable(v) for v in item["v"])
    return True


# ---------------------------------------------------------------- messages for the student


def clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " [...]"


def exception_text(error: BaseException) -> str:
    try:
        detail = str(error)
    except Exception:
        detail = "<the exception's message could not be shown>"
    return clip(f"{type(error).__name__}: {detail}" if detail else type(error).__name__)


def describe_line(line: int, cells: tuple[tuple[int, str], ...]) -> str:
    """A line of the joined submission as the student sees it: "cell 'conv2d', line 3" in a
    notebook (`cells`: (first line, grade_id) of each cell, in order), "line 3" otherwise.
    (The grader's Submission.where says the same; this file cannot import it.)"""
    for start, name in reversed(cells):
        if line >= start:
            label = name if name.startswith("your added cell") else f"cell {name!r}"
            return f"{label}, line {line - start + 1}"
    return f"line {line}"


def student_message(
    error: BaseException, filename: str, source: str, cells: tuple[tuple[int, str], ...] = ()
) -> str:
    """Exception type and message, then the last frames that are in the student's code."""
    if isinstance(error, SyntaxError) and error.filename == filename and error.lineno:
        return clip(f"{describe_line(error.lineno, cells)}: SyntaxError: {error.msg}")
    lines = source.splitlines()
    frames = []
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            lineno = tb.tb_lineno
            text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
            frames.append(f"  {describe_line(lineno, cells)}, in {code.co_name}: {text}")
        tb = tb.tb_next
    where = "\n".join(frames[-STUDENT_FRAMES_SHOWN:])
    return exception_text(error) + ("\n" + where if where else "")


# ---------------------------------------------------------------- policy (closures only)
#
# The policy layer gives clear messages; it is not the security boundary (bubblewrap is, when
# available). It keeps no state a student can switch off: the audit hook is a closure that nothing
# else references, its cells hold only immutable values and C functions, and sys.settrace,
# sys.setprofile, gc's object walks and replacing a function's __code__ are refused.


def _quote(text: str) -> str:
    encode = json.encoder.c_encode_basestring_ascii or json.encoder.py_encode_basestring_ascii
    return encode(text)


def make_reporter(out_fd: int):  # noqa: ANN201
    """A function that sends a forbidden-use event to the parent (C-level calls only)."""
    write, pack, counter = os.write, FRAME_HEADER.pack, itertools.count()
    quote = json.encoder.c_encode_basestring_ascii or json.encoder.py_encode_basestring_ascii

    def report(what: str) -> None:
        if next(counter) >= MAX_EVENTS_SENT:
            return
        payload = ('{"kind": "event", "forbidden": ' + quote(str(what)[:200]) + "}").encode()
        try:
            write(out_fd, pack(len(payload)) + payload)
        except OSError:
            pass

    return report


def student_line(filename: str) -> int:
    """Line of the innermost frame in the student's file on the current stack, or 0."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == filename:
            return frame.f_lineno
        frame = frame.f_back
    return 0


def make_refuse(filename: str, report, cells: tuple[tuple[int, str], ...] = ()):  # noqa: ANN001, ANN201
    shown = os.path.basename(filename) or filename

    def refuse(name: str, why: str = FORBIDDEN_WHY) -> Forbidden:
        line = student_line(filename)
        at = describe_line(line, cells) if line else ""
        report(f"{name} ({at})" if line else name)
        where = "" if not line else f" ({at})" if cells else f" ({at} of {shown})"
        return Forbidden(f"{name} is not allowed in this lab{where}: {why}")

    return refuse


STANDIN_DUNDERS = (
    "__call__", "__getitem__", "__setitem__", "__iter__", "__len__", "__bool__", "__array__",
    "__float__", "__int__", "__index__", "__complex__", "__add__", "__radd__", "__sub__",
    "__rsub__", "__mul__", "__rmul__", "__matmul__", "__rmatmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__pow__", "__neg__", "__abs__", "__lt__", "__le__",
    "__gt__", "__ge__", "__contains__", "__enter__", "__mro_entries__", "__array_function__",
    "__array_ufunc__", "__await__",
)  # fmt: skip


def make_standins(forbidden: tuple[str, ...], refuse):  # noqa: ANN001, ANN201
    """A meta-path finder that makes `import <forbidden>` give a stand-in whose every use fails.

    An unused import costs nothing; `tf.nn.conv2d(...)` raises (and records) a clear error
    naming the library and the student's line. Nothing here switches any check off.
    """

    def use(self: object, *args: object, **kwargs: object) -> None:
        raise refuse(object.__getattribute__(self, "_name"))

    namespace: dict = {"__slots__": ("_name",)}
    for dunder in STANDIN_DUNDERS:
        namespace[dunder] = use

    def getattr_(self: object, attr: str) -> object:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return make(f"{object.__getattribute__(self, '_name')}.{attr}")

    def repr_(self: object) -> str:
        return f"<{object.__getattribute__(self, '_name')}: not available in this lab>"

    namespace.update(__getattr__=getattr_, __repr__=repr_, __str__=repr_, __hash__=object.__hash__)
    StandIn = type("ForbiddenLibraryStandIn", (), namespace)

    def make(name: str) -> object:
        thing = object.__new__(StandIn)
        object.__setattr__(thing, "_name", name)
        return thing

    def matches(fullname: str) -> bool:
        return any(fullname == m or fullname.startswith(m + ".") for m in forbidden)

    class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path, target=None):  # noqa: ANN001, ANN201
            if not matches(fullname):
                return None
            return importlib.util.spec_from_loader(fullname, self, is_package=True)

        def create_module(self, spec):  # noqa: ANN001, ANN201
            module = types.ModuleType(spec.name, f"stand-in: {spec.name} is not available")
            module.__path__ = []

            def module_getattr(attr: str, _name: str = spec.name) -> object:
                if attr.startswith("__") and attr.endswith("__"):
                    raise AttributeError(attr)
                return make(f"{_name}.{attr}")

            module.__getattr__ = module_getattr
            return module

        def exec_module(self, module):  # noqa: ANN001, ANN201
            return None

    return StandInFinder()


def stub(refuse, qualified: str) -> types.FunctionType:  # noqa: ANN001
    def forbidden(*args: object, **kwargs: object) -> None:
        raise refuse(qualified, f"it is a library convolution; {FORBIDDEN_WHY}")

    forbidden.__name__ = qualified.rsplit(".", 1)[-1]
    return forbidden


NUMPY_CONVOLUTIONS = (
    ("numpy", ("convolve", "correlate")),
    ("numpy._core.numeric", ("convolve", "correlate")),
    ("numpy._core.multiarray", ("correlate", "correlate2")),
    ("numpy._core._multiarray_umath", ("correlate", "correlate2")),
)


def stub_numpy(refuse, convolve: bool, fft: bool) -> None:  # noqa: ANN001
    targets = list(NUMPY_CONVOLUTIONS) if convolve else []
    if fft:
        umath = numpy.fft._pocketfft_umath
        public = [n for n in np.fft.__all__ if "freq" not in n and "shift" not in n]
        targets.append(("numpy.fft", tuple(public)))
        targets.append(("numpy.fft._pocketfft", tuple(public)))
        targets.append(("numpy.fft._pocketfft_umath", tuple(n for n in dir(umath) if "_" != n[0])))
    for module_name, names in targets:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name in names:
            if hasattr(module, name):
                public_name = f"numpy.fft.{name}" if "fft" in module_name else f"numpy.{name}"
                setattr(module, name, stub(refuse, public_name))


def stub_process_starts(refuse) -> None:  # noqa: ANN001
    """Take away _posixsubprocess.fork_exec, the one way to start a process without an audit
    event (subprocess and multiprocessing use it); os.fork, exec and spawn are audited."""
    import _posixsubprocess

    def fork_exec(*args: object, **kwargs: object) -> None:
        raise refuse("starting a process", "the grader does not allow it")

    _posixsubprocess.fork_exec = fork_exec
    subprocess_module = sys.modules.get("subprocess")
    if subprocess_module is not None:
        subprocess_module._fork_exec = fork_exec


def readable_roots(sandbox_dir: str, extra: tuple[str, ...]) -> tuple[str, ...]:
    # Reads are allowed where Python and already-imported packages live, not elsewhere:
    # without bubblewrap, a grader's repo (solutions/, course secrets) may be readable.
    roots = set(STDLIB_PREFIXES)
    roots.update(("/dev", "/sys", "/etc", "/usr", "/lib", "/lib64", sandbox_dir, *extra))
    for module in list(sys.modules.values()):
        for path in getattr(module, "__path__", None) or ():
            if isinstance(path, str):
                roots.add(os.path.realpath(path))
    return tuple(sorted(r.rstrip("/") for r in roots if r))


def make_realpath():  # noqa: ANN201
    """os.path.realpath for absolute paths, built only from C functions bound now: a student
    who rebinds os.lstat, os.getcwd or posixpath's helpers changes nothing it answers."""
    lstat, readlink, is_link, str_type = os.lstat, os.readlink, __import__("stat").S_ISLNK, str
    os_error, type_ = OSError, type  # (a name looked up when used could be rebound in builtins)

    def join(head: str, tail: str) -> str:
        return head + tail if head.endswith("/") else head + "/" + tail

    def resolve(path: str, seen: dict) -> tuple[str, bool]:
        done, rest = "/", path.lstrip("/")
        while rest:
            name, _, rest = rest.partition("/")
            if not name or name == ".":
                continue
            if name == "..":
                done = done[: done.rfind("/")] or "/"
                continue
            step = join(done, name)
            try:
                link = is_link(lstat(step).st_mode)
            except os_error:
                link = False
            if not link:
                done = step
                continue
            if step in seen:
                if seen[step] is not None:
                    done = seen[step]
                    continue
                return join(step, rest), False  # a loop: what is left, unresolved
            seen[step] = None
            target = readlink(step)
            if type_(target) is not str_type:
                raise os_error("unexpected link text")
            done, ok = resolve(target if target.startswith("/") else join(done, target), seen)
            if not ok:
                return join(done, rest), False
            seen[step] = done
        return done, True

    def realpath(path: str) -> str:
        return resolve(path, {})[0]

    return realpath


def make_hook(
    *,
    filename: str,
    sandbox_dir: str,
    readable: tuple[str, ...],
    package_dirs: tuple[tuple[str, str], ...],
    refuse,  # noqa: ANN001
    allow_processes: bool,
):  # noqa: ANN202
    """The audit hook, as a closure over immutable values; installed once, referenced nowhere.

    Everything it calls is bound here, before student code runs (builtins, this module's
    globals and os's functions can all be rebound by the student's code). Paths are read as the
    kernel will read them: str and bytes subclasses and buffers (bytearray, memoryview, arrays)
    by their contents, never through methods a subclass could override; a relative path is
    checked against the working folder and against every folder open as a file descriptor
    (the audit event of os.open does not say which dir_fd it was given).
    """
    blocked = dict(BLOCKED_EVENTS)
    path_events = frozenset(PATH_EVENTS)
    two_paths = frozenset(("os.rename", "os.link"))
    # Re-importing _posixsubprocess (after removing it from sys.modules) would bring fork_exec
    # back; the import event is raised only then, as the worker imported it already.
    blocked_imports = BLOCKED_IMPORTS | (frozenset() if allow_processes else {"_posixsubprocess"})
    realpath = make_realpath()
    getpid, getcwd = os.getpid, os.getcwd
    listdir, readlink, fstat = os.listdir, os.readlink, os.fstat
    is_dir = __import__("stat").S_ISDIR
    type_, issubclass_, any_, int_, len_, bool_ = type, issubclass, any, int, len, bool
    str_type, bytes_type, int_type, none_type, bool_type = str, bytes, int, type(None), bool
    str_add, bytes_decode = str.__add__, bytes.decode
    view, to_bytes = memoryview, memoryview.tobytes
    errors = (TypeError, ValueError, OSError)
    encoding = sys.getfilesystemencoding()
    write_flags = WRITE_FLAGS
    quiet = frozenset(("/dev/null", "/dev/zero", "/dev/urandom"))
    sandbox = sandbox_dir.rstrip("/")

    def own_dir_fds() -> frozenset:
        """(fd, device, inode) of folders open now: the worker's own, opened before student code
        (e.g. Python's folders read through /proc/self/fd)."""
        found = set()
        for name in listdir("/proc/self/fd"):
            try:
                info = fstat(int_(name))
            except errors:
                continue
            if is_dir(info.st_mode):
                found.add((int_(name), info.st_dev, info.st_ino))
        return frozenset(found)

    trusted_fds = own_dir_fds()
    del filename  # the refuse closure knows it

    def text(raw: object) -> str | None:
        """The path the kernel gets from `raw`; None for descriptors and None."""
        kind = type_(raw)
        if kind is str_type:
            return raw
        if kind is none_type or issubclass_(kind, int_type):
            return None
        if issubclass_(kind, str_type):
            return str_add("", raw)  # an exact copy: no method of the subclass runs
        if issubclass_(kind, bytes_type):
            return bytes_decode(raw, encoding, "surrogateescape")
        try:  # any buffer (bytearray, memoryview, array, numpy) is accepted as a path
            return bytes_decode(to_bytes(view(raw)), encoding, "surrogateescape")
        except errors:
            return None

    def fd_of(raw: object) -> int | None:
        kind = type_(raw)
        return int_(raw) if kind is not bool_type and issubclass_(kind, int_type) else None

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        return any_(path == r or path.startswith(r + "/") for r in roots)

    def join(head: str, tail: str) -> str:
        return head + tail if head.endswith("/") else head + "/" + tail

    def bases() -> list[tuple[str, bool]]:
        """(folder, opened by the worker) of every folder open as a descriptor now."""
        found = []
        for name in listdir("/proc/self/fd"):
            try:
                fd = int_(name)
                info = fstat(fd)
                if is_dir(info.st_mode):
                    target = readlink("/proc/self/fd/" + name)
                    found.append((target, (fd, info.st_dev, info.st_ino) in trusted_fds))
            except errors:
                continue
        return found

    def check_real(real: str, shown: str, write: bool) -> None:
        for directory, owner in package_dirs:
            if real == directory or real.startswith(directory + "/"):
                raise refuse(f"importing {owner}")
        if real in quiet:
            return
        if write and not inside(real, (sandbox,)):
            raise refuse(f"writing {shown}", "outside the sandbox folder")
        if real.startswith("/proc/"):
            # Other processes' /proc entries hold the grader's environment and memory.
            own = f"/proc/{getpid()}/"
            if (real.startswith(own) and not real.endswith("/mem")) or "/" not in real[6:]:
                return
            raise refuse(f"reading {shown}", "another process")
        if not write and not inside(real, readable):
            raise refuse(f"reading {shown}", "outside the sandbox folder")

    def check_path(raw: object, write: bool) -> None:
        path = text(raw)
        if path is None:
            fd = fd_of(raw)
            if fd is not None and fd >= 0:
                check_fd(fd, write)
            return
        if path.startswith("/"):
            check_real(realpath(path), path, write)
            return
        check_real(realpath(join(getcwd(), path)), path, write)
        # With dir_fd=..., the same text names a path in that folder instead.
        for base, own in bases():
            real = realpath(join(base, path))
            if own:  # Python's own folders: not out of them; writing there is the kernel's no
                if not inside(real, (realpath(base),)):
                    raise refuse(f"reading {path}", "outside the sandbox folder")
                continue
            check_real(real, path, write)

    def check_fd(fd: int, write: bool) -> None:
        """Listing, changing or truncating through a descriptor: what it is open on."""
        try:
            target = readlink(f"/proc/self/fd/{fd}")
        except errors:
            return  # not open: the call itself fails
        if target.startswith("/"):
            check_real(realpath(target), target, write)

    def check_symlink(content: object) -> None:
        """A link's text means a path relative to wherever the link is, now or once moved:
        only absolute links into the sandbox, or relative ones without '..'."""
        target = text(content)
        if target is None:
            return
        if target.startswith("/"):
            check_real(realpath(target), target, write=True)
        elif ".." in target.split("/"):
            raise refuse(f"a link to {target}", "links may not point up out of their folder")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            mode, flags = args[1], args[2]
            write = (type_(mode) is str_type and any_(c in mode for c in "wax+")) or (
                type_(flags) is int_type and bool_(flags & write_flags)
            )
            check_path(args[0], write)
        elif event == "os.symlink":
            check_symlink(args[0])
            check_path(args[1], write=True)
        elif event in two_paths:
            check_path(args[0], write=True)
            check_path(args[1], write=True)
        elif event in path_events:  # (path, mode/uid/length..., dir_fd)
            check_path(args[0], write=True)
        elif event in ("os.setxattr", "os.removexattr"):
            check_path(args[0], write=True)
        elif event in ("os.listdir", "os.scandir"):
            fd = fd_of(args[0]) if len_(args) else None
            if fd is not None:
                check_fd(fd, write=False)
        elif event == "import":
            name = text(args[0])
            if name is not None and name.split(".")[0] in blocked_imports:
                raise refuse(f"import {name}", "the grader does not allow it")
        elif event == "sys.settrace":
            raise refuse("sys.settrace", "it could switch the grader's checks off")
        elif event in blocked:
            raise refuse(blocked[event], "the grader does not allow it")
        elif event == "object.__setattr__" and len_(args) > 1 and text(args[1]) == "__code__":
            raise refuse("replacing a function's __code__", "the grader does not allow it")
        elif event.startswith("ctypes."):
            raise refuse("ctypes", "the grader does not allow it")

    return hook


# ---------------------------------------------------------------- seccomp: no new processes
#
# A kernel filter the worker installs on itself right before student code runs (with
# no_new_privs, so it needs no privilege and can never be lifted): whatever the student's code
# reaches (a fresh _posixsubprocess from _imp, raw memory), the kernel refuses to start a
# process. Threads still start: clone with CLONE_THREAD is allowed, and clone3 (whose flags sit
# in memory a filter cannot read) answers ENOSYS so glibc falls back to clone.

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
#: Do not turn on the Speculative Store Bypass mitigation for this process (what a seccomp
#: filter does by default on many kernels, slowing numeric code; runc does the same).
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4
EINVAL = 22
CLONE_THREAD = 0x00010000
EPERM, ENOSYS = 1, 38
#: x86_64 system call numbers.
X86_64 = {
    "seccomp": 317, "clone": 56, "clone3": 435,
    # refused outright: new programs and processes, reaching into another process, device
    # files and FIFOs (mknod), signals through pidfds
    "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "pidfd_getfd": 438,
    "process_madvise": 440, "pidfd_send_signal": 424, "tkill": 200, "mknod": 133,
    "mknodat": 259,
    # no new sockets (the audit hook refuses them in Python; this holds past it), and no
    # io_uring, whose requests (open, socket, ...) no filter sees
    "socket": 41, "socketpair": 53, "io_uring_setup": 425,
    # signals: allowed only to this process itself (its first argument is our pid)
    "kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
}  # fmt: skip
PROCESS_DENIED = (
    "fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
    "kcmp", "pidfd_getfd", "process_madvise", "pidfd_send_signal", "tkill", "mknod", "mknodat",
    "socket", "socketpair", "io_uring_setup",
)  # fmt: skip
OWN_PID_ONLY = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
#: BPF opcodes (classic BPF, as seccomp takes it).
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
#: Offsets in struct seccomp_data: nr, arch, low 32 bits of args[0] (little endian).
DATA_NR, DATA_ARCH, DATA_ARG0_LOW = 0, 4, 16


def process_filter_program(own_pid: int) -> bytes:
    """The x86_64 seccomp program (struct sock_filter[]): no process, no exec, no ptrace, no
    socket, signals to this process only, threads allowed."""
    code: list[tuple[int, object, object, int]] = []  # (opcode, jump-if-true, -if-false, k)
    labels: dict[str, int] = {}

    def op(opcode: int, k: int, jt: object = 0, jf: object = 0) -> None:
        code.append((opcode, jt, jf, k))

    def label(name: str) -> None:
        labels[name] = len(code)

    op(BPF_LD_W_ABS, DATA_ARCH)
    op(BPF_JEQ_K, AUDIT_ARCH_X86_64, 0, "deny")  # i386 or x32 entry points: nothing at all
    op(BPF_LD_W_ABS, DATA_NR)
    op(BPF_JGE_K, X32_SYSCALL_BIT, "deny", 0)
    op(BPF_JEQ_K, X86_64["clone3"], "nosys", 0)
    op(BPF_JEQ_K, X86_64["clone"], "clone", 0)
    for name in PROCESS_DENIED:
        op(BPF_JEQ_K, X86_64[name], "deny", 0)
    for name in OWN_PID_ONLY:
        op(BPF_JEQ_K, X86_64[name], "own_pid", 0)
    op(BPF_RET_K, SECCOMP_RET_ALLOW)
    label("clone")  # (classic BPF jumps only forward: the branches come after)
    op(BPF_LD_W_ABS, DATA_ARG0_LOW)
    op(BPF_JSET_K, CLONE_THREAD, "allow", "deny")
    label("own_pid")
    op(BPF_LD_W_ABS, DATA_ARG0_LOW)
    op(BPF_JEQ_K, own_pid & 0xFFFFFFFF, "allow", "deny")
    label("allow")
    op(BPF_RET_K, SECCOMP_RET_ALLOW)
    label("deny")
    op(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM)
    label("nosys")
    op(BPF_RET_K, SECCOMP_RET_ERRNO | ENOSYS)

    def offset(at: int, target: object) -> int:
        if isinstance(target, int):
            return target
        jump = labels[str(target)] - (at + 1)
        if not 0 <= jump <= 255:  # forward only, within a byte
            raise ValueError("seccomp program jump out of range")
        return jump

    return b"".join(
        struct.pack("<HBBI", opcode, offset(i, jt), offset(i, jf), k)
        for i, (opcode, jt, jf, k) in enumerate(code)
    )


def install_process_filter() -> str:
    """Install the seccomp filter on this process (every thread); "" when installed, else why
    not (an architecture this filter does not know: nothing is claimed there).

    Needs no privilege (no_new_privs first); raises OSError when the kernel refuses it.
    """
    machine = os.uname().machine
    if machine != "x86_64":
        return f"no seccomp process filter for {machine} (only x86_64 is known)"
    import ctypes  # numpy has imported it already; loaded before the audit hook exists

    program = process_filter_program(os.getpid())
    buffer = ctypes.create_string_buffer(program, len(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program) // 8, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    ulong, long_ = ctypes.c_ulong, ctypes.c_long
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ulong(1), ulong(0), ulong(0), ulong(0)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(errno)}")
    # seccomp(2) with TSYNC covers threads a library started before (TensorFlow's pools);
    # SPEC_ALLOW is unknown before Linux 4.17 (EINVAL: without it); plain prctl (the calling
    # thread only) where the seccomp call itself is unknown.
    both = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_SPEC_ALLOW
    for flags in (both, SECCOMP_FILTER_FLAG_TSYNC):
        done = libc.syscall(
            long_(X86_64["seccomp"]), long_(SECCOMP_SET_MODE_FILTER), long_(flags),
            ctypes.byref(fprog),
        )  # fmt: skip
        errno = ctypes.get_errno() if done != 0 else 0
        if errno != EINVAL:
            break
    if done != 0:
        if done > 0 or errno != ENOSYS:
            raise OSError(errno, f"seccomp(SECCOMP_SET_MODE_FILTER): {os.strerror(errno)}")
        if libc.prctl(PR_SET_SECCOMP, ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog)) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"prctl(PR_SET_SECCOMP): {os.strerror(errno)}")
    return ""


def apply_process_filter(want: str) -> str:
    """Install the filter: "required" (uid mode) fails the setup when the kernel refuses it,
    "try" (bubblewrap, none: an extra layer) goes on without it. Returns what holds."""
    try:
        why_not = install_process_filter()
    except OSError as error:
        if want == "required":
            why = f"the grader could not install its process filter: {error}"
            raise RuntimeError(why) from None
        return f"not installed: {error}"
    return why_not or "seccomp"


# ---------------------------------------------------------------- running student code


class Worker:
    def __init__(self, setup: dict) -> None:
        self.filename = str(setup["filename"])
        self.source = str(setup["code"])
        # 1-based first line of each notebook cell in `source`: cells run one by one, as in a
        # kernel, so an error in one cell does not stop the others (nbgrader grades them so too).
        self.cell_starts = [int(n) for n in setup.get("cell_starts", ()) if int(n) >= 1]
        names = [str(n) for n in setup.get("cell_names", ())]
        # Messages name the cell and its own line when the grader said which cell starts where.
        self.cells = (
            tuple(zip(self.cell_starts, names, strict=True))
            if len(names) == len(self.cell_starts)
            else ()
        )
        self.result_bytes = int(setup.get("result_bytes", 64 * 1024**2))
        policy = setup["policy"]
        self.namespace: dict = {"__name__": "__submission__", "__builtins__": builtins}
        sys.path.extend(str(p) for p in policy.get("python_path", ()))
        # Trusted: the lab's own import cell, run before any student code and before dropping
        # privileges (the interpreter's folder may be readable only by the grader's user).
        exec(compile(str(policy.get("preamble", "")), "<preamble>", "exec"), self.namespace)
        self.before = {k: v for k, v in self.namespace.items()}
        forbidden = tuple(str(m) for m in policy.get("forbidden_modules", ()))
        sandbox_dir = os.path.realpath(str(setup["sandbox_dir"]))
        report = make_reporter(OUT_FD)
        refuse = make_refuse(self.filename, report, self.cells)
        forbid_fft = bool(policy.get("forbid_numpy_convolve")) or "numpy.fft" in forbidden
        stub_numpy(refuse, bool(policy.get("forbid_numpy_convolve")), forbid_fft)
        allow_processes = bool(policy.get("allow_processes"))
        if not allow_processes:
            stub_process_starts(refuse)
        package_dirs = tuple(
            (os.path.realpath(str(d)), str(owner)) for d, owner in setup.get("package_dirs", ())
        )
        readable = readable_roots(sandbox_dir, tuple(str(p) for p in setup.get("readable", ())))
        sys.meta_path.insert(
            0, make_standins(tuple(m for m in forbidden if m != "numpy.fft"), refuse)
        )
        for name in setup.get("preimport", ()):
            try:  # the interpreter's folder may be unreadable once privileges are dropped
                importlib.import_module(str(name))
            except Exception:
                pass
        if setup.get("drop_to"):  # issue 18: a private interpreter folder stays importable
            extra = tuple(str(p) for p in setup.get("readable", ()))
            reach_private_roots(readable_roots(sandbox_dir, extra))
        drop_privileges(setup.get("drop_to"))
        #: "seccomp" when the kernel refuses new processes from here on, else why not.
        self.process_filter = "off: the policy allows processes"
        if not allow_processes:
            self.process_filter = apply_process_filter(str(setup.get("process_filter", "try")))
        # Made last, so it knows every folder the worker itself holds open (see make_hook).
        hook = make_hook(
            filename=self.filename,
            sandbox_dir=sandbox_dir,
            readable=readable,
            package_dirs=package_dirs,
            refuse=refuse,
            allow_processes=allow_processes,
        )
        sys.addaudithook(hook)  # last: the filter's setup imports ctypes, which the hook refuses
        del hook

    def run(self, action) -> tuple[str, object, str]:  # noqa: ANN001
        """Run student code; (status, value, message) with exceptions turned into text."""
        try:
            return "ok", action(), ""
        except MemoryError as error:
            message = student_message(error, self.filename, self.source, self.cells)
            del error
            return "memory", None, message
        except SystemExit as error:
            return "crashed", None, f"your code called exit({error.code!r})"
        except BaseException as error:  # KeyboardInterrupt, RecursionError, ... are the student's
            return "error", None, student_message(error, self.filename, self.source, self.cells)
        finally:
            flush_output()

    def chunks(self) -> list[tuple[int, str]]:
        """(first line, code) of each cell; the whole source when there are no cells."""
        lines = self.source.splitlines(keepends=True)
        bounds = sorted({1, *self.cell_starts})
        ends = [*bounds[1:], len(lines) + 1]
        return [(b, "".join(lines[b - 1 : e - 1])) for b, e in zip(bounds, ends, strict=True)]

    def load(self) -> dict:
        failures: list[tuple[str, str]] = []
        chunks = self.chunks()
        # The handshake: everything before this frame is the grader's own (interpreter, numpy,
        # the lab's preamble, the hook); a worker that dies before sending it is a grader fault.
        send_message({"kind": "started"})
        for start, chunk in chunks:

            def action(start: int = start, chunk: str = chunk) -> None:
                # Leading newlines keep line numbers those of the whole submission.
                padded = "\n" * (start - 1) + chunk
                exec(compile(padded, self.filename, "exec", dont_inherit=True), self.namespace)

            status, _, message = self.run(action)
            if status == "crashed" and len(chunks) > 1:
                status = "error"  # exit() at a cell's top level: a kernel survives it too
            if status != "ok":
                failures.append((status, message))
        status = failures[0][0] if failures else "ok"
        message = "\n".join(m for _, m in failures)
        imported = imported_names(self.source)
        defined = [
            name
            for name, value in list(self.namespace.items())
            if (callable(value) or is_prediction(name))
            and not isinstance(value, types.ModuleType)
            and not name.startswith("__")
            and name not in imported
            and (name not in self.before or self.before[name] is not value)
        ]
        return {"kind": "loaded", "status": status, "message": message, "defined": defined}

    def call(self, header: dict, arrays: list[np.ndarray]) -> None:
        function = str(header["function"])
        target = self.namespace.get(function)
        if is_prediction(function) and function in self.namespace and not callable(target):
            target = returning(target)  # a prediction is a value: "calling" it returns it
        if not callable(target):
            send_message(
                {
                    "kind": "result",
                    "status": "error",
                    "message": f"your code does not define a function named {function}",
                    "type_name": "",
                }
            )
            return
        args = [decode(a, arrays) for a in header["args"]]
        kwargs = {k: decode(v, arrays) for k, v in header["kwargs"].items()}

        def action() -> object:
            return target(*args, **kwargs)

        status, value, message = self.run(action)
        reply = {"kind": "result", "status": status, "message": message, "type_name": ""}
        out_arrays: list[np.ndarray] = []
        if status == "ok":
            reply["type_name"] = describe(value)
            try:
                reply["value"] = encode(value, out_arrays, f"{function} returned")
                size = sum(a.nbytes for a in out_arrays)
                if size > self.result_bytes:
                    raise BadReturn(
                        f"{function} returned {size / 1024**2:.1f} MiB of numbers; the limit is "
                        f"{self.result_bytes / 1024**2:.1f} MiB"
                    )
            except BadReturn as error:
                reply.update(status="bad_return", message=str(error))
                out_arrays = []
            except MemoryError:
                reply.update(status="memory", message="MemoryError while reading the result")
                out_arrays = []
            except Exception as error:
                reply.update(status="bad_return", message=f"{function} returned {error!r}")
                out_arrays = []
        del value
        send_message(reply, out_arrays)


def is_prediction(name: str) -> bool:
    """A graded prediction is a variable named my_...; it is graded as a value, not called."""
    return name.startswith("my_")


def returning(value: object):  # noqa: ANN201
    """A function of no arguments that returns `value`."""
    return lambda: value


def imported_names(source: str) -> set[str]:
    """Names bound by the student's top-level imports: imported, not defined by them."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def apply_limits(limits: list) -> None:
    """Lower this process's resource limits (a worker can only ever lower them)."""
    for name, soft, hard in limits:
        which = getattr(resource, str(name))
        current_soft, current_hard = resource.getrlimit(which)
        hard = int(hard) if current_hard == resource.RLIM_INFINITY else min(int(hard), current_hard)
        resource.setrlimit(which, (min(int(soft), hard), hard))


# ---------------------------------------------------------------- uid mode: a private Python
# (issue 18; kept apart from the audit hook above)


def reach_private_roots(readable: tuple[str, ...]) -> None:
    """Keep the interpreter's own folders importable after the drop to a uid that cannot reach
    them (Python under /root: pyenv, conda, a venv made with mktemp -d).

    Each sys.path entry inside the `readable` roots that such a uid could not reach becomes
    /proc/self/fd/N/..., N a directory descriptor opened here, before the drop: the kernel does
    not check search permission on the folders above an open descriptor. Loaded packages'
    __path__ entries move with them, so `import numpy.typing` or `import email.mime` works.
    The audit hook still checks every file's real path against the same readable roots: nothing
    becomes readable through the hook that was not before.
    """
    world_x, world_r = 0o001, 0o004

    def private(path: str) -> bool:
        folder = path
        while True:
            try:
                mode = os.stat(folder).st_mode
            except OSError:
                return True
            need = world_x | (world_r if folder == path else 0)
            if mode & need != need:
                return True
            if folder == "/":
                return False
            folder = os.path.dirname(folder)

    moved: dict[str, str] = {}
    for entry in sys.path:
        if type(entry) is not str or not entry.startswith("/") or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if real in moved or not any(real == r or real.startswith(r + "/") for r in readable):
            continue
        if not private(real):
            continue
        try:
            fd = move_high(os.open(real, os.O_RDONLY | os.O_DIRECTORY))
        except OSError:
            continue
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            moved[real] = f"/proc/self/fd/{fd}"
        else:  # no /proc: nothing to gain
            os.close(fd)
    if not moved:
        return
    deepest_first = sorted(moved.items(), key=lambda item: -len(item[0]))

    def swap(path: object) -> object:
        if type(path) is not str or not path.startswith("/"):
            return path
        real = os.path.realpath(path)
        for folder, via in deepest_first:
            if real == folder or real.startswith(folder + "/"):
                return via + real[len(folder) :]
        return path

    sys.path[:] = [swap(p) for p in sys.path]
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if type(path) is list:
            path[:] = [swap(p) for p in path]
    importlib.invalidate_caches()


def drop_privileges(drop_to: list | None) -> None:
    """Become an unprivileged user before any student code runs (the uid isolation mode)."""
    if not drop_to:
        return
    uid, gid = int(drop_to[0]), int(drop_to[1])
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise RuntimeError("could not drop privileges")


def flush_output() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def move_high(fd: int) -> int:
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HIGH_FD)
    os.close(fd)
    return new


def main() -> None:
    global IN_FD, OUT_FD
    IN_FD = move_high(int(sys.argv[1]))
    OUT_FD = move_high(int(sys.argv[2]))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
    header, _ = read_message()
    try:
        apply_limits(header.get("rlimits", ()))
        worker = Worker(header)
    except BaseException as error:
        message = f"the lab's own setup code failed, not yours: {exception_text(error)}"
        send_message({"kind": "loaded", "status": "crashed", "message": message, "defined": []})
        return
    send_message(worker.load())
    while True:
        try:
            header, arrays = read_message()
        except EOFError:
            return
        try:
            worker.call(header, arrays)
        except MemoryError:
            os._exit(MEMORY_EXIT_CODE)


if __name__ == "__main__":
    main()
