"""`archive show` tells the whole case; triage re-timing, CAPA progress, identical re-applies, coded fields
given by their Chinese labels, local times, and the organisation named at init (issue 17)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import KEY_PASSPHRASE, Key, audit_entries, make_key, record_dirs, set_settings, snapshot, write_case

from archive.cli import main
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


# ---------------------------------------------------------------- triage: urgency found after intake

def test_urgency_set_by_triage_after_intake_moves_the_reply_deadline_to_the_day_received(
        root: Path, cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path, channel="letter", received_at="2026-11-03T10:15:00+08:00")
    before = json.loads(cli("show", number, "--json").stdout)
    assert before["deadlines"]["reply_due"] == "2026-11-05"  # a letter: 2 working days
    assert update(cli, tmp_path, number, {"triage": {"urgent": True}}).exit_code == 0
    after = json.loads(cli("show", number, "--json").stdout)
    assert after["deadlines"]["reply_due"] == "2026-11-03" and after["urgent"] is True
    assert json.loads(cli("list", "--json").stdout)[0]["reply_due"] == "2026-11-03"  # the register follows
    shown = cli("show", number).stdout
    assert "紧急投诉 是(分类时标记)" in shown and "答复期限 2026-11-03(原 2026-11-05,因紧急投诉重新计算)" in shown


# ---------------------------------------------------------------- CAPA progress is not a correction

CLOSING = {
    "investigation": {"investigator": "张三", "findings": "运输中挤压", "completed_at": "2026-11-04T10:00:00+08:00"},
    "capa": [{"kind": "corrective", "action": "加固外箱", "owner": "张三", "due": "2026-11-20"},
             {"kind": "preventive", "action": "培训承运商", "owner": "李四", "due": "2026-12-20"}],
    "response": {"replied_at": "2026-11-04T16:00:00+08:00", "method": "phone", "content": "已换货"},
}


def _closed_with_open_actions(cli: Any, folder: Path) -> str:
    number = intake(cli, folder)
    assert update(cli, folder, number, CLOSING).exit_code == 0
    r = update(cli, folder, number, {"closure": {"closed_at": "2026-11-05T10:00:00+08:00", "approved_by": "王五"}},
               "--reason", "措施需时较长,客户已满意")
    assert r.exit_code == 0, r.output
    return number


def test_recording_a_capa_action_done_on_a_closed_case_needs_no_reopen_and_no_reason(
        root: Path, cli: Any, tmp_path: Path) -> None:
    number = _closed_with_open_actions(cli, tmp_path)
    done = [dict(CLOSING["capa"][0], done_at="2026-11-18"), CLOSING["capa"][1]]
    r = update(cli, tmp_path, number, {"capa": done}, "--json")
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    assert result["status"] == "closed" and result["progress"] is True
    assert any(d.startswith("documents/capa-record.v") for d in result["documents"])  # re-rendered
    entry = audit_entries(root)[-1]
    assert entry["action"] == "capa-progress" and not entry.get("reason")
    shown = json.loads(cli("show", number, "--json").stdout)
    assert [a["status"] for a in shown["capa"]] == ["done", "open"]


def test_changing_a_recorded_capa_action_is_still_a_correction(root: Path, cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path)
    assert update(cli, tmp_path, number, {"capa": CLOSING["capa"]}).exit_code == 0
    changed = [dict(CLOSING["capa"][0], due="2026-11-25", done_at="2026-11-18"), CLOSING["capa"][1]]
    r = update(cli, tmp_path, number, {"capa": changed})
    assert r.exit_code == 2 and "replacing a recorded stage is a correction and needs --reason" in r.stderr


def test_a_closed_case_still_refuses_a_capa_correction_without_reopen(cli: Any, tmp_path: Path) -> None:
    number = _closed_with_open_actions(cli, tmp_path)
    changed = [dict(CLOSING["capa"][0], owner="赵六", done_at="2026-11-18"), CLOSING["capa"][1]]
    r = update(cli, tmp_path, number, {"capa": changed}, "--reason", "换人")
    assert r.exit_code == 2 and "changes need --reopen --reason" in r.stderr


# ---------------------------------------------------------------- identical re-apply

def test_reapplying_identical_stage_content_writes_nothing(root: Path, cli: Any, tmp_path: Path) -> None:
    number = _closed_with_open_actions(cli, tmp_path)
    before = snapshot(root)
    r = update(cli, tmp_path, number, CLOSING)  # no --reason, no --reopen: nothing is corrected
    assert r.exit_code == 0, r.output
    assert "nothing changed" in r.stdout and "未写入任何内容" in r.stdout
    assert snapshot(root) == before


def test_only_the_stages_that_differ_are_written(root: Path, cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path)
    assert update(cli, tmp_path, number, {"response": CLOSING["response"]}).exit_code == 0
    follow = {"visited_at": "2026-11-10T10:00:00+08:00", "by": "李四", "satisfaction": "satisfied"}
    r = update(cli, tmp_path, number, {"response": CLOSING["response"], "follow_up": follow}, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["stages"] == ["follow_up"] and json.loads(r.stdout)["unchanged"] == ["response"]
    assert not list(record_dirs(root)[number].joinpath("stages").glob("response.v2.json"))


# ---------------------------------------------------------------- show tells the whole case

TITLE_ESCAPE = "\x1b]0;pwned\x07"  # OSC 0: sets the terminal's window title


def test_an_escape_sequence_in_a_description_is_printed_inert_by_show(cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path, description=f"外包装破损{TITLE_ESCAPE}\x9b2J\u202e翻转",
                    complainant={"name": "王\x1b[31m建国"})
    out = cli("show", number).stdout
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert "外包装破损\\x1b]0;pwned\\x07\\x9b2J\\u202e翻转" in out and "王\\x1b[31m建国" in out
    # the same inert text in the register and search; JSON escapes it its own way and still parses to the text
    assert "\x1b" not in cli("list").stdout and "\x1b" not in cli("search", "破损").stdout
    shown = cli("show", number, "--json").stdout
    assert "\x9b" not in shown and "\u202e" not in shown
    assert json.loads(shown)["case"]["description"] == f"外包装破损{TITLE_ESCAPE}\x9b2J\u202e翻转"


def test_show_tells_contact_urgency_every_stage_capa_status_and_the_reason_for_closing_with_actions_open(
        cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path, complainant={"name": "王建国", "organization": "华东医药", "phone": "021-5555",
                                                "email": "wang@example.cn"}, urgent=True)
    _close_number(cli, tmp_path, number)
    out = cli("show", number).stdout
    for text in ("联系电话 021-5555", "电子邮件 wang@example.cn", "紧急投诉 是",
                 "调查结果 运输中挤压", "[纠正措施] 加固外箱", "状态 未完成", "答复内容 已换货", "核准人 王五",
                 "带未完成措施结案(2 项),理由:措施需时较长,客户已满意"):
        assert text in out, text
    shown = json.loads(cli("show", number, "--json").stdout)
    assert shown["contact"]["phone"] == "021-5555" and shown["urgent"] is True
    assert shown["closed_with_open_actions"]["reason"] == "措施需时较长,客户已满意"


def _close_number(cli: Any, folder: Path, number: str) -> None:
    assert update(cli, folder, number, CLOSING).exit_code == 0
    r = update(cli, folder, number, {"closure": {"closed_at": "2026-11-05T10:00:00+08:00", "approved_by": "王五"}},
               "--reason", "措施需时较长,客户已满意")
    assert r.exit_code == 0, r.output


def test_a_late_reply_and_investigation_are_marked_in_working_days(cli: Any, tmp_path: Path) -> None:
    # received Tuesday 2026-11-03 by letter: reply due Thursday 11-05, investigation due 11-10
    number = intake(cli, tmp_path, channel="letter")
    r = update(cli, tmp_path, number, {
        "investigation": {"investigator": "张三", "findings": "挤压", "completed_at": "2026-11-12T09:00:00+08:00"},
        "response": {"replied_at": "2026-11-09T09:00:00+08:00", "method": "letter", "content": "已答复"}})
    assert r.exit_code == 0, r.output
    shown = json.loads(cli("show", number, "--json").stdout)
    assert {(m["deadline"], m["working_days"]) for m in shown["late"]} == {("reply", 2), ("investigation", 2)}
    out = cli("show", number).stdout
    assert "答复期限 2026-11-05 逾期 2 个工作日" in out and "调查期限 2026-11-10 逾期 2 个工作日" in out


def test_show_lists_holds_and_signatures_per_document(cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path)
    assert cli("hold", number, "--reason", "诉讼待决").exit_code == 0
    out = cli("show", number).stdout
    assert "法律保全中 H1:诉讼待决" in out
    assert "文件 documents/register-form.v1.docx  已签:未签  待签:起草、审核、批准" in out


PINNED_TODAY = dt.date(2029, 11, 30)


def test_a_destroyed_number_is_answered_from_its_tombstone(root: Path, cli: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from archive import clock

    set_settings(root, lambda t: t.replace("destruction_signatures = 2", "destruction_signatures = 0"))
    number = intake(cli, tmp_path, product={"name": "阿莫西林胶囊", "lot": "B2026080315"})
    _close_number(cli, tmp_path, number)
    assert update(cli, tmp_path, number, {"capa": [dict(a, done_at="2026-11-06") for a in CLOSING["capa"]]}
                  ).exit_code == 0
    monkeypatch.setattr(clock, "today", lambda zone: PINNED_TODAY)  # closed 2026-11-05 + 3 years has passed
    r = cli("purge", "--as-of", "2029-11-06", "--approved-by", "质量部经理 黄涛", "--execute", "--json")
    assert r.exit_code == 0, r.output
    cert = json.loads(r.stdout)["certificate"]
    r = cli("show", number)
    assert r.exit_code == 1  # found, but destroyed: the case cannot be shown
    assert f"case {number} was destroyed on " in r.stderr and "(UTC+08:00) under certificate XH-" in r.stderr
    executed = json.loads(cli("retention", "certificates", "--json").stdout)[0]["executed_at"]
    assert _local(executed) in cli("retention", "certificates").stdout
    assert Path(cert).stem.split(".")[0] in r.stderr
    assert "not found" not in r.stderr


@pytest.fixture
def signers(root: Path, tmp_path: Path) -> dict[str, Key]:
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", tmp_path / "zhoumin.pem")
    out = {"zhoumin": admin}
    for kid, name, title in (("zhangli", "张丽", "QA 主管"), ("huangtao", "黄涛", "质量部经理")):
        out[kid] = make_key(root, kid, name, title, tmp_path / f"{kid}.pem", certify_with=admin)
    return out


def test_an_approver_named_in_the_closure_who_did_not_sign_the_approval_is_a_finding(
        root: Path, cli: Any, tmp_path: Path, signers: dict[str, Key]) -> None:
    number = intake(cli, tmp_path)
    _close_number(cli, tmp_path, number)  # approved_by 王五
    env = {"ARCHIVE_PASSPHRASE": KEY_PASSPHRASE}
    for kid, meaning in (("zhangli", "drafted"), ("zhoumin", "reviewed"), ("huangtao", "approved")):
        r = cli("--actor", signers[kid].actor, "sign", number, "--key", str(signers[kid].pem), "--meaning", meaning,
                "--document", "response-feedback", env=env)
        assert r.exit_code == 0, r.output
    shown = json.loads(cli("show", number, "--json").stdout)
    assert [(f["approved_by"], f["signer"]) for f in shown["findings"]] == [("王五", "黄涛")]
    assert "发现 结案核准人“王五”不是在 documents/response-feedback.v" in cli("show", number).stdout
    r = cli("verify", "--json")
    assert r.exit_code == 0, r.output
    assert [w["kind"] for w in json.loads(r.stdout)["warnings"]] == ["approver_differs"]
    assert "结案核准人“王五”" in cli("verify").stdout


# ---------------------------------------------------------------- local times on the terminal

def _local(utc: str) -> str:
    """What the terminal must print for a recorded UTC time in the default zone (Asia/Shanghai, UTC+8)."""
    moment = dt.datetime.fromisoformat(utc.replace("Z", "+00:00")) + dt.timedelta(hours=8)
    return f"{moment:%Y-%m-%d %H:%M} (UTC+08:00)"


def test_show_and_holds_print_local_time_with_its_offset(cli: Any, tmp_path: Path) -> None:
    number = intake(cli, tmp_path, received_at="2026-11-03T05:15:00Z")
    assert cli("hold", number, "--reason", "诉讼待决").exit_code == 0
    out = cli("show", number).stdout
    assert "投诉时间 2026-11-03 13:15 (UTC+08:00)" in out  # received at 05:15 UTC
    placed = json.loads(cli("holds", "--json").stdout)[0]["placed_at"]
    assert placed.endswith("Z")  # JSON keeps the recorded UTC time
    assert _local(placed) in cli("holds").stdout and _local(placed) in out


def test_keys_list_prints_local_times(root: Path, cli: Any, signers: dict[str, Key]) -> None:
    listed = {k["id"]: k for k in json.loads(cli("keys", "list", "--json").stdout)}
    out = cli("keys", "list").stdout
    assert _local(listed["zhangli"]["created_at"]) in out and _local(listed["zhangli"]["certified_at"]) in out


def test_an_error_about_a_time_prints_it_with_its_offset(cli: Any, tmp_path: Path) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    r = cli("intake", str(write_case(tmp_path, received_at=future.isoformat(timespec="seconds"))))
    assert r.exit_code == 2 and "is in the future (now " in r.stderr and "(UTC+08:00))" in r.stderr


# ---------------------------------------------------------------- the organisation named at init

def _docx_text(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:  # the body and the page header, which carries the organisation
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("word/") and n.endswith(".xml"))


def test_init_org_names_the_organisation_on_every_form_from_the_first_case(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    r = CliRunner().invoke(main, ["--root", str(fresh), "init", "--org", "华东制药厂"])
    assert r.exit_code == 0, r.output
    assert "example organisation" not in r.stderr
    assert 'name = "华东制药厂"' in (fresh / "archive.toml").read_text(encoding="utf-8")
    r = CliRunner().invoke(main, ["--root", str(fresh), "intake", str(write_case(tmp_path)), "--json"])
    assert r.exit_code == 0, r.output  # the settings init wrote are in force: no `settings apply` needed
    for doc in json.loads(r.stdout)[0]["documents"]:
        text = _docx_text(record_dirs(fresh)[json.loads(r.stdout)[0]["number"]] / doc)
        assert "华东制药厂" in text and "示例医药有限公司" not in text


def test_init_without_org_warns_that_the_example_organisation_is_in_use(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--root", str(tmp_path / "fresh"), "init"])
    assert r.exit_code == 0
    assert "warning: the example organisation 示例医药有限公司 heads every form" in r.stderr


def test_init_org_does_not_rewrite_an_existing_archive_toml(root: Path) -> None:
    before = snapshot(root)
    r = CliRunner().invoke(main, ["--root", str(root), "init", "--org", "另一家公司"])
    assert r.exit_code == 2 and "names '示例医药有限公司'" in r.stderr and "settings apply" in r.stderr
    assert snapshot(root) == before
