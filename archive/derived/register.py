"""register.sqlite: the complaint register (投诉登记台账), derived from the records and rebuilt from them."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from archive.derived.summary import summary
from archive.errors import ArchiveError
from archive.record.reader import CaseView

COLUMNS = ("number", "received_at", "channel", "complainant", "organisation", "product", "lot",
           "category", "severity", "triage_reasons", "departments", "status", "reply_due",
           "investigation_due", "eightd_due", "retention_until", "intake_sha256", "duplicate_key",
           "lapsed_approvals", "replied_at", "investigated_at", "closed_at", "hold")
# The orders a register listing may take (the web's column headers); severity by rank, not by its code.
SORTABLE = {"number": "number", "received_at": "received_at", "status": "status", "reply_due": "reply_due",
            "retention_until": "retention_until", "category": "category",
            "severity": "CASE severity WHEN 'critical' THEN 2 WHEN 'major' THEN 1 ELSE 0 END"}
# Bumped whenever the table changes: an older file is named with `archive rebuild` instead of misread.
# 3: the dates that meet the reply and investigation deadlines, and the closure date, so an export judges
# lateness from the register alone.
FORMAT = 3

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS cases (
    number TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    period TEXT NOT NULL,
    {", ".join(f"{c} TEXT" for c in COLUMNS[2:-1])},
    hold INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cases_period ON cases(period);
CREATE INDEX IF NOT EXISTS cases_status ON cases(status);
CREATE INDEX IF NOT EXISTS cases_intake ON cases(intake_sha256);
CREATE INDEX IF NOT EXISTS cases_duplicate ON cases(duplicate_key);
"""


def row_of(view: CaseView) -> dict[str, Any]:
    """The register's row: the flat summary, lists stored as JSON text."""
    flat = summary(view)
    row = {c: flat[c] for c in ("number", "received_at", "period", *COLUMNS[2:])}
    row["triage_reasons"] = json.dumps(flat["triage_reasons"], ensure_ascii=False)
    row["departments"] = json.dumps(flat["departments"], ensure_ascii=False)
    row["lapsed_approvals"] = json.dumps(flat["lapsed_approvals"], ensure_ascii=False)
    row["hold"] = 1 if flat["hold"] else 0
    return row


class RegisterDamaged(ArchiveError):
    """register.sqlite cannot be read; it is derived, so `archive rebuild` recreates it from the records."""


@contextmanager
def _guard(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise RegisterDamaged(f"{path.name} is damaged ({exc}); run `archive rebuild` to recreate it "
                              "from the records") from None


def read_only(path: Path) -> bool:
    return path.exists() and not os.access(path.parent, os.W_OK)


class SqliteRegister:
    """The register in one SQLite file beside the records."""

    def __init__(self, path: Path, *, required: bool = False) -> None:
        self.path = path
        self.required = required  # made at init: a missing file is damage, not an empty register

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def create(self) -> None:
        with self._connect():
            pass

    def _absent(self) -> bool:
        """No file: an empty register where none is required yet, else damage named with its repair."""
        if self.path.exists():
            return False
        if self.required:
            raise RegisterDamaged(f"{self.path.name} is missing; run `archive rebuild` to recreate it "
                                  "from the records")
        return True

    @contextmanager
    def _connect(self, path: Path | None = None) -> Iterator[sqlite3.Connection]:
        target = path or self.path
        with _guard(target), closing(sqlite3.connect(target, timeout=60, isolation_level=None)) as conn:
            conn.execute("PRAGMA synchronous=FULL")
            # A deleted row's bytes are overwritten, not left in free pages (destruction must leave nothing).
            conn.execute("PRAGMA secure_delete=ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            fresh = not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'cases'").fetchone()
            if not fresh and version != FORMAT:
                raise RegisterDamaged(f"{target.name} was written by another version of the archive (format "
                                      f"{version}, this one reads {FORMAT}); run `archive rebuild`")
            if fresh and not read_only(target):
                conn.executescript(SCHEMA)
                conn.execute(f"PRAGMA user_version = {FORMAT}")
            conn.row_factory = sqlite3.Row
            yield conn

    def upsert(self, row: dict[str, Any]) -> None:
        self._absent()
        cols = list(row)
        sql = (f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
               f"ON CONFLICT(number) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in cols[1:])}")
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, [row[c] for c in cols])
            conn.execute("COMMIT")

    def delete(self, number: str) -> None:
        if self._absent():
            return
        with self._connect() as conn:
            conn.execute("DELETE FROM cases WHERE number = ?", (number,))

    def rebuild(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write a fresh register beside the old one and swap it in, so readers never see it half-built."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.rebuild")
        tmp.unlink(missing_ok=True)
        count = 0
        with self._connect(tmp) as conn:
            conn.execute("BEGIN")
            for row in rows:
                cols = list(row)
                conn.execute(f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                             [row[c] for c in cols])
                count += 1
            conn.execute("COMMIT")
        os.replace(tmp, self.path)
        return count

    def find(self, *, intake_sha256: str | None = None, duplicate_key: str | None = None) -> list[str]:
        """Numbers of cases archived from the same file, or holding the same complaint."""
        if self._absent():
            return []
        col, value = ("intake_sha256", intake_sha256) if intake_sha256 else ("duplicate_key", duplicate_key)
        with self._connect() as conn:
            return [r[0] for r in conn.execute(f"SELECT number FROM cases WHERE {col} = ? ORDER BY number", (value,))]

    def numbers(self) -> set[str]:
        if self._absent():
            return set()
        with self._connect() as conn:
            return {r[0] for r in conn.execute("SELECT number FROM cases")}

    def stream(self, *, received_from: str | None = None, received_to: str | None = None,
               status: str | None = None) -> Iterator[dict[str, Any]]:
        """The register's rows in number order, one at a time (an export of 100,000 rows holds one): the
        received day (in its own offset, YYYY-MM-DD) between ``received_from`` and ``received_to``
        inclusive, and the status, when given. Lists stay JSON text: a sheet prints them as it needs."""
        if self._absent():
            return
        where, args = [], []
        for cond, val in (("substr(received_at, 1, 10) >= ?", received_from),
                          ("substr(received_at, 1, 10) <= ?", received_to), ("status = ?", status)):
            if val is not None:
                where.append(cond)
                args.append(val)
        sql = "SELECT * FROM cases" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY number"
        with self._connect() as conn:
            for r in conn.execute(sql, args):
                yield dict(r)

    def select(self, *, month: str | None = None, status: str | None = None, severity: str | None = None,
               category: str | None = None, sort: str = "number", descending: bool = False,
               offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Rows matching every filter given, ordered by one of SORTABLE (then number), a page of them when
        ``limit`` is given (the web's register pages through 20,000 rows without reading them all)."""
        if self._absent():
            return []
        where, args = self._where(month, status, severity, category)
        if sort not in SORTABLE:
            raise ValueError(f"sort: {sort!r} is not one of {', '.join(SORTABLE)}")
        order = SORTABLE[sort] + (" DESC" if descending else "") + ", number" + (" DESC" if descending else "")
        sql = f"SELECT * FROM cases{where} ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        with self._connect() as conn:
            rows = [dict(r) for r in conn.execute(sql, args)]
        for r in rows:
            r["triage_reasons"] = json.loads(r["triage_reasons"])
            r["departments"] = json.loads(r["departments"])
            r["lapsed_approvals"] = json.loads(r["lapsed_approvals"])
            r.pop("intake_sha256", None)
            r.pop("duplicate_key", None)
            r["hold"] = bool(r["hold"])
            r.pop("period", None)
        return rows

    def count(self, *, month: str | None = None, status: str | None = None, severity: str | None = None,
              category: str | None = None) -> int:
        if self._absent():
            return 0
        where, args = self._where(month, status, severity, category)
        with self._connect() as conn:
            return int(conn.execute(f"SELECT count(*) FROM cases{where}", args).fetchone()[0])

    @staticmethod
    def _where(month: str | None, status: str | None, severity: str | None,
               category: str | None) -> tuple[str, list[Any]]:
        where, args = [], []
        for col, val in (("period", month), ("status", status), ("severity", severity), ("category", category)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        return (" WHERE " + " AND ".join(where) if where else ""), args
