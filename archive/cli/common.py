"""What every command shares: the opened archive, `--json`, and user errors as one line with an exit code.

A command is its parsing, one service call and its printing. Heavy libraries are imported inside the
service a command calls, so `archive --version` and `archive search` start quickly.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from archive import vocab

if TYPE_CHECKING:
    from archive.integrity.signing import Credential
    from archive.services.archive import Archive
    from archive.store.layout import Layout

F = TypeVar("F", bound=Callable[..., Any])
# "settings": a write that may run while archive.toml is not yet applied (`archive settings apply` itself).
Needs = Literal["write", "settings", "read", "root", "nothing"]

class Coded(click.Choice):  # type: ignore[type-arg]
    """A coded option (status, severity, meaning...): given as its code or its Chinese label, the code is
    passed on; a wrong value is answered with every code beside its label."""

    def __init__(self, vocabulary: vocab.Vocabulary, keys: tuple[str, ...] | list[str] | None = None) -> None:
        self.vocabulary = vocabulary
        super().__init__(list(keys or vocabulary))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        key = vocab.key_of(self.vocabulary, str(value))
        if key in self.choices:
            return key
        self.fail(f"{value!r} is not one of: {vocab.listing(self.vocabulary, list(map(str, self.choices)))}",
                  param, ctx)


MEANINGS = Coded(vocab.MEANING, vocab.DOCUMENT_MEANINGS)
JSON_HELP = "Print one JSON document on stdout and nothing else there."


def say(text: str) -> None:
    """One piece of the result on stdout. A stdout that cannot take it (a full disk behind `> file`, a closed
    pipe) is one line on stderr, not a traceback; the caller may add what its command did."""
    from archive.errors import OutputError

    try:
        click.echo(text)
    except OSError as exc:
        _discard_stdout()
        raise OutputError(f"the result could not be written to standard output ({exc.strerror or exc})") from None


def _discard_stdout() -> None:
    """What is still buffered would fail again when Python flushes stdout at exit, with a second message."""
    import os

    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):  # not a real file (a test runner's buffer): nothing is flushed at exit
        pass


def emit_json(value: Any) -> None:
    from archive.cli.text import inert

    say(inert(json.dumps(value, ensure_ascii=False, indent=2, default=str), json_text=True))


def emit(as_json: bool, value: Any, text: Callable[[Any], str]) -> None:
    """The command's result: JSON for programs, ``text(value)`` for people; either way with the characters a
    terminal would act on made visible (case text is the customer's)."""
    from archive.cli.text import inert

    if as_json:
        emit_json(value)
    else:
        say(inert(text(value)))


def fail(message: str, code: int = 2) -> None:
    from archive.cli.text import inert

    click.echo(f"archive: {inert(message)}", err=True)
    sys.exit(code)


def optional_day(option: str, value: str | None) -> dt.date | None:
    """A YYYY-MM-DD option's date (None when not given); anything else is one line naming the option, exit 2."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date YYYY-MM-DD")
        raise  # unreachable: fail exits


def user_errors(fn: F) -> F:
    """Turn the library's typed errors into one line on stderr and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from archive.errors import ArchiveError

        try:
            return fn(*args, **kwargs)
        except ArchiveError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def open_archive(needs: Needs = "read") -> Archive:
    from archive.services.archive import Archive

    obj = click.get_current_context().find_root().obj
    return Archive.open(obj["root"], obj["actor"], write=needs in ("write", "settings"),
                        settings_pending_ok=needs == "settings")


def root_layout() -> Layout:
    from archive.store.layout import Layout

    return Layout.resolve(click.get_current_context().find_root().obj["root"])


def archive_command(group: click.Group, name: str | None = None, *, needs: Needs = "read",
                    json_output: bool = True) -> Callable[[F], F]:
    """Declare a command of ``group``: it receives what it ``needs`` as its first argument (the opened
    archive for "read"/"write"/"settings", the root's Layout for "root", nothing for "nothing"), takes ``--json``
    when it reports data, and its user errors become one line and an exit code."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        @user_errors
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if needs == "nothing":
                return fn(*args, **kwargs)
            first: Any = root_layout() if needs == "root" else open_archive(needs)
            return fn(first, *args, **kwargs)

        command: Any = wrapper
        if json_output:
            command = click.option("--json", "as_json", is_flag=True, help=JSON_HELP)(command)
        return group.command(name)(command)  # type: ignore[return-value]

    return decorate


def passphrase(confirm: bool = False, *, env: str = "ARCHIVE_PASSPHRASE", prompt: str = "passphrase") -> str:
    """From the environment (scripts), else a hidden prompt on the terminal."""
    import os

    value = os.environ.get(env)
    if value is not None:
        return value
    try:
        terminal = sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin was closed
        terminal = False
    if not terminal:
        fail(f"no passphrase: set {env} or run on a terminal")
    typed: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return typed


def credential(arc: Archive, key: Path, *, env: str = "ARCHIVE_PASSPHRASE", prompt: str = "passphrase"
               ) -> Credential:
    """A signer's private key opened with its passphrase; a wrong one stops before anything is written."""
    from archive.integrity.signing import open_credential

    return open_credential(arc.layout.keys, key, passphrase(env=env, prompt=prompt), arc.settings.zone)


def progress_printer(label: str, *, enabled: bool, after: float = 1.0) -> Callable[[int, int], None]:
    """A counter on stderr for runs over ``after`` seconds, only on a terminal."""
    import time

    started = time.monotonic()
    tty = enabled and sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if tty and (time.monotonic() - started > after or done == total) and total:
            click.echo(f"\r{label} {done}/{total}", err=True, nl=done == total)

    return show
