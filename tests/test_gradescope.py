"""Tests of the Gradescope bundle: what it installs, what it carries, results.json end to end."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from packaging.requirements import Requirement

from autograder.classroom import solution_answers, student_notebook
from autograder.gradescope import NO_SECRET_MESSAGE, BundleError, build_bundle, run
from autograder.registry import get_lab
from autograder.sandbox import bubblewrap_works

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("01_convolution_by_hand")
LAB3 = get_lab("03_filter_banks")
SUBMISSIONS = ROOT / "tests" / "submissions"
SCHEMA = json.loads((ROOT / "tests" / "gradescope_results.schema.json").read_text())
GRADER_REQUIREMENTS = ROOT / "requirements-grader.txt"
#: Gradescope's base images: Ubuntu 22.04 (glibc 2.35, Python 3.10) and 24.04 (glibc 2.39, 3.12).
MANYLINUX = ["manylinux_2_35_x86_64", "manylinux_2_34_x86_64", "manylinux_2_31_x86_64",
             "manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64"]  # fmt: skip


def validate(data: dict) -> None:
    """Fail unless `data` is a results.json Gradescope's spec allows."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


def test_schema_rejects_what_the_spec_does_not_define():
    """Does the schema refuse a top-level max_score, a made-up visibility and a test status?"""
    good = {"score": 1, "execution_time": 2, "tests": [{"name": "t", "score": 1, "max_score": 1}]}
    validate(good)
    for bad in (
        {**good, "max_score": 5},
        {**good, "visibility": "public"},
        {**good, "tests": [{"name": "t", "score": 1, "status": "ok"}]},
        {"tests": [{"name": "t"}]},  # no score anywhere
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(bad)


# ----------------------------------------------------------------------------------------------
# What the bundle installs


def _pins_for(python: str) -> list[str]:
    """requirements-grader.txt's lines that apply on `python`, as pip running on it picks them
    (a `--python-version` dry run would evaluate the markers for this interpreter instead)."""
    env = {"python_version": python, "python_full_version": f"{python}.0"}
    lines = []
    for line in GRADER_REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                lines.append(str(Requirement(line)).split(";")[0])
    return lines


def test_grader_requirements_are_pinned_and_cover_each_python():
    """Is every grading requirement pinned with ==, exactly once on each Python 3.10-3.13?"""
    for python in ("3.10", "3.11", "3.12", "3.13"):
        pins = _pins_for(python)
        names = [re.split("[=<>]", p)[0] for p in pins]
        assert len(names) == len(set(names)), (python, pins)
        assert all("==" in p for p in pins), pins
        assert {"tensorflow-cpu", "numpy", "nbformat", "tqdm", "matplotlib"} <= set(names)
    dev = {"jupyterlab", "voila", "playwright", "ruff", "pytest", "nbgrader"}
    assert not dev & set(re.split("[=<>;]", p)[0] for p in _pins_for("3.11"))


def _module_path(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def grading_imports(entry: str = "autograder.gradescope") -> tuple[set[str], set[str]]:
    """(modules of ours, third-party top-level names) that `entry` imports, at any depth, lazy
    imports inside functions included: what the bundle's run_autograder can reach."""
    ours, third, todo = set(), set(), [entry]
    while todo:
        name = todo.pop()
        path = _module_path(name)
        if name in ours or path is None:
            continue
        ours.add(name)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{parent}.{base}" if base else parent
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                top = target.split(".")[0]
                if top in ("autograder", "convlab"):
                    todo.append(target)
                elif top and top not in sys.stdlib_module_names and top != "__future__":
                    third.add(top)
    return ours, third


def test_grading_code_imports_only_what_the_bundle_installs():
    """Does everything the bundle's entry point can import come from requirements-grader.txt?"""
    ours, third = grading_imports()
    assert {"autograder.grade", "autograder.sandbox", "convlab.plots"} <= ours
    provided = {"numpy", "tensorflow", "nbformat", "tqdm", "matplotlib", "keras"}
    assert third <= provided, sorted(third - provided)


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.10", "3.12"])
def test_grader_requirements_resolve_to_wheels(python, tmp_path):
    """Do the pins resolve to manylinux wheels for Gradescope's Python (a pip dry run)?"""
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("\n".join(_pins_for(python)) + "\n")
    platforms = [a for p in MANYLINUX for a in ("--platform", p)]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--only-binary=:all:",
         "--python-version", python, *platforms, "--target", str(tmp_path / "t"),
         "--ignore-installed", "--disable-pip-version-check", "-r", str(reqs)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Would install" in result.stdout and "tensorflow_cpu-2.21.0" in result.stdout


PY311_NAMES = re.compile(
    r"\b(enum\.StrEnum|from enum import [^\n]*\bStrEnum\b|datetime\.UTC|"
    r"from datetime import [^\n]*\bUTC\b|tomllib|ExceptionGroup|"
    r"TaskGroup|typing\.Self|from typing import [^\n]*\b(Self|Never|LiteralString|Required|"
    r"NotRequired|assert_never|reveal_type)\b)"
)


def test_grader_and_helpers_are_python_310_code():
    """Do autograder/ and convlab/ parse as Python 3.10 and avoid 3.11+ standard-library names?"""
    offenders = []
    for path in sorted([*(ROOT / "autograder").rglob("*.py"), *(ROOT / "convlab").rglob("*.py")]):
        text = path.read_text()
        ast.parse(text, filename=str(path), feature_version=(3, 10))
        if "except*" in text or re.search(r"^\s*type \w+\s*=", text, re.M):
            offenders.append(f"{path.name}: 3.11+ syntax")
        if path.name != "_compat.py":
            offenders += [f"{path.name}: {m.group(0)}" for m in PY311_NAMES.finditer(text)]
    assert offenders == [], "use autograder._compat instead: " + "; ".join(offenders)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.10"' in pyproject and 'target-version = "py310"' in pyproject


def test_compat_strenum_behaves_like_the_standard_one():
    from autograder._compat import StrEnum

    class Tier(StrEnum):
        SHAPE = "shape"

    assert Tier.SHAPE == "shape" and str(Tier.SHAPE) == "shape" and f"{Tier.SHAPE}" == "shape"


def test_setup_script_fails_loudly_and_uses_a_virtualenv(tmp_path):
    """Does setup.sh stop on any error, hide none, install into a venv, and lock down secrets?"""
    path = build_bundle(LAB.id, tmp_path / "ag.zip", secret="s3cret")
    with zipfile.ZipFile(path) as z:
        setup = z.read("setup.sh").decode()
    assert setup.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in setup
    assert "|| true" not in setup and "2>/dev/null" not in setup.replace("> /dev/null 2>&1", "")
    assert "python3 -m venv" in setup and "requirements-grader.txt" in setup
    assert "pip install --no-deps" in setup and "bubblewrap" in setup and "useradd" in setup
    assert 'chmod -R go-rwx "$SOURCE"' in setup and 'chmod 700 "$ROOT/results"' in setup
    (tmp_path / "setup.sh").write_text(setup)
    assert subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")]).returncode == 0
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(tmp_path / "setup.sh")], check=True)


# ----------------------------------------------------------------------------------------------
# What the bundle carries


def test_bundle_has_what_gradescope_runs(tmp_path):
    """Does the zip hold setup.sh, run_autograder (executable), the grader, its data, the secret?"""
    path = build_bundle(LAB.id, tmp_path / "ag.zip", secret="s3cret")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        run_script = z.read("run_autograder").decode()
        mode = z.getinfo("run_autograder").external_attr >> 16
        secret = z.read("course_secret.txt").decode()
        manifest = json.loads(z.read("convlab_bundle.json"))
    assert {"setup.sh", "run_autograder", "requirements-grader.txt", "pyproject.toml"} <= names
    assert {"autograder/grade.py", "convlab/data.py", "data/mnist_sample.npz"} <= names
    assert "requirements.txt" not in names and not any("__pycache__" in n for n in names)
    assert f"--lab {LAB.id}" in run_script and mode & 0o111
    assert secret.strip() == "s3cret" and manifest == {
        "lab": LAB.id, "trial": False, "max_score": LAB.max_score
    }  # fmt: skip


def test_bundle_takes_the_secret_from_the_environment_or_a_file(tmp_path, monkeypatch):
    """Does the CLI carry $CONVLAB_COURSE_SECRET, or --secret-file, into the zip?"""
    from autograder.__main__ import main

    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "from-env")
    monkeypatch.delenv("CONVLAB_COURSE_SECRET_FILE", raising=False)
    assert main(["gradescope", "--lab", LAB.id, "--out", str(tmp_path / "a.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.read("course_secret.txt").decode().strip() == "from-env"
    (tmp_path / "secret.txt").write_text("from-file\n")
    args = ["gradescope", "--lab", LAB.id, "--out", str(tmp_path / "b.zip")]
    assert main([*args, "--secret-file", str(tmp_path / "secret.txt")]) == 0
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        assert z.read("course_secret.txt").decode().strip() == "from-file"


def test_bundle_without_a_secret_is_refused_unless_a_trial(tmp_path, monkeypatch, capsys):
    """Is a bundle with no course secret refused with a message, and built only with --trial?"""
    from autograder.__main__ import main

    monkeypatch.delenv("CONVLAB_COURSE_SECRET", raising=False)
    monkeypatch.delenv("CONVLAB_COURSE_SECRET_FILE", raising=False)
    out = tmp_path / "ag.zip"
    assert main(["gradescope", "--lab", LAB.id, "--out", str(out)]) != 0
    assert "no course secret" in capsys.readouterr().err and not out.exists()
    with pytest.raises(BundleError, match="no course secret"):
        build_bundle(LAB.id, out)
    assert main(["gradescope", "--lab", LAB.id, "--out", str(out), "--trial"]) == 0
    with zipfile.ZipFile(out) as z:
        assert "course_secret.txt" not in z.namelist()
        assert json.loads(z.read("convlab_bundle.json"))["trial"] is True
    assert "--trial" in NO_SECRET_MESSAGE


# ----------------------------------------------------------------------------------------------
# The entry point, in process


def test_run_writes_results_for_a_submission(tmp_path):
    """Does the in-container entry point grade the uploaded notebook into a valid results.json?"""
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / f"{LAB.id}.ipynb").write_bytes(
        (ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb").read_bytes()
    )
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"users": [{"email": "ada@example.edu", "id": 7}]}))
    results = tmp_path / "results" / "results.json"
    assert run(LAB.id, sub, meta, results) == 0
    data = json.loads(results.read_text())
    validate(data)
    assert data["score"] == LAB.max_score and data["execution_time"] > 0
    assert data["extra_data"]["student"] == "ada@example.edu"
    assert data["extra_data"]["max_score"] == LAB.max_score
    assert data["extra_data"]["limits"]["call_seconds"] > 0


def test_run_without_a_file_still_writes_results(tmp_path):
    """Is an empty upload graded 0 with a message instead of failing the container?"""
    (tmp_path / "submission").mkdir()
    results = tmp_path / "results.json"
    run(LAB.id, tmp_path / "submission", tmp_path / "missing.json", results)
    data = json.loads(results.read_text())
    validate(data)
    assert data["score"] == 0 and "No .ipynb or .py file" in data["output"]


# ----------------------------------------------------------------------------------------------
# The bundle end to end, against a fake /autograder

SECRET = "gradescope-test-secret-7f3a"
HOSTILE_SECRET_READER = """
import os
import numpy as np

def conv2d(inputs, filters, strides, padding):
    for path in (os.environ.get("CONVLAB_COURSE_SECRET_FILE", ""),
                 "{root}/source/course_secret.txt", "../source/course_secret.txt"):
        try:
            print(open(path).read())
        except Exception as error:
            print(type(error).__name__)
    print(os.environ)
    return np.zeros((1, 1, 1, 1))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("zip") / "ag.zip"
    return build_bundle(LAB3.id, path, secret=SECRET)


def _run_bundle(bundle: Path, root: Path, files: dict[str, str]) -> dict:
    """Unpack the zip as Gradescope does, upload `files`, run run_autograder; the results."""
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text.replace("{root}", str(root)))
    (root / "submission_metadata.json").write_text(
        json.dumps({"users": [{"email": "sam@example.edu", "id": 42, "name": "Sam"}]})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CONVLAB_"))}
    env.update(
        CONVLAB_GRADESCOPE_ROOT=str(root),
        CONVLAB_GRADESCOPE_PYTHON=sys.executable,
        PYTHONPATH=str(root / "source"),  # the zip's grader, not this checkout's
        CONVLAB_CACHE_DIR=str(root / "cache"),
    )
    done = subprocess.run(
        ["bash", str(root / "run_autograder")],
        capture_output=True, text=True, timeout=600, cwd=root, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "development secret" not in done.stdout  # the bundle's secret was used
    text = (root / "results" / "results.json").read_text()
    assert SECRET not in text
    data = json.loads(text)
    validate(data)
    assert data["execution_time"] > 0 and data["extra_data"]["lab"] == LAB3.id
    return data


def _conv2d_points(data: dict) -> float:
    return sum(t["score"] for t in data["tests"] if t["name"].startswith("conv2d:"))


@pytest.mark.slow
def test_bundle_grades_a_correct_submission(bundle, tmp_path):
    correct = (SUBMISSIONS / "correct" / "vectorized.py").read_text()
    data = _run_bundle(bundle, tmp_path, {f"{LAB3.id}.py": correct})
    assert _conv2d_points(data) == LAB3.item("conv2d").max_score
    assert data["extra_data"]["student"] == "sam@example.edu"


@pytest.mark.slow
def test_bundle_grades_a_wrong_submission(bundle, tmp_path):
    wrong = (SUBMISSIONS / "wrong" / "flipped_kernel.py").read_text()
    data = _run_bundle(bundle, tmp_path, {"my_lab.py": wrong})
    assert _conv2d_points(data) < LAB3.item("conv2d").max_score
    failed = [t for t in data["tests"] if t["status"] == "failed" and "conv2d" in t["name"]]
    assert any("flipped the kernel" in " ".join(t["extra_data"]["mistakes"]) for t in failed)


@pytest.mark.slow
def test_bundle_grades_the_predictions(bundle, tmp_path):
    """Are lab 03's graded predictions graded as values in the bundle: right, wrong, missing?"""
    data = _run_bundle(bundle, tmp_path, {f"{LAB3.id}.py": "my_dense_weights = 451584\n"})
    scores = {t["name"]: t["score"] for t in data["tests"]}
    assert scores["my_dense_weights: prediction"] == 1
    assert scores["my_conv_weights: prediction"] == 0


@pytest.mark.slow
def test_bundle_grades_a_hostile_submission(bundle, tmp_path):
    data = _run_bundle(bundle, tmp_path, {f"{LAB3.id}.py": HOSTILE_SECRET_READER})
    assert data["score"] == 0


@pytest.mark.slow
def test_bundle_grades_a_missing_submission(bundle, tmp_path):
    data = _run_bundle(bundle, tmp_path, {"notes.txt": "I forgot to upload"})
    assert data["score"] == 0 and "No .ipynb or .py file" in data["output"]


# ----------------------------------------------------------------------------------------------
# The other faces of the same grader


@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "expected", "code"),
    [("labs", "Visible tests: 0 / 7 points", 1), ("solutions", "Visible tests: 7 / 7 points", 0)],
    ids=["stubs", "solution"],
)
def test_check_cli_reports_visible_points(folder, expected, code):
    """Does `check NOTEBOOK` self-check the visible suites, exiting 1 when one fails?"""
    notebook = ROOT / folder / LAB.id / f"{LAB.id}.ipynb"
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "check", str(notebook)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    assert expected in result.stdout
    if folder == "labs":
        assert "not implemented yet" in result.stdout


@pytest.mark.slow
def test_pytest_face_grades_a_submission(tmp_path):
    """Does `pytest --pyargs autograder.suite --submission F` run one test per graded suite?"""
    results = tmp_path / "results.json"
    notebook = ROOT / "solutions" / LAB.id / f"{LAB.id}.ipynb"
    run_ = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--pyargs", "autograder.suite",
         "--submission", str(notebook), "--results-json", str(results), "-q"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run_.returncode == 0, run_.stdout[-2000:]
    n_tests = sum(len(i.tests) for i in LAB.items)
    assert f"{n_tests} passed" in run_.stdout
    assert f"convlab score: {LAB.max_score:g} / {LAB.max_score:g}" in run_.stdout
    data = json.loads(results.read_text())
    validate(data)
    assert data["score"] == LAB.max_score


# ----------------------------------------------------------------------------------------------
# The bundle as Gradescope installs it: setup.sh for real, then run_autograder with its venv

#: Gradescope's base images' Pythons (Ubuntu 22.04: 3.10, 24.04: 3.12), as pyenv has them here.
GRADESCOPE_PYTHONS = ("3.10", "3.12")
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
LAB_IDS = (
    "01_convolution_by_hand", "02_stride_padding", "03_filter_banks", "04_tf_conv2d",
    "05_fast_conv2d",
)  # fmt: skip
ISOLATION_NAMES = {"bubblewrap": "bubblewrap", "uid": "unprivileged-uid"}
#: Per lab, one answer cell with a real mistake: (grade_id, source; {answer} is the solution's).
WRONG_CELLS = {
    "01_convolution_by_hand": (  # flips the kernel
        "apply_kernel",
        "def apply_kernel(image, kernel, x, y):\n"
        "    kh, kw = kernel.shape\n"
        "    return float(np.sum(image[y : y + kh, x : x + kw] * kernel[::-1, ::-1]))\n",
    ),
    "02_stride_padding": (  # the VALID formula for every padding and stride 1
        "output_size",
        "def output_size(in_size, filter_size, stride, padding):\n"
        "    return in_size - filter_size + 1\n",
    ),
    "03_filter_banks": (  # the solution's conv2d with the kernel flipped
        "conv2d",
        "{answer}\n\n_right = conv2d\n\n\n"
        "def conv2d(inputs, filters, strides, padding):\n"
        "    return _right(inputs, np.asarray(filters)[::-1, ::-1], strides, padding)\n",
    ),
    "04_tf_conv2d": ("my_mnist_shape", "my_mnist_shape = (64, 28, 28, 16)\n"),  # forgot stride 2
    "05_fast_conv2d": (  # the solution's conv2d_fast with the kernel flipped
        "conv2d_fast",
        "{answer}\n\n_right = conv2d_fast\n\n\n"
        "def conv2d_fast(inputs, filters, strides, padding):\n"
        "    return _right(inputs, np.asarray(filters)[::-1, ::-1], strides, padding)\n",
    ),
}


def _pyenv_python(version: str) -> Path | None:
    found = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None


def _clean_env(**extra: str) -> dict[str, str]:
    """The shell's environment without the test run's: no PYTHONPATH (the venv's own package
    must be what runs), no CONVLAB_* or PYTEST_* variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("PYTEST_", "CONVLAB_"))
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module", params=GRADESCOPE_PYTHONS)
def installed(request, tmp_path_factory) -> Path:
    """A fake /autograder where the bundle's own setup.sh ran, as root, with this CPython as
    the image's python3 (first on PATH): its venv is what run_autograder uses."""
    version = request.param
    python = _pyenv_python(version)
    if os.geteuid() != 0 or python is None:
        pytest.skip(f"needs root and CPython {version} under {PYENV_VERSIONS}")
    base = tmp_path_factory.mktemp(f"gradescope-{version}")
    (base / "bin").mkdir()
    (base / "bin" / "python3").symlink_to(python)
    root = base / "autograder"
    _unpack(build_bundle(LAB.id, base / "ag.zip", secret=SECRET), root)
    path = f"{base / 'bin'}:{os.environ.get('PATH', os.defpath)}"
    done = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True, text=True, timeout=1800,
        env=_clean_env(PATH=path, CONVLAB_GRADESCOPE_ROOT=str(root)),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "grader env ok" in done.stdout and "setup.sh: done" in done.stdout
    venv_python = root / "venv" / "bin" / "python"
    said = subprocess.run(
        [str(venv_python), "-c", "import sys, autograder; print(sys.version, autograder.__file__)"],
        capture_output=True, text=True, env=_clean_env(), cwd="/",
    )  # fmt: skip
    assert said.stdout.startswith(version + "."), said.stdout + said.stderr
    assert "site-packages" in said.stdout  # the installed package, not this checkout
    return root


def _unpack(bundle: Path, root: Path) -> None:
    """Place the zip where Gradescope does: /autograder/source, run_autograder beside it."""
    (root / "source").mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")


def _run_installed(root: Path, notebook, mode: str) -> dict:
    """Upload one notebook and run run_autograder with setup.sh's venv (no override)."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    lab_id = json.loads((root / "source" / "convlab_bundle.json").read_text())["lab"]
    nbformat.write(notebook, root / "submission" / f"{lab_id}.ipynb")
    (root / "submission_metadata.json").write_text(
        json.dumps({"users": [{"email": "sam@example.edu", "id": 42, "name": "Sam"}]})
    )
    done = subprocess.run(
        ["bash", str(root / "run_autograder")],
        capture_output=True, text=True, timeout=900, cwd=root,
        env=_clean_env(
            CONVLAB_GRADESCOPE_ROOT=str(root), CONVLAB_ISOLATION=mode,
            CONVLAB_CACHE_DIR=str(root / "cache"),
        ),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    validate(data)
    assert data["extra_data"]["isolation"] == ISOLATION_NAMES[mode]
    assert SECRET not in json.dumps(data)
    return data


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bubblewrap", "uid"])
@pytest.mark.parametrize("lab_id", LAB_IDS)
def test_setup_sh_venv_grades_every_lab(installed, lab_id, mode, tmp_path):
    """With the venv setup.sh made (the package installed, not this checkout), is each lab's
    solution notebook graded full marks and a notebook with one real mistake graded below,
    losing that answer's points, in bubblewrap and in the uid mode?"""
    if mode == "bubblewrap" and not bubblewrap_works():
        pytest.skip("bubblewrap cannot run here")
    lab = get_lab(lab_id)
    _unpack(build_bundle(lab.id, tmp_path / "ag.zip", secret=SECRET), installed)
    answers = solution_answers(lab.id)
    right = _run_installed(installed, student_notebook(lab.id, answers), mode)
    failed = [
        (t["name"], t.get("output", "")[:300]) for t in right["tests"] if t["status"] != "passed"
    ]
    assert (right["score"], failed) == (lab.max_score, [])
    wrong_cell, source = WRONG_CELLS[lab.id]
    wrong = {**answers, wrong_cell: source.replace("{answer}", answers[wrong_cell])}
    data = _run_installed(installed, student_notebook(lab.id, wrong), mode)
    assert 0 < data["score"] < lab.max_score
    lost = {t["name"].split(": ")[0] for t in data["tests"] if t["score"] < t["max_score"]}
    assert wrong_cell in lost
    assert "crashed" not in json.dumps(data["tests"])  # a mistake, not a worker that failed
