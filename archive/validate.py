"""Refuse bad case and stage files before anything is written: one error naming file, JSON path, problem."""

from __future__ import annotations

import json
import os
import stat
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

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
    return value


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("archive.schemas").joinpath(name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


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
        allowed = ", ".join(str(x) for x in value)
        return _json_path(path), f"{err.instance!r} is not one of: {allowed}"
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


def check_schema(file: str, value: dict[str, Any], schema_name: str) -> None:
    errors = sorted(_validator(schema_name).iter_errors(value),
                    key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    if errors:
        where, problem = _explain(errors[0])
        raise InputError(file, where, problem)


def check_attachments(file: str, case: dict[str, Any], base: Path, allow_absolute: bool = False) -> list[Path]:
    """Resolve each attachment inside the case file's folder; refuse escapes, symlinks and missing files."""
    out: list[Path] = []
    base_real = base.resolve()
    for i, att in enumerate(case.get("attachments", [])):
        where = f"$.attachments[{i}].path"
        raw = att["path"]
        rel = Path(raw)
        if "\x00" in raw:
            raise InputError(file, where, "path holds a NUL character")
        if rel.is_absolute() and not allow_absolute:
            raise InputError(file, where, f"{raw!r} is absolute; give a path relative to the case file's folder")
        if not rel.is_absolute() and ".." in rel.parts:
            raise InputError(file, where, f"{raw!r} leaves the case file's folder")
        if is_temp_name(rel.name):
            raise InputError(file, where, f"{rel.name!r} has the form of the archive's temporary files "
                                          "(.NAME.NUMBER.tmp), which are never archived; rename it")
        full = rel if rel.is_absolute() else base / rel
        # Walk from the case folder (or from / for an allowed absolute path) so no component is a link.
        probe = Path(full.anchor) if rel.is_absolute() else base
        for part in rel.parts[1:] if rel.is_absolute() else rel.parts:
            probe = probe / part
            try:
                st = os.lstat(probe)
            except FileNotFoundError:
                raise InputError(file, where, f"{raw!r} does not exist") from None
            except OSError as exc:
                raise InputError(file, where, f"{raw!r} cannot be read: {exc.strerror}") from None
            if stat.S_ISLNK(st.st_mode):
                raise InputError(file, where, f"{raw!r} is or passes through a symbolic link")
        if not allow_absolute and not _inside(full.resolve(), base_real):
            raise InputError(file, where, f"{raw!r} leaves the case file's folder")
        if not full.is_file():
            raise InputError(file, where, f"{raw!r} is not a regular file")
        if not os.access(full, os.R_OK):
            raise InputError(file, where, f"{raw!r} is not readable")
        out.append(full)
    names = [p.name for p in out]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise InputError(file, f"$.attachments[{i}].path", f"a second attachment is named {name!r}")
    return out


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True
