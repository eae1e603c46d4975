"""A Gradescope autograder bundle per lab, and the entry point it runs in Gradescope's container.

`python -m autograder gradescope --lab LAB --out F.zip` builds the zip; Gradescope runs its
`setup.sh` once (a virtualenv with `requirements-grader.txt` and this package) and its
`run_autograder` per submission, which calls `python -m autograder.gradescope run`. Everything
lives under one root, `/autograder` in Gradescope's container or `$CONVLAB_GRADESCOPE_ROOT`
anywhere else (the tests run the bundle against a temporary root).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .registry import get_lab

ROOT = Path(__file__).resolve().parents[1]
#: What the bundle carries: the two packages, the bundled data, the grading-only requirements and
#: what `pip install --no-deps .` needs (pyproject.toml, README.md).
BUNDLE_PATHS = (
    "autograder",
    "convlab",
    "data",
    "requirements-grader.txt",
    "pyproject.toml",
    "README.md",
)
DEFAULT_ROOT = "/autograder"
ENV_ROOT = "CONVLAB_GRADESCOPE_ROOT"
#: The account student code runs as when bubblewrap cannot create namespaces in the container.
SANDBOX_USER = "convlab-sandbox"
SECRET_NAME = "course_secret.txt"
MANIFEST_NAME = "convlab_bundle.json"

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu 22.04 with
# Python 3.10, or 24.04 with Python 3.12). Every step fails loudly: a broken image must not build.
set -euo pipefail
ROOT="${CONVLAB_GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"
SANDBOX_USER="${CONVLAB_SANDBOX_USER:-__SANDBOX_USER__}"
umask 022  # the virtualenv must be readable by the unprivileged sandbox user

echo "== system packages: python3 with venv, bubblewrap"
if command -v apt-get > /dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv bubblewrap
else
    echo "setup.sh: no apt-get; the image needs python3 3.10-3.13 with venv, and bubblewrap" >&2
fi
python3 - <<'PY'
import sys
if not (3, 10) <= sys.version_info[:2] <= (3, 13):
    sys.exit(f"setup.sh: Python {sys.version.split()[0]}: convlab's grader needs 3.10 to 3.13")
PY
if ! python3 -c "import ensurepip"; then
    # python3-venv covers the distribution's python3; a different python3 needs its own package
    PYVER="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    apt-get install -y --no-install-recommends "python${PYVER}-venv"
fi

echo "== a virtualenv with what grading needs (PEP 668 forbids pip into the system Python)"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install --only-binary=:all: -r "$SOURCE/requirements-grader.txt"
"$VENV/bin/python" -m pip install --no-deps "$SOURCE"
"$VENV/bin/python" -c "import autograder.gradescope, numpy, tensorflow; print('grader env ok')"

echo "== an unprivileged user for student code (used whenever bubblewrap cannot run)"
if ! id -u "$SANDBOX_USER" > /dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SANDBOX_USER"
fi
if bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc true; then
    echo "bubblewrap can create namespaces in this image"
else
    echo "bubblewrap cannot create namespaces in this image: student code will run as $SANDBOX_USER"
fi

echo "== the sandbox runs correct code with this virtualenv, as it will run students' code"
(cd / && "$VENV/bin/python" - "$SOURCE/convlab_bundle.json" <<'PY'
import json, os, sys
from autograder.grade import limits_for, policy_for
from autograder.registry import get_lab
from autograder.sandbox import Sandbox, isolation_mode

lab = get_lab(json.load(open(sys.argv[1]))["lab"])
code = "def convlab_setup_check(n):\n    return np.arange(n) * 2\n"  # np: the lab's preamble
modes = [isolation_mode()]
if os.geteuid() == 0 and "unprivileged-uid" not in modes:
    modes.append("unprivileged-uid")  # the fallback when bubblewrap fails at run time
for n, mode in enumerate(modes):
    limits = limits_for(lab)
    limits = type(limits)(**{**limits.__dict__, "isolation": mode})
    with Sandbox(code, policy=policy_for(lab), limits=limits) as box:
        result = box.call("convlab_setup_check", 3)
        output = box.output
    if result.status == "ok" and [int(v) for v in result.value] == [0, 2, 4]:
        print(f"setup.sh: {lab.id}'s sandbox runs correct code in the {mode} mode")
    elif n == 0:
        sys.exit(f"setup.sh: the {mode} sandbox cannot run correct code: {result.status}: "
                 f"{result.message}\n{output}")
    else:
        print(f"setup.sh: WARNING: the {mode} fallback cannot run correct code: {result.message}")
PY
)

echo "== the course secret, the source and the results: root only"
chown -R root:root "$SOURCE"
chmod -R go-rwx "$SOURCE"
mkdir -p "$ROOT/results"
chown root:root "$ROOT/results"
chmod 700 "$ROOT/results"
echo "setup.sh: done"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission: it grades /autograder/submission into
# /autograder/results/results.json. $CONVLAB_GRADESCOPE_ROOT replaces /autograder (local runs);
# $CONVLAB_GRADESCOPE_PYTHON replaces the virtualenv's python that setup.sh made.
set -euo pipefail
ROOT="${CONVLAB_GRADESCOPE_ROOT:-/autograder}"
PY="${CONVLAB_GRADESCOPE_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
chmod 700 "$ROOT/results"
if [ -f "$ROOT/source/__SECRET__" ]; then
    export CONVLAB_COURSE_SECRET_FILE="$ROOT/source/__SECRET__"
fi
export CONVLAB_BUNDLE_DIR="$ROOT/source/data"
export CONVLAB_SANDBOX_USER="${CONVLAB_SANDBOX_USER:-__SANDBOX_USER__}"
# one thread pool for the reference computations: less memory, and the container has 1-2 CPUs
export TF_NUM_INTEROP_THREADS="${TF_NUM_INTEROP_THREADS:-1}"
export TF_NUM_INTRAOP_THREADS="${TF_NUM_INTRAOP_THREADS:-2}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
cd "$ROOT"
exec "$PY" -m autograder.gradescope run --lab __LAB__ --root "$ROOT"
"""


class BundleError(ValueError):
    """The bundle cannot be built as asked (no course secret, unknown lab, ...)."""


def resolve_secret(secret_file: Path | None = None) -> str | None:
    """The course secret: --secret-file, else $CONVLAB_COURSE_SECRET, else the file it names."""
    if secret_file is not None:
        try:
            secret = secret_file.read_text().strip()
        except OSError as error:
            raise BundleError(f"cannot read the secret file {secret_file}: {error}") from error
        if not secret:
            raise BundleError(f"the secret file {secret_file} is empty")
        return secret
    secret = os.environ.get("CONVLAB_COURSE_SECRET", "").strip()
    if secret:
        return secret
    path = os.environ.get("CONVLAB_COURSE_SECRET_FILE")
    if path:
        return resolve_secret(Path(path))
    return None


NO_SECRET_MESSAGE = (
    "no course secret: the hidden cases would come from the public development secret, so a "
    "student could compute them. Set CONVLAB_COURSE_SECRET (or CONVLAB_COURSE_SECRET_FILE), or "
    "pass --secret-file FILE; pass --trial to build a bundle for trying Gradescope out anyway."
)


def build_bundle(lab_id: str, out: Path, *, secret: str | None = None, trial: bool = False) -> Path:
    """Write the zip Gradescope takes as a programming assignment's autograder.

    The course secret (hidden-case seeds) goes in `course_secret.txt`; only staff see the bundle,
    setup.sh makes it root-only in the container, and the sandbox cannot read it. Without a
    secret the build is refused (BundleError) unless `trial`.
    """
    from .policy import DEV_SECRET

    lab = get_lab(lab_id)
    if secret is not None and secret.strip() == DEV_SECRET:
        raise BundleError("the course secret is the public development secret; choose your own")
    if not secret and not trial:
        raise BundleError(NO_SECRET_MESSAGE)
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest = {"lab": lab.id, "trial": not secret, "max_score": lab.max_score}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text, mode in (
            ("setup.sh", SETUP_SH.replace("__SANDBOX_USER__", SANDBOX_USER), 0o755),
            ("run_autograder", _run_script(lab.id), 0o755),
            (MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n", 0o644),
        ):
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
        for name in BUNDLE_PATHS:
            path = ROOT / name
            files = [path] if path.is_file() else sorted(path.rglob("*"))
            for f in files:
                if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                    z.write(f, f.relative_to(ROOT).as_posix())
        if secret:
            info = zipfile.ZipInfo(SECRET_NAME)
            info.external_attr = 0o600 << 16
            z.writestr(info, secret.strip() + "\n")
    return out


def _run_script(lab_id: str) -> str:
    return (
        RUN_AUTOGRADER.replace("__LAB__", lab_id)
        .replace("__SECRET__", SECRET_NAME)
        .replace("__SANDBOX_USER__", SANDBOX_USER)
    )


# ----------------------------------------------------------------------------------------------
# Inside the container


def _student(metadata: Path) -> str | None:
    from .grade import safe_text

    try:
        users = json.loads(metadata.read_text()).get("users") or []
        return safe_text(str(users[0].get("email") or users[0].get("id"))) if users else None
    except (OSError, ValueError, AttributeError, IndexError):
        return None


def _secret_note() -> str:
    """Why the hidden cases may be guessable, for the staff-only stdout; '' when all is well."""
    from .policy import DEV_SECRET, course_secret

    try:
        secret = course_secret()
    except OSError as error:
        return f"warning: the course secret could not be read ({error})"
    if secret == DEV_SECRET:
        return "warning: trial bundle: hidden cases come from the public development secret"
    return ""


def run(
    lab_id: str,
    submission_dir: Path,
    metadata: Path,
    results: Path,
    *,
    limits: Any = None,
) -> int:
    """Grade the one submission Gradescope put in `submission_dir`; always write results.json.

    Returns 0 when the submission was graded (whatever its score); EXIT_GRADER_FAILED when the
    grader failed (no isolation mode runs a correct submission, the worker could not start, a
    reference or check raised): results.json then says so and carries no score.
    """
    from .grade import GRADER_ERROR_HEADLINE, GRADER_ERROR_STATUS, is_grader_error, scrub

    start = time.monotonic()
    secret_file = Path(__file__).resolve().parents[1] / SECRET_NAME
    if secret_file.exists():
        os.environ.setdefault("CONVLAB_COURSE_SECRET_FILE", str(secret_file))
    lab = get_lab(lab_id)
    student = _student(metadata) or "gradescope-student"
    results.parent.mkdir(parents=True, exist_ok=True)
    note = _secret_note()
    if note:
        print(note)
    try:
        data = _grade(lab, submission_dir, student, limits)
    except (
        Exception
    ) as error:  # a grader bug must still give Gradescope a result, the staff a trace
        print(traceback.format_exc())
        why = f"{type(error).__name__}: {error}"[:2000]
        data = {  # no score: Gradescope's spec allows none when no test has one
            "output": f"{GRADER_ERROR_HEADLINE}\n{why}",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
            "extra_data": {
                "student": student,
                "lab": lab.id,
                "max_score": lab.max_score,
                "status": GRADER_ERROR_STATUS,
                "grader_errors": [why],
            },
        }
    data["execution_time"] = round(time.monotonic() - start, 2)
    data.setdefault("extra_data", {})["gradescope"] = True
    text = json.dumps(scrub(data), indent=2, ensure_ascii=False)
    results.write_bytes(text.encode("utf-8", "backslashreplace"))
    if is_grader_error(data):
        print(f"{lab.id}: GRADER ERROR for {student}, no score written; wrote {results}")
        for line in data["extra_data"].get("grader_errors", []):
            print(f"  {line}")
        return EXIT_GRADER_FAILED
    print(f"{lab.id}: {data['score']:g} / {lab.max_score:g} for {student}; wrote {results}")
    return 0


#: run_autograder's exit code when the grader failed (results.json says so, with no score).
EXIT_GRADER_FAILED = 3


def _proven_limits(lab: Any, limits: Any) -> tuple[Any, dict[str, Any]]:
    """`limits` in the isolation mode a known-good submission ran in, once per run, and what to
    record about it; raises IsolationUnavailable (a grader error) when no allowed mode can."""
    from dataclasses import replace

    from .grade import limits_for, policy_for
    from .sandbox import Limits, prove_isolation

    proof = prove_isolation(policy_for(lab), limits_for(lab, limits))
    extra: dict[str, Any] = {}
    if proof.fell_back:
        print(f"WARNING: {proof.warning()}")  # staff-only stdout
        extra["isolation_fallback"] = proof.warning()
    return replace(limits or Limits(), isolation=proof.mode), extra


def _grade(lab: Any, submission_dir: Path, student: str, limits: Any) -> dict[str, Any]:
    from .grade import grade_submission, limits_for, workers_import_tensorflow
    from .submission import find_submissions

    files = find_submissions([submission_dir], lab=lab.id) if submission_dir.is_dir() else []
    preferred = [f for f in files if f.stem == lab.id] or files
    if not preferred:
        return {
            "score": 0,
            "output": f"No .ipynb or .py file was submitted; upload {lab.id}.ipynb.",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
            "extra_data": {
                "student": student,
                "lab": lab.id,
                "max_score": lab.max_score,
                "problems": ["no submission"],
            },
        }
    # When the workers import TensorFlow (lab 04), the references are computed before the
    # student's code runs, by a process that has exited by then: one copy of TensorFlow in the
    # container at a time, not two (the README's memory table). Other labs' workers never load
    # it, so there the grader computing its references itself is smaller and faster.
    prepare = workers_import_tensorflow(lab)
    proven, proof_extra = _proven_limits(lab, limits)
    report = grade_submission(preferred[0], lab, limits=proven, student=student, prepare=prepare)
    report.extra["limits"] = asdict(limits_for(lab, limits))
    report.extra.update(proof_extra)
    data = report.results_json()
    ignored = [f.name for f in preferred[1:]]
    if ignored:
        note = f"Graded {preferred[0].name}; also uploaded and not graded: {', '.join(ignored)}."
        data["output"] = "\n".join(s for s in (note, data["output"]) if s)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade inside Gradescope's container")
    p.add_argument("--lab", required=True)
    p.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get(ENV_ROOT) or DEFAULT_ROOT),
        help=f"Gradescope's folder (default ${ENV_ROOT} or {DEFAULT_ROOT})",
    )
    p.add_argument("--submission-dir", type=Path, help="default: ROOT/submission")
    p.add_argument("--metadata", type=Path, help="default: ROOT/submission_metadata.json")
    p.add_argument("--results", type=Path, help="default: ROOT/results/results.json")
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate in a message: escaped, not fatal
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    root: Path = args.root
    return run(
        args.lab,
        args.submission_dir or root / "submission",
        args.metadata or root / "submission_metadata.json",
        args.results or root / "results" / "results.json",
    )


if __name__ == "__main__":
    sys.exit(main())
