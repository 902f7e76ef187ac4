"""Errors a user can cause. The CLI turns each into one line and exit code 2 (or 1 for NotFound)."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error the user can cause; ``str()`` is the one line the CLI prints."""

    exit_code = 2


class InputError(ArchiveError):
    """An input file is refused: names the file, the JSON path (or position) and what is wrong."""

    def __init__(self, file: str, where: str, problem: str) -> None:
        self.file = file
        self.where = where
        self.problem = problem
        super().__init__(f"{file}: {where}: {problem}")


class SettingsError(ArchiveError):
    """archive.toml is malformed or holds an unknown or ill-typed key."""


class NotFound(ArchiveError):
    """A case, template or key that the command names does not exist."""

    exit_code = 1


class StateError(ArchiveError):
    """The operation is not allowed in the case's current state (closed, on hold, serial exhausted...)."""


class StorageError(ArchiveError):
    """The disk refused a write (full, read-only, permissions) before a change committed: nothing was written."""


class AfterCommitError(ArchiveError):
    """A change committed, but something after it failed; the message says what stands and what to run."""

    exit_code = 1


class OutputError(ArchiveError):
    """Standard output could not be written (a full disk, a closed pipe); what the command did stands."""

    exit_code = 1
