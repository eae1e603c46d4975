"""Runs untrusted student code in a limited worker process and brings back only plain values."""

from __future__ import annotations

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
from collections.abc import Sequence
from dataclasses import dataclass
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
  holds only read-only /usr, /lib*, a few /etc files, the interpreter's prefix, the venv and the
  site-packages on sys.path, the worker script, its own /proc and /dev, and a private size-capped
  tmpfs as /tmp and working folder. Nothing trusted is in that view: not the repository
  (solutions/, tests/), the output folder, the reference cache, the course secret or its file,
  other submissions, the grader's environment or processes. In by-hand labs the forbidden
  libraries' package folders (tensorflow, scipy, keras, torch, jax, cv2, skimage, PIL, ...) are
  masked by empty read-only tmpfs: absent, not merely hooked. When the worker ends, its PID
  namespace and every process in it end too.
- "unprivileged-uid" (root without bubblewrap, e.g. a Gradescope container): the worker runs the
  lab's trusted preamble, then drops to a uid/gid of its own (a distinct uid per concurrent
  worker, no supplementary groups) before any student code runs; RLIMIT_NPROC applies; when the
  worker stops, every process of that uid is killed. Right before student code runs the worker
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
- tampering with the optional line count (`count_lines`, for the vectorization check) from
  inside the student's own frames; code that reaches for frames is flagged by the static scan.
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
    #: Python 'line' events in the student's file during the call (with count_lines=True).
    line_events: int | None = None


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


def _site_dirs() -> list[str]:
    dirs = set(site.getsitepackages())
    dirs.update(p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p))
    return sorted(d for d in dirs if os.path.isdir(d))


def _inside(path: str, root: str) -> bool:
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


@functools.cache
def _python_roots(extra: tuple[str, ...]) -> tuple[str, ...]:
    """Folders the worker's Python needs, read-only: the prefixes and site-packages on sys.path."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates.update(_site_dirs())
    candidates.update(extra)
    roots: set[str] = set()
    for path in candidates:
        for p in (os.path.abspath(path), os.path.realpath(path)):
            # Never the repo itself (solutions/, tests/, a secret), never "/" or /usr's parents.
            if os.path.isdir(p) and p != "/" and not _inside(str(REPO_ROOT), p):
                if not any(_inside(p, top) for top in ("/usr",)):
                    roots.add(p)
    # Keep the outermost folders only.
    return tuple(sorted(r for r in roots if not any(r != o and _inside(r, o) for o in roots)))


@functools.cache
def _masked_paths(
    forbidden: tuple[str, ...], roots: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """(path, owner) of every forbidden library's package inside the folders the worker sees."""
    names = sorted({m.split(".")[0] for m in forbidden if not m.startswith("numpy")})
    found = []
    for site_dir in sorted(set(_site_dirs()) | set(roots)):
        if not any(_inside(os.path.realpath(site_dir), r) for r in (*roots, "/usr")):
            continue
        for name in names:
            base = os.path.join(site_dir, name)
            paths = [base, base + ".py", *glob.glob(glob.escape(base) + ".*.so")]
            found.extend((p, name) for p in paths if os.path.lexists(p))
    return tuple(dict.fromkeys(found))


#: Imported before the worker drops to an unprivileged uid when the interpreter's folder is not
#: readable by other users (e.g. Python under /root): modules a student's code may import later.
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
    for root in roots:
        cmd += ["--ro-bind", root, root]
    hidden = [(p, "") for p in _secret_paths() if any(_inside(p, r) for r in roots)]
    for path, _ in [*masks, *hidden]:
        if not os.path.lexists(path):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            cmd += ["--perms", "0555", "--tmpfs", path, "--remount-ro", path]
        else:
            cmd += ["--ro-bind", "/dev/null", path]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += ["--size", str(max(limits.file_bytes * 4, 16 * 1024**2)), "--tmpfs", BWRAP_SCRATCH]
    cmd += ["--ro-bind", str(WORKER_PATH), BWRAP_WORKER, "--chdir", BWRAP_SCRATCH]
    return cmd


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
        # A fresh empty folder per worker: nothing a crashed run wrote is seen by the next.
        self._workdir = Path(tempfile.mkdtemp(prefix="convlab-sandbox-"))
        if self.isolation == "unprivileged-uid":
            _protect_trusted_files()
            self._uid = _UIDS.acquire()
            os.chown(self._workdir, self._uid, self._uid)
        command = [sys.executable, "-I", str(WORKER_PATH)]
        process = _Process(
            command, cwd=self._workdir, env=_worker_env(self._workdir), limits=self.limits,
            output=self._output, mode=self.isolation,
        )  # fmt: skip
        return process, str(self._workdir)

    def _start(self) -> LoadResult:
        """Start a worker and run preamble + student code in it."""
        begin = time.monotonic()
        remaining = self._remaining()
        if remaining <= 0:
            return LoadResult(False, "timeout", self._total_message())
        seconds = min(self.limits.load_seconds, remaining)
        deadline = begin + seconds
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
            why = (
                self._total_message()
                if seconds < self.limits.load_seconds
                else f"running your code's top level took longer than {seconds:g} s"
            )
            result = LoadResult(False, "timeout", why)
        except WorkerGone:
            status, message = process.exit_status(self.limits)
            self._stop()
            result = LoadResult(False, status, "while loading your code: " + message)
        except ProtocolError as error:
            self._stop()
            message = f"while loading your code: the worker sent an invalid reply ({error})"
            result = LoadResult(False, "crashed", message)
        attempted = tuple(dict.fromkeys(process.events))
        if attempted and result.status in ("ok", "error"):
            result.status, result.ok = "forbidden", False
            result.message = _forbidden_message(attempted, result.message)
        result.seconds = time.monotonic() - begin
        return result

    def load(self) -> LoadResult:
        """Start the worker and run the preamble and the student's code (once)."""
        if self._load is None:
            self._load = self._start()
        return self._load

    def call(
        self, function: str, *args: object, count_lines: bool = False, **kwargs: object
    ) -> CallResult:
        """Call the student's `function` on plain values and return what came back.

        With `count_lines`, the result's `line_events` is the number of Python 'line' events
        executed in the student's own file during the call (sys.settrace; off by default).
        """
        load = self.load()
        if load.status in ("timeout", "crashed") or (load.status == "memory" and not load.defined):
            message = f"your code could not be loaded, so {function} was not run: {load.message}"
            return CallResult(load.status, message=message)
        if self._process is None:
            reload = self._start()
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
            "count_lines": bool(count_lines),
        }
        start_events = len(process.events)
        call_begin = time.monotonic()
        try:
            process.send(header, arrays, deadline)
            reply, values = process.receive("result", self.limits.result_bytes, deadline)
            result = self._result(reply, values)
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
        lines = reply.get("line_events")
        return CallResult(
            status,
            value=value,
            type_name=_text(reply, "type_name")[:100],
            message=message,
            line_events=lines if isinstance(lines, int) and not isinstance(lines, bool) else None,
        )

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
    "IsolationUnavailable",
    "Limits",
    "LoadResult",
    "Policy",
    "Sandbox",
    "isolation_mode",
]
