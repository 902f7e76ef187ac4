"""`archive show` tells the whole case; triage re-timing, CAPA progress, identical re-applies, coded fields
given by their Chinese labels, local times, and the organisation named at init (issue 17)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from conftest import record_dirs, write_case

from archive.rules.deadlines import late_working_days
from archive.settings import from_mapping


def test_late_working_days_counts_working_days_after_the_due_date() -> None:
    s = from_mapping({})
    fri = dt.date(2026, 11, 20)
    assert late_working_days(fri, fri, fri, s) is None  # met on the day
    assert late_working_days(fri, None, fri, s) is None  # not yet due
    assert late_working_days(fri, dt.date(2026, 11, 21), fri, s) == 1  # a Saturday is late, by at least 1
    assert late_working_days(fri, dt.date(2026, 11, 24), fri, s) == 2  # Mon, Tue
    assert late_working_days(fri, None, dt.date(2026, 11, 25), s) == 3  # unmet: judged by today
    # National Day week 2026 (Oct 1-7 holidays): due Sep 30, met Oct 8 → only Oct 8 is a working day
    assert late_working_days(dt.date(2026, 9, 30), dt.date(2026, 10, 8), fri, s) == 1


# ---------------------------------------------------------------- helpers

def intake(cli: Any, folder: Path, **overrides: Any) -> str:
    path = write_case(folder, f"case-{len(list(folder.glob('case-*.json')))}.json", **overrides)
    r = cli("intake", str(path), "--json")
    assert r.exit_code == 0, r.output
    return str(json.loads(r.stdout)[0]["number"])


def update(cli: Any, folder: Path, number: str, stages: dict[str, Any], *args: str) -> Any:
    path = folder / f"update-{len(list(folder.glob('update-*.json')))}.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    return cli("update", number, str(path), *args)


def case_json(root: Path, number: str) -> dict[str, Any]:
    return dict(json.loads(record_dirs(root)[number].joinpath("case.json").read_text(encoding="utf-8")))


def latest_stage(root: Path, number: str, stage: str) -> dict[str, Any]:
    files = sorted(record_dirs(root)[number].joinpath("stages").glob(f"{stage}.v*.json"),
                   key=lambda p: int(p.name.split(".v")[1].split(".")[0]))
    return dict(json.loads(files[-1].read_text(encoding="utf-8")))


# ---------------------------------------------------------------- coded fields: code or Chinese label

def test_a_case_file_may_give_coded_fields_by_their_chinese_labels_and_the_codes_are_stored(
        root: Path, cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path, channel="电话", category="包装及邮寄", severity="重要")
    stored = case_json(root, number)["case"]
    assert (stored["channel"], stored["category"], stored["severity"]) == ("phone", "packaging", "major")
    # the file as received stays byte for byte what was sent
    raw = record_dirs(root)[number].joinpath("intake.json").read_bytes()
    assert "电话".encode() in raw and b'"phone"' not in raw


def test_a_stage_file_may_give_satisfaction_by_its_label_and_the_code_is_stored(
        root: Path, cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path)
    r = update(cli, tmp_path, number, {
        "response": {"replied_at": "2026-11-03T16:00:00+08:00", "method": "电话", "content": "已换货"},
        "follow_up": {"visited_at": "2026-11-10T10:00:00+08:00", "by": "李四", "satisfaction": "满意"},
        "capa": [{"kind": "纠正措施", "action": "加固外箱", "owner": "张三", "due": "2026-11-20"}]})
    assert r.exit_code == 0, r.output
    assert latest_stage(root, number, "follow_up")["data"]["satisfaction"] == "satisfied"
    assert latest_stage(root, number, "response")["data"]["method"] == "phone"
    assert latest_stage(root, number, "capa")["data"][0]["kind"] == "corrective"


def test_an_unknown_coded_value_is_refused_with_the_chinese_labels_beside_the_codes(
        cli: Any, tmp_path: Path) -> None:
    r = cli("intake", str(write_case(tmp_path, channel="微信")))
    assert r.exit_code == 2
    assert "$.channel: '微信' is not one of: phone 电话, email 邮件" in r.stderr
    assert "regulator 监管/消协转办" in r.stderr


def test_command_line_codes_take_labels_and_list_them_when_wrong(cli: Any, tmp_path: Path) -> None:
    intake(cli, tmp_path)
    assert cli("list", "--status", "已登记", "--json").exit_code == 0
    assert len(json.loads(cli("list", "--severity", "轻微", "--json").stdout)) == 1
    r = cli("list", "--status", "open")
    assert r.exit_code == 2 and "registered 已登记" in r.stderr and "closed 已结案" in r.stderr
