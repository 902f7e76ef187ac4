"""Where things live in one archive root (DESIGN.md, "Store layout")."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path
    # [audit] mirror: a folder outside the root that receives each new audit head (None: off). Set by
    # Archive.open from the settings; the store writes there on every audit append.
    audit_mirror: Path | None = None

    @classmethod
    def resolve(cls, root: str | Path | None) -> Layout:
        """``--root``, else ``$ARCHIVE_ROOT``, else the current directory."""
        chosen = root if root is not None else os.environ.get("ARCHIVE_ROOT") or os.getcwd()
        return cls(Path(chosen).absolute())

    def outside_records(self) -> tuple[Path, ...]:
        """Folders of root files (not records) where a killed writer can leave a temp file."""
        return (self.root, self.keys, self.templates, self.root / "certificates", self.audit_dir,
                self.audit_dir / "checkpoints", self.users.parent)

    @property
    def settings(self) -> Path:
        return self.root / "archive.toml"

    @property
    def applied_settings(self) -> Path:
        """Each version of archive.toml put in force by `archive settings apply`."""
        return self.root / "settings"

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def audit_dir(self) -> Path:
        return self.root / "audit"

    @property
    def audit_log(self) -> Path:
        return self.audit_dir / "audit.jsonl"

    @property
    def access_log(self) -> Path:
        """The access register (查阅登记): who viewed, downloaded, searched or exported what, hash-chained."""
        return self.audit_dir / "access.jsonl"

    @property
    def access_lock(self) -> Path:
        """The access register's own lock: an entry never waits for a long change holding the archive lock."""
        return self.audit_dir / ".access.lock"

    @property
    def users(self) -> Path:
        """The web page's users (login, name, role, password hash), changed only through the change protocol."""
        return self.root / "users" / "users.json"

    @property
    def register(self) -> Path:
        return self.root / "register.sqlite"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def work(self) -> Path:
        """Scratch space inside the root, so a rename into ``records/`` never crosses a file system."""
        return self.root / ".work"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def index_pending(self) -> Path:
        """Cases a bulk intake published whose index entries are not yet committed (derived bookkeeping)."""
        return self.root / ".index-pending"

    @property
    def journal(self) -> Path:
        return self.root / ".journal.json"

    def month_dir(self, year: int, month: int) -> Path:
        return self.records / f"{year:04d}" / f"{month:02d}"

    def record_dir(self, number: str, year: int, month: int) -> Path:
        return self.month_dir(year, month) / number
