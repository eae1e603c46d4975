"""The worker's seccomp filter (issue 19): once it is on, no process starts, whatever the
student's code reaches (a fresh _posixsubprocess from _imp, raw memory); threads still start.

The filter is checked three ways: its BPF program run by a small interpreter here (the verdict
for each system call), a real process that installs it (and a control that does not), and the
worker in each isolation mode (/proc/self/status says Seccomp: 2).
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.registry import get_lab
from autograder.sandbox import Limits, Policy, Sandbox, bubblewrap_works

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "autograder" / "_worker.py"
LAB = get_lab("03_filter_banks")
POLICY = Policy(forbidden_modules=LAB.forbidden_modules)
PROCESSES_ALLOWED = Policy(forbidden_modules=LAB.forbidden_modules, allow_processes=True)
SMALL = Limits(call_seconds=5, load_seconds=20, total_seconds=40, memory_bytes=1024**3)
X86_64 = os.uname().machine == "x86_64"
needs_x86_64 = pytest.mark.skipif(not X86_64, reason="the filter knows x86_64 only")


def _worker_module():  # noqa: ANN202
    """_worker.py as a module (importing it runs nothing: main() runs only as __main__)."""
    spec = importlib.util.spec_from_file_location("convlab_worker_under_test", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


W = _worker_module()
ALLOW, EPERM, ENOSYS = W.SECCOMP_RET_ALLOW, W.SECCOMP_RET_ERRNO | 1, W.SECCOMP_RET_ERRNO | 38


def _run_bpf(program: bytes, nr: int, arch: int = W.AUDIT_ARCH_X86_64, arg0: int = 0) -> int:
    """The verdict of a classic-BPF seccomp program for one system call (the opcodes it uses)."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    code = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    acc, pc = 0, 0
    while True:
        op, jt, jf, k = code[pc]
        pc += 1
        if op == W.BPF_LD_W_ABS:
            (acc,) = struct.unpack_from("<I", data, k)
        elif op == W.BPF_RET_K:
            return k
        elif op in (W.BPF_JEQ_K, W.BPF_JGE_K, W.BPF_JSET_K):
            taken = {W.BPF_JEQ_K: acc == k, W.BPF_JGE_K: acc >= k, W.BPF_JSET_K: acc & k != 0}
            pc += jt if taken[op] else jf
        else:
            raise AssertionError(f"unknown opcode {op:#x}")


def test_filter_program_verdicts():
    """Does the program refuse exec, fork, vfork, clone of a process, ptrace, other processes'
    signals, i386 and x32 calls; answer ENOSYS to clone3; and allow threads and everything else?"""
    pid = 4242
    program = W.process_filter_program(pid)
    nr = W.X86_64
    refused = ["execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv"]
    refused += ["process_vm_writev", "pidfd_send_signal", "pidfd_getfd", "mknod", "mknodat"]
    refused += ["socket", "socketpair", "io_uring_setup"]
    for name in refused:
        assert _run_bpf(program, nr[name]) == EPERM, name
    sigchld, clone_vm, clone_vfork = 17, 0x100, 0x4000
    assert _run_bpf(program, nr["clone"], arg0=sigchld) == EPERM  # fork()
    assert _run_bpf(program, nr["clone"], arg0=clone_vm | clone_vfork | sigchld) == EPERM  # spawn
    thread = 0x3D0F00  # glibc's pthread_create flags, CLONE_THREAD among them
    assert _run_bpf(program, nr["clone"], arg0=thread) == ALLOW
    assert _run_bpf(program, nr["clone3"]) == ENOSYS
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        assert _run_bpf(program, nr[name], arg0=pid) == ALLOW, name
        assert _run_bpf(program, nr[name], arg0=1) == EPERM, name
        assert _run_bpf(program, nr[name], arg0=(1 << 32) - 1) == EPERM, name  # kill(-1)
    for read_like in (0, 1, 2, 257, 9, 231):  # read, write, open, openat, mmap, exit_group
        assert _run_bpf(program, read_like) == ALLOW
    assert _run_bpf(program, 59 | W.X32_SYSCALL_BIT) == EPERM  # the x32 entry point
    assert _run_bpf(program, 11, arch=0x40000003) == EPERM  # i386 execve (int 0x80)
    assert _run_bpf(program, 3, arch=0x40000003) == EPERM  # i386: nothing at all


PROBE = r"""
import _imp, importlib.machinery, json, os, subprocess, sys, threading
import numpy as np
sys.path.insert(0, "")
spec = importlib.util.spec_from_file_location("w", sys.argv[1])
w = importlib.util.module_from_spec(spec); spec.loader.exec_module(w)
out = {}
if sys.argv[2] == "filter":
    out["installed"] = w.install_process_filter()

def attempt(name, action):
    try:
        action()
        out[name] = "started"
    except OSError as error:
        out[name] = error.errno

def fork():
    if os.fork() == 0:
        os._exit(0)
    os.wait()

def fresh_fork_exec():
    name = "_posixsubprocess"
    found = importlib.machinery.BuiltinImporter.find_spec(name)
    if found is not None:
        module = _imp.create_builtin(found)
    else:  # not built in here: the extension module's spec, created afresh
        origin = sys.modules[name].__file__
        module = _imp.create_dynamic(importlib.machinery.ModuleSpec(name, None, origin=origin))
    args = [b"/bin/true"]
    r, wr = os.pipe()
    common = [args, args, True, (), None, None, -1, -1, -1, -1, -1, -1, r, wr, True, True]
    try:
        pid = module.fork_exec(*common, -1, None, None, None, -1, None, False)
    except TypeError:
        pid = module.fork_exec(*common, None, None, None, -1, None)
    os.waitpid(pid, 0)

attempt("fork", fork)
attempt("posix_spawn", lambda: os.waitpid(os.posix_spawn("/bin/true", ["true"], {}), 0))
attempt("subprocess", lambda: subprocess.run(["/bin/true"], check=True))
attempt("fresh_fork_exec", fresh_fork_exec)
attempt("kill_parent", lambda: os.kill(os.getppid(), 0))
attempt("kill_self", lambda: os.kill(os.getpid(), 0))
import socket
attempt("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
attempt("unix_socket", lambda: socket.socketpair()[0].close())
results = []
threads = [threading.Thread(target=lambda: results.append(1)) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
out["threads"] = len(results)
a = np.random.default_rng(0).random((400, 400))
out["blas"] = bool(np.allclose(a @ np.eye(400), a))
out["tasks"] = len(os.listdir("/proc/self/task"))
out["seccomp"] = sorted({open(f"/proc/self/task/{t}/status").read().split("Seccomp:")[1].split()[0]
                         for t in os.listdir("/proc/self/task")})
if sys.argv[2] == "filter":  # (without the filter, this would replace the probe)
    attempt("execv", lambda: os.execv("/bin/true", ["true"]))
print(json.dumps(out))
"""


def _probe(*args: str, env: dict | None = None) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(WORKER), *args], capture_output=True, text=True,
        timeout=120, env={**os.environ, "OPENBLAS_NUM_THREADS": "2", **(env or {})},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


@needs_x86_64
def test_filter_stops_every_process_start_and_keeps_threads():
    """With the filter, are fork, posix_spawn, subprocess, exec, a fresh fork_exec from _imp, a
    signal to the parent and new sockets refused (EPERM), while threads and numpy's BLAS
    threads work, on every thread of the process? Without it (the control), do they start?"""
    control = _probe("none")
    for name in ("fork", "posix_spawn", "subprocess", "fresh_fork_exec", "kill_parent", "socket"):
        assert control[name] == "started", (name, control)
    filtered = _probe("filter")
    assert filtered["installed"] == ""
    refused = ("fork", "posix_spawn", "subprocess", "fresh_fork_exec", "kill_parent", "execv")
    for name in (*refused, "socket", "unix_socket"):
        assert filtered[name] == 1, (name, filtered)  # EPERM
    assert filtered["kill_self"] == "started"
    assert filtered["threads"] == 4 and filtered["blas"] is True
    if (os.cpu_count() or 1) >= 2:  # OpenBLAS started its second thread under the filter
        assert filtered["tasks"] >= 2, filtered
    assert filtered["seccomp"] == ["2"], filtered


SYSTEM_PYTHON = Path("/usr/bin/python3")
#: The worker's seccomp section, run as is by an interpreter without numpy.
SECTION = WORKER.read_text().split(
    "# ---------------------------------------------------------------- seccomp"
)[1]
SECTION = "import os, struct\n" + SECTION.split("\ndef apply_process_filter")[0].split("\n", 1)[1]

BUILTIN_ATTACK = r"""
import _imp, importlib.machinery, json, os, sys
events = []
sys.addaudithook(lambda event, args: events.append(args[0]) if event == "import" else None)
exec(sys.argv[1])
out = {"installed": install_process_filter() if sys.argv[2] == "filter" else None}
spec = importlib.machinery.BuiltinImporter.find_spec("_posixsubprocess")
module = _imp.create_builtin(spec)
out["import_events"] = [e for e in events if "posixsubprocess" in str(e)]
args = [b"/bin/true"]
r, w = os.pipe()
common = [args, args, True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True]
try:
    pid = module.fork_exec(*common, -1, None, None, None, -1, None, False)
    os.waitpid(pid, 0)
    out["started"] = True
except OSError as error:
    out["started"] = error.errno
print(json.dumps(out))
"""


def _builtin_posixsubprocess() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = "import sys; print('_posixsubprocess' in sys.builtin_module_names)"
    run = subprocess.run([str(SYSTEM_PYTHON), "-c", probe], capture_output=True, text=True)
    return run.stdout.strip() == "True"


@needs_x86_64
@pytest.mark.skipif(not _builtin_posixsubprocess(), reason="no python3 with a built-in one")
def test_builtin_posixsubprocess_attack_is_real_and_filtered():
    """With Ubuntu/Debian's python3 (_posixsubprocess built in): does _imp.create_builtin give a
    working fork_exec with no import audit event (the attack is real), and does the worker's
    filter code make that fork fail with EPERM?"""
    runs = {}
    for mode in ("none", "filter"):
        run = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-c", BUILTIN_ATTACK, SECTION, mode],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        runs[mode] = json.loads(run.stdout.splitlines()[-1])
    assert runs["none"] == {"installed": None, "import_events": [], "started": True}
    assert runs["filter"] == {"installed": "", "import_events": [], "started": 1}


def test_other_architectures_claim_nothing(monkeypatch):
    """On an architecture the filter does not know, is nothing installed and the reason said?"""
    module = _worker_module()
    fake = os.uname_result(("Linux", "host", "6.1", "#1", "aarch64"))
    monkeypatch.setattr(module.os, "uname", lambda: fake)
    assert module.install_process_filter() == (
        "no seccomp process filter for aarch64 (only x86_64 is known)"
    )
    assert module.apply_process_filter("required").startswith("no seccomp process filter")


def test_required_filter_that_fails_stops_the_setup(monkeypatch):
    """In uid mode ("required"), does a filter the kernel refuses fail the worker's setup (the
    grader's fault, said so) rather than grade with less than it claims; elsewhere go on?"""
    module = _worker_module()

    def refused() -> str:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(module, "install_process_filter", refused)
    with pytest.raises(RuntimeError, match="could not install its process filter"):
        module.apply_process_filter("required")
    assert module.apply_process_filter("try").startswith("not installed")


STATUS_PROBE = """\
def status():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return fields["Seccomp"].strip() + "/" + fields["NoNewPrivs"].strip()
"""

MODES = [
    pytest.param(
        "bubblewrap",
        marks=pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap cannot run here"),
    ),
    pytest.param(
        "unprivileged-uid",
        marks=pytest.mark.skipif(os.geteuid() != 0, reason="the uid mode needs root"),
    ),
    "none",
]


@needs_x86_64
@pytest.mark.parametrize("mode", MODES)
def test_worker_runs_student_code_under_the_filter(mode):
    """In every mode, does student code run with the filter on and no_new_privs set, and with
    it off only when the policy allows processes (the OS-layer tests)?"""
    limits = Limits(**{**SMALL.__dict__, "isolation": mode})
    with Sandbox(STATUS_PROBE, policy=POLICY, limits=limits) as box:
        assert box.call("status").value == "2/1"
    with Sandbox(STATUS_PROBE, policy=PROCESSES_ALLOWED, limits=limits) as box:
        assert box.call("status").value.startswith("0/")


THREADS_AND_BLAS = """\
import numpy as np

def conv2d(inputs, filters, strides, padding):
    n, h, w, c = inputs.shape
    fh, fw, _, k = filters.shape
    cols = np.lib.stride_tricks.sliding_window_view(inputs, (fh, fw), axis=(1, 2))
    out = cols.reshape(n, h - fh + 1, w - fw + 1, c * fh * fw)
    weights = filters.transpose(2, 0, 1, 3).reshape(c * fh * fw, k)
    big = np.random.default_rng(0).random((300, 300))
    assert np.allclose(big @ np.eye(300), big)  # a BLAS call big enough for its threads
    return out @ weights
"""


@pytest.mark.parametrize("mode", MODES)
def test_matmul_submission_keeps_its_answer(mode):
    """Does a vectorized (im2col + matmul, BLAS) submission still get the right answer?"""
    limits = Limits(**{**SMALL.__dict__, "isolation": mode})
    rng = np.random.default_rng(1)
    x, w = rng.random((2, 6, 6, 3)), rng.random((3, 3, 3, 4))
    with Sandbox(THREADS_AND_BLAS, policy=POLICY, limits=limits) as box:
        result = box.call("conv2d", x, w, 1, "VALID")
    assert result.status == "ok", result.message
    expected = np.einsum("nhwcij,cijk->nhwk",
                         np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2)),
                         w.transpose(2, 0, 1, 3))  # fmt: skip
    assert np.allclose(result.value, expected)


def test_grader_says_when_workers_have_no_filter(monkeypatch, tmp_path, capsys):
    """On an architecture without the filter, does the grader warn the TA once, outside
    bubblewrap, and say nothing of it on x86_64?"""
    from autograder import sandbox
    from autograder.grade import grade_class

    (tmp_path / "s.py").write_text("def conv2d(a, b, c, d):\n    return a\n")
    limits = Limits(**{**SMALL.__dict__, "isolation": "none"})
    grade_class([tmp_path / "s.py"], LAB.id, out_dir=tmp_path / "a", limits=limits)
    assert ("seccomp" in capsys.readouterr().err) is not X86_64
    fake = os.uname_result(("Linux", "host", "6.1", "#1", "riscv64"))
    monkeypatch.setattr(sandbox.os, "uname", lambda: fake)
    assert "no seccomp process filter on riscv64" in sandbox.process_filter_note()
    grade_class([tmp_path / "s.py"], LAB.id, out_dir=tmp_path / "b", limits=limits)
    assert capsys.readouterr().err.count("WARNING: no seccomp process filter on riscv64") == 1
