"""Shared fixtures: a per-session reference cache, no course secret from the shell, and a
headless matplotlib."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # before anything imports pyplot: tests never open a window

SECRET_VARIABLES = ("CONVLAB_COURSE_SECRET", "CONVLAB_COURSE_SECRET_FILE")


@pytest.fixture(scope="session", autouse=True)
def reference_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh CONVLAB_CACHE_DIR per session, so tests neither read nor write ~/.cache."""
    path = tmp_path_factory.mktemp("convlab-cache")
    saved = os.environ.get("CONVLAB_CACHE_DIR")
    os.environ["CONVLAB_CACHE_DIR"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("CONVLAB_CACHE_DIR", None)
    else:
        os.environ["CONVLAB_CACHE_DIR"] = saved


@pytest.fixture(scope="session", autouse=True)
def development_secret() -> Iterator[None]:
    """Tests pin verdicts drawn with the development secret: a course secret in the shell that
    runs them (a TA's) must not change the cases. Tests that need a secret set their own."""
    saved = {k: os.environ.pop(k) for k in SECRET_VARIABLES if k in os.environ}
    yield
    os.environ.update(saved)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/golden/*.json from the current grader instead of comparing to them",
    )


#: The marker expression pyproject.toml's addopts gives a bare `python -m pytest`.
DEFAULT_MARKEXPR = "not slow"


def pytest_configure(config: pytest.Config) -> None:
    """Slow tests are left out of a bare `python -m pytest` only. Tests named on the command line
    (`pytest tests/test_golden.py`), or `--update-goldens`, run whatever their markers, unless a
    `-m` of your own says otherwise."""
    own_m = any(arg.startswith("-m") for arg in config.invocation_params.args)
    named = config.args_source == pytest.Config.ArgsSource.ARGS
    if config.option.markexpr == DEFAULT_MARKEXPR and not own_m:
        if named or config.getoption("--update-goldens"):
            config.option.markexpr = ""
