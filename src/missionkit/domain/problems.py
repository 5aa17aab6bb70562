"""Problems found in input: where (a path such as ``missions[0].deadline``) and why."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def join_path(*parts: str | int) -> str:
    """``("missions", 0, "deadline")`` -> ``missions[0].deadline``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part:
            out += f".{part}" if out else part
    return out


def problems_from(error: ValidationError, *prefix: str | int) -> list[Problem]:
    """Pydantic's errors as problems, each at its full path."""
    found = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        found.append(Problem(join_path(*prefix, *item["loc"]), message))
    return found


class InvalidInput(Exception):
    """Raised with every problem found, so a user can fix them all in one go."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:20]))

    @classmethod
    def one(cls, path: str, message: str) -> InvalidInput:
        return cls([Problem(path, message)])


def raise_if(problems: Iterable[Problem]) -> None:
    found = list(problems)
    if found:
        raise InvalidInput(found)
