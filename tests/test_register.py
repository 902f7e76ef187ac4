"""Invariant 1: the register is derived; `archive rebuild` recreates it from the records alone."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SHARED_CASES, Cli


def _rows(cli: Cli) -> list[dict[str, object]]:
    result = cli("list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_register_has_one_row_per_case_with_the_issue_columns(cli: Cli) -> None:
    assert cli("intake", *map(str, SHARED_CASES)).exit_code == 0
    rows = _rows(cli)
    assert len(rows) == len(SHARED_CASES)
    first = rows[0]
    assert first["number"] == "26110001"
    assert first["lot"] == "B2026080315" and first["organisation"] == "华东医药连锁有限公司"
    for col in ("received_at", "channel", "complainant", "product", "category", "severity", "triage_reasons",
                "departments", "status", "reply_due", "retention_until", "hold"):
        assert col in first


def test_deleting_the_register_and_rebuilding_gives_identical_rows(root: Path, cli: Cli) -> None:
    assert cli("intake", *map(str, SHARED_CASES)).exit_code == 0
    before = _rows(cli)
    (root / "register.sqlite").unlink()
    missing = cli("list", "--json")  # a missing register is damage, never an empty answer (issue 16)
    assert missing.exit_code == 2 and "archive rebuild" in missing.stderr and missing.stdout == ""
    result = cli("rebuild", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["register_rows"] == len(SHARED_CASES)
    assert _rows(cli) == before


def test_list_filters_narrow_the_register(cli: Cli, tmp_path: Path) -> None:
    from conftest import write_case

    oct_ = write_case(tmp_path, "oct.json", received_at="2026-10-02T09:00:00+08:00", severity="minor")
    assert cli("intake", *map(str, SHARED_CASES), str(oct_)).exit_code == 0
    assert [r["number"] for r in json.loads(cli("list", "--json", "--month", "2026-10").stdout)] == ["26100001"]
    minors = json.loads(cli("list", "--json", "--severity", "minor").stdout)
    assert {r["number"] for r in minors} == {"26110004", "26100001"}
    assert json.loads(cli("list", "--json", "--status", "closed").stdout) == []
    refused = cli("list", "--month", "2026/12")
    assert refused.exit_code == 2 and "--month: '2026/12' is not YYYY-MM" in refused.stderr


def test_list_prints_a_chinese_table(cli: Cli) -> None:
    cli("intake", str(SHARED_CASES[0]))
    out = cli("list").stdout
    assert "编号" in out and "26110001" in out and "王建国" in out
