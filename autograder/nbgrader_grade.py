"""nbgrader autograde with the grade of record computed outside the student's kernel."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import Preprocessor
from nbconvert.writers import FilesWriter
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from .classroom import grade_id
from .safe_text import printable

#: Environment variables a student's kernel never sees: the course secret, credentials, pytest's.
_SCRUBBED = re.compile(r"SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL|^CONVLAB_|^PYTEST_", re.I)
#: Where a test cell's verdict says who computed it.
GRADED_BY = "(graded outside your notebook by the course's sandboxed grader)"


def kernel_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the course secret, its file, credentials and pytest's variables."""
    return {k: v for k, v in env.items() if not _SCRUBBED.search(k)}


#: What a TA keeps in their home folder that no student's kernel may read (Jupyter's runtime
#: files hold the running server's token, ~/.jupyter its configuration; credentials of every kind).
HOME_PRIVATE = (
    ".ssh", ".gnupg", ".aws", ".azure", ".config", ".docker", ".kube", ".netrc",
    ".git-credentials", ".pgpass", ".jupyter", ".local/share/jupyter", ".ipython",
    ".bash_history", ".zsh_history", ".python_history", ".cache/convlab",
)  # fmt: skip


def kernel_isolation(env: Mapping[str, str]) -> str | None:
    """None when student kernels run in bubblewrap; else why they run without it.

    Kernels run in bubblewrap wherever it works, whatever mode the grader's own workers use,
    unless $CONVLAB_ISOLATION=none; =bubblewrap where it cannot run raises IsolationUnavailable
    (no kernel starts with less isolation than the TA asked for).
    """
    from .sandbox import ISOLATION_ENV, IsolationUnavailable, bubblewrap_works

    want = (env.get(ISOLATION_ENV) or "auto").strip().lower()
    if want == "none":
        return f"{ISOLATION_ENV}=none"
    if bubblewrap_works():
        return None
    if want in ("bubblewrap", "bwrap"):
        raise IsolationUnavailable(
            "bubblewrap was asked for but cannot run here (install the `bubblewrap` package; "
            "user namespaces must be allowed)"
        )
    return "no `bwrap`, or it cannot make namespaces here"


def kernel_sandbox(
    kernel_cmd: list[str], cwd: Path, env: Mapping[str, str], *, sockets: Path | None = None
) -> list[str]:
    """`kernel_cmd` wrapped in bubblewrap: the course folder hidden but for the notebook's own.

    nbgrader runs the kernel in `<course>/autograded/<student>/<lab>/`. Inside, the whole file
    system is read-only; the course folder (gradebook, source, other students' submissions and
    results, nbgrader's log) is an empty read-only tmpfs but for this folder, where the kernel
    sees the folder's files read-only and whatever it writes stays private to it (a tmpfs, gone
    with the kernel): nothing it does there reaches the folder nbgrader writes the notebook to.
    The course secret's file, the reference cache, Jupyter's runtime, data and configuration
    folders (the TA's server token) and the TA's credentials are hidden (empty and read-only);
    /tmp is private, /run empty; PID, IPC and UTS namespaces are new and the kernel dies with
    nbgrader. With `sockets` (a folder for ZMQ's unix sockets: KernelManager.transport = "ipc")
    the network namespace is new too: the kernel has a loopback of its own, reaching no server.
    Without bubblewrap (see `kernel_isolation`) the command is returned unchanged.
    """
    if kernel_isolation(env) is not None:
        return kernel_cmd
    bwrap = shutil.which("bwrap") or "bwrap"
    here = cwd.resolve()
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    empty = []  # folders replaced by an empty tmpfs, made read-only once all is mounted
    for hidden in _hidden_paths(env):
        if hidden.is_dir():
            empty.append(hidden)
        else:
            args += ["--ro-bind", "/dev/null", str(hidden)]
    if here.parent.parent.name == "autograded":  # nbgrader's layout: hide the course folder
        empty.append(here.parents[2])
    for folder in empty:
        args += ["--tmpfs", str(folder)]
    args += ["--tmpfs", str(here)]  # the kernel's own writes: private, gone with it
    for entry in sorted(here.iterdir()):
        if not entry.is_symlink() and (entry.is_file() or entry.is_dir()):
            args += ["--ro-bind", str(entry), str(entry)]
    if "-f" in kernel_cmd[:-1]:  # the connection file, often in the runtime folder just hidden
        connection = str(Path(kernel_cmd[kernel_cmd.index("-f") + 1]).resolve())
        args += ["--ro-bind", connection, connection]
    if sockets is not None:
        args += ["--bind", str(sockets.resolve()), str(sockets.resolve()), "--unshare-net"]
    for folder in empty:  # a write there fails rather than seem to land
        args += ["--remount-ro", str(folder)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
    args += ["--chdir", str(here), "--setenv", "IPYTHONDIR", "/tmp/ipython"]
    args += ["--setenv", "MPLCONFIGDIR", "/tmp/matplotlib"]
    # In its own PID namespace the kernel's parent is pid 1, which ipykernel's parent poller takes
    # for "nbgrader exited" (jupyter_client sets JPY_PARENT_PID); --die-with-parent does its job.
    args += ["--unsetenv", "JPY_PARENT_PID"]
    return [*args, *kernel_cmd]


def _hidden_paths(env: Mapping[str, str]) -> list[Path]:
    """What the kernel must not see, wherever the TA's environment puts it: the secret's file,
    the reference cache, Jupyter's runtime/data/config folders, /run and the TA's credentials."""
    home = Path(env.get("HOME") or Path.home())
    paths = [Path(env[v]) for v in _HIDDEN_VARS if env.get(v)]
    paths += [home / name for name in HOME_PRIVATE]
    for var, default, sub in (
        ("XDG_DATA_HOME", home / ".local" / "share", "jupyter"),
        ("XDG_CONFIG_HOME", home / ".config", ""),
        ("XDG_CACHE_HOME", home / ".cache", "convlab"),
    ):
        paths.append(Path(env.get(var) or default) / sub)
    paths.append(Path("/run"))
    found = {p.resolve() for p in paths if p.exists()}
    return sorted(p for p in found if p != Path("/") and p != home.resolve())


#: Variables naming files or folders a student's kernel must not see.
_HIDDEN_VARS = (
    "CONVLAB_COURSE_SECRET_FILE",
    "CONVLAB_CACHE_DIR",
    "JUPYTER_RUNTIME_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_CONFIG_DIR",
    "XDG_RUNTIME_DIR",
)


class ScrubbedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels cannot reach the course secret, gradebook or classmates.

    nbgrader's Execute preprocessor starts the student's kernel with nbgrader's own environment,
    which holds CONVLAB_COURSE_SECRET when the TA set it, and with the TA's file system, which
    holds the gradebook. This manager starts it without secrets in its environment and, where
    bubblewrap works, inside `kernel_sandbox`, in a network namespace of its own: its ZMQ
    channels are then unix sockets in a private folder (transport "ipc"), which nbgrader reaches
    and nothing else does. Configured in nbgrader_config.py as `c.Execute.kernel_manager_class`.
    """

    _sockets: Path | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self._sockets is None and kernel_isolation(kw.get("env") or os.environ) is None:
            self._sockets = Path(tempfile.mkdtemp(prefix="convlab-kernel-"))
            # removed at shutdown, or when nbgrader drops a dead kernel without shutting it down
            weakref.finalize(self, shutil.rmtree, self._sockets, ignore_errors=True)
            self.transport = "ipc"
            self.ip = str(self._sockets / "kernel")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        env = dict(kw.get("env") or os.environ)
        kw["env"] = kernel_environment(env)
        cwd = Path(kw.get("cwd") or os.getcwd())
        sandboxed = kernel_sandbox(kernel_cmd, cwd, env, sockets=self._sockets)
        await super()._async_launch_kernel(sandboxed, **kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None


class LinkRefusingFilesWriter(FilesWriter):
    """nbconvert's FilesWriter that never writes through a link.

    nbgrader writes the graded notebook at the path the student's kernel ran beside. A kernel
    that could write there (no bubblewrap) may leave that path a link to the gradebook (or a hard
    link: a second name of the gradebook's file), or the folder itself a link to a classmate's,
    and links beside it, which nbgrader would then chmod and generate_feedback copy into the
    student's feedback. This writer removes every link and special file in the destination
    folder (saying so), and writes the notebook (and any extracted output) to a new file renamed
    over the old name: a link there is replaced, never followed. The destination folder and its
    parent (the student's), if links, are replaced by folders.
    """

    def write(
        self, output: str, resources: dict[str, Any], notebook_name: str | None = None, **kw: Any
    ) -> str:
        if notebook_name is None:
            raise TypeError("notebook_name")
        folder = Path(os.path.abspath(self.build_directory or "."))
        who = resources.get("nbgrader", {}).get("student")
        who = f"student {who!r}'s kernel" if who else "the notebook's kernel"
        self._unlink_linked_folders(folder, who)
        folder.mkdir(parents=True, exist_ok=True)
        for removed, what in _remove_links(folder):
            self.log.warning("Removed %s (%s, left by %s)", removed, what, who)
        name = notebook_name + resources.get("output_extension", "")
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            try:
                old = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                old = None
            if old is not None and (stat.S_ISLNK(old.st_mode) or old.st_nlink > 1):
                kind = "a link" if stat.S_ISLNK(old.st_mode) else "a hard link"
                self.log.warning(
                    "%s was %s (left by %s): replaced a link with the graded notebook, "
                    "nothing was written through it",
                    folder / name,
                    kind,
                    who,
                )
            _replace(fd, name, output.encode("utf-8") if isinstance(output, str) else output)
        finally:
            os.close(fd)
        for relative, data in (resources.get("outputs") or {}).items():  # extracted outputs
            path = Path(os.path.normpath(folder / relative))
            if folder not in path.parents:
                raise OSError(f"refused to write {path}: outside {folder}")
            path.parent.mkdir(parents=True, exist_ok=True)
            sub = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                _replace(sub, path.name, data)
            finally:
                os.close(sub)
        return str(folder / name)

    def _unlink_linked_folders(self, folder: Path, who: str) -> None:
        for path in (folder.parent, folder):  # the student's folder, the notebook's
            if path.is_symlink():
                self.log.warning(
                    "%s was a link to %s (left by %s): replaced by a folder, nothing was "
                    "written through it",
                    path,
                    os.readlink(path),
                    who,
                )
                path.unlink()


def _remove_links(folder: Path) -> list[tuple[Path, str]]:
    """Remove every link, FIFO, socket or device below `folder`; (path, what it was) each."""
    removed = []
    for top, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            path = Path(top) / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                continue
            target = f"a link to {os.readlink(path)}" if stat.S_ISLNK(mode) else "a special file"
            path.unlink()
            removed.append((path, target))
    return removed


def _replace(dir_fd: int, name: str, data: bytes) -> None:
    """Write `data` to a new file in the folder and rename it over `name` (never followed)."""
    temp = f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise


class WriteWithoutFollowingLinks(Preprocessor):
    """Make nbgrader's writer for this run a `LinkRefusingFilesWriter` (and, under autograde, say
    loudly when the student's kernel ran without bubblewrap).

    nbgrader creates its FilesWriter itself, with no setting to change its class; this step (in
    `c.Autograde.autograde_preprocessors` and `c.GenerateFeedback.preprocessors`) replaces the
    converter's writer before the notebook is written. It fails the notebook rather than write
    with nbgrader's own writer when that cannot be done.
    """

    enabled = True
    _warned = False

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        converter = getattr(self.parent, "parent", None)
        if not isinstance(getattr(converter, "writer", None), FilesWriter):
            raise RuntimeError("cannot find nbgrader's writer: refusing to write a graded notebook")
        if not isinstance(converter.writer, LinkRefusingFilesWriter):
            converter.writer = LinkRefusingFilesWriter(parent=converter, config=converter.config)
        reason = kernel_isolation(os.environ)
        if os.environ.get("NBGRADER_EXECUTION") == "autograde" and reason and not self._warned:
            type(self)._warned = True
            self.log.warning(NO_SANDBOX_WARNING, reason)
        return nb, resources


#: Said once per autograde run when kernels run without bubblewrap.
NO_SANDBOX_WARNING = (
    "Students' kernels run WITHOUT bubblewrap (%s). Scores still come from the sandboxed grader "
    "and nbgrader's writes refuse links, but a hostile notebook is NOT stopped from: reading and "
    "writing every file this user can (the gradebook, other students' notebooks, "
    "nbgrader_config.py, ~/.jupyter), reading the Jupyter server's token and using its API, "
    "reaching any port on loopback, signalling nbgrader, or leaving processes behind. Install "
    "bubblewrap, or grade with `python -m autograder grade`."
)


def _is_test_cell(cell: NotebookNode) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _source_only(nb: NotebookNode) -> NotebookNode:
    """The notebook as submitted for grading: sources and metadata, no outputs."""
    copy = nbformat.from_dict(nb)
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return copy


def verdict_outputs(text: str, score: float) -> list[NotebookNode]:
    """A test cell's outputs: the report on stdout, the points as its value (nbgrader's partial
    credit), nothing on stderr. The report is plain text with every control character escaped:
    no ANSI colour or cursor code reaches nbgrader's feedback (which renders a stream's text as
    escaped HTML, colours and all) or a terminal."""
    return [
        nbformat.v4.new_output("stream", name="stdout", text=printable(text).rstrip("\n") + "\n"),
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": repr(float(score))}, execution_count=None
        ),
    ]


class ExecuteAnswersOnly(Execute):
    """nbgrader's Execute without the graded test cells, and without giving up on a notebook.

    Their outputs and points come from `GradeOutsideKernel`, so running them in the student's
    kernel would only spend time (a second grading, TensorFlow included) and let a function that
    never returns hang the kernel there. Every other cell runs as usual, until a cell kills the
    kernel or keeps it busy past the timeout and its interrupt: nbgrader would then drop the whole
    notebook and the student would get no grade. Here that cell says what happened, the cells
    after it are not run (each says why), and grading goes on outside the kernel as for everyone.
    """

    def preprocess(
        self, nb: NotebookNode, resources: Any = None, km: Any = None
    ) -> tuple[NotebookNode, dict[str, Any]]:
        self._stopped_by: str | None = (
            None  # the cell that stopped the kernel, as a student says it
        )
        return super().preprocess(nb, resources, km)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        if _is_test_cell(cell):
            return cell, resources
        if self._stopped_by is not None:
            if cell.cell_type == "code":
                cell.outputs = [_kernel_note(f"Not run: {self._stopped_by} stopped the kernel.")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as error:
            gid = grade_id(cell)
            self._stopped_by = f"your cell {gid!r}" if gid else "an earlier cell (it says so)"
            what = (
                "killed the kernel"
                if isinstance(error, DeadKernelError)
                else (
                    f"was still running {self.timeout} s after it started and did not stop when "
                    "interrupted"
                )
            )
            cell.outputs = [
                *cell.get("outputs", []),
                _kernel_note(f"This cell {what}; the cells after it were not run."),
            ]
            return cell, resources


def _kernel_note(text: str) -> NotebookNode:
    """A cell's output explaining why the notebook stopped running (grading is unaffected)."""
    return nbformat.v4.new_output(
        "stream",
        name="stdout",
        text=f"{text} (Your functions are graded outside this notebook all the same.)\n",
    )


class GraderFailed(RuntimeError):
    """The course's grader (not the student's code) failed on a notebook: no grade recorded."""


_PROVEN: dict[str, Any] = {}


def _proven_limits(lab: Any, log: Any) -> Any:
    """The grader's limits for `lab` in an isolation mode that ran a known-good submission here,
    proven once per nbgrader process (as `grade` proves it once per class); IsolationFailed
    stops the run when no mode can run correct code."""
    from dataclasses import replace

    from .grade import _prove
    from .sandbox import Limits

    if lab.id not in _PROVEN:
        proof = _prove(lab, None)
        if proof.fell_back:
            log.warning("%s", proof.warning())
        _PROVEN[lab.id] = replace(Limits(), isolation=proof.mode)
    return _PROVEN[lab.id]


class GradeOutsideKernel(Preprocessor):
    """Overwrite every graded test cell with the verdict of `grade_submission` on this notebook.

    Runs in nbgrader's (trusted) process after Execute and before SaveAutoGrades. The student's
    answer cells are graded by the same sandboxed grader as `python -m autograder grade`, with the
    student's hidden seed; whatever the kernel printed or returned in a test cell is discarded, so
    nothing a kernel does changes a score, and a hidden test's cases never come from the kernel.
    Labs the registry does not know are left as nbgrader graded them.
    """

    enabled = True

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        from .grade import grade_submission
        from .registry import LABS

        info = resources.get("nbgrader", {})
        lab = LABS.get(str(info.get("assignment", "")))
        if lab is None:
            return nb, resources
        student = str(info.get("student") or "local")
        limits = _proven_limits(lab, self.log)
        with tempfile.TemporaryDirectory(prefix="convlab-nbgrader-") as tmp:
            path = Path(tmp) / f"{lab.id}.ipynb"
            nbformat.write(_source_only(nb), path)
            report = grade_submission(path, lab, student=student, limits=limits)
        if report.grader_error:
            # Not the student's grade: nbgrader records no score for this notebook (its autograde
            # says it failed, the TA reruns it), instead of the points of a broken grader.
            raise GraderFailed(
                f"convlab's grader failed on {student}'s {lab.id}, so no grade was recorded: "
                + "; ".join(report.grader_errors)
            )
        verdicts = {f"test_{t.function}_{t.suite}": t for t in report.tests}
        problems = "".join(f"{p}\n" for p in report.problems)
        for cell in nb.cells:
            if not _is_test_cell(cell):
                continue
            result = verdicts.get(grade_id(cell) or "")
            if result is None:
                text, score = f"✘ {grade_id(cell)}: not a test the course's grader knows.", 0.0
            else:
                text, score = result.output, result.score
            cell.outputs = verdict_outputs(f"{problems}{text}\n{GRADED_BY}", score)
            problems = ""  # said once, in the first test cell
        return nb, resources
