"""register.sqlite: the complaint register (投诉登记台账), derived from the records and rebuilt from them."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from archive.record.reader import CaseView

COLUMNS = ("number", "received_at", "channel", "complainant", "organisation", "product", "lot",
           "category", "severity", "triage_reasons", "departments", "status", "reply_due",
           "investigation_due", "eightd_due", "retention_until", "hold")

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
"""


def row_of(view: CaseView) -> dict[str, Any]:
    case = view.case
    complainant = case["complainant"]
    product = case.get("product", {})
    deadlines = view.record["deadlines"]
    return {
        "number": view.number,
        "received_at": case["received_at"],
        "period": case["received_at"][:7],
        "channel": case["channel"],
        "complainant": complainant["name"],
        "organisation": complainant.get("organization"),
        "product": product.get("name"),
        "lot": product.get("lot"),
        "category": view.category,
        "severity": view.severity,
        "triage_reasons": json.dumps(view.record["triage"]["reasons"], ensure_ascii=False),
        "departments": json.dumps(view.departments, ensure_ascii=False),
        "status": view.status,
        "reply_due": deadlines["reply_due"],
        "investigation_due": deadlines["investigation_due"],
        "eightd_due": deadlines["eightd_due"],
        "retention_until": view.retention_until,
        "hold": 1 if view.hold else 0,
    }


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=60, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
        conn.row_factory = sqlite3.Row
        yield conn


def upsert(path: Path, row: dict[str, Any]) -> None:
    cols = list(row)
    sql = (f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
           f"ON CONFLICT(number) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in cols[1:])}")
    with connect(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, [row[c] for c in cols])
        conn.execute("COMMIT")


def delete(path: Path, number: str) -> None:
    with connect(path) as conn:
        conn.execute("DELETE FROM cases WHERE number = ?", (number,))


def rebuild(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write a fresh register beside the old one and swap it in, so readers never see it half-built."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.rebuild")
    tmp.unlink(missing_ok=True)
    count = 0
    with connect(tmp) as conn:
        conn.execute("BEGIN")
        for row in rows:
            cols = list(row)
            conn.execute(f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                         [row[c] for c in cols])
            count += 1
        conn.execute("COMMIT")
    os.replace(tmp, path)
    return count


def numbers(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT number FROM cases")}


def select(path: Path, *, month: str | None = None, status: str | None = None,
           severity: str | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    where, args = [], []
    for col, val in (("period", month), ("status", status), ("severity", severity)):
        if val is not None:
            where.append(f"{col} = ?")
            args.append(val)
    sql = "SELECT * FROM cases" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY number"
    with connect(path) as conn:
        rows = [dict(r) for r in conn.execute(sql, args)]
    for r in rows:
        r["triage_reasons"] = json.loads(r["triage_reasons"])
        r["departments"] = json.loads(r["departments"])
        r["hold"] = bool(r["hold"])
        r.pop("period", None)
    return rows
