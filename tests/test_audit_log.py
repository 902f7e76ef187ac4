"""Invariant 5: every change appends one chained audit entry naming who, when, what and the file hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import SHARED_CASES, Cli, audit_entries, record_dirs


def test_each_intake_appends_one_chained_entry(root: Path, cli: Cli) -> None:
    assert cli("intake", *map(str, SHARED_CASES[:3])).exit_code == 0
    entries = audit_entries(root)
    lines = (root / "audit" / "audit.jsonl").read_bytes().splitlines()
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev"] == "0" * 64
    for prev_line, entry in zip(lines, entries[1:], strict=False):
        assert entry["prev"] == hashlib.sha256(prev_line).hexdigest()
    intakes = [e for e in entries if e["action"] == "intake"]  # after init's own entries (settings applied)
    assert [e["seq"] for e in intakes] == [entries[-1]["seq"] - 2, entries[-1]["seq"] - 1, entries[-1]["seq"]]
    assert {e["actor"] for e in intakes} == {"tester"}
    assert all(e["time"].endswith("Z") for e in entries)


def test_entry_hashes_match_the_archived_files(root: Path, cli: Cli) -> None:
    cli("intake", str(SHARED_CASES[0]))
    [entry] = [e for e in audit_entries(root) if e["action"] == "intake"]
    record = record_dirs(root)[entry["number"]]
    for f in entry["files"]:
        assert hashlib.sha256((record / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    manifest = (record / "manifest.json").read_bytes()
    assert entry["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()


def test_show_of_unknown_number_exits_1(cli: Cli) -> None:
    result = cli("show", "26119999")
    assert result.exit_code == 1 and "not found" in result.stderr


def test_show_json_is_one_document(cli: Cli) -> None:
    cli("intake", str(SHARED_CASES[0]))
    data = json.loads(cli("show", "--json", "26110001").stdout)
    assert data["number"] == "26110001" and data["deadlines"]["reply_due"] == "2026-11-03"
