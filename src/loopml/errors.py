"""The exceptions loopml raises, under one root.

::

    LoopmlError                      exit code 1 unless stated
    ├── InputError                   bad input from the user: exit code 2
    │   └── SpecError                loopml.yaml breaks a rule (names file, key path, line)
    │       └── DataError            a dataset cannot be used (names dataset, file, column)
    ├── StoreError                   the tracking store failed (database errors translated here)
    ├── ArtifactError                an artifact is missing, corrupt (sha256) or untrusted
    ├── ExecutorError                the executor could not run work (pool failed to start, ...)
    └── RegistryError                a registered-model operation was refused
        ├── ModelNotFound            no such registered model or version
        └── AliasConflict            compare-and-set on an alias lost a race

Every message states the rule, shows the value received and says what to do.
Foreign errors are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AliasConflict",
    "ArtifactError",
    "DataError",
    "ExecutorError",
    "InputError",
    "LoopmlError",
    "ModelNotFound",
    "Problem",
    "RegistryError",
    "SpecError",
    "StoreError",
]


class LoopmlError(Exception):
    """Root of every error loopml raises on purpose."""

    exit_code: int = 1


class InputError(LoopmlError):
    """The user's input (spec, data, command line) breaks a rule; nothing was written."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One broken rule in a spec: where it is, what the rule is, what to do."""

    key: str
    message: str
    line: int | None = None
    hint: str | None = None

    def render(self, file: str | None) -> str:
        where = self.key or "(top level)"
        if file:
            where += f" in {file}"
        if self.line is not None:
            where += f", line {self.line}"
        text = f"{self.message} ({where})"
        if self.hint:
            text += f". {self.hint}"
        return text


class SpecError(InputError):
    """The spec breaks one or more rules; each :class:`Problem` names its key path."""

    def __init__(self, problems: Sequence[Problem], *, file: str | None = None) -> None:
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        self.problems = tuple(problems)
        self.file = file
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [p.render(self.file) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems in the spec:\n" + "\n".join(f"  - {x}" for x in lines)


class DataError(SpecError):
    """A dataset cannot be loaded or used as the spec describes."""


class StoreError(LoopmlError):
    """The tracking store failed; the underlying database error is chained."""


class ArtifactError(LoopmlError):
    """An artifact is missing, does not match its sha256, or holds types loopml does not trust."""


class ExecutorError(LoopmlError):
    """The executor could not run the work it was given."""


class RegistryError(LoopmlError):
    """A registered-model operation was refused."""


class ModelNotFound(RegistryError):
    """No registered model, version or alias of that name."""


class AliasConflict(RegistryError):
    """An alias moved between read and write: the compare-and-set lost."""

    def __init__(self, name: str, alias: str, expected: int | None, actual: int | None) -> None:
        self.name, self.alias, self.expected, self.actual = name, alias, expected, actual
        super().__init__(
            f"alias {alias!r} of {name!r} was expected at version {expected} but is at "
            f"{actual}: another process moved it first. Re-read the registry and try again"
        )
