"""One error family for everything a person can fix: bad scenario files, missing tools, a busy port.

The CLI prints these as one paragraph and exits 2; nothing else in the code prints tracebacks at people.
"""

from __future__ import annotations

from pathlib import Path


class TestbedError(Exception):
    """An error a user can act on. ``file``/``line`` point at the cause, ``fix`` says what to do."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.fix = fix

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{where}{self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ScenarioError(TestbedError):
    """The scenario file is malformed: unknown key, wrong type, unknown fault, bad record line."""


class EnvironmentProblem(TestbedError):
    """The machine lacks something: a binary, root, a Docker daemon, a free port."""


class LabError(TestbedError):
    """A lab host failed to start or answer."""
