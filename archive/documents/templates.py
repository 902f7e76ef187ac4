"""The controlled template register (templates/templates.toml): which .docx versions may be rendered."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from archive.errors import ArchiveError, NotFound
from archive.store.hashing import sha256_bytes, sha256_file

REGISTER = "templates.toml"
SHIPPED = Path(__file__).resolve().parents[2] / "templates"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")
_VERSION = re.compile(r"[0-9A-Za-z.]{1,16}")


class TemplateError(ArchiveError):
    """A template is not registered, or its bytes differ from the register."""


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    document_number: str
    version: str
    effective_date: str
    file: str
    sha256: str

    def path(self, folder: Path) -> Path:
        return folder / self.file


def load(folder: Path) -> list[Template]:
    path = folder / REGISTER
    if not path.exists():
        raise TemplateError(f"{path}: no template register; run `archive init`")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return [Template(**{k: str(v) for k, v in t.items()}) for t in data.get("template", [])]
    except (tomllib.TOMLDecodeError, TypeError) as exc:
        raise TemplateError(f"{path}: malformed template register: {exc}") from None


def current(folder: Path, template_id: str, on: dt.date | None = None) -> Template:
    """The version in force ``on`` a day (default today): the latest registered one whose effective date has
    come. A version registered ahead of its effective date is not used before it."""
    day = on or dt.date.today()
    found = [t for t in load(folder) if t.id == template_id]
    if not found:
        shipped = [t for t in load(SHIPPED) if t.id == template_id] if (SHIPPED / REGISTER).exists() else []
        if shipped:
            # An archive made before this version shipped the form: say how to bring it in, under control.
            t = shipped[-1]
            raise NotFound(f"template {template_id!r} is not registered in {folder / REGISTER}; this version of "
                           f"archive ships it: `archive templates register {SHIPPED / t.file} --id {t.id} "
                           f"--version {t.version} --title {t.title}`")
        raise NotFound(f"template {template_id!r} is not registered in {folder / REGISTER}")
    in_force = [t for t in found if dt.date.fromisoformat(t.effective_date) <= day]
    if not in_force:
        raise TemplateError(f"template {template_id!r}: no version is in force on {day} (the first takes effect "
                            f"{found[0].effective_date})")
    return in_force[-1]


def checked_path(folder: Path, template: Template) -> Path:
    """The template's file, after proving its bytes are the registered ones, and the register's hash the one
    its audited registration recorded (templates.toml is a file anyone with write access can edit)."""
    path = template.path(folder)
    if not path.is_file():
        raise TemplateError(f"{path}: registered template file is missing")
    actual = sha256_file(path)
    if actual != template.sha256:
        raise TemplateError(f"{path}: template {template.id} v{template.version} differs from its registered "
                            f"SHA-256 (register {template.sha256[:12]}…, file {actual[:12]}…); refusing to render")
    trusted = trusted_sha256(folder, template)
    if trusted is None:
        raise TemplateError(f"{path}: template {template.id} v{template.version} has no audited registration (not "
                            "shipped, not registered by `archive templates register`); refusing to render")
    if trusted != actual:
        raise TemplateError(f"{path}: template {template.id} v{template.version} is not the file its audited "
                            f"registration recorded (recorded {trusted[:12]}…, file {actual[:12]}…); "
                            "refusing to render")
    return path


def trusted_sha256(folder: Path, template: Template) -> str | None:
    """The SHA-256 the template's audited registration recorded: the last `templates register` entry naming
    its file; for a shipped template (copied by `init`, before there is a log), the package's own copy."""
    rel = f"{folder.name}/{template.file}"
    audited = _registrations(folder.parent / "audit" / "audit.jsonl")
    if rel in audited:
        return audited[rel]
    return _shipped().get(template.file)


@cache
def _shipped() -> dict[str, str]:
    """The shipped templates' hashes, from the package's files themselves."""
    if not (SHIPPED / REGISTER).exists():
        return {}
    return {t.file: sha256_file(SHIPPED / t.file) for t in load(SHIPPED) if (SHIPPED / t.file).is_file()}


def _registrations(log: Path) -> dict[str, str]:
    """Template files and hashes named by `template-register` audit entries (the last one counts). Read once
    per state of the log: a batch intake renders many forms."""
    try:
        st = log.stat()
    except OSError:
        return {}
    return _registrations_at(log, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=2)
def _registrations_at(log: Path, _size: int, _mtime_ns: int) -> dict[str, str]:
    out: dict[str, str] = {}
    marker = b'"action":"template-register"'
    with log.open("rb") as fh:
        for raw in fh:
            if marker not in raw or not raw.endswith(b"\n"):
                continue
            try:
                entry = json.loads(raw)
                out.update({str(f["path"]): str(f["sha256"]) for f in entry["files"]})
            except (ValueError, KeyError, TypeError):
                continue  # verify reports an unreadable line; it registers nothing
    return out


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _entry(t: Template) -> str:
    return "\n".join(["[[template]]"] + [f"{k} = {_toml_str(getattr(t, k))}" for k in
                                         ("id", "title", "document_number", "version", "effective_date",
                                          "file", "sha256")]) + "\n"


def plan_registration(folder: Path, source: Path, template_id: str, version: str,
                      effective_date: str | None = None, title: str | None = None
                      ) -> tuple[Template, dict[str, bytes]]:
    """A new version of a template and the files that register it (its .docx, the rewritten register),
    relative to ``folder``; nothing is written here. Earlier versions stay registered and on disk."""
    if not _ID.fullmatch(template_id):
        raise TemplateError(f"--id {template_id!r}: use lower-case letters, digits and '-'")
    if not _VERSION.fullmatch(version):
        raise TemplateError(f"--version {version!r}: use letters, digits and '.'")
    if not source.is_file():
        raise TemplateError(f"{source}: no such file")
    effective = effective_date or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(effective)
    except ValueError:
        raise TemplateError(f"--effective {effective!r}: not a date YYYY-MM-DD") from None
    existing = load(folder)
    same = [t for t in existing if t.id == template_id]
    if any(t.version == version for t in same):
        raise TemplateError(f"template {template_id} version {version} is already registered")
    if not same and title is None:
        raise TemplateError(f"template {template_id!r} is new: give --title")
    data = source.read_bytes()
    digest = sha256_bytes(data)
    twin = next((t for t in same if t.sha256 == digest), None)
    if twin is not None:
        raise TemplateError(f"{source}: byte-identical to {template_id} v{twin.version}; a new version must differ")
    from docx import Document  # only a real Word file may be registered
    try:
        Document(str(source))
    except Exception as exc:  # python-docx raises several unrelated types for a non-docx file
        raise TemplateError(f"{source}: not a Word .docx file ({type(exc).__name__})") from None
    prev = same[-1] if same else None
    name = f"{template_id}.v{version}.docx"
    if (folder / name).exists():
        raise TemplateError(f"{folder / name}: already exists")
    # A form this version ships, registered into an older archive, keeps its controlled number (GL-004-11).
    shipped = [s for s in load(SHIPPED) if s.id == template_id] if (SHIPPED / REGISTER).exists() else []
    number = prev.document_number if prev else shipped[-1].document_number if shipped else template_id
    t = Template(template_id, title or (prev.title if prev else template_id), number, version, effective, name,
                 digest)
    text = (folder / REGISTER).read_text(encoding="utf-8").rstrip("\n") + "\n\n" + _entry(t)
    return t, {name: data, REGISTER: text.encode("utf-8")}


def install_shipped(folder: Path) -> bool:
    """Copy the shipped template set into a new root; an existing register is left alone."""
    if (folder / REGISTER).exists():
        return False
    if not (SHIPPED / REGISTER).exists():
        raise TemplateError(f"{SHIPPED}: shipped templates not found")
    folder.mkdir(parents=True, exist_ok=True)
    for t in load(SHIPPED):
        shutil.copyfile(SHIPPED / t.file, folder / t.file)
    shutil.copyfile(SHIPPED / REGISTER, folder / REGISTER)
    return True
