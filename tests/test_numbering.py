"""Invariant 3: a number is given once, ever; allocation is atomic across processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import ARCHIVE_BIN, Cli, audit_entries, record_dirs, set_settings, write_case


def _numbers(result_stdout: str) -> list[str]:
    return [item["number"] for item in json.loads(result_stdout)]


def test_first_case_of_a_month_gets_serial_one(cli: Cli, tmp_path: Path) -> None:
    result = cli("intake", "--json", str(write_case(tmp_path)))
    assert _numbers(result.stdout) == ["26110001"]


def test_serial_restarts_each_month_and_follows_received_at(cli: Cli, tmp_path: Path) -> None:
    nov = write_case(tmp_path, "a.json")
    oct_ = write_case(tmp_path, "b.json", received_at="2026-10-31T08:00:00+08:00")
    nov2 = write_case(tmp_path, "c.json", received_at="2026-11-20T08:00:00+08:00")
    assert _numbers(cli("intake", "--json", str(nov), str(oct_), str(nov2)).stdout) == [
        "26110001", "26100001", "26110002"]


def test_period_is_the_offset_local_month_not_utc(cli: Cli, tmp_path: Path) -> None:
    # 23:30 on 31 October in New York is already November in UTC and in Shanghai.
    path = write_case(tmp_path, received_at="2026-10-31T23:30:00-05:00")
    assert _numbers(cli("intake", "--json", str(path)).stdout) == ["26100001"]


def test_sixteen_parallel_intakes_get_distinct_contiguous_serials(root: Path, tmp_path: Path) -> None:
    files = [write_case(tmp_path, f"c{i:02d}.json", description=f"并发投诉 {i}") for i in range(16)]
    procs = [subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "intake", "--json", str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    numbers = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        numbers += _numbers(out)
    assert sorted(numbers) == [f"2611{s:04d}" for s in range(1, 17)]
    assert sorted(record_dirs(root)) == sorted(numbers)
    entries = [json.loads(line) for line in (root / "audit" / "audit.jsonl").read_text().splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert sorted(e["number"] for e in entries if e["action"] == "intake") == sorted(numbers)


def test_tombstoned_number_is_never_reused(root: Path, cli: Cli, tmp_path: Path) -> None:
    month = root / "records" / "2026" / "11"
    month.mkdir(parents=True)
    (month / "26110001.tombstone.json").write_text(
        json.dumps({"number": "26110001", "destroyed_at": "2026-11-20T00:00:00Z"}), encoding="utf-8")
    assert _numbers(cli("intake", "--json", str(write_case(tmp_path))).stdout) == ["26110002"]


def test_a_gap_left_by_destruction_is_not_filled(root: Path, cli: Cli, tmp_path: Path) -> None:
    month = root / "records" / "2026" / "11"
    month.mkdir(parents=True)
    (month / "26110007.tombstone.json").write_text("{}", encoding="utf-8")
    assert _numbers(cli("intake", "--json", str(write_case(tmp_path))).stdout) == ["26110008"]


def test_numbering_pattern_is_a_setting(root: Path, cli: Cli, tmp_path: Path) -> None:
    set_settings(root, lambda t: t.replace('pattern = "{yy}{mm}{serial:04}"', 'pattern = "KS-{yyyy}{mm}{serial:03}"'))
    assert _numbers(cli("intake", "--json", str(write_case(tmp_path))).stdout) == ["KS-202611001"]


def test_past_the_last_serial_intake_fails_clearly(root: Path, cli: Cli, tmp_path: Path) -> None:
    set_settings(root, lambda t: t.replace("{serial:04}", "{serial:01}"))
    month = root / "records" / "2026" / "11"
    month.mkdir(parents=True)
    (month / "26119.tombstone.json").write_text("{}", encoding="utf-8")
    path = write_case(tmp_path)
    result = cli("intake", str(path))
    assert result.exit_code == 2
    assert "no case number left for 2026-11" in result.stderr
    assert [e["action"] for e in audit_entries(root)] == ["settings-apply", "settings-apply"]
    assert [p.name for p in month.iterdir()] == ["26119.tombstone.json"]
