"""Stand-ins for what Python 3.11+ added, so the grader runs on 3.10 (Gradescope's Ubuntu 22.04).

`pyproject.toml` allows Python >= 3.10; `tests/test_gradescope.py` fails when autograder/ or
convlab/ use 3.11+ syntax or these names straight from the standard library.
"""

from __future__ import annotations

import ast
import sys
import threading
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, Enum):
        """`enum.StrEnum` of Python 3.11: members are strings and print as their value."""

        def __str__(self) -> str:
            return str(self.value)

        @staticmethod
        def _generate_next_value_(name: str, start: int, count: int, last_values: list) -> str:
            return name.lower()


#: CPython before 3.12 keeps the AST constructor's recursion depth in state shared by every
#: thread: two grading threads parsing at once can raise "SystemError: AST constructor recursion
#: depth mismatch" (python/cpython#106905) for an honest submission. One parse at a time.
_AST_LOCK = threading.Lock()


def parse_ast(source: str) -> ast.Module:
    """`ast.parse(source)`, safe to call from several grading threads at once."""
    with _AST_LOCK:
        return ast.parse(source)


__all__ = ["StrEnum", "parse_ast"]
