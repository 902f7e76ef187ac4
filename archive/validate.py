"""Refuse bad case and stage files before anything is written: one error naming file, JSON path, problem."""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema
from jsonschema.exceptions import ValidationError

from archive import vocab
from archive.errors import InputError
from archive.store.atomic import is_temp_name

MAX_DEPTH = 20
MAX_BYTES = 10 * 1024 * 1024


def _json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable(value: Any, path: list[str | int]) -> tuple[list[str | int], str] | None:
    """The first value that parses but cannot be stored and read back as JSON text: a number too large for a
    float (1e400 parses as infinity, then prints as the non-JSON Infinity) or a lone surrogate from a \\uD800
    escape (not a Unicode character, so it cannot be written as UTF-8)."""
    if isinstance(value, float) and not math.isfinite(value):
        return path, "not a finite number (too large for a number the archive can store)"
    if isinstance(value, str) and (m := _SURROGATE.search(value)):
        return path, (f"holds a lone surrogate (\\u{ord(m.group()):04x} at character {m.start()}), which is not "
                      "a Unicode character")
    if isinstance(value, dict):
        for k, v in value.items():
            if _SURROGATE.search(k):
                return [*path, k.encode("utf-8", "backslashreplace").decode("ascii")], \
                    "a key holds a lone surrogate, which is not a Unicode character"
            if (found := _unstorable(v, [*path, k])) is not None:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            if (found := _unstorable(v, [*path, i])) is not None:
                return found
    return None


def read_input(path: Path) -> bytes:
    """The bytes of an input file, or an InputError that names it."""
    name = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(name, "$", "file does not exist") from None
    except IsADirectoryError:
        raise InputError(name, "$", "is a folder, not a JSON file") from None
    except OSError as exc:
        raise InputError(name, "$", f"cannot be read: {exc.strerror}") from None


def parse_json(file: str, data: bytes) -> dict[str, Any]:
    """Strict JSON object: UTF-8, no duplicate keys, no NaN/Infinity, bounded nesting."""
    if len(data) > MAX_BYTES:
        raise InputError(file, "$", f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(file, f"byte {exc.start}", "not UTF-8 text") from None
    if text.startswith("\ufeff"):
        raise InputError(file, "byte 0", "starts with a byte-order mark; save as UTF-8 without BOM")
    duplicate: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out and not duplicate:
                duplicate.append(k)
            out[k] = v
        return out

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(file, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    except ValueError as exc:
        raise InputError(file, "$", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(file, "$", f"nested deeper than {MAX_DEPTH} levels") from None
    if duplicate:
        raise InputError(file, f"key {duplicate[0]!r}", "duplicate key in one object")
    if not isinstance(value, dict):
        raise InputError(file, "$", f"top level must be a JSON object, not {type(value).__name__}")
    if _depth(value) > MAX_DEPTH:
        raise InputError(file, "$", f"nested deeper than {MAX_DEPTH} levels")
    if (bad := _unstorable(value, [])) is not None:
        raise InputError(file, _json_path(bad[0]), bad[1])
    return value


# RFC 3339 allows a lower-case t and z; the archive stores one spelling, the one every reader of a record
# (Python's fromisoformat, the forms, `"T" in value` checks) understands, so lower case is refused.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the schema's "type" reports it
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


@cache
def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(_is_date_time)
    return checker


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("archive.schemas").joinpath(name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=_format_checker())


def _explain(err: ValidationError) -> tuple[str, str]:
    path = list(err.absolute_path)
    v = err.validator
    instance: Any = err.instance
    value: Any = err.validator_value
    if v == "required":
        missing = str(err.message).split("'")[1]
        return _json_path([*path, missing]), "required field is missing"
    if v == "additionalProperties":
        known = set((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, dict) else set()
        extra = sorted(k for k in instance if k not in known)
        return _json_path([*path, extra[0] if extra else "?"]), "unknown field (not in the schema)"
    if v == "enum":
        codes = [str(x) for x in value]
        coded = vocab.vocabulary_of(codes)
        allowed = vocab.listing(coded, codes) if coded else ", ".join(codes)
        return _json_path(path), f"{err.instance!r} is not one of: {allowed}"
    if v == "format" and value == "date-time" and isinstance(instance, str) and _is_date_time(instance.upper()):
        return _json_path(path), (f"{instance!r}: write the date-time with an upper-case T and Z "
                                  f"({instance.upper()!r})")
    if v == "format":
        want = {"date-time": "an ISO 8601 date-time with a UTC offset, e.g. 2026-11-20T09:30:00+08:00",
                "date": "a real calendar date YYYY-MM-DD"}.get(str(err.validator_value), str(err.validator_value))
        return _json_path(path), f"{err.instance!r} is not {want}"
    if v == "pattern" or (v == "minLength" and err.validator_value == 1):
        return _json_path(path), "must not be empty or only white space"
    if v == "minimum":
        return _json_path(path), f"{err.instance!r} is below the minimum {err.validator_value}"
    if v == "type":
        return _json_path(path), f"expected {err.validator_value}, got {type(err.instance).__name__}"
    return _json_path(path), str(err.message)


def _coded(node: dict[str, Any], value: Any) -> Any:
    """``value`` with each coded field given by its Chinese label replaced by its code, following ``node``."""
    if "enum" in node and isinstance(value, str):
        known = vocab.vocabulary_of([str(x) for x in node["enum"]])
        return (vocab.key_of(known, value) or value) if known else value
    props = node.get("properties")
    if isinstance(props, dict) and isinstance(value, dict):
        return {k: _coded(props[k], v) if isinstance(props.get(k), dict) else v for k, v in value.items()}
    items = node.get("items")
    if isinstance(items, dict) and isinstance(value, list):
        return [_coded(items, v) for v in value]
    return value


def with_codes(value: dict[str, Any], schema_name: str) -> dict[str, Any]:
    """A parsed case or stage file whose coded fields (channel, category, satisfaction...) may each be given as
    the code or its Chinese label ("满意" or "satisfied"): the same file with codes, which is what is stored
    and checked. The received bytes are kept as they came (intake.json)."""
    schema: dict[str, Any] = _validator(schema_name).schema  # type: ignore[assignment]
    out: dict[str, Any] = _coded(schema, value)
    return out


def check_schema(file: str, value: dict[str, Any], schema_name: str) -> None:
    errors = sorted(_validator(schema_name).iter_errors(value),
                    key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    if errors:
        where, problem = _explain(errors[0])
        raise InputError(file, where, problem)


@dataclass
class Attachment:
    """An attachment opened once, without following links: what is checked, hashed and copied is what this
    handle reads, whatever happens to the path afterwards (a file swapped for a link to a secret)."""

    name: str
    handle: BinaryIO

    def close(self) -> None:
        self.handle.close()


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO planted as an attachment must not hang intake before fstat says it is not a file.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_attachment(file: str, where: str, raw: str, start: Path, parts: tuple[str, ...]) -> BinaryIO:
    """Walk ``parts`` from ``start`` one openat() at a time, refusing a symbolic link at any step."""
    try:
        dir_fd = os.open(start, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(file, where, f"{raw!r}: its folder cannot be opened: {exc.strerror}") from None
    try:
        for part in parts[:-1]:
            fd = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = fd
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and _is_link(start, parts)):
            raise InputError(file, where, f"{raw!r} is or passes through a symbolic link") from None
        if exc.errno == errno.ENOENT:
            raise InputError(file, where, f"{raw!r} does not exist") from None
        if exc.errno == errno.ENOTDIR:
            raise InputError(file, where, f"{raw!r} passes through something that is not a folder") from None
        if exc.errno == errno.EACCES:
            raise InputError(file, where, f"{raw!r} is not readable") from None
        raise InputError(file, where, f"{raw!r} cannot be read: {exc.strerror}") from None
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(file, where, f"{raw!r} is not a regular file")
    return os.fdopen(fd, "rb")


def _is_link(start: Path, parts: tuple[str, ...]) -> bool:
    probe = start
    for part in parts:
        probe = probe / part
        if probe.is_symlink():
            return True
    return False


def check_attachments(file: str, case: dict[str, Any], base: Path, allow_absolute: bool = False
                      ) -> list[Attachment]:
    """Open each attachment inside the case file's folder; refuse escapes, symlinks, missing and odd files."""
    out: list[Attachment] = []
    try:
        for i, att in enumerate(case.get("attachments", [])):
            where = f"$.attachments[{i}].path"
            raw = att["path"]
            rel = Path(raw)
            if "\x00" in raw:
                raise InputError(file, where, "path holds a NUL character")
            if rel.is_absolute() and not allow_absolute:
                raise InputError(file, where, f"{raw!r} is absolute; give a path relative to the case file's folder")
            # With no '..' and no link at any step (below), a relative path cannot leave the folder.
            if ".." in rel.parts:
                raise InputError(file, where, f"{raw!r} leaves the case file's folder")
            if is_temp_name(rel.name):
                raise InputError(file, where, f"{rel.name!r} has the form of the archive's temporary files "
                                              "(.NAME.NUMBER.tmp), which are never archived; rename it")
            parts = rel.parts[1:] if rel.is_absolute() else rel.parts
            if not parts:
                raise InputError(file, where, f"{raw!r} is not a regular file")
            start = Path(rel.anchor) if rel.is_absolute() else base
            out.append(Attachment(rel.name, _open_attachment(file, where, raw, start, parts)))
        names = [a.name for a in out]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise InputError(file, f"$.attachments[{i}].path", f"a second attachment is named {name!r}")
    except BaseException:
        for a in out:
            a.close()
        raise
    return out
