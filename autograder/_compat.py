"""Stand-ins for what Python 3.11+ added, so the grader runs on 3.10 (Gradescope's Ubuntu 22.04).

`pyproject.toml` allows Python >= 3.10; `tests/test_gradescope.py` fails when autograder/ or
convlab/ use 3.11+ syntax or these names straight from the standard library.
"""

from __future__ import annotations

import sys
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


__all__ = ["StrEnum"]
