"""nbgrader's student kernel as an attacker (issue 19), under real `nbgrader autograde`.

Each fixture in tests/submissions/nbgrader_hostile/ is appended to an otherwise correct answer
cell and graded beside two honest classmates, with a TA's Jupyter server running; its header says
what it tries and what must happen. One course run holds every attacker (with bubblewrap), a
second the link attacks without it (what nbgrader's own write step must still stop).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.classroom import (
    make_course,
    nbgrader,
    solution_answers,
    student_notebook,
    submit,
    ta_environment,
)
from autograder.grade import grade_class
from autograder.nbgrader_grade import LinkRefusingFilesWriter, kernel_sandbox
from autograder.registry import get_lab
from autograder.sandbox import bubblewrap_works

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "submissions" / "nbgrader_hostile"
WRONG = ROOT / "tests" / "submissions" / "wrong"
LAB = get_lab("03_filter_banks")
SECRET = "nbgrader-attacks-secret-51c2"
#: student id -> the attack appended to their (correct) conv_matrix answer cell
ATTACKERS = {
    "lnk": "link_gradebook",
    "hrd": "hard_link_gradebook",
    "api": "jupyter_server_api",
    "nosy": "reach_course",
    "lin": "lingering_writer",
    "sig": "signal_nbgrader",
    "ssh": "ta_home_secrets",
}
HONEST = ("ada", "bob")  # the solution; the solution with conv2d's kernel flipped
#: What the TA keeps in their home folder (the kernel must never print any of it).
TA_FILES = {
    ".ssh/id_ed25519": "TA-PRIVATE-KEY-{}",
    ".aws/credentials": "TA-CLOUD-KEY-{}",
    ".config/gh/hosts.yml": "TA-GITHUB-TOKEN-{}",
    ".jupyter/notes.txt": "TA-JUPYTER-NOTE-{}",
}
#: Course files no command of a grading run may change (relative to the course folder).
COURSE_FILES = ("nbgrader_config.py", "solutions", "labs", "source", "submitted")

needs_bwrap = pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap cannot run here")


def _hashes(folder: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not str(p.relative_to(folder)).startswith(skip)
    }


def _course_hashes(course: Path) -> dict[str, str]:
    return {
        name: digest
        for name, digest in _hashes(course).items()
        if name.split(os.sep)[0] in COURSE_FILES
    }


def _private_hashes(home: Path) -> dict[str, str]:
    """The TA's private folders, and those nbgrader and IPython read at start-up (the TA's own
    programs write caches elsewhere in the home folder during a run)."""
    folders = (".ssh", ".aws", ".config", ".jupyter", ".ipython")
    return {k: v for k, v in _hashes(home).items() if k.split(os.sep)[0] in folders}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_ta_server(course: Path, env: dict[str, str]) -> tuple[subprocess.Popen, dict]:
    """`jupyter server` in the course folder on loopback with a token, as a TA grading from
    JupyterLab has it; returns the process and its runtime file's contents."""
    runtime = Path(env["HOME"]) / ".local" / "share" / "jupyter" / "runtime"
    port, token = _free_port(), secrets.token_hex(16)
    root = ["--allow-root"] if os.geteuid() == 0 else []  # (a TA is not root; this machine is)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", *root,
         "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}"],
        cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        files = list(runtime.glob("jpserver-*.json"))
        if files:
            info = json.loads(files[0].read_text())
            if _server_answers(info):
                return server, info
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("the TA's jupyter server did not start")


def _server_answers(info: dict) -> bool:
    request = urllib.request.Request(
        info["url"].rstrip("/") + "/api/status", headers={"Authorization": f"token {info['token']}"}
    )
    try:
        return urllib.request.urlopen(request, timeout=5).status == 200
    except OSError:
        return False


def _ta_home(home: Path, tag: str) -> dict[str, str]:
    """A TA's home folder with private files; returns relative path -> content."""
    contents = {}
    for relative, content in TA_FILES.items():
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content.format(tag))
        contents[relative] = content.format(tag)
    return contents


def _submit_class(course: Path, students: dict[str, str]) -> None:
    answers = solution_answers(LAB.id)
    submit(course, LAB.id, "ada", student_notebook(LAB.id, answers, root=course))
    flipped = {**answers, "conv2d": (WRONG / "flipped_kernel.py").read_text()}
    submit(course, LAB.id, "bob", student_notebook(LAB.id, flipped, root=course))
    for student, attack in students.items():
        cell = answers["conv_matrix"] + "\n\n" + (HOSTILE / f"{attack}.py").read_text()
        hostile = {**answers, "conv_matrix": cell}
        submit(course, LAB.id, student, student_notebook(LAB.id, hostile, root=course))


def _grading_run(course: Path, env: dict[str, str]) -> dict[str, subprocess.CompletedProcess]:
    return {
        step: nbgrader(course, *args, env=env, timeout=1500)
        for step, args in (
            ("autograde", ("autograde", LAB.id)),
            ("feedback", ("generate_feedback", LAB.id)),
            ("export", ("export",)),
        )
    }


def _exported(course: Path) -> dict[str, float]:
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def _printed(course: Path, student: str) -> str:
    nb = nbformat.read(course / "autograded" / student / LAB.id / f"{LAB.id}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def _cli_scores(course: Path, out: Path) -> dict[str, float]:
    results = grade_class([course / "submitted"], LAB.id, out_dir=out, progress=False)
    return {r["extra_data"]["student"]: r["score"] for r in results}


def _gradebook_is_sound(course: Path) -> None:
    with sqlite3.connect(course / "gradebook.db") as db:
        students = {row[0] for row in db.execute("SELECT id FROM student")}
    assert {"ada", "bob"} <= students


def _lingering(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Every attacker beside two honest classmates, in bubblewrap, with the TA's server up."""
    if not bubblewrap_works():
        pytest.skip("bubblewrap cannot run here")
    tmp = tmp_path_factory.mktemp("attacked")
    # A TA's home is not under /tmp (which the kernel's sandbox replaces as a whole)
    home = Path(tempfile.mkdtemp(prefix="convlab-ta-home-", dir="/var/tmp"))
    tag = secrets.token_hex(8)
    ta_files = _ta_home(home, tag)
    env = {**ta_environment(), "HOME": str(home), "CONVLAB_COURSE_SECRET": SECRET}
    course = make_course(tmp / "course", LAB.id)
    _submit_class(course, ATTACKERS)
    try:
        server, info = _start_ta_server(course, env)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    try:
        before = _course_hashes(course)
        home_before = _private_hashes(home)
        runs = _grading_run(course, env)
        time.sleep(3)  # past the lingering writer's next attempts, had it survived
        after = _course_hashes(course)
        state = {
            "course": course, "runs": runs, "before": before, "after": after, "home": home,
            "home_before": home_before, "ta_files": ta_files, "server": info,
            "server_answers": _server_answers(info),
        }  # fmt: skip
        saved = os.environ.get("CONVLAB_COURSE_SECRET")
        os.environ["CONVLAB_COURSE_SECRET"] = SECRET
        try:
            state["cli"] = _cli_scores(course, tmp / "cli")
        finally:
            if saved is None:
                os.environ.pop("CONVLAB_COURSE_SECRET")
            else:
                os.environ["CONVLAB_COURSE_SECRET"] = saved
        yield state
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
def test_every_student_is_graded_as_what_they_are(attacked):
    """Do autograde, feedback and export finish for the whole class, every attacker with the
    full points of its correct answers and every student with the CLI's score?"""
    course, runs = attacked["course"], attacked["runs"]
    for step, run in runs.items():
        assert run.returncode == 0, (step, run.stderr[-3000:])
    assert "There was an error processing" not in runs["autograde"].stderr
    scores = _exported(course)
    assert set(scores) == set(HONEST) | set(ATTACKERS)
    for student in ATTACKERS:
        assert scores[student] == LAB.max_score, student
    assert scores["ada"] == LAB.max_score
    assert 0 < scores["bob"] < LAB.max_score
    for student, score in scores.items():
        assert attacked["cli"][student] == pytest.approx(score), student


@pytest.mark.slow
def test_links_to_the_gradebook_are_refused(attacked):
    """Is the gradebook intact, each graded notebook a file of its own, and no link or copy of
    the gradebook in the attackers' graded or feedback folders?"""
    course = attacked["course"]
    _gradebook_is_sound(course)
    assert "link refused: " in _printed(course, "lnk")
    assert "hard link refused: " in _printed(course, "hrd")
    for student in ("lnk", "hrd"):
        notebook = course / "autograded" / student / LAB.id / f"{LAB.id}.ipynb"
        assert not notebook.is_symlink() and notebook.stat().st_nlink == 1
        for folder in (course / "autograded" / student, course / "feedback" / student):
            assert not [p for p in folder.rglob("*") if p.is_symlink() or p.suffix == ".db"]


@pytest.mark.slow
def test_the_kernel_cannot_reach_the_tas_jupyter_server(attacked):
    """With a TA's server running (and answering the TA), does the kernel find no runtime file
    and no Jupyter server on its loopback, and is nbgrader_config.py unchanged?"""
    assert attacked["server_answers"]  # the attack had a target
    printed = _printed(attacked["course"], "api")
    assert "runtime files: 0\n" in printed
    assert "jupyter servers answering: 0\n" in printed
    ports = json.loads(printed.split("loopback ports open: ", 1)[1].split("\n", 1)[0])
    assert attacked["server"]["port"] not in ports
    assert "config rewritten" not in printed
    assert attacked["after"] == attacked["before"]


@pytest.mark.slow
def test_the_kernel_sees_and_writes_no_course_file(attacked):
    """Does the kernel see no course file outside its notebook's folder, write none, leave
    nothing in its own folder, and leave classmates, the log and the TA's home untouched?"""
    course = attacked["course"]
    printed = _printed(course, "nosy")
    assert "course files seen: 0\n" in printed
    assert "writes made: 0 []" in printed
    assert attacked["after"] == attacked["before"]
    assert _private_hashes(attacked["home"]) == attacked["home_before"]
    for folder in ("autograded", "feedback"):
        assert not list((course / folder / "nosy").rglob("planted_for_feedback.html"))
    for page in (course / "autograded").rglob("*.ipynb"):  # (nosy's own holds the attack's text)
        if page.parts[-3] != "nosy":
            assert "written by a student kernel" not in page.read_text(), page
    log = course / ".nbgrader.log"
    assert not log.exists() or "student kernel" not in log.read_text()


@pytest.mark.slow
def test_nothing_the_kernel_started_outlives_it(attacked):
    """Is no process of the lingering writer left, and nothing late in the course?"""
    course = attacked["course"]
    assert "lingering process started" in _printed(course, "lin")
    assert _lingering("convlab-lingering-writer") == []
    assert not (course / "late.txt").exists() and not (course / "late-link").is_symlink()
    log = course / ".nbgrader.log"
    assert not log.exists() or "late\n" not in log.read_text()


@pytest.mark.slow
def test_signals_do_not_reach_nbgrader(attacked):
    """Does the kernel see no process of the course (so nbgrader goes on for everyone)?"""
    assert "nbgrader processes seen: 0\n" in _printed(attacked["course"], "sig")
    assert set(_exported(attacked["course"])) == set(HONEST) | set(ATTACKERS)


@pytest.mark.slow
def test_the_tas_home_stays_private(attacked):
    """Does no TA file's content reach a graded notebook or a feedback page?"""
    course = attacked["course"]
    assert "TA files read: 0\n" in _printed(course, "ssh")
    pages = list((course / "autograded").rglob("*.ipynb")) + list(
        (course / "feedback").rglob("*.html")
    )
    assert len(pages) == 2 * (len(HONEST) + len(ATTACKERS))
    for page in pages:
        text = page.read_text()
        for content in attacked["ta_files"].values():
            assert content not in text, page


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory):
    """The link attackers beside an honest classmate with the kernel run without bubblewrap
    (CONVLAB_ISOLATION=none, as on a TA's machine without it)."""
    tmp = tmp_path_factory.mktemp("unsandboxed")
    env = {
        **ta_environment(), "HOME": str(tmp / "home"), "CONVLAB_COURSE_SECRET": SECRET,
        "CONVLAB_ISOLATION": "none",
    }  # fmt: skip
    course = make_course(tmp / "course", LAB.id)
    _submit_class(course, {"lnk": "link_gradebook", "hrd": "hard_link_gradebook"})
    return course, _grading_run(course, env)


@pytest.mark.slow
def test_without_bubblewrap_nbgrader_writes_through_no_link(unsandboxed):
    """Without bubblewrap the kernel plants its links; does nbgrader's write step replace them
    rather than follow them, keep the gradebook, and say loudly what is not stopped?"""
    course, runs = unsandboxed
    for step, run in runs.items():
        assert run.returncode == 0, (step, run.stderr[-3000:])
    assert "link planted: " in _printed(course, "lnk")
    assert "hard link planted: " in _printed(course, "hrd")
    _gradebook_is_sound(course)
    scores = _exported(course)
    assert [scores[s] for s in ("ada", "lnk", "hrd")] == [LAB.max_score] * 3
    assert 0 < scores["bob"] < LAB.max_score
    for student in ("lnk", "hrd"):
        notebook = course / "autograded" / student / LAB.id / f"{LAB.id}.ipynb"
        assert not notebook.is_symlink() and notebook.stat().st_nlink == 1
        for folder in (course / "autograded" / student, course / "feedback" / student):
            assert not [p for p in folder.rglob("*") if p.is_symlink() or p.suffix == ".db"]
    log = runs["autograde"].stderr
    assert "WITHOUT bubblewrap" in log
    assert "replaced a link" in log and "'lnk'" in log


# ----------------------------------------------------------------- the write step on its own


def _write(folder: Path, text: str = '{"cells": []}') -> Path:
    writer = LinkRefusingFilesWriter()
    writer.build_directory = str(folder)
    return Path(writer.write(text, {"output_extension": ".ipynb"}, notebook_name="lab"))


def test_the_writer_replaces_a_link_instead_of_following_it(tmp_path):
    """A notebook that is a link to the gradebook: is the link replaced, the gradebook kept?"""
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_bytes(b"SQLite format 3\0 grades")
    folder = tmp_path / "autograded" / "s" / "lab"
    folder.mkdir(parents=True)
    (folder / "lab.ipynb").symlink_to(gradebook)
    written = _write(folder)
    assert written == folder / "lab.ipynb"
    assert not written.is_symlink() and written.read_text() == '{"cells": []}'
    assert gradebook.read_bytes() == b"SQLite format 3\0 grades"


def test_the_writer_writes_extracted_outputs_through_no_link(tmp_path):
    """An extracted output's name left as a link: replaced, its target kept?"""
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("grades")
    folder = tmp_path / "lab"
    (folder / "lab_files").mkdir(parents=True)
    (folder / "lab_files" / "out.png").symlink_to(gradebook)
    writer = LinkRefusingFilesWriter()
    writer.build_directory = str(folder)
    resources = {"output_extension": ".html", "outputs": {"lab_files/out.png": b"png"}}
    writer.write("<html>", resources, notebook_name="lab")
    assert (folder / "lab_files" / "out.png").read_bytes() == b"png"
    assert gradebook.read_text() == "grades" and (folder / "lab.html").read_text() == "<html>"


def test_the_writer_replaces_a_hard_link_instead_of_writing_into_it(tmp_path):
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_bytes(b"SQLite format 3\0 grades")
    folder = tmp_path / "lab"
    folder.mkdir()
    os.link(gradebook, folder / "lab.ipynb")
    written = _write(folder)
    assert written.stat().st_nlink == 1 and written.read_text() == '{"cells": []}'
    assert gradebook.read_bytes() == b"SQLite format 3\0 grades"
    assert gradebook.stat().st_nlink == 1


def test_the_writer_removes_links_and_special_files_beside_the_notebook(tmp_path):
    """nbgrader chmods every file of the folder and generate_feedback copies them: are links
    (to files or folders) and FIFOs beside the notebook removed, regular files kept?"""
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    folder = tmp_path / "lab"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "kept.npy").write_bytes(b"data")
    (folder / "everyones_grades.db").symlink_to(secret)
    (folder / "data" / "up").symlink_to(tmp_path)
    os.mkfifo(folder / "pipe")
    _write(folder)
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert left == ["data", "data/kept.npy", "lab.ipynb"]
    assert secret.read_text() == "grades"


@pytest.mark.parametrize("linked", ["mal/lab", "mal"])
def test_the_writer_writes_through_no_linked_folder(tmp_path, linked):
    """The graded folder (or the student's) replaced by a link to a classmate's: is nothing
    written through it, the link replaced by a folder holding the notebook?"""
    classmate = tmp_path / "autograded" / "ada" / "lab"
    classmate.mkdir(parents=True)
    (classmate / "lab.ipynb").write_text("ada's")
    (tmp_path / "autograded" / "mal").mkdir()
    link = tmp_path / "autograded" / linked
    link.rmdir() if link.is_dir() else None
    link.symlink_to(classmate if linked == "mal/lab" else classmate.parent)
    written = _write(tmp_path / "autograded" / "mal" / "lab")
    assert written.read_text() == '{"cells": []}'
    assert not link.is_symlink() and not written.parent.is_symlink()
    assert sorted(p.name for p in classmate.iterdir()) == ["lab.ipynb"]
    assert (classmate / "lab.ipynb").read_text() == "ada's"


# ----------------------------------------------------------------- the kernel's sandbox on its own

#: Run inside kernel_sandbox: what the kernel can see, write and reach.
PROBE = """
import json, os, socket, sys
course, port, runtime = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = [os.path.join(t, n) for t, _, ns in os.walk(course) for n in ns]
out = {"seen": sorted(os.path.relpath(p, course) for p in seen)}
try:
    open("lab.ipynb", "a").close()
    out["notebook"] = "writable"
except OSError as e:
    out["notebook"] = type(e).__name__
open("scratch.txt", "w").write("x")
out["scratch"] = open("scratch.txt").read()
out["runtime"] = os.listdir(runtime) if os.path.isdir(runtime) else None
for key, path in (("course_write", course), ("home_write", os.path.expanduser("~/.ssh"))):
    try:
        open(os.path.join(path, "planted"), "w").close()
        out[key] = "written"
    except OSError as e:
        out[key] = e.strerror
out["ssh"] = os.listdir(os.path.expanduser("~/.ssh"))
with socket.socket() as s:
    s.settimeout(2)
    out["loopback"] = s.connect_ex(("127.0.0.1", port))
print(json.dumps(out))
"""


@needs_bwrap
def test_the_kernel_sandbox_shows_only_its_folder(tmp_path):
    """In a course layout with a TA's runtime file, SSH key and a listening loopback port: does
    the sandboxed kernel see only its own folder's files (read-only, its writes private), no
    runtime file, no key, no loopback port, and fail to write in the course or the hidden key's
    folder?"""
    course = tmp_path / "course"
    here = course / "autograded" / "mal" / "lab"
    here.mkdir(parents=True)
    (here / "lab.ipynb").write_text("{}")
    (course / "gradebook.db").write_text("grades")
    (course / "autograded" / "ada" / "lab").mkdir(parents=True)
    (course / "autograded" / "ada" / "lab" / "lab.ipynb").write_text("{}")
    home = tmp_path / "home"
    runtime = home / ".local" / "share" / "jupyter" / "runtime"
    runtime.mkdir(parents=True)
    (runtime / "jpserver-1.json").write_text('{"token": "t"}')
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("key")
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    env = {**ta_environment(), "HOME": str(home)}
    env.pop("JUPYTER_RUNTIME_DIR", None)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        cmd = [sys.executable, "-c", PROBE, str(course), str(port), str(runtime)]
        run = subprocess.run(
            kernel_sandbox(cmd, here, env, sockets=sockets),
            env=env, cwd=here, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["seen"] == ["autograded/mal/lab/lab.ipynb"]
    assert out["notebook"] in ("OSError", "PermissionError")  # EROFS
    assert out["scratch"] == "x" and not (here / "scratch.txt").exists()
    assert out["runtime"] is None and out["ssh"] == []  # Jupyter's data folder: empty
    assert out["loopback"] != 0
    assert out["course_write"] == out["home_write"] == "Read-only file system"


def test_without_bubblewrap_the_kernel_command_is_unchanged(tmp_path):
    """CONVLAB_ISOLATION=none: is the kernel started as is (and the write step still there)?"""
    cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "k.json")]
    env = {**os.environ, "CONVLAB_ISOLATION": "none"}
    assert kernel_sandbox(cmd, tmp_path, env, sockets=tmp_path) == cmd


def test_every_nbgrader_attack_is_documented_and_graded():
    """Does every fixture say what it tries and what must happen, and is each one graded?"""
    fixtures = sorted(p.stem for p in HOSTILE.glob("*.py"))
    assert fixtures == sorted(ATTACKERS.values())
    for name in fixtures:
        header = (HOSTILE / f"{name}.py").read_text().split("\nimport", 1)[0]
        assert header.startswith("# Hostile fixture (issue 19, nbgrader)"), name
        assert "\n# Expected: " in header, name


@needs_bwrap
@pytest.mark.parametrize("mode", ["", "auto", "bubblewrap", "uid"])
def test_kernels_use_bubblewrap_whatever_the_workers_mode(mode):
    """Is a kernel sandboxed wherever bubblewrap works, unless the TA said none?"""
    from autograder.nbgrader_grade import kernel_isolation

    assert kernel_isolation({"CONVLAB_ISOLATION": mode}) is None
    assert "none" in kernel_isolation({"CONVLAB_ISOLATION": "none"})
