"""The case record: one call of a student's function, its arguments typed and named."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class CaseArgs:
    """Base of the typed case records: one field per argument of the student's function, in order.

    A record unpacks like the call's argument tuple (`fn(*case.args)`, `case.args[2]`), and its
    field names are the argument names reports use.
    """

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values())

    def __getitem__(self, index: int | slice) -> Any:
        return self.values()[index]

    def __len__(self) -> int:
        return len(fields(self))

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def describe(self) -> str:
        """The arguments in words: shapes for arrays, values otherwise."""
        return ", ".join(
            f"{name} {v.shape}" if isinstance(v, np.ndarray) else f"{name}={v!r}"
            for name, v in zip(self.names(), self.values(), strict=True)
        )


@dataclass(frozen=True, eq=False)
class Case:
    """One call of a student's function: `args` go in, the reference says what must come out.

    `label` is a readable id such as `N2-H7xW5-C3to4-K3x2-s[1,2,1,1]-SAME`; `size` orders cases so
    that the smallest failing one is reported.
    """

    exercise: str
    suite: str
    seed: int
    index: int
    args: CaseArgs
    label: str
    size: int

    @property
    def description(self) -> str:
        return f"{self.label} (suite {self.suite!r}, seed {self.seed}, case {self.index})"
