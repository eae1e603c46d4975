"""`--shard auto/n` on a cluster's job engine, and the README's recipes run as a cluster would."""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.__main__ import _shard

ROOT = Path(__file__).resolve().parents[1]
LAB_ID = "03_filter_banks"
STUDENTS = ("ada", "ben", "cai", "dee", "eli")
ENGINE_VARIABLES = ("JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN")


@pytest.fixture()
def no_engine(monkeypatch):
    for name in ENGINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "text", "shard"),
    [
        pytest.param({"JOB_COMPLETION_INDEX": "0"}, "auto/4", (1, 4), id="k8s-first-pod"),
        pytest.param({"JOB_COMPLETION_INDEX": "3"}, "auto/4", (4, 4), id="k8s-last-pod"),
        pytest.param({"SLURM_ARRAY_TASK_ID": "2"}, "auto/4", (3, 4), id="slurm-0-based"),
        pytest.param(
            {"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1"}, "AUTO/4", (4, 4),
            id="slurm-array-1-4",
        ),
        pytest.param({"JOB_COMPLETION_INDEX": "1"}, "2/4", (2, 4), id="explicit-wins"),
    ],
)  # fmt: skip
def test_auto_shard_takes_its_index_from_the_job_engine(no_engine, env, text, shard):
    """Is auto/n's index the Kubernetes pod's or Slurm task's, counted from 1?"""
    for name, value in env.items():
        no_engine.setenv(name, value)
    assert _shard(text) == shard


@pytest.mark.parametrize(
    ("env", "text", "says"),
    [
        pytest.param({}, "auto/4", "neither is set", id="no-engine"),
        pytest.param({"JOB_COMPLETION_INDEX": "4"}, "auto/4", "5 is not between", id="too-many"),
        pytest.param({"SLURM_ARRAY_TASK_ID": "x"}, "auto/4", "auto", id="not-a-number"),
        pytest.param({}, "0/4", "0 is not between", id="zero"),
    ],
)
def test_auto_shard_refuses_what_it_cannot_place(no_engine, env, text, says):
    """Does a missing or impossible index stop the run with a message, never grade shard 1?"""
    for name, value in env.items():
        no_engine.setenv(name, value)
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        _shard(text)


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(title)
    return text[start : text.index("\n## ", start + 1)]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    for name in ENGINE_VARIABLES:
        env.pop(name, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def _run(script: str, cwd: Path, **extra: str) -> str:
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=_env(**extra), capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, f"{script}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout + done.stderr


def _course(root: Path) -> Path:
    """A course folder with an nbgrader submitted/ tree of five lab 03 students."""
    source = (ROOT / "tests" / "submissions" / "correct" / "naive_loops.py").read_text()
    for student in STUDENTS:
        folder = root / "submitted" / student / LAB_ID
        folder.mkdir(parents=True)
        (folder / f"{LAB_ID}.py").write_text(source)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["kubernetes", "slurm"])
def test_readme_cluster_recipes_grade_every_student_once(tmp_path, engine):
    """Run the README's Job manifest (each pod's command, its index set) or sbatch script (each
    array task), then its merge: is every student graded by exactly one task, and does the
    merge grade nobody again and give one grades.csv for the class?"""
    section = _section("## Grading 1,000+ students")
    course = _course(tmp_path)
    if engine == "kubernetes":
        (manifest,) = re.findall(r"```yaml\n(.*?)```", section, re.S)
        job = yaml.safe_load(manifest)["spec"]
        (container,) = job["template"]["spec"]["containers"]
        assert container["command"][:2] == ["sh", "-c"] and job["completionMode"] == "Indexed"
        tasks = [
            (container["command"][2], {"JOB_COMPLETION_INDEX": str(i)})
            for i in range(job["completions"])
        ]
    else:
        script = re.findall(r"```sh\n(.*?)```", section, re.S)[0]
        first, last = map(int, re.search(r"--array=(\d+)-(\d+)", script).groups())
        tasks = [(script, {"SLURM_ARRAY_TASK_ID": str(i)}) for i in range(first, last + 1)]
    for command, env in tasks:
        _run(command, course, **env)
    shards = sorted(course.glob("grades/03-shard*"))
    assert len(shards) == len(tasks)
    graded = [p.stem for shard in shards for p in shard.glob("*.json")]
    assert sorted(graded) == sorted(STUDENTS)  # each student in exactly one shard
    merge = re.findall(r"```sh\n(.*?)```", section, re.S)[-1]
    said = _run(merge, course)
    assert f"0 to grade, {len(STUDENTS)} already graded" in said
    out = course / "grades" / LAB_ID
    with (out / "grades.csv").open() as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(STUDENTS) and (out / "report.html").exists()
    assert len(list((out / "feedback").glob("*.md"))) == len(STUDENTS)
    shutil.rmtree(course / "grades")
