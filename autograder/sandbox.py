"""Runs untrusted student code in a limited worker process and brings back only plain values."""

from __future__ import annotations

import contextlib
import functools
import glob
import io
import json
import os
import resource
import secrets
import select
import shutil
import signal
import site
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

SANDBOX_LIMITS_DOC = """\
What the grading sandbox does, and what it does not stop.

Every submission runs in fresh worker processes, in one of three isolation modes, chosen once
and recorded in every results.json (`extra_data.isolation`) and printed by the CLI:

- "bubblewrap" (default where `bwrap` can make user namespaces): each worker is
  `bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --new-session`, uid/gid
  65534, no capabilities: its own PID, network, IPC, UTS and user namespaces; a file system that
  holds only read-only /usr, /lib*, a few /etc files, the folders the workers' interpreter
  imports from (asked of that interpreter once: its prefixes, i.e. the venv and the Python it
  was made from, its sys.path, the folders of what it loads; a venv under /tmp is bound over
  the scratch), the worker script, its own /proc and /dev, and a private size-capped tmpfs as
  /tmp and working folder. Nothing trusted is in that view: not the repository
  (solutions/, tests/), the output folder, the reference cache, the course secret or its file,
  other submissions, the grader's environment or processes (where a bound folder holds the
  checkout, the secret, the cache or the installed grader packages, those are masked). In
  by-hand labs the forbidden libraries' package folders (tensorflow, scipy, keras, torch, jax,
  cv2, skimage, PIL, ...) are masked by empty read-only tmpfs: absent, not merely hooked. When
  the worker ends, its PID namespace and every process in it end too.
- "unprivileged-uid" (root without bubblewrap, e.g. a Gradescope container): the worker runs the
  lab's trusted preamble, then drops to a uid/gid of its own (a distinct uid per concurrent
  worker, no supplementary groups) before any student code runs. When the interpreter lives in
  a folder that uid cannot reach (pyenv or conda under /root), the worker opens its sys.path
  folders before the drop and imports through /proc/self/fd/N, so every stdlib and numpy module
  stays importable; the audit hook still checks each file's real path (code that got past it
  could walk up from those descriptors to the folders around the interpreter's, e.g. the other
  versions in ~/.pyenv, never into the rest of the private folder, e.g. /root). RLIMIT_NPROC
  applies; when the worker stops, every process of that uid is killed. Right before student
  code runs the worker
  installs a seccomp filter on itself (with no_new_privs, so it can never be lifted, and on
  every thread): execve, execveat, fork, vfork, clone without CLONE_THREAD, ptrace,
  process_vm_readv/writev, mknod (FIFOs), new sockets, io_uring, pidfd signals and signals to
  any process but itself are refused by the kernel (clone3 answers ENOSYS, so threads start
  through clone). So no process starts from student code, whatever it reaches (a fresh
  _posixsubprocess from _imp, raw memory through ctypes). x86_64 only: on another architecture
  no filter is installed (the CLI warns) and the mode relies on the audit hook and RLIMIT_NPROC
  alone; where the kernel refuses the filter on x86_64, the worker does not start (the
  grader's fault, said so). It sees the host file system with that uid's permissions: the
  grader makes the secret file 0600 and the reference cache folder 0700 (when it owns them) and
  writes results 0600; a secret file another user owns (a TA's) must already be 0600:
  otherwise grading stops before anyone is graded, with the `chmod 600` to run. Keep the
  submissions unreadable to others too.
- "none" (neither is possible): the grader's own user; said loudly by the CLI. The seccomp
  filter is installed here too (and inside bubblewrap, as an extra layer), when the kernel
  takes it.
`CONVLAB_ISOLATION=bubblewrap|uid|none` forces a mode (an unavailable forced mode is an error).

In every mode: limits on wall time per call and per submission, CPU time, address space, file
size, core dumps; an environment reduced to a short allowlist (no secret); stdin from /dev/null,
stdout/stderr captured and capped. The grader never unpickles anything from the worker: it
receives length-prefixed JSON headers and `.npy` arrays whose header is checked (numeric dtype,
size) before a byte is interpreted. Results, feedback, grades.csv and the resume state are
written by the parent from its own memory, into a folder no worker can see or write.

Before a class (and once per Gradescope run) the mode proves itself: a known-good submission
(KNOWN_GOOD) is loaded and called in a worker exactly as a student's is. Auto mode falls back
(bubblewrap -> unprivileged-uid as root, -> none otherwise) and says so loudly; a forced mode is
never downgraded: grading stops instead. A worker that fails before the student's code starts
(it says so with a "started" frame) is a grader error, never the student's crash.

Scratch space is capped in every mode and never the results' file system: bubblewrap's private
tmpfs; outside it, a tmpfs mounted on the worker's folder when the grader is root with
CAP_SYS_ADMIN, else the parent measures the folder every SCRATCH_POLL_SECONDS and stops the
worker at the cap or when the disk under it runs low (RLIMIT_FSIZE still caps each file); the
grader's own writes wait a full disk out, then are that student's grader error.

The policy layer inside the worker gives clear messages: importing a forbidden library gives a
stand-in module whose every use raises (and records) "tensorflow.nn.conv2d is not allowed in
this lab (line 12 of file.py)", so an unused import costs nothing; numpy.convolve, numpy.correlate
and numpy.fft are stubs; an audit hook (a closure nothing else references, holding only
immutable values) refuses processes, sockets, signals, ctypes, gc object walks, tracing,
replacing a function's __code__, and Python-level file access outside the sandbox folder. It
reads a path as the kernel will (str and bytes subclasses and buffers by their contents), with
its own realpath and builtins bound before student code runs (rebinding os.path, posixpath,
os.getcwd, builtins or the worker module's globals changes nothing it sees); a relative path
is checked against the working folder and against every folder open as a descriptor (the
audit event of os.open does not say which dir_fd it got), and listing a descriptor checks the
folder it is open on; links may point only into the sandbox or down from their own folder.
A static scan (autograder.forbidden) flags uses of forbidden libraries and obfuscation.

It does NOT stop:
- in the "unprivileged-uid" and "none" modes, a determined attacker's file access: the audit
  hook is CPython, not the kernel. ctypes is loaded in every worker (numpy imports it), and
  its objects reach raw memory with no audit event (e.g. a pointer's __setstate__ or an index
  past its end), with which the hook itself can be undone; C code (TensorFlow's file I/O,
  readline) opens files the hook never sees; os.stat, os.access and os.readlink (dir_fd or
  not) raise no audit event, so any file's existence, size and times can be learnt. What
  then protects files is the kernel: files readable by the worker's uid (a world-readable
  solutions/ folder on a TA's laptop) stay readable, world-writable folders (/tmp, /dev/shm)
  writable. Process starts are the exception: the seccomp filter holds against raw memory
  too. Only bubblewrap is a boundary for files; grade untrusted classes with it, or keep
  solutions and everything private out of other users' reach.
- in the "bubblewrap" mode with the grader running as root, RLIMIT_NPROC does not bind (the
  kernel exempts uid 0 outside the namespace): a fork bomb is cut off by the wall-time limits
  and the PID namespace, not by a process count; CPU time and memory of other jobs on the same
  machine can still be slowed (limits are per worker, there are no cgroups).
- a pure-Python or pure-numpy re-implementation of a library's algorithm (e.g. an FFT written
  by hand): it is the student's own code as far as any tool can tell.
- work done outside the worker's process tree: `call(..., measure_cpu=True)` (lab 05's
  vectorization test) reads the CPU time of the worker and its descendants from /proc in the
  parent (live threads to the nanosecond, exited threads and reaped children to 2 clock ticks;
  in the uid mode every process of the worker's uid; in bubblewrap orphans stay in the tree);
  only in the "none" mode would a process left to another parent go uncounted (none can be
  started). The call's `baseline` runs in the parent while the worker's processes are stopped.
- threads the student starts: they are killed with the worker, but may run between calls.
  (Python's threading is refused by the audit hook; a thread started past it is allowed by
  the seccomp filter, which must let numpy's and TensorFlow's threads start.)
- code in a Jupyter kernel (a student's self-check; nbgrader's execution, whose scores are
  replaced by this sandbox's verdicts): that kernel is not this sandbox.
"""

STATUSES = ("ok", "error", "timeout", "memory", "crashed", "forbidden", "bad_return")
FRAME_HEADER = struct.Struct(">Q")
WORKER_PATH = Path(__file__).with_name("_worker.py")

#: Largest JSON header accepted from the worker; real headers are a few hundred bytes.
MAX_HEADER_BYTES = 1024**2
MAX_ARRAYS = 64
MAX_VALUE_DEPTH = 6
MAX_VALUE_ITEMS = 10_000
MAX_TEXT_CHARS = 8_000
MAX_EVENTS_KEPT = 100
NUMERIC_KINDS = "biufc"
#: The worker exits with this code when even a MemoryError reply could not be sent.
MEMORY_EXIT_CODE = 86
#: Seconds to let the output-draining thread finish after the worker is gone.
DRAIN_JOIN_SECONDS = 2.0
READ_CHUNK = 64 * 1024

ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ")
ENV_FIXED = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",  # results and failures independent of the CPU model
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
    "CUDA_VISIBLE_DEVICES": "",
}
SECRET_MARKERS = ("SECRET", "TOKEN", "KEY", "PASSWORD", "CONVLAB_")


@dataclass(frozen=True)
class Limits:
    """Limits for one submission; the worker is killed when one is reached."""

    call_seconds: float = 10.0  # wall time per call
    total_seconds: float = 120.0  # wall time for the whole submission (loads + all calls)
    cpu_seconds: int = 120  # RLIMIT_CPU of each worker process
    memory_bytes: int = 2 * 1024**3  # RLIMIT_AS (labs where TF is allowed pass a bigger value)
    output_bytes: int = 64 * 1024  # stdout+stderr kept per submission; the rest dropped, counted
    result_bytes: int = 64 * 1024**2  # largest reply accepted from the worker
    load_seconds: float = 30.0  # wall time to start the worker and run preamble + student code
    file_bytes: int = 16 * 1024**2  # RLIMIT_FSIZE: largest file the student's code may write
    processes: int = 256  # RLIMIT_NPROC (threads count too; enforced for a non-root user)
    #: "bubblewrap", "uid" or "none"; None: $CONVLAB_ISOLATION, else the strongest available.
    isolation: str | None = None


@dataclass(frozen=True)
class Policy:
    """What the student's code may use in this lab."""

    forbidden_modules: tuple[str, ...]
    preamble: str = "import numpy as np\n"  # trusted: the lab's import cell
    forbid_numpy_convolve: bool = True  # stub numpy.convolve/correlate and numpy.fft
    python_path: tuple[str, ...] = ()  # extra sys.path entries for the preamble's imports
    #: Leave starting processes to the OS sandbox alone (tests of that sandbox only): normally
    #: the worker takes _posixsubprocess.fork_exec away too, the route no audit event covers.
    allow_processes: bool = False


@dataclass
class CallResult:
    """What one call of a student function gave back."""

    status: str
    value: object = None
    type_name: str = ""
    message: str = ""
    seconds: float = 0.0
    forbidden: tuple[str, ...] = ()  # forbidden things attempted during this call
    #: CPU seconds the worker's process tree used during the call, read by the grader from
    #: /proc (with measure_cpu=True; None otherwise or when it could not be read).
    cpu_seconds: float | None = None


@dataclass
class LoadResult:
    """Whether the student's code ran at top level, and what it defined."""

    ok: bool
    status: str
    message: str
    defined: tuple[str, ...] = ()
    seconds: float = 0.0


class ProtocolError(Exception):
    """The worker sent something that is not a valid reply (or nothing at all)."""


class WorkerGone(ProtocolError):
    """The worker closed its end: it exited, was killed, or closed its descriptors."""


class DeadlineExceeded(Exception):
    """The wall-time limit for the current operation ran out."""


class GraderFault(RuntimeError):
    """The grader's side failed before any of the student's code ran (the worker could not
    start, the preamble failed, ...): never the student's fault, never a grade."""


#: LoadResult.status of a worker that failed before the student's code started. Only the parent
#: sets it: a worker's reply claiming it is refused (STATUSES does not hold it).
GRADER_ERROR = "grader_error"


# ---------------------------------------------------------------- validation of replies


def _decode_npy(data: bytes, budget: int) -> npt.NDArray:
    """Parse `.npy` bytes without ever unpickling; only numeric dtypes, exact sizes."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ProtocolError(f"unsupported .npy version {version}")
    except ProtocolError:
        raise
    except Exception as error:
        raise ProtocolError(f"invalid array header: {error}") from None
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.shape != ():
        raise ProtocolError(f"array of {dtype} is not numeric")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ProtocolError("invalid array shape")
    count = 1
    for n in shape:
        count *= n
    payload = memoryview(data)[stream.tell() :]
    if count * dtype.itemsize != len(payload) or len(payload) > budget:
        raise ProtocolError("array size does not match its header")
    array = np.frombuffer(payload, dtype=dtype).copy()
    return array.reshape(shape, order="F" if fortran else "C")


def _decode_value(value: object, arrays: list[npt.NDArray], depth: int = 0) -> object:
    """Rebuild a return value from its JSON form; anything unexpected is a protocol error."""
    if depth > MAX_VALUE_DEPTH:
        raise ProtocolError("value nested too deeply")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:MAX_TEXT_CHARS]
    if isinstance(value, dict):
        kind = value.get("t")
        if kind == "nd" and isinstance(value.get("i"), int) and 0 <= value["i"] < len(arrays):
            return arrays[value["i"]]
        items = value.get("v")
        if kind in ("list", "tuple") and isinstance(items, list) and len(items) <= MAX_VALUE_ITEMS:
            decoded = [_decode_value(item, arrays, depth + 1) for item in items]
            return tuple(decoded) if kind == "tuple" else decoded
        if kind == "set" and isinstance(items, list) and len(items) <= MAX_VALUE_ITEMS:
            decoded = [_decode_value(item, arrays, depth + 1) for item in items]
            try:  # a set of (row, col) pairs or of names (a graded prediction)
                return frozenset(decoded)
            except TypeError:
                raise ProtocolError("unhashable item in a set") from None
    raise ProtocolError("unexpected value in reply")


def _text(header: dict, key: str) -> str:
    value = header.get(key, "")
    if not isinstance(value, str):
        raise ProtocolError(f"{key} is not text")
    return value[:MAX_TEXT_CHARS]


def _encode_args(value: object, arrays: list[npt.NDArray]) -> object:
    """Arguments for the worker: arrays become `.npy` frames, the rest stays JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays cannot be sent to the sandbox")
        arrays.append(value)
        return {"t": "nd", "i": len(arrays) - 1}
    if isinstance(value, list | tuple):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "v": [_encode_args(item, arrays) for item in value]}
    raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")


# ---------------------------------------------------------------- output capture


class _Output:
    """Keeps the first `limit` bytes of everything the workers print; counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self.lock = threading.Lock()

    def drain(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, READ_CHUNK):
                with self.lock:
                    room = max(0, self.limit - len(self.kept))
                    self.kept += chunk[:room]
                    self.dropped += len(chunk) - min(room, len(chunk))
        except OSError:
            pass
        finally:
            os.close(fd)

    def mark(self) -> int:
        """Where the output kept so far ends (for `since`)."""
        with self.lock:
            return len(self.kept)

    def since(self, mark: int) -> str:
        """What was kept after `mark` (what one worker printed before its student code ran)."""
        with self.lock:
            return self.kept[mark:].decode("utf-8", errors="backslashreplace")

    def text(self) -> str:
        with self.lock:
            text = self.kept.decode("utf-8", errors="replace")
            if self.dropped:
                text += f"\n[... {self.dropped} bytes dropped]"
            return text


# ---------------------------------------------------------------- isolation

#: $CONVLAB_ISOLATION forces a mode: bubblewrap | uid | none (default: the strongest available).
ISOLATION_ENV = "CONVLAB_ISOLATION"
#: First uid of the pool the uid mode uses (default: a random block above 100000 per grader).
SANDBOX_UID_ENV = "CONVLAB_SANDBOX_UID"
MODE_NAMES = {
    "bubblewrap": "bubblewrap",
    "bwrap": "bubblewrap",
    "uid": "unprivileged-uid",
    "unprivileged-uid": "unprivileged-uid",
    "none": "none",
}
#: uid/gid of the student's code inside bubblewrap (nobody/nogroup).
BWRAP_UID = 65534
#: Where the worker script and the scratch space appear inside bubblewrap.
BWRAP_WORKER = "/convlab-worker/_worker.py"
BWRAP_SCRATCH = "/tmp"
#: How many uids the uid mode keeps for concurrent workers (one each).
UID_POOL_SIZE = 64
#: Files the interpreter needs from /etc (read-only; everything else in /etc stays out).
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives")
TOP_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
REPO_ROOT = Path(__file__).resolve().parents[1]


class IsolationUnavailable(RuntimeError):
    """The isolation mode that was asked for cannot run on this machine."""


@functools.cache
def _bubblewrap_options() -> tuple[str, ...] | None:
    """bwrap's namespace options that work here (None: bubblewrap cannot run at all).

    `--disable-userns` (bwrap >= 0.8) stops the student's code from making nested user
    namespaces; older bwrap runs without it.
    """
    exe = shutil.which("bwrap")
    if exe is None:
        return None
    base = ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session")
    for options in ((*base, "--disable-userns"), base):
        probe = [exe, *options, "--ro-bind", "/", "/", "true"]
        try:
            if subprocess.run(probe, capture_output=True, timeout=20).returncode == 0:
                return options
        except (OSError, subprocess.SubprocessError):
            return None
    return None


def bubblewrap_works() -> bool:
    """Whether `bwrap` exists and can make the namespaces the sandbox uses."""
    return _bubblewrap_options() is not None


bubblewrap_works.cache_clear = _bubblewrap_options.cache_clear  # type: ignore[attr-defined]


def isolation_mode(requested: str | None = None) -> str:
    """ "bubblewrap", "unprivileged-uid" or "none": what workers will run in.

    `requested` (or $CONVLAB_ISOLATION) forces a mode; a forced mode that cannot run raises
    IsolationUnavailable rather than grading with less isolation than asked for.
    """
    want = (requested or os.environ.get(ISOLATION_ENV) or "auto").strip().lower()
    if want == "auto":
        if bubblewrap_works():
            return "bubblewrap"
        return "unprivileged-uid" if os.geteuid() == 0 else "none"
    mode = MODE_NAMES.get(want)
    if mode is None:
        raise ValueError(f"unknown isolation {want!r}: use bubblewrap, uid or none")
    if mode == "bubblewrap" and not bubblewrap_works():
        raise IsolationUnavailable(
            "bubblewrap was asked for but cannot run here (install the `bubblewrap` package; "
            "user namespaces must be allowed)"
        )
    if mode == "unprivileged-uid" and os.geteuid() != 0:
        raise IsolationUnavailable("the unprivileged-uid mode needs the grader to run as root")
    return mode


class _UidPool:
    """Distinct unprivileged uids for concurrent workers, so no worker can signal another."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.base: int | None = None
        self.busy: set[int] = set()

    def acquire(self) -> int:
        with self.lock:
            if self.base is None:
                configured = os.environ.get(SANDBOX_UID_ENV)
                self.base = (
                    int(configured)
                    if configured
                    else 100_000 + UID_POOL_SIZE * secrets.randbelow(1 << 20)
                )
            for uid in range(self.base, self.base + UID_POOL_SIZE):
                if uid not in self.busy:
                    self.busy.add(uid)
                    return uid
        raise RuntimeError(f"more than {UID_POOL_SIZE} workers at once")

    def release(self, uid: int) -> None:
        with self.lock:
            self.busy.discard(uid)


_UIDS = _UidPool()


def _kill_uid(uid: int) -> None:
    """Kill every process whose real or effective uid is `uid` (detached children included)."""
    for _ in range(50):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/status", "rb") as f:
                    status = f.read()
            except OSError:
                continue
            fields = dict(x.split(b":", 1) for x in status.splitlines() if b":" in x)
            if fields.get(b"State", b"").split()[:1] == [b"Z"]:
                continue  # already dead, waiting to be reaped
            if str(uid).encode() in fields.get(b"Uid", b"").split()[:2]:
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
                except (ProcessLookupError, PermissionError):
                    pass
        if not found:
            return
        time.sleep(0.005)


#: Asked once per grader, of the interpreter the workers run (as they run it: `-I`, the
#: workers' environment, from "/", so neither the grader's PYTHONPATH nor its working folder
#: count): where it imports from and what it loads. The worker's view is built from the answer.
_PROBE = r"""
import json, os, site, sys, sysconfig
import numpy, numpy.fft, numpy.lib.format
libraries = set()
try:
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[5].startswith("/"):
                libraries.add(fields[5].strip())
except OSError:
    pass
paths = sysconfig.get_paths()
files = {getattr(m, "__file__", None) for m in list(sys.modules.values())} | libraries
print(json.dumps({
    "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix],
    "executable": sys.executable,
    "path": sys.path,
    "site": [*site.getsitepackages(), paths["purelib"], paths["platlib"]],
    "folders": sorted({os.path.dirname(f) for f in files if isinstance(f, str)}),
}))
"""
#: Folders every worker sees anyway (bound whole, or symlinks into /usr).
SYSTEM_DIRS = ("/usr", *TOP_DIRS)


@dataclass(frozen=True)
class _Interpreter:
    """Where the workers' interpreter imports from (absolute paths, as it reports them)."""

    executable: str  # its sys.executable (a venv's bin/python, often a symlink)
    prefixes: tuple[str, ...]  # sys.prefix, sys.base_prefix, sys.exec_prefix, ...
    path: tuple[str, ...]  # its sys.path
    site: tuple[str, ...]  # its site-packages folders
    folders: tuple[str, ...]  # those of its executable, the modules and libraries it loaded


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(os.path.abspath(v) for v in value if isinstance(v, str) and v.startswith("/"))


@functools.cache
def _interpreter() -> _Interpreter:
    """Ask the workers' interpreter (once) where it imports from; this process's own view when
    it cannot answer (then the workers cannot start either, and say so)."""
    info: object = None
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=120,
            cwd="/", env=_worker_env("/"), stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode == 0:
            info = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        info = None
    if not isinstance(info, dict):
        prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
        sites = site.getsitepackages()
        inside = [p for p in sys.path if any(_inside(p, q) for q in (*prefixes, *sites))]
        folders = [os.path.dirname(np.__file__)]
        info = {"prefixes": prefixes, "path": inside, "site": sites, "folders": folders}
        info["executable"] = sys.executable
    executable = info.get("executable")
    return _Interpreter(
        executable=os.path.abspath(executable if isinstance(executable, str) else sys.executable),
        prefixes=_strings(info.get("prefixes")),
        path=_strings(info.get("path")),
        site=_strings(info.get("site")),
        folders=_strings(
            [os.path.dirname(str(info.get("executable"))), *(info.get("folders") or [])]
        ),
    )


def _site_dirs() -> list[str]:
    """The workers' site-packages folders (and any other such folder on their sys.path)."""
    interpreter = _interpreter()
    dirs = set(interpreter.site)
    dirs.update(p for p in interpreter.path if "site-packages" in p or "dist-packages" in p)
    return sorted(d for d in dirs if os.path.isdir(d))


def _inside(path: str, root: str) -> bool:
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


@functools.cache
def _checkout() -> str | None:
    """The source checkout the grader runs from (solutions/, tests/: never in a worker's view),
    or None when the package is installed (REPO_ROOT is then a site-packages folder, which the
    workers need; our own packages in it are masked as forbidden libraries are)."""
    root = os.path.realpath(REPO_ROOT)
    installed = {os.path.realpath(p) for p in (*_site_dirs(), *site.getsitepackages())}
    return None if root in installed else root


@functools.cache
def _python_roots(extra: tuple[str, ...]) -> tuple[str, ...]:
    """Folders (or files) the worker's interpreter imports from, read-only in its view.

    Derived from what that interpreter reports (`_interpreter`): its prefixes (a virtualenv
    and the Python it was made from, a conda env, a pyenv version), the entries of its sys.path,
    the folders of the modules and shared libraries it loads, and `extra` (the policy's
    python_path); with their symlinks resolved too. Left out: what every worker sees anyway
    (/usr, /lib, ...), "/" and any folder holding the scratch space (/tmp itself; a venv under
    /tmp is bound over the scratch tmpfs), anything inside the checkout but outside a prefix
    that lives there (a venv in the checkout is fine, the checkout is not), and anything inside
    the course secret or the reference cache. A root that holds the checkout or a secret is
    bound with it masked (`_hidden_paths`).
    """
    interpreter = _interpreter()
    checkout = _checkout()
    secrets_ = _secret_paths()
    candidates = [
        *interpreter.prefixes,
        *interpreter.path,
        *interpreter.site,
        *interpreter.folders,
        *extra,
    ]
    prefixes = {q for p in interpreter.prefixes for q in (os.path.abspath(p), os.path.realpath(p))}
    roots: set[str] = set()
    for path in candidates:
        for p in (os.path.abspath(path), os.path.realpath(path)):
            if p == "/" or not os.path.exists(p) or _inside(BWRAP_SCRATCH, p):
                continue
            if any(_inside(p, top) for top in SYSTEM_DIRS):
                continue
            if any(_inside(p, s) for s in secrets_):
                continue
            if checkout is not None and _inside(p, checkout):
                # Only a prefix inside the checkout (a venv made there), never the rest of it.
                if not any(
                    _inside(p, q) and q != checkout and _inside(q, checkout) for q in prefixes
                ):
                    continue
            roots.add(p)
    # Keep the outermost ones only.
    return tuple(sorted(r for r in roots if not any(r != o and _inside(r, o) for o in roots)))


def _executable_links(roots: tuple[str, ...]) -> list[tuple[str, str]]:
    """(link, target) of each symlink on the way from the workers' sys.executable to the real
    interpreter that no bound folder holds (a venv made with a python3 found on PATH through a
    folder of symlinks): recreated as symlinks, so that folder itself stays out of the view."""
    links = []
    path = _interpreter().executable
    for _ in range(40):
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        if not any(_inside(path, r) for r in (*roots, *SYSTEM_DIRS)):
            links.append((path, target))
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return links


def _hidden_paths(roots: tuple[str, ...]) -> list[str]:
    """What a bound root may hold and the worker must not see: the checkout, the course secret,
    the reference cache, and our own packages when installed into a bound site-packages (the
    grader's code; the worker script is bound on its own)."""
    checkout = _checkout()
    hidden = [checkout, *_secret_paths()]
    if checkout is None:
        hidden += [os.path.join(REPO_ROOT, name) for name in ("autograder", "convlab")]
    return [p for p in hidden if p and any(_inside(p, r) and p != r for r in roots)]


@functools.cache
def _masked_paths(
    forbidden: tuple[str, ...], roots: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """(path, owner) of every forbidden library's package inside the folders the worker sees."""
    names = sorted({m.split(".")[0] for m in forbidden if not m.startswith("numpy")})
    folders = {*_site_dirs(), *_interpreter().path, *roots}
    found = []
    for site_dir in sorted(f for f in folders if os.path.isdir(f)):
        if not any(_inside(os.path.realpath(site_dir), r) for r in (*roots, *SYSTEM_DIRS)):
            continue
        for name in names:
            base = os.path.join(site_dir, name)
            paths = [base, base + ".py", *glob.glob(glob.escape(base) + ".*.so")]
            found.extend((p, name) for p in paths if os.path.lexists(p))
    return tuple(dict.fromkeys(found))


#: Imported before the worker drops to an unprivileged uid when the interpreter's folder is not
#: readable by other users (e.g. Python under /root). The worker also reaches every other module
#: of such a folder afterwards, through directory descriptors it opened before the drop
#: (_worker.reach_private_roots); these are loaded early so the common ones cost nothing later.
PREIMPORT = (
    "math", "itertools", "functools", "collections", "typing", "signal", "time", "random",
    "copy", "operator", "numbers", "warnings", "string", "re", "statistics", "fractions",
    "decimal", "array", "heapq", "bisect", "pathlib", "numpy.lib.stride_tricks", "numpy.random",
    "numpy.linalg", "numpy.testing",
)  # fmt: skip


@functools.cache
def _prefix_is_private() -> bool:
    """Whether some folder of the interpreter cannot be read by an unprivileged user."""
    for root in _python_roots(()):
        path = Path(root)
        for folder in (path, *path.parents):
            try:
                mode = folder.stat().st_mode
            except OSError:
                return True
            if not mode & stat.S_IXOTH or (folder == path and not mode & stat.S_IROTH):
                return True
    return False


def process_filter_note() -> str:
    """Empty where workers install their seccomp process filter (x86_64 Linux); else a warning
    for the TA: without it, the uid and none modes rely on the audit hook and RLIMIT_NPROC."""
    machine = os.uname().machine
    if sys.platform.startswith("linux") and machine == "x86_64":
        return ""
    return (
        f"no seccomp process filter on {machine}: outside bubblewrap, only the audit hook and "
        "RLIMIT_NPROC stop student code from starting processes"
    )


def _protect_trusted_files() -> None:
    """Uid mode: the course secret file 0600 and the reference cache folder 0700, when ours.

    The worker then sees the host file system with another uid's permissions only. A secret
    file another user owns (a TA's) must already be 0600: SecretFileError says so, and no worker
    starts.
    """
    from .policy import check_secret_file

    secret_file = os.environ.get("CONVLAB_COURSE_SECRET_FILE")
    if secret_file:
        check_secret_file(os.path.abspath(secret_file))
    euid = os.geteuid()
    for path in _secret_paths():
        try:
            info = os.stat(path)
            if info.st_uid == euid and info.st_mode & 0o077:
                os.chmod(path, 0o700 if stat.S_ISDIR(info.st_mode) else 0o600)
        except OSError:
            continue


def _secret_paths() -> list[str]:
    """Trusted files that must never be visible inside, should they sit in a bound folder."""
    paths = [os.environ.get("CONVLAB_COURSE_SECRET_FILE", "")]
    cache = os.environ.get("CONVLAB_CACHE_DIR")
    paths.append(cache or os.path.join(os.path.expanduser("~"), ".cache", "convlab"))
    return [os.path.abspath(p) for p in paths if p]


def _bwrap_command(policy: Policy, limits: Limits, masks: tuple[tuple[str, str], ...]) -> list[str]:
    roots = _python_roots(tuple(policy.python_path))
    exe = shutil.which("bwrap") or "bwrap"
    cmd = [exe, *(_bubblewrap_options() or ()), "--cap-drop", "ALL", "--hostname", "convlab"]
    cmd += ["--uid", str(BWRAP_UID), "--gid", str(BWRAP_UID)]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for top in TOP_DIRS:
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    for name in ETC_FILES:
        cmd += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The scratch tmpfs first: a Python under /tmp (a venv made with mktemp -d) is bound over it.
    cmd += ["--size", str(max(limits.file_bytes * 4, 16 * 1024**2)), "--tmpfs", BWRAP_SCRATCH]
    for root in roots:
        cmd += ["--ro-bind", root, root]
    for link, target in _executable_links(roots):
        cmd += ["--symlink", target, link]
    for path in [*(p for p, _ in masks), *_hidden_paths(roots)]:
        if not os.path.lexists(path):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            cmd += ["--perms", "0555", "--tmpfs", path, "--remount-ro", path]
        else:
            cmd += ["--ro-bind", "/dev/null", path]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += ["--ro-bind", str(WORKER_PATH), BWRAP_WORKER, "--chdir", BWRAP_SCRATCH]
    return cmd


# ---------------------------------------------------------------- scratch space outside bubblewrap

#: How often the parent measures a worker's scratch folder when it could not mount a tmpfs.
SCRATCH_POLL_SECONDS = 0.05
#: Free space a worker's writes must leave on the scratch's file system (the grader's results
#: may live there too); a worker that goes below it is stopped.
DISK_RESERVE_BYTES = 64 * 1024**2
#: Files and folders a scratch folder may hold (measuring more would take too long).
SCRATCH_MAX_ENTRIES = 20_000
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2
#: Whether mounting a tmpfs failed once (no CAP_SYS_ADMIN): not tried again in this process.
_MOUNT_REFUSED: list[bool] = []


def scratch_bytes(limits: Limits) -> int:
    """The size of a worker's scratch space, in every mode (bubblewrap's tmpfs has it too)."""
    return max(limits.file_bytes * 4, 16 * 1024**2)


def _libc():  # noqa: ANN202
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(path: Path, size: int) -> bool:
    """Mount a private tmpfs of `size` bytes on `path`: a scratch on its own, capped file system.

    Needs root with CAP_SYS_ADMIN (a Linux host, a privileged container); False elsewhere, then
    the parent measures the folder instead (`_ScratchWatch`).
    """
    if _MOUNT_REFUSED or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    try:
        libc = _libc()
        options = f"size={size},mode=0700".encode()
        flags = _MS_NOSUID | _MS_NODEV
        if libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", flags, options) == 0:
            return True
    except (OSError, AttributeError):
        pass
    _MOUNT_REFUSED.append(True)
    return False


def _unmount(path: Path) -> None:
    try:
        _libc().umount2(os.fsencode(path), _MNT_DETACH)
    except (OSError, AttributeError):
        pass


def _usage(folder: Path, limit: int) -> tuple[int, int]:
    """(bytes on disk, entries) under `folder`, stopping once `limit` entries were seen."""
    used = entries = 0
    stack = [str(folder)]
    while stack and entries < limit:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += getattr(info, "st_blocks", 0) * 512 or info.st_size
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return used, entries


class _ScratchWatch:
    """Stops a worker whose scratch folder grows past its cap or eats the disk's last space.

    Used where no tmpfs can be mounted (no CAP_SYS_ADMIN): per-worker accounting with a kill.
    RLIMIT_FSIZE still caps each file; between two measurements a worker can write at most what
    the disk takes in SCRATCH_POLL_SECONDS.
    """

    def __init__(self, folder: Path, cap: int, kill) -> None:  # noqa: ANN001
        self.folder, self.cap, self.kill = folder, cap, kill
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(SCRATCH_POLL_SECONDS):
            used, entries = _usage(self.folder, SCRATCH_MAX_ENTRIES)
            try:
                stats = os.statvfs(self.folder)
                free = stats.f_bavail * stats.f_frsize
                # A small disk keeps a quarter of itself free, a big one DISK_RESERVE_BYTES.
                reserve = min(DISK_RESERVE_BYTES, stats.f_blocks * stats.f_frsize // 4)
            except OSError:
                free = reserve = 0
            why = None
            if used > self.cap:
                why = f"more than {self.cap / 1024**2:g} MB of files"
            elif entries >= SCRATCH_MAX_ENTRIES:
                why = f"more than {SCRATCH_MAX_ENTRIES} files"
            elif free < reserve and used > 1024**2:
                why = f"files until the disk was almost full ({used / 1024**2:.0f} MB)"
            if why:
                self.kill(f"your code wrote {why} in its working folder; it was stopped")
                return

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5.0)


# ---------------------------------------------------------------- the worker process


class _Process:
    """One worker process, its pipes and its output-draining thread."""

    def __init__(
        self,
        command: list[str],
        *,
        cwd: Path | str,
        env: dict[str, str],
        limits: Limits,
        output: _Output,
        mode: str,
    ) -> None:
        to_worker_r, self.to_worker = os.pipe()
        self.from_worker, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        self.mode = mode
        try:
            self.proc = subprocess.Popen(
                [*command, str(to_worker_r), str(from_worker_w)],
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                cwd=cwd,
                env=env,
                pass_fds=(to_worker_r, from_worker_w),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            for fd in (to_worker_r, from_worker_w, out_w):
                os.close(fd)
        os.set_blocking(self.to_worker, False)
        self._limit(limits)
        self.drainer = threading.Thread(target=output.drain, args=(out_r,), daemon=True)
        self.drainer.start()
        self.events: list[str] = []
        #: Set by the worker's "started" frame, sent just before the first student line runs.
        self.student_started = False
        #: Why the parent killed the worker itself (its scratch folder grew too big), if it did.
        self.killed_for: str | None = None

    def _limit(self, limits: Limits) -> None:
        # prlimit from the parent rather than preexec_fn: preexec_fn is unsafe with threads.
        # The worker lowers its own limits again from its setup message, before any student
        # code runs (inside bubblewrap this process is bwrap, not the worker).
        pid = self.proc.pid
        try:
            for which, soft, hard in _rlimits(limits):
                resource.prlimit(pid, getattr(resource, which), (soft, hard))
        except (ProcessLookupError, ValueError):
            pass  # the worker already died; the first read reports it

    def send(self, header: dict, arrays: list[npt.NDArray], deadline: float) -> None:
        frames = [json.dumps(dict(header, n_arrays=len(arrays))).encode()]
        for array in arrays:
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            frames.append(buffer.getvalue())
        data = b"".join(FRAME_HEADER.pack(len(f)) + f for f in frames)
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded
            _, writable, _ = select.select([], [self.to_worker], [], remaining)
            if writable:
                try:
                    view = view[os.write(self.to_worker, view) :]
                except BlockingIOError:
                    continue
                except OSError as error:
                    raise ProtocolError("the worker stopped reading") from error

    def _read_exact(self, count: int, deadline: float) -> bytes:
        chunks = []
        while count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded
            readable, _, _ = select.select([self.from_worker], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(self.from_worker, min(count, 1 << 20))
            if not chunk:
                raise WorkerGone("the worker closed its connection")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def _frame(self, limit: int, deadline: float) -> bytes:
        (length,) = FRAME_HEADER.unpack(self._read_exact(FRAME_HEADER.size, deadline))
        if length > limit:
            raise ProtocolError(f"reply of {length} bytes is over the limit of {limit}")
        return self._read_exact(length, deadline)

    def receive(self, kind: str, result_bytes: int, deadline: float) -> tuple[dict, list]:
        """Next reply of `kind`, recording forbidden-use events that arrive before it."""
        while True:
            try:
                header = json.loads(self._frame(MAX_HEADER_BYTES, deadline))
            except (ValueError, RecursionError) as error:
                raise ProtocolError("the worker sent a malformed header") from error
            if not isinstance(header, dict):
                raise ProtocolError("the worker sent a malformed header")
            if header.get("kind") == "event":
                if len(self.events) < MAX_EVENTS_KEPT:
                    self.events.append(_text(header, "forbidden")[:200])
                continue
            if header.get("kind") == "started":
                self.student_started = True
                continue
            if header.get("kind") != kind:
                raise ProtocolError(f"expected a {kind!r} reply")
            count = header.get("n_arrays", 0)
            if not isinstance(count, int) or not 0 <= count <= MAX_ARRAYS:
                raise ProtocolError("invalid array count")
            arrays, budget = [], result_bytes
            for _ in range(count):
                data = self._frame(budget, deadline)
                budget -= len(data)
                arrays.append(_decode_npy(data, budget + len(data)))
            return header, arrays

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            # The worker is gone but anything left in its group (it cannot fork; still) goes.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()
        for fd in (self.to_worker, self.from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self.drainer.join(DRAIN_JOIN_SECONDS)

    def exit_status(self, limits: Limits) -> tuple[str, str]:
        """Status and message for a worker that stopped answering."""
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "crashed", "your code broke the connection to the grader"
        if self.killed_for:
            return "crashed", self.killed_for
        if self.mode == "bubblewrap" and code > 128 and code - 128 in _SIGNALS:
            code = -(code - 128)  # bwrap reports a worker killed by signal N as 128 + N
        if code == MEMORY_EXIT_CODE:
            return "memory", _memory_message(limits)
        if code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGXCPU:
                return "timeout", f"your code used more than {limits.cpu_seconds} s of CPU time"
            if -code == signal.SIGKILL:
                return "memory", _memory_message(limits) + " (the process was killed)"
            hint = " (this also happens when memory runs out)" if name in _MEMORY_SIGNALS else ""
            return "crashed", f"the process running your code died with {name}{hint}"
        return "crashed", f"your code ended the process with exit code {code}"


_MEMORY_SIGNALS = ("SIGSEGV", "SIGABRT", "SIGBUS")
_SIGNALS = {int(s) for s in signal.Signals}


def _memory_message(limits: Limits) -> str:
    return f"your code ran out of memory (limit {limits.memory_bytes / 1024**3:.3g} GiB)"


def _rlimits(limits: Limits) -> list[tuple[str, int, int]]:
    return [
        ("RLIMIT_AS", limits.memory_bytes, limits.memory_bytes),
        ("RLIMIT_CPU", limits.cpu_seconds, limits.cpu_seconds + 2),
        ("RLIMIT_FSIZE", limits.file_bytes, limits.file_bytes),
        ("RLIMIT_CORE", 0, 0),
    ]


def _worker_env(workdir: Path | str) -> dict[str, str]:
    env = {
        name: os.environ[name]
        for name in ENV_ALLOWLIST
        if name in os.environ and not any(m in name.upper() for m in SECRET_MARKERS)
    }
    env.setdefault("PATH", os.defpath)
    env.update(ENV_FIXED, HOME=str(workdir), TMPDIR=str(workdir))
    return env


# ---------------------------------------------------------------- the public API


class Sandbox:
    """A worker process that runs one submission; use as a context manager.

    `load()` starts the worker and runs the lab's preamble and the student's code; `call()` runs
    one of the student's functions on plain arguments and returns only values. After a timeout,
    memory kill or crash the next `call()` starts a fresh worker (within the total time budget).
    """

    def __init__(
        self,
        code: str,
        *,
        policy: Policy,
        limits: Limits = Limits(),  # noqa: B008 (frozen, so a shared default is safe)
        filename: str = "<submission>",
        cell_starts: Sequence[int] = (),
        cell_names: Sequence[str] = (),
    ) -> None:
        self.code = code
        self.cell_starts = tuple(cell_starts)  # run cell by cell, as a notebook kernel would
        self.cell_names = tuple(cell_names)  # grade_id of each cell, for messages
        self.policy = policy
        self.limits = limits
        self.filename = filename
        self._output = _Output(limits.output_bytes)
        self._workdir: Path | None = None
        self._process: _Process | None = None
        self._started: float | None = None
        self._load: LoadResult | None = None
        self._events: list[str] = []
        self._uid: int | None = None
        self._mounted = False
        self._watch: _ScratchWatch | None = None
        self.masked: tuple[tuple[str, str], ...] = ()
        #: "bubblewrap", "unprivileged-uid" or "none": how this submission's workers run.
        self.isolation = isolation_mode(limits.isolation)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- budget

    def _remaining(self) -> float:
        if self._started is None:
            self._started = time.monotonic()
        return self.limits.total_seconds - (time.monotonic() - self._started)

    def _total_message(self) -> str:
        return (
            f"the time limit of {self.limits.total_seconds:g} s for your whole submission was "
            "used up; this test was not run"
        )

    # -- worker lifecycle

    def _stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self._uid is not None:
            # First, and before waiting for the output pipe: the worker and whatever it left
            # behind, detached or not (a detached child may hold the pipe open).
            _kill_uid(self._uid)
        if self._process is not None:
            self._events.extend(self._process.events)
            self._process.kill()
            self._process = None
        if self._uid is not None:
            _kill_uid(self._uid)
            _UIDS.release(self._uid)
            self._uid = None
        if self._workdir is not None:
            if self._mounted:
                _unmount(self._workdir)
                self._mounted = False
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _launch(self) -> tuple[_Process, str]:
        """A fresh worker in this sandbox's isolation mode, and its scratch folder's path."""
        masks: tuple[tuple[str, str], ...] = ()
        roots = _python_roots(tuple(self.policy.python_path))
        if self.policy.forbidden_modules:
            masks = _masked_paths(tuple(self.policy.forbidden_modules), roots)
        self.masked = masks
        if self.isolation == "bubblewrap":
            command = [*_bwrap_command(self.policy, self.limits, masks), sys.executable, "-I"]
            command.append(BWRAP_WORKER)
            env = _worker_env(BWRAP_SCRATCH)
            process = _Process(
                command, cwd="/", env=env, limits=self.limits, output=self._output,
                mode=self.isolation,
            )  # fmt: skip
            return process, BWRAP_SCRATCH
        # A fresh empty folder per worker: nothing a crashed run wrote is seen by the next. On a
        # file system of its own and capped, as in bubblewrap, when root may mount a tmpfs;
        # else measured by the parent, which stops the worker at the same cap.
        self._workdir = Path(tempfile.mkdtemp(prefix="convlab-sandbox-"))
        self._mounted = _mount_tmpfs(self._workdir, scratch_bytes(self.limits))
        if self.isolation == "unprivileged-uid":
            _protect_trusted_files()
            self._uid = _UIDS.acquire()
            os.chown(self._workdir, self._uid, self._uid)
        command = [sys.executable, "-I", str(WORKER_PATH)]
        process = _Process(
            command, cwd=self._workdir, env=_worker_env(self._workdir), limits=self.limits,
            output=self._output, mode=self.isolation,
        )  # fmt: skip
        if not self._mounted:
            uid = self._uid

            def kill(why: str) -> None:
                process.killed_for = why
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.proc.pid, signal.SIGKILL)
                if uid is not None:
                    _kill_uid(uid)

            self._watch = _ScratchWatch(self._workdir, scratch_bytes(self.limits), kill)
        return process, str(self._workdir)

    def _start(self) -> LoadResult:
        """Start a worker and run preamble + student code in it."""
        begin = time.monotonic()
        remaining = self._remaining()
        if remaining <= 0:
            return LoadResult(False, "timeout", self._total_message())
        seconds = min(self.limits.load_seconds, remaining)
        deadline = begin + seconds
        mark = self._output.mark()
        process, scratch = self._launch()
        self._process = process
        rlimits = _rlimits(self.limits)
        if self._uid is not None:
            # Enforced only for a non-root user; threads count too. Distinct uid per worker.
            rlimits.append(("RLIMIT_NPROC", self.limits.processes, self.limits.processes))
        setup = {
            "op": "load",
            "code": self.code,
            "filename": self.filename,
            "cell_starts": list(self.cell_starts),
            "cell_names": list(self.cell_names),
            "sandbox_dir": scratch,
            "result_bytes": self.limits.result_bytes,
            "rlimits": rlimits,
            # uid mode claims that no process starts: a filter the kernel refuses is a setup
            # failure there; elsewhere the filter is an extra layer, tried.
            "process_filter": "required" if self.isolation == "unprivileged-uid" else "try",
            "drop_to": [self._uid, self._uid] if self._uid is not None else None,
            "preimport": list(PREIMPORT) if self._uid is not None and _prefix_is_private() else [],
            "package_dirs": [list(m) for m in self.masked]
            if self.isolation != "bubblewrap"
            else [],
            "readable": list(self.policy.python_path),
            "policy": {
                "forbidden_modules": list(self.policy.forbidden_modules),
                "preamble": self.policy.preamble,
                "forbid_numpy_convolve": self.policy.forbid_numpy_convolve,
                "python_path": list(self.policy.python_path),
                "allow_processes": self.policy.allow_processes,
            },
        }
        try:
            process.send(setup, [], deadline)
            header, _ = process.receive("loaded", 0, deadline)
            if not process.student_started:  # the lab's own setup failed in the worker
                self._stop()
                return self._fault(mark, begin, _text(header, "message") or "no reason given")
            status = _text(header, "status")
            if status not in STATUSES:
                raise ProtocolError("unknown status")
            defined = header.get("defined", [])
            if not isinstance(defined, list) or not all(isinstance(d, str) for d in defined):
                raise ProtocolError("invalid list of definitions")
            message = _text(header, "message")
            if status == "memory":
                message = f"{_memory_message(self.limits)}\n{message}"
            result = LoadResult(status == "ok", status, message, tuple(defined[:MAX_ARRAYS]))
        except DeadlineExceeded:
            self._stop()
            # A restart cut short by the submission's own used-up time budget is the student's
            # timeout; a worker that cannot start within the full load time is the grader's.
            if not process.student_started and seconds >= self.limits.load_seconds:
                return self._fault(mark, begin, f"it did not start within {seconds:g} s")
            why = (
                self._total_message()
                if seconds < self.limits.load_seconds
                else f"running your code's top level took longer than {seconds:g} s"
            )
            result = LoadResult(False, "timeout", why)
        except WorkerGone:
            if not process.student_started:
                try:
                    why = f"it exited with code {process.proc.wait(timeout=5.0)}"
                except subprocess.TimeoutExpired:
                    why = "it closed its connection"
                self._stop()
                return self._fault(mark, begin, why)
            status, message = process.exit_status(self.limits)
            self._stop()
            result = LoadResult(False, status, "while loading your code: " + message)
        except ProtocolError as error:
            self._stop()
            if not process.student_started:
                return self._fault(mark, begin, f"invalid reply: {error}")
            message = f"while loading your code: the worker sent an invalid reply ({error})"
            result = LoadResult(False, "crashed", message)
        attempted = tuple(dict.fromkeys(process.events))
        if attempted and result.status in ("ok", "error"):
            result.status, result.ok = "forbidden", False
            result.message = _forbidden_message(attempted, result.message)
        result.seconds = time.monotonic() - begin
        return result

    def _fault(self, mark: int, begin: float, what: str) -> LoadResult:
        """A worker that failed before the student's code started: the grader's fault."""
        said = " ".join(self._output.since(mark).split())[-600:]
        message = (
            f"the grader's worker ({self.isolation}) failed before the submission's code ran: "
            f"{what}" + (f"; it printed: {said}" if said else "")
        )
        return LoadResult(False, GRADER_ERROR, message, seconds=time.monotonic() - begin)

    def load(self) -> LoadResult:
        """Start the worker and run the preamble and the student's code (once).

        A worker that fails before the student's code starts gives status GRADER_ERROR.
        """
        if self._load is None:
            self._load = self._start()
        return self._load

    def call(
        self,
        function: str,
        *args: object,
        measure_cpu: bool = False,
        baseline: Callable[[], object] | None = None,
        **kwargs: object,
    ) -> CallResult:
        """Call the student's `function` on plain values and return what came back.

        With `measure_cpu`, the result's `cpu_seconds` is the CPU time the worker's whole process
        tree used between sending the call and receiving its reply, read by this process from
        /proc (`worker_cpu`), never reported by the worker. `baseline`, if given, runs in this
        process just before the call while every process of the worker is stopped (SIGSTOP):
        a measurement of the grader's own that no thread of the student's can slow down.
        """
        load = self.load()
        if load.status == GRADER_ERROR:
            raise GraderFault(load.message)
        if load.status in ("timeout", "crashed") or (load.status == "memory" and not load.defined):
            message = f"your code could not be loaded, so {function} was not run: {load.message}"
            return CallResult(load.status, message=message)
        if self._process is None:
            reload = self._start()
            if reload.status == GRADER_ERROR:
                raise GraderFault(reload.message)
            if reload.status in ("timeout", "crashed", "memory"):
                self._stop()
                return CallResult(reload.status, message=reload.message)
        process = self._process
        remaining = self._remaining()
        if remaining <= 0:
            self._stop()
            return CallResult("timeout", message=self._total_message())
        seconds = min(self.limits.call_seconds, remaining)
        deadline = time.monotonic() + seconds
        arrays: list[npt.NDArray] = []
        header = {
            "op": "call",
            "function": function,
            "args": [_encode_args(a, arrays) for a in args],
            "kwargs": {k: _encode_args(v, arrays) for k, v in kwargs.items()},
        }
        start_events = len(process.events)
        if baseline is not None:
            self._while_stopped(baseline)
        call_begin = time.monotonic()
        cpu_before = self.worker_cpu() if measure_cpu else None
        try:
            process.send(header, arrays, deadline)
            reply, values = process.receive("result", self.limits.result_bytes, deadline)
            result = self._result(reply, values)
            if cpu_before is not None:
                cpu_after = self.worker_cpu()
                result.cpu_seconds = cpu_after.since(cpu_before) if cpu_after else None
        except DeadlineExceeded:
            self._stop()
            message = (
                self._total_message()
                if seconds < self.limits.call_seconds
                else f"{function} did not finish within {seconds:g} s"
            )
            result = CallResult("timeout", message=message)
        except WorkerGone:
            status, message = process.exit_status(self.limits)
            self._stop()
            result = CallResult(status, message=message)
        except ProtocolError as error:
            # Alive but talking nonsense: the student's code wrote into the protocol pipe.
            message = f"the process running your code sent an invalid reply ({error})"
            self._stop()
            result = CallResult("crashed", message=message)
        result.seconds = time.monotonic() - call_begin
        if result.status in ("timeout", "memory", "crashed"):
            self._stop()  # state unknown: the next call gets a fresh worker
        attempted = tuple(dict.fromkeys(process.events[start_events:]))
        if attempted:
            result.forbidden = attempted
            result.message = _forbidden_message(attempted, result.message)
            result.status, result.value = "forbidden", None
        return result

    def _result(self, reply: dict, arrays: list[npt.NDArray]) -> CallResult:
        status = _text(reply, "status")
        if status not in STATUSES:
            raise ProtocolError("unknown status")
        value = _decode_value(reply.get("value"), arrays) if status == "ok" else None
        message = _text(reply, "message")
        if status == "memory":
            message = f"{_memory_message(self.limits)}\n{message}"
        return CallResult(
            status, value=value, type_name=_text(reply, "type_name")[:100], message=message
        )

    def _while_stopped(self, action: Callable[[], object]) -> None:
        """Run `action` here while every process of the running worker is stopped."""
        tree = _tree(self._process.proc.pid, self._uid) if self._process is not None else None
        pids = sorted(tree or ())
        _signal_all(pids, signal.SIGSTOP)
        try:
            _wait_stopped(pids)
            action()
        finally:
            _signal_all(pids, signal.SIGCONT)

    def worker_cpu(self) -> CpuSample | None:
        """The CPU time used so far by the running worker's process tree (in bubblewrap the
        Popen child is bwrap and the worker its descendant), plus, in the uid mode, every
        process of the worker's uid; read from /proc by this process. None without a worker or
        when /proc cannot be read."""
        if self._process is None:
            return None
        return _tree_cpu(self._process.proc.pid, self._uid)

    @property
    def output(self) -> str:
        """What the student's code printed (stdout and stderr), capped."""
        return self._output.text()

    @property
    def used_forbidden(self) -> tuple[str, ...]:
        """Forbidden imports and calls the student's code attempted, first attempt first."""
        current = self._process.events if self._process is not None else []
        return tuple(dict.fromkeys([*self._events, *current]))

    def close(self) -> None:
        """Kill the worker and delete its working directory."""
        self._stop()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


@dataclass(frozen=True)
class CpuSample:
    """CPU time of a set of processes at one moment, counted two ways (see `since`)."""

    #: Nanoseconds run by their live threads (/proc/PID/task/TID/schedstat: exact).
    threads_ns: int
    #: Per process, (utime + stime, cutime + cstime) in clock ticks from /proc/PID/stat: threads
    #: that have exited and children that were reaped included, each field rounded down.
    ticks: dict[str, tuple[int, int]]

    def since(self, before: CpuSample) -> float:
        """CPU seconds used between `before` and this sample: the exact count of live threads,
        or the tick count when that says more than its rounding (a thread that exited)."""
        exact = (self.threads_ns - before.threads_ns) / 1e9
        ticks = slack = 0
        for pid, (own, reaped) in self.ticks.items():
            own0, reaped0 = before.ticks.get(pid, (0, 0))
            ticks += own - own0 + reaped - reaped0
            # each of the two fields of a sum that changed may have gained up to a tick
            slack += 2 * ((own != own0) + (reaped != reaped0))
        return max(exact, (ticks - slack) / _CLOCK_TICKS, 0.0)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and ')')."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _tree(root: int, uid: int | None = None) -> dict[str, list[str]] | None:
    """/proc/PID/stat fields of process `root`, its descendants and (given `uid`) every process of
    that uid, by pid; None when /proc cannot be read or `root` is gone."""
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return None
    stats: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for pid in entries:
        fields = _proc_stat(pid)
        if fields is None or len(fields) < 15:
            continue
        stats[pid] = fields
        children.setdefault(fields[1], []).append(pid)  # fields[1] is the parent's pid
    if str(root) not in stats:
        return None
    chosen, frontier = {str(root)}, [str(root)]
    while frontier:
        for pid in children.get(frontier.pop(), ()):
            if pid not in chosen:
                chosen.add(pid)
                frontier.append(pid)
    if uid is not None:
        for pid in stats:
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    chosen.add(pid)
            except OSError:
                pass
    return {pid: stats[pid] for pid in chosen}


def _tree_cpu(root: int, uid: int | None = None) -> CpuSample | None:
    """CPU time of process `root`, its descendants and (given `uid`) every process of that uid;
    None when /proc cannot be read or `root` is gone."""
    tree = _tree(root, uid)
    if tree is None:
        return None
    threads_ns = 0
    ticks: dict[str, tuple[int, int]] = {}
    for pid, fields in tree.items():
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        ticks[pid] = (utime + stime, cutime + cstime)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # exited since: its ticks were read
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                    threads_ns += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return CpuSample(threads_ns, ticks)


def _wait_stopped(pids: Sequence[str], seconds: float = 0.2) -> None:
    """Wait (a little) until every thread of `pids` is stopped: SIGSTOP is asynchronous."""
    deadline = time.monotonic() + seconds
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            while time.monotonic() < deadline:
                fields = _proc_stat(f"{pid}/task/{tid}")
                if fields is None or fields[0] in ("T", "t", "Z", "X", "D"):
                    break
                time.sleep(0.0005)


def _signal_all(pids: Sequence[str], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(int(pid), signum)
        except (ProcessLookupError, PermissionError):
            pass


# ---------------------------------------------------------------- proving a mode before grading

#: A correct submission the grader knows without solutions/: it loads, writes to its scratch,
#: calls numpy and returns an array, as every honest submission does. Run in a worker exactly as
#: a student's code is (the lab's policy and limits) before anyone is graded.
KNOWN_GOOD = """\
import numpy as np


def convlab_known_good(x):
    with open("known-good.txt", "w") as f:  # the scratch folder is writable
        f.write("ok")
    return np.asarray(x, dtype=float) * 2.0 + 1.0
"""
KNOWN_GOOD_FUNCTION = "convlab_known_good"
#: The order auto mode tries; "none" only for a grader that is not root (as root, student code
#: without isolation could read the course secret: better stop than grade like that).
FALLBACK_ORDER = ("bubblewrap", "unprivileged-uid", "none")


@dataclass(frozen=True)
class Proof:
    """The isolation mode that ran the known-good submission, and the modes that could not."""

    mode: str
    failed: tuple[tuple[str, str], ...] = ()  # (mode, why) of each mode tried before `mode`

    @property
    def fell_back(self) -> bool:
        return bool(self.failed)

    def warning(self) -> str:
        """The loud line to print when a mode had to be given up ('' when none was)."""
        if not self.failed:
            return ""
        lost = "; ".join(f"{mode}: {why}" for mode, why in self.failed)
        return f"isolation fell back to {self.mode!r}: a correct submission could not run in {lost}"


def prove_mode(mode: str, policy: Policy, limits: Limits) -> str | None:
    """Run KNOWN_GOOD in `mode` as a student's code is run; None when it worked, else why not."""
    try:
        with Sandbox(
            KNOWN_GOOD,
            policy=policy,
            limits=replace(limits, isolation=mode),
            filename="known_good.py",
        ) as box:
            load = box.load()
            if not load.ok or KNOWN_GOOD_FUNCTION not in load.defined:
                return f"loading it gave {load.status}: {load.message}"[:600]
            x = np.arange(6, dtype=float).reshape(2, 3)
            result = box.call(KNOWN_GOOD_FUNCTION, x)
            if result.status != "ok":
                return f"calling it gave {result.status}: {result.message}"[:600]
            if not (
                isinstance(result.value, np.ndarray) and np.array_equal(result.value, x * 2 + 1)
            ):
                return "it returned a wrong value"
    except Exception as error:  # the sandbox itself could not start (no bwrap, EPERM, ...)
        return f"{type(error).__name__}: {error}"[:600]
    return None


def prove_isolation(policy: Policy, limits: Limits) -> Proof:
    """The isolation mode to grade in, proven by running a correct submission in it.

    A forced mode (`limits.isolation` or $CONVLAB_ISOLATION) is tried alone and never
    downgraded; auto mode tries bubblewrap, then unprivileged-uid (root) or none (not root).
    Raises IsolationUnavailable, naming every mode tried and why, when none can run correct
    code: never grade in a mode that would give an honest student a 0.
    """
    want = (limits.isolation or os.environ.get(ISOLATION_ENV) or "auto").strip().lower()
    if want == "auto":
        candidates = [
            m for m in FALLBACK_ORDER
            if (m != "bubblewrap" or bubblewrap_works())
            and (m != "unprivileged-uid" or os.geteuid() == 0)
            and (m != "none" or os.geteuid() != 0)
        ]  # fmt: skip
    else:
        candidates = [isolation_mode(want)]  # IsolationUnavailable for an unavailable forced mode
    failed: list[tuple[str, str]] = []
    for mode in candidates:
        why = prove_mode(mode, policy, limits)
        if why is None:
            return Proof(mode, tuple(failed))
        failed.append((mode, why))
    tried = "; ".join(f"{mode}: {why}" for mode, why in failed)
    forced = (
        "" if want == "auto" else f" (forced by {ISOLATION_ENV} or --isolation; not downgraded)"
    )
    raise IsolationUnavailable(
        f"no isolation mode can run a correct submission here{forced}, so nobody was graded. "
        f"Tried {tried}"
    )


def _forbidden_message(attempted: tuple[str, ...], message: str) -> str:
    if "not allowed in this lab" in message:
        return message  # the worker's own error names the use and the student's line
    names = ", ".join(attempted)
    text = (
        f"not allowed in this lab: {names}. Write the convolution yourself with numpy loops "
        "or array operations"
    )
    return f"{text}\n{message}" if message else text


__all__ = [
    "SANDBOX_LIMITS_DOC",
    "CallResult",
    "CpuSample",
    "GraderFault",
    "IsolationUnavailable",
    "Proof",
    "Limits",
    "LoadResult",
    "Policy",
    "Sandbox",
    "isolation_mode",
    "prove_isolation",
]
