"""The README's quick start, taken the way a TA takes it (issue 18): a fresh virtualenv under /tmp
(`python -m venv $(mktemp -d)/v`), `pip install -r requirements.txt` from a checkout, then
`python -m autograder grade` on a correct and a wrong file, in bubblewrap (and in the uid mode).

Before issue 18 the worker's view hid such a venv behind its private /tmp: every student 0.
The Gradescope install (setup.sh's venv, the package installed rather than editable) is tested in
test_gradescope.py.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.registry import get_lab
from autograder.sandbox import bubblewrap_works

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("03_filter_banks")
CORRECT = ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb"
WRONG = ROOT / "tests" / "submissions" / "wrong" / "flipped_kernel.py"
#: What a fresh clone holds that the install and the grader read (no .git, no caches).
IGNORED = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache", "grades", "build"
)
MODES = [
    pytest.param(
        "bubblewrap",
        marks=pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap cannot run here"),
    ),
    pytest.param(
        "uid", marks=pytest.mark.skipif(os.geteuid() != 0, reason="the uid mode needs root")
    ),
]


def _env(**extra: str) -> dict[str, str]:
    """A TA's shell: none of the test run's PYTHONPATH, CONVLAB_* or PYTEST_* variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("PYTEST_", "CONVLAB_"))
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def readme_venv() -> Iterator[tuple[Path, Path]]:
    """(checkout, venv python): a copy of this checkout and a venv in a `mktemp -d` folder, with
    the README's install line run in the checkout."""
    if sys.version_info[:2] != (3, 11):
        pytest.skip("requirements.txt pins the course's Python, 3.11")
    base = Path(tempfile.mkdtemp())  # as `mktemp -d`: /tmp/tmp.XXXX, mode 0700
    try:
        checkout = base / "convlab"
        shutil.copytree(ROOT, checkout, ignore=IGNORED, symlinks=True)
        subprocess.run([sys.executable, "-m", "venv", str(base / "v")], check=True, env=_env())
        python = base / "v" / "bin" / "python"
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
            cwd=checkout, capture_output=True, text=True, timeout=3600, env=_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        yield checkout, python
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_readme_install_in_a_tmp_venv_grades_right_and_wrong(readme_venv, mode, tmp_path):
    """Does `python -m autograder grade` from that venv give the correct file 25/25 and the
    wrong one a partial grade for its mistake, not a crash?"""
    checkout, python = readme_venv
    where = subprocess.run(
        [str(python), "-c", "import autograder, numpy; print(autograder.__file__, numpy.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=_env(),
    )  # fmt: skip
    grader_file, numpy_file = where.stdout.split()
    assert Path(grader_file).is_relative_to(checkout)  # the editable install of the checkout
    assert Path(numpy_file).is_relative_to(python.parents[2])  # numpy from the venv under /tmp
    assert str(python).startswith(tempfile.gettempdir())
    submissions = tmp_path / "class"
    submissions.mkdir()
    shutil.copy(CORRECT, submissions / "ada.ipynb")
    shutil.copy(WRONG, submissions / "bob.py")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(python), "-m", "autograder", "grade", "--lab", LAB.id, "--out", str(out),
         str(submissions)],
        capture_output=True, text=True, timeout=900, cwd=checkout,
        env=_env(CONVLAB_ISOLATION=mode, CONVLAB_CACHE_DIR=str(tmp_path / "cache")),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"isolation: {'bubblewrap' if mode == 'bubblewrap' else 'unprivileged-uid'}" in (
        done.stdout + done.stderr
    )
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert float(rows["ada"]["score"]) == LAB.max_score == 25
    assert 0 < float(rows["bob"]["score"]) < 1  # flipped kernel: only the symmetric cases
    assert "crashed" not in (out / "bob.json").read_text()


SMOKE = """
import sys
from autograder.sandbox import Limits, Policy, Sandbox
code = "import numpy as np\\ndef f(n):\\n    import numpy.typing\\n    return np.arange(n) * 2\\n"
limits = Limits(call_seconds=30, load_seconds=60, total_seconds=120, isolation=sys.argv[1])
with Sandbox(code, policy=Policy(forbidden_modules=("tensorflow",)), limits=limits) as box:
    result = box.call("f", 3)
print(box.isolation, result.status, None if result.value is None else result.value.tolist(),
      result.message.replace("\\n", " | ")[:300], box.output[-300:].replace("\\n", " | "))
"""


@pytest.mark.parametrize("mode", MODES)
def test_venv_under_tmp_runs_workers(mode, tmp_path):
    """A venv made with `mktemp -d` (under /tmp, mode 0700; numpy from the Python it was made
    from): do workers started from it run correct code in this mode?"""
    base = Path(tempfile.mkdtemp())
    try:
        venv = base / "v"
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
            check=True, env=_env(),
        )  # fmt: skip
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", SMOKE, mode],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
            env=_env(PYTHONPATH=str(ROOT)),  # this checkout's grader, run by the venv's python
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        name = "bubblewrap" if mode == "bubblewrap" else "unprivileged-uid"
        assert done.stdout.startswith(f"{name} ok [0, 2, 4]"), done.stdout
    finally:
        shutil.rmtree(base, ignore_errors=True)
