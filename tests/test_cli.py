"""Tests of `python -m autograder`: what a TA types, including the README's commands as pasted."""

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.__main__ import main
from autograder.grade import shard_of
from autograder.registry import get_lab

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("03_filter_banks")
SUBMISSIONS = ROOT / "tests" / "submissions"
CORRECT = (SUBMISSIONS / "correct" / "vectorized.py").read_text()
FLIPPED = (SUBMISSIONS / "wrong" / "flipped_kernel.py").read_text()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True, text=True, timeout=900, cwd=cwd, env=_env(),
    )  # fmt: skip


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open() as f:
        return {row["student"]: row for row in csv.DictReader(f)}


# ----------------------------------------------------------------------------------------------
# Refusals, each with a message and a non-zero exit, before anything is graded


def test_missing_path_exits_non_zero_with_a_message(tmp_path, capsys):
    code = main(["grade", "--lab", LAB.id, "--out", str(tmp_path / "o"), str(tmp_path / "nope")])
    assert code != 0
    assert "no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "o" / "grades.csv").exists()


def test_nothing_to_grade_exits_non_zero_with_a_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no code here")
    code = main(["grade", "--lab", LAB.id, "--out", str(tmp_path / "o"), str(tmp_path / "empty")])
    assert code != 0
    assert "no .ipynb or .py submission found" in capsys.readouterr().err


def test_an_out_folder_of_another_lab_is_refused(tmp_path, capsys):
    out = tmp_path / "grades"
    out.mkdir()
    other = {"score": 1, "tests": [], "extra_data": {"lab": "01_convolution_by_hand"}}
    (out / "ada.json").write_text(json.dumps(other))
    (tmp_path / "bob.py").write_text(CORRECT)
    code = main(["grade", "--lab", LAB.id, "--out", str(out), str(tmp_path / "bob.py")])
    assert code != 0
    err = capsys.readouterr().err
    assert "already holds results of 01_convolution_by_hand" in err and "grades/03_filter" in err
    assert json.loads((out / "ada.json").read_text()) == other  # untouched


def test_check_of_a_missing_notebook_exits_non_zero(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0/2", "3/2", "x", "1-2"])
def test_shard_must_be_i_of_n(bad, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--lab", LAB.id, "--shard", bad, str(tmp_path)])
    assert "--shard" in capsys.readouterr().err


def test_shards_split_students_deterministically():
    """Does every student land in exactly one shard, the same one each time, evenly enough?"""
    students = [f"s{i}" for i in range(400)]
    shards = [shard_of(s, 4) for s in students]
    assert shards == [shard_of(s, 4) for s in students]
    assert set(shards) == {1, 2, 3, 4}
    assert all(60 < shards.count(i) < 140 for i in range(1, 5))


# ----------------------------------------------------------------------------------------------
# Grading with the CLI


@pytest.mark.slow
def test_regrading_one_student_keeps_every_other_row(tmp_path):
    """Does `grade --force one.py` rewrite that student's row only, with seconds and limits?"""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.py").write_text(CORRECT)
    (folder / "bob.py").write_text(FLIPPED)
    (folder / "cy.py").write_text("def conv2d(:\n")
    out = tmp_path / "grades"
    first = _cli("grade", "--lab", LAB.id, "--out", str(out), "--call-seconds", "7",
                 "--memory-mb", "1536", str(folder))  # fmt: skip
    assert first.returncode == 0, first.stderr
    rows = _rows(out)
    assert set(rows) == {"ada", "bob", "cy"}
    assert all(float(r["seconds"]) > 0 for r in rows.values())
    ada = json.loads((out / "ada.json").read_text())
    assert ada["execution_time"] == float(rows["ada"]["seconds"]) > 0
    assert ada["extra_data"]["limits"]["call_seconds"] == 7
    assert ada["extra_data"]["limits"]["memory_bytes"] == 1536 * 1024**2

    again = _cli("grade", "--lab", LAB.id, "--out", str(out), "--force", "--call-seconds", "7",
                 "--memory-mb", "1536", str(folder / "bob.py"))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "graded 1 submissions" in again.stdout
    after = _rows(out)
    assert set(after) == {"ada", "bob", "cy"}
    assert after["ada"] == rows["ada"] and after["cy"] == rows["cy"]
    assert after["bob"]["score"] == rows["bob"]["score"]

    # other limits make a stored result stale: graded again without --force
    changed = _cli("grade", "--lab", LAB.id, "--out", str(out), str(folder / "ada.py"))
    assert "1 to grade, 0 already graded" in changed.stderr
    limits = json.loads((out / "ada.json").read_text())["extra_data"]["limits"]
    assert limits["call_seconds"] == 10


@pytest.mark.slow
def test_two_labs_grade_into_their_own_default_folders(tmp_path):
    """Does each lab get grades/<lab>/ by default, so results never overwrite each other?"""
    lab1 = get_lab("01_convolution_by_hand")
    (tmp_path / "ada.py").write_text(CORRECT)
    (tmp_path / "lab1").mkdir()
    shutil.copy(ROOT / "solutions" / lab1.id / f"{lab1.id}.ipynb", tmp_path / "lab1" / "ada.ipynb")
    one = _cli("grade", "--lab", LAB.id, "ada.py", cwd=tmp_path)
    two = _cli("grade", "--lab", lab1.id, "lab1", cwd=tmp_path)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    first = json.loads((tmp_path / "grades" / LAB.id / "ada.json").read_text())
    second = json.loads((tmp_path / "grades" / lab1.id / "ada.json").read_text())
    assert first["extra_data"]["lab"] == LAB.id and second["extra_data"]["lab"] == lab1.id
    assert second["score"] == lab1.max_score


# ----------------------------------------------------------------------------------------------
# The README's commands, as pasted

#: Sections of README.md whose ```bash blocks this test runs, in order.
README_SECTIONS = ("## Grading", "## Gradescope", "## Grading 1,000+ students")
#: Commands in those sections that are not run here, and where they are tested instead.
NOT_RUN_HERE = {
    "nbgrader ": "tests/test_nbgrader.py runs nbgrader on a course",
    "python benchmarks/": "benchmarks take minutes; their figures are in the README",
}


def readme_commands() -> list[str]:
    """The shell commands of the README's grading sections (comments dropped, `\\` joined)."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for section in re.split(r"\n(?=## )", text):
        if section.split("\n", 1)[0].strip() not in README_SECTIONS:
            continue
        for block in re.findall(r"```bash\n(.*?)```", section, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    commands.append(line)
    return commands


def test_readme_lists_the_commands_this_test_runs():
    commands = readme_commands()
    verbs = {c.split()[3] for c in commands if c.startswith("python -m autograder")}
    assert verbs == {"check", "grade", "report", "gradescope"}
    assert any(c.startswith("pytest ") and "--lab" in c for c in commands)
    assert any("--shard 1/2" in c for c in commands)


def test_ci_runs_the_readme_test_command_then_the_slow_tests():
    """Does .ci/run run exactly the Quick start's test command, and then the slow tests?"""
    quick_start = re.search(
        r"## Quick start\n+```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S
    )
    install, tests = quick_start.group(1).strip().splitlines()
    assert install.startswith("pip install -r requirements.txt && ")
    assert tests.startswith("pip install -r requirements.txt && ")
    command = tests.split(" && ", 1)[1]
    steps = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("python -m pytest")
    ]
    assert steps == [command, "python -m pytest -m slow"]


def _class_tree(root: Path) -> None:
    """An nbgrader submitted/ tree: alice is right, bob flipped the kernel, cy's file is broken."""
    for student, name, source in (
        ("alice", f"{LAB.id}.ipynb", ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb"),
        ("bob", f"{LAB.id}.py", SUBMISSIONS / "wrong" / "flipped_kernel.py"),
        ("cy", f"{LAB.id}.py", SUBMISSIONS / "hostile" / "syntax_error.py"),
    ):
        folder = root / "submitted" / student / LAB.id
        folder.mkdir(parents=True)
        shutil.copy(source, folder / name)


@pytest.mark.slow
def test_readme_commands_work_as_pasted(tmp_path):
    """Does every grading command of the README run, as written, in a fresh folder?"""
    (tmp_path / "labs").symlink_to(ROOT / "labs")
    _class_tree(tmp_path)
    ran = []
    for command in readme_commands():
        if any(command.startswith(prefix) for prefix in NOT_RUN_HERE):
            continue
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=_env(), capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip
        allowed = {0, 1} if " check " in f" {command} " else {0}
        assert done.returncode in allowed, f"{command}\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
        if " check " in command:
            assert "Visible tests:" in done.stdout
        ran.append(shlex.split(command)[0:4])
    assert len(ran) >= 8
    out = tmp_path / "grades" / LAB.id
    assert set(_rows(out)) == {"alice", "bob", "cy"}
    assert (out / "report.html").exists() and (tmp_path / "gradescope_03.zip").exists()
    assert json.loads((tmp_path / "r.json").read_text())["score"] == LAB.max_score
    merged = (tmp_path / "grades" / "03-shard1" / "report.html").read_text()
    assert "<b>3</b> submissions" in merged
