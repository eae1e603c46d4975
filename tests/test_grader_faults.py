"""A grader fault is never a student's grade: the isolation mode proves itself, a failure on the
grader's side is a grader error (no score, exit 3, regraded), a full disk or a flood costs no
classmate, unencodable text is escaped."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import autograder.grade as grade_module
from autograder import sandbox
from autograder.__main__ import EXIT_GRADER_FAILED
from autograder.__main__ import main as cli_main
from autograder.grade import (
    GRADER_ERROR_CELL,
    IsolationFailed,
    grade_class,
    grade_submission,
    is_grader_error,
)
from autograder.gradescope import run as gradescope_run
from autograder.registry import get_lab
from autograder.report import write_class_report
from autograder.sandbox import (
    GRADER_ERROR,
    GraderFault,
    IsolationUnavailable,
    Limits,
    Policy,
    Sandbox,
    prove_isolation,
    prove_mode,
)

ROOT = Path(__file__).resolve().parents[1]
FAULTS = ROOT / "tests" / "submissions" / "faults"
CORRECT = (ROOT / "tests" / "submissions" / "correct" / "naive_loops.py").read_text()
LAB = get_lab("03_filter_banks")
CONV2D_POINTS = LAB.item("conv2d").max_score
SCHEMA = json.loads((ROOT / "tests" / "gradescope_results.schema.json").read_text())
FAST = Limits(call_seconds=5, total_seconds=60, memory_bytes=1024**3)
IS_ROOT = os.geteuid() == 0
BROKEN_PREAMBLE = "import numpy as np\nraise RuntimeError('the lab preamble broke')\n"


def _modes() -> list[str]:
    modes = ["bubblewrap"] if sandbox.bubblewrap_works() else []
    return modes + (["unprivileged-uid"] if IS_ROOT else ["none"])


def _conv2d_score(result: dict) -> float:
    return sum(t["score"] for t in result["tests"] if t["name"].startswith("conv2d:"))


class _BrokenPreambleSandbox(Sandbox):
    """A sandbox whose lab preamble raises: every worker fails before the student's code."""

    def __init__(self, code: str, *, policy: Policy, **kwargs: object) -> None:
        broken = Policy(policy.forbidden_modules, BROKEN_PREAMBLE, policy.forbid_numpy_convolve)
        super().__init__(code, policy=broken, **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# The worker says when student code starts


@pytest.mark.parametrize("mode", _modes())
@pytest.mark.parametrize(
    "preamble",
    [BROKEN_PREAMBLE, "import os\nos._exit(1)\n"],
    ids=["preamble-raises", "preamble-exits"],
)
def test_worker_failing_before_student_code_is_a_grader_error(mode, preamble):
    """Is a worker that dies in the lab's own setup a grader error, and its calls refused?"""
    policy = Policy(forbidden_modules=(), preamble=preamble)
    with Sandbox(CORRECT, policy=policy, limits=Limits(isolation=mode)) as box:
        load = box.load()
        assert load.status == GRADER_ERROR and not load.ok
        assert "before the submission's code ran" in load.message
        with pytest.raises(GraderFault):
            box.call("conv2d", 1, 2, 3, "SAME")


@pytest.mark.parametrize("mode", _modes())
def test_student_exit_at_top_level_stays_the_students_crash(mode):
    """Is a student's own os._exit at top level still the student's crash, not a grader error?"""
    code = "import os\nos._exit(1)\n"
    with Sandbox(code, policy=Policy(forbidden_modules=()), limits=Limits(isolation=mode)) as box:
        assert box.load().status == "crashed"


def test_worker_cannot_claim_a_grader_error():
    """Is a reply that claims 'grader_error' refused (a student could forge one)?"""
    assert GRADER_ERROR not in sandbox.STATUSES


# ----------------------------------------------------------------------------------------------
# Self-proof of the isolation mode


@pytest.mark.parametrize("mode", _modes())
def test_known_good_submission_runs_in_every_available_mode(mode):
    """Does the built-in correct submission load, write its scratch and return an array?"""
    assert prove_mode(mode, grade_module.policy_for(LAB), FAST) is None


def test_a_mode_that_cannot_run_correct_code_is_given_up_loudly(monkeypatch):
    """Does auto mode fall back past a mode whose workers fail, naming it and why?"""
    first = _modes()[0]
    real = sandbox.prove_mode
    monkeypatch.setattr(
        sandbox,
        "prove_mode",
        lambda mode, *a: "workers cannot start" if mode == first else real(mode, *a),
    )
    monkeypatch.delenv(sandbox.ISOLATION_ENV, raising=False)
    if len(_modes()) < 2:
        with pytest.raises(IsolationUnavailable):
            prove_isolation(grade_module.policy_for(LAB), FAST)
        return
    proof = prove_isolation(grade_module.policy_for(LAB), FAST)
    assert proof.mode == _modes()[1] and proof.fell_back
    assert first in proof.warning() and "workers cannot start" in proof.warning()


def test_a_forced_mode_is_never_downgraded(monkeypatch, tmp_path):
    """Does a forced mode whose workers fail stop the class before anyone is graded?"""
    mode = _modes()[0]
    monkeypatch.setattr(sandbox, "prove_mode", lambda *a: "workers cannot start")
    (tmp_path / "ada.py").write_text(CORRECT)
    out = tmp_path / "out"
    with pytest.raises(IsolationFailed, match="not downgraded.*workers cannot start"):
        grade_class(
            [tmp_path / "ada.py"], LAB.id, out_dir=out, limits=Limits(isolation=mode),
            progress=False,
        )  # fmt: skip
    assert not list(out.glob("*.json")) and not (out / "grades.csv").exists()


def _in_pid_namespace_container(command: list[str], env: dict[str, str]):
    """`command` where bubblewrap's probe passes but its workers cannot mount /proc: inside a PID
    namespace whose /proc has a masked folder (as Docker masks /proc/bus, /proc/acpi, ...)."""
    script = 'mount -t tmpfs -o ro tmpfs /proc/bus && exec "$@"'
    return subprocess.run(
        ["unshare", "--pid", "--fork", "--mount", "--mount-proc", "sh", "-c", script, "sh",
         *command],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != sandbox.ISOLATION_ENV}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(more)
    return env


needs_root_bwrap = pytest.mark.skipif(
    not (IS_ROOT and shutil.which("unshare") and sandbox.bubblewrap_works()),
    reason="needs root, unshare and a working bubblewrap",
)


@pytest.mark.slow
@needs_root_bwrap
def test_pid_namespace_container_falls_back_or_stops(tmp_path):
    """In a PID-namespace container (bwrap's probe passes, its workers fail) does auto mode
    fall back loudly and grade honest code right, and a forced bubblewrap stop with exit 3?"""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ada", "bob"):
        (folder / f"{name}.py").write_text(CORRECT)
    grade = [sys.executable, "-m", "autograder", "grade", "--lab", LAB.id, str(folder)]
    auto = _in_pid_namespace_container([*grade, "--out", str(tmp_path / "auto")], _env())
    assert auto.returncode == 0, auto.stderr[-3000:]
    assert "fell back to 'unprivileged-uid'" in auto.stderr
    assert "Can't mount proc" in auto.stderr
    for name in ("ada", "bob"):
        result = json.loads((tmp_path / "auto" / f"{name}.json").read_text())
        assert _conv2d_score(result) == CONV2D_POINTS
        assert result["extra_data"]["isolation"] == "unprivileged-uid"

    forced = _in_pid_namespace_container(
        [*grade, "--out", str(tmp_path / "forced"), "--isolation", "bubblewrap"], _env()
    )
    assert forced.returncode == EXIT_GRADER_FAILED
    assert "not downgraded" in forced.stderr and "nobody was graded" in forced.stderr
    assert not list((tmp_path / "forced").glob("*.json"))


@pytest.mark.slow
@needs_root_bwrap
def test_gradescope_run_in_a_pid_namespace_container(tmp_path):
    """Does run_autograder's entry point fall back there, and, forced, say the grader failed
    (no score, exit 3) instead of giving the student 0?"""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / f"{LAB.id}.py").write_text(CORRECT)
    command = [sys.executable, "-m", "autograder.gradescope", "run", "--lab", LAB.id]
    command += ["--root", str(root)]
    auto = _in_pid_namespace_container(command, _env())
    assert auto.returncode == 0, auto.stdout[-3000:] + auto.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert _conv2d_score(data) == CONV2D_POINTS
    assert "fell back" in auto.stdout and "fell back" in data["extra_data"]["isolation_fallback"]

    forced = _in_pid_namespace_container(command, _env(CONVLAB_ISOLATION="bubblewrap"))
    assert forced.returncode == EXIT_GRADER_FAILED
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert "score" not in data and data["tests"] == []
    assert data["output"].startswith("The grader itself failed")
    assert is_grader_error(data)


# ----------------------------------------------------------------------------------------------
# Grader errors: no score, listed, exit 3, regraded


def _class(tmp_path: Path, names: tuple[str, ...] = ("ada", "bob")) -> Path:
    folder = tmp_path / "class"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.py").write_text(CORRECT)
    return folder


@pytest.mark.slow
def test_worker_setup_failure_is_a_grader_error_and_regraded(tmp_path, monkeypatch, capsys):
    """Is a class whose workers fail in the lab's setup given no score (grades.csv says
    'grader error'), exit 3 naming them, a report section, and graded on the next run?"""
    folder, out = _class(tmp_path), tmp_path / "out"
    args = ["grade", "--lab", LAB.id, "--out", str(out), "--total-seconds", "60", str(folder)]
    with monkeypatch.context() as patch:
        patch.setattr(grade_module, "Sandbox", _BrokenPreambleSandbox)
        assert cli_main(args) == EXIT_GRADER_FAILED
    err = capsys.readouterr().err
    assert "GRADER failed on 2 submission(s)" in err and "ada, bob" in err
    rows = [r.split(",") for r in (out / "grades.csv").read_text().splitlines()[1:]]
    assert [(r[0], r[1]) for r in rows] == [("ada", GRADER_ERROR_CELL), ("bob", GRADER_ERROR_CELL)]
    ada = json.loads((out / "ada.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(ada)
    assert "score" not in ada and ada["tests"] == [] and is_grader_error(ada)
    assert "the lab preamble broke" in ada["output"]
    feedback = (out / "feedback" / "ada.md").read_text()
    assert "NOT your grade" in feedback and "Score" not in feedback
    page = write_class_report(out).read_text()
    assert "Grader errors: not graded yet" in page and "the lab preamble broke" in page

    assert cli_main(args) == 0  # the grader is fixed: both are graded, none kept
    assert "2 to grade, 0 already graded" in capsys.readouterr().err
    for name in ("ada", "bob"):
        assert _conv2d_score(json.loads((out / f"{name}.json").read_text())) == CONV2D_POINTS


def test_reference_failure_is_a_grader_error_not_a_failed_case(tmp_path, monkeypatch):
    """Is a TensorFlow reference that raises a grader error, never failed cases worth 0?"""

    def broken(*args, **kwargs):
        raise RuntimeError("the reference broke")

    monkeypatch.setattr("autograder.reference.expected_outputs", broken)
    (tmp_path / "ada.py").write_text(CORRECT)
    report = grade_submission(tmp_path / "ada.py", LAB, limits=FAST)
    assert report.grader_error and "the reference broke" in report.grader_errors[0]
    data = report.results_json()
    assert "score" not in data and is_grader_error(data)


def test_a_failed_write_is_that_students_grader_error(tmp_path, monkeypatch):
    """Does a results write refused by a full disk make that student a grader error while the
    classmates keep their grades and grades.csv is written?"""
    folder, out = _class(tmp_path, ("ada", "bob", "cy")), tmp_path / "out"
    real = grade_module._write_once

    def full_for_bob(path: Path, data: bytes) -> None:
        if path.name in ("bob.json", "bob.md"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(grade_module, "_write_once", full_for_bob)
    monkeypatch.setattr(grade_module, "DISK_FULL_WAIT_SECONDS", 0.5)
    graded = grade_class([folder], LAB.id, out_dir=out, limits=FAST, progress=False)
    assert graded.grader_errors == ["bob"]
    lines = (out / "grades.csv").read_text().splitlines()[1:]
    rows = {r.split(",")[0]: r.split(",")[1] for r in lines}
    assert rows["bob"] == GRADER_ERROR_CELL
    assert float(rows["ada"]) == float(rows["cy"]) > 0


# ----------------------------------------------------------------------------------------------
# A full disk and a flood cost no classmate


def _small_disk(tmp_path: Path) -> Path:
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)])
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    return disk


@pytest.mark.slow
@pytest.mark.skipif(not IS_ROOT, reason="mounts a small tmpfs as the disk")
@pytest.mark.parametrize(
    "mode, mount",
    [("bubblewrap", True), ("uid", True), ("uid", False), ("none", False)],
    ids=["bubblewrap", "uid-tmpfs-scratch", "uid-no-CAP_SYS_ADMIN", "none-no-CAP_SYS_ADMIN"],
)
def test_a_submission_filling_the_disk_costs_no_classmate(tmp_path, mode, mount):
    """With scratch and results on one 48 MB disk, does a submission writing until it is full
    (and flooding stdout) leave three honest classmates full marks, grades.csv, exit 0?"""
    if mode == "bubblewrap" and not sandbox.bubblewrap_works():
        pytest.skip("no bubblewrap here")
    disk = _small_disk(tmp_path)
    try:
        folder = disk / "class"
        folder.mkdir()
        for name in ("ada", "bob", "cy"):
            (folder / f"{name}.py").write_text(CORRECT)
        shutil.copy(FAULTS / "fill_disk.py", folder / "hog.py")
        (disk / "tmp").mkdir()
        out = disk / "out"
        command = [sys.executable, "-m", "autograder", "grade", "--lab", LAB.id, "--out"]
        command += [str(out), "--isolation", mode, str(folder)]
        if not mount:  # a container without CAP_SYS_ADMIN: no tmpfs can be mounted
            command = ["setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin",
                       *command]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=900, env=_env(TMPDIR=str(disk / "tmp"))
        )
        assert done.returncode == 0, done.stderr[-3000:]
        rows = {r.split(",")[0]: r for r in (out / "grades.csv").read_text().splitlines()[1:]}
        assert set(rows) == {"ada", "bob", "cy", "hog"}
        for name in ("ada", "bob", "cy"):
            assert _conv2d_score(json.loads((out / f"{name}.json").read_text())) == CONV2D_POINTS
        hog = json.loads((out / "hog.json").read_text())
        assert _conv2d_score(hog) == 0 and not is_grader_error(hog)
        if not mount and mode != "bubblewrap":
            assert "until the disk was almost full" in json.dumps(hog)
        assert not list((disk / "tmp").iterdir())  # every scratch folder is gone
    finally:
        subprocess.run(["umount", "-l", str(disk)])


def test_scratch_watch_stops_a_worker_past_its_cap(tmp_path, monkeypatch):
    """Outside bubblewrap without a tmpfs, is a worker whose files pass the scratch cap
    stopped, with a message saying so?"""
    monkeypatch.setattr(sandbox, "_mount_tmpfs", lambda *a: False)
    code = (
        "def conv2d(x, w, s, p):\n"
        "    for i in range(1000):\n"
        "        with open(f'f{i}', 'wb') as f:\n"
        "            f.write(b'x' * (1 << 20))\n"
        "        import time; time.sleep(0.001)\n"
    )
    limits = Limits(isolation=_modes()[-1], file_bytes=2 * 1024**2)  # a 16 MB scratch
    with Sandbox(code, policy=Policy(forbidden_modules=()), limits=limits) as box:
        assert box.load().ok
        result = box.call("conv2d", 1, 2, 3, "SAME")
    assert result.status == "crashed"
    assert "more than 16 MB of files in its working folder" in result.message


# ----------------------------------------------------------------------------------------------
# Unencodable text is escaped, never fatal


def test_lone_surrogate_in_an_exception_message_through_the_cli(tmp_path, capsys):
    """Does a lone surrogate in a student's error reach results, feedback and grades.csv
    escaped, with the class graded and exit 0?"""
    folder = _class(tmp_path, ("ada",))
    shutil.copy(FAULTS / "surrogate_message.py", folder / "zed.py")
    out = tmp_path / "out"
    assert cli_main(["grade", "--lab", LAB.id, "--out", str(out), str(folder)]) == 0
    zed = json.loads((out / "zed.json").read_text(encoding="utf-8"))
    assert any("cannot handle \\ud800 here" in t["output"] for t in zed["tests"])
    assert "\\ud800" in (out / "feedback" / "zed.md").read_text(encoding="utf-8")
    assert (out / "grades.csv").read_text(encoding="utf-8").count("\n") == 3
    write_class_report(out).read_text(encoding="utf-8")


@pytest.mark.slow
def test_lone_surrogate_through_gradescope_run(tmp_path):
    """Does Gradescope's entry point write valid results.json for a surrogate-laden error and
    student name, print its summary, and exit 0 (it used to exit 1 with no results.json)?"""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(FAULTS / "surrogate_message.py", root / "submission" / f"{LAB.id}.py")
    (root / "submission_metadata.json").write_text('{"users": [{"email": "z\\udcff@x.org"}]}')
    command = [sys.executable, "-m", "autograder.gradescope", "run", "--lab", LAB.id]
    done = subprocess.run(
        [*command, "--root", str(root)], capture_output=True, text=True, timeout=600, env=_env()
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    raw = (root / "results" / "results.json").read_bytes()
    data = json.loads(raw.decode("utf-8"))  # strict UTF-8: no surrogate left
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["score"] == 0
    assert any("cannot handle \\ud800 here" in t["output"] for t in data["tests"])
    assert data["extra_data"]["student"] == "z\\udcff@x.org"


def test_lone_surrogate_in_gradescope_results(tmp_path):
    """Does run() (in this process) write strict UTF-8 results.json for a surrogate message?"""
    (tmp_path / "sub").mkdir()
    shutil.copy(FAULTS / "surrogate_message.py", tmp_path / "sub" / f"{LAB.id}.py")
    results = tmp_path / "results" / "results.json"
    code = gradescope_run(LAB.id, tmp_path / "sub", tmp_path / "meta.json", results, limits=FAST)
    assert code == 0
    data = json.loads(results.read_bytes().decode("utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert any("cannot handle \\ud800 here" in t["output"] for t in data["tests"])


def test_gradescope_grader_error_has_no_score_and_exits_nonzero(tmp_path, monkeypatch):
    """Does a grader error under Gradescope write results.json saying the grader failed, with
    no score, and return a nonzero exit?"""
    monkeypatch.setattr(grade_module, "Sandbox", _BrokenPreambleSandbox)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f"{LAB.id}.py").write_text(CORRECT)
    results = tmp_path / "results" / "results.json"
    code = gradescope_run(LAB.id, tmp_path / "sub", tmp_path / "meta.json", results, limits=FAST)
    assert code == EXIT_GRADER_FAILED
    data = json.loads(results.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert "score" not in data and data["output"].startswith("The grader itself failed")
    assert "the lab preamble broke" in data["output"]


@pytest.mark.parametrize(
    ("used_seconds", "status"),
    [
        pytest.param(0.0, GRADER_ERROR, id="full-load-time-the-graders-fault"),
        pytest.param(59.5, "timeout", id="budget-used-up-by-the-submission"),
    ],
)
def test_a_worker_start_cut_short_by_the_students_budget_is_their_timeout(
    monkeypatch, used_seconds, status
):
    """Is a worker that never says 'started' the grader's fault only when it had the full load
    time, and the student's timeout when their own used-up budget cut the wait short?"""

    def never_answers(self, kind, result_bytes, deadline):  # noqa: ANN001, ANN202
        raise sandbox.DeadlineExceeded()

    monkeypatch.setattr(sandbox._Process, "receive", never_answers)
    with Sandbox(CORRECT, policy=Policy(forbidden_modules=()), limits=FAST) as box:
        box._started = sandbox.time.monotonic() - used_seconds  # what earlier calls used
        load = box.load()
    assert load.status == status
    if status == "timeout":
        assert "whole submission" in load.message
    else:
        assert "failed before the submission's code ran" in load.message


def test_nbgrader_records_no_grade_when_the_grader_fails(monkeypatch):
    """Does nbgrader's grading step stop on a grader error (so nbgrader saves no score for that
    notebook and its autograde says it failed) instead of writing a broken grader's points?"""
    import nbformat

    from autograder import nbgrader_grade

    broken = grade_module.StudentReport(
        "eve", Path("eve.ipynb"), LAB.id, 0.0, LAB.max_score, [],
        grader_errors=["The grader failed on this submission (RuntimeError: boom)."],
    )  # fmt: skip
    monkeypatch.setattr(grade_module, "grade_submission", lambda *args, **kwargs: broken)
    monkeypatch.setattr(nbgrader_grade, "_proven_limits", lambda lab, log: Limits())
    resources = {"nbgrader": {"assignment": LAB.id, "student": "eve"}}
    with pytest.raises(nbgrader_grade.GraderFailed, match="RuntimeError: boom"):
        nbgrader_grade.GradeOutsideKernel().preprocess(nbformat.v4.new_notebook(), resources)


def test_nbgrader_proves_the_isolation_mode_once_per_process(monkeypatch):
    """Does nbgrader's grading run in a mode a known-good submission ran in, proven once?"""
    from autograder import nbgrader_grade

    calls = []

    def prove(lab, limits):  # noqa: ANN001, ANN202
        calls.append(lab.id)
        return sandbox.Proof("unprivileged-uid", (("bubblewrap", "it did not start"),))

    monkeypatch.setattr(grade_module, "_prove", prove)
    monkeypatch.setattr(nbgrader_grade, "_PROVEN", {})
    warnings = []
    log = type("Log", (), {"warning": lambda self, *args: warnings.append(args)})()
    first = nbgrader_grade._proven_limits(LAB, log)
    again = nbgrader_grade._proven_limits(LAB, log)
    assert first.isolation == again.isolation == "unprivileged-uid" and calls == [LAB.id]
    assert warnings and "fell back" in warnings[0][1]
