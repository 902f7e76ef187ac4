"""What a QA manager signs must be true: honest dates, closure checks, a person behind every act, one person one
meaning, duplicates caught, calendar gaps said, templates used from their effective date."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    SHARED_CASES,
    SHARED_UPDATES,
    Cli,
    audit_entries,
    make_key,
    run_archive,
    set_settings,
    snapshot,
    use_engine,
    write_case,
)

PASS = {"ARCHIVE_PASSPHRASE": "passphrase-1"}


def _stage(tmp: Path, name: str, **stages: Any) -> str:
    path = tmp / name
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _intake(cli: Cli, path: Path, *flags: str) -> str:
    result = cli("intake", "--json", *flags, str(path))
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)[0]["number"])


INVESTIGATION = {"investigator": "质量部 陈工", "findings": "运输破损", "completed_at": "2026-11-05T10:00:00+08:00"}
RESPONSE = {"replied_at": "2026-11-06T10:00:00+08:00", "method": "phone", "content": "已换货"}


def test_a_received_at_in_the_future_is_refused_and_nothing_written(root: Path, cli: Cli, tmp_path: Path) -> None:
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(timespec="seconds")
    before = snapshot(root)
    result = cli("intake", str(write_case(tmp_path, received_at=tomorrow)))
    assert result.exit_code == 2 and "$.received_at" in result.stderr and "future" in result.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize(("stages", "field"), [
    ({"investigation": INVESTIGATION, "response": RESPONSE,
      "closure": {"closed_at": "2026-11-05T09:00:00+08:00", "approved_by": "黄涛"}}, "$.closure.closed_at"),
    ({"response": {**RESPONSE, "replied_at": "2026-11-02T10:00:00+08:00"}}, "$.response.replied_at"),
    ({"response": RESPONSE, "follow_up": {"visited_at": "2026-11-06T09:00:00+08:00", "by": "张丽",
                                          "satisfaction": "satisfied"}}, "$.follow_up.visited_at"),
    ({"investigation": {**INVESTIGATION, "completed_at": "2099-01-01T10:00:00+08:00"}}, "$.investigation.completed_at"),
])
def test_stage_dates_out_of_order_or_in_the_future_are_refused(root: Path, cli: Cli, tmp_path: Path,
                                                               stages: dict[str, Any], field: str) -> None:
    number = _intake(cli, write_case(tmp_path))
    before = snapshot(root)
    result = cli("update", number, _stage(tmp_path, "bad.json", **stages))
    assert result.exit_code == 2 and field in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_closure_with_an_open_capa_action_needs_a_reason(root: Path, cli: Cli, tmp_path: Path) -> None:
    number = _intake(cli, write_case(tmp_path))
    capa = [{"kind": "corrective", "action": "校准传感器", "owner": "生产部 王磊", "due": "2026-11-30"}]
    assert cli("update", number, _stage(tmp_path, "a.json", investigation=INVESTIGATION, response=RESPONSE,
                                        capa=capa)).exit_code == 0
    close = _stage(tmp_path, "c.json", closure={"closed_at": "2026-11-20T09:00:00+08:00", "approved_by": "黄涛"})
    before = snapshot(root)
    refused = cli("update", number, close)
    assert refused.exit_code == 2 and "CAPA" in refused.stderr and "校准传感器" in refused.stderr
    assert snapshot(root) == before
    assert cli("update", number, close, "--reason", "措施已转入年度 CAPA 计划跟踪").exit_code == 0
    assert audit_entries(root)[-1]["reason"] == "措施已转入年度 CAPA 计划跟踪"
    late = json.loads(cli("overdue", "--as-of", "2026-12-02", "--json").stdout)
    assert [(r["number"], r["deadline"], r["action"]) for r in late] == [(number, "capa", "校准传感器")]


@pytest.fixture
def signers(root: Path, tmp_path: Path) -> dict[str, Path]:
    """周敏 the administrator (first key, and the reviewer here), 张丽 and 黄涛 certified by her."""
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", tmp_path / "zhoumin.pem", PASS["ARCHIVE_PASSPHRASE"])
    out = {"zhoumin": admin.pem}
    for kid, name, title in (("zhangli", "张丽", "QA 主管"), ("huangtao", "黄涛", "质量部经理")):
        out[kid] = make_key(root, kid, name, title, tmp_path / f"{kid}.pem", PASS["ARCHIVE_PASSPHRASE"],
                            certify_with=admin).pem
    return out


def _draft_and_review(cli: Cli, signers: dict[str, Path], number: str) -> None:
    """Approval comes after 起草 and 审核 on the same version ([signatures] order)."""
    for actor, kid, meaning in (("张丽", "zhangli", "drafted"), ("周敏", "zhoumin", "reviewed")):
        r = cli("--actor", actor, "sign", number, "--key", str(signers[kid]), "--meaning", meaning, env=PASS)
        assert r.exit_code == 0, r.output


def test_one_key_may_not_draft_and_approve_the_same_document(root: Path, cli: Cli, tmp_path: Path,
                                                             signers: dict[str, Path]) -> None:
    r = cli("--actor", "张丽", "intake", "--sign-as", str(signers["zhangli"]), str(SHARED_CASES[0]), env=PASS)
    assert r.exit_code == 0, r.output
    before = snapshot(root)
    r = cli("--actor", "张丽", "sign", "26110001", "--key", str(signers["zhangli"]), "--meaning", "approved", env=PASS)
    assert r.exit_code == 2 and "起草" in r.stderr and "separate_meanings" in r.stderr
    assert snapshot(root) == before
    set_settings(root, lambda t: t.replace("separate_meanings = true", "separate_meanings = false"))
    for meaning in ("reviewed", "approved"):
        r = cli("--actor", "张丽", "sign", "26110001", "--key", str(signers["zhangli"]), "--meaning", meaning, env=PASS)
        assert r.exit_code == 0, r.output


def test_an_actor_who_is_not_the_key_owner_is_refused(root: Path, cli: Cli, signers: dict[str, Path]) -> None:
    assert cli("intake", str(SHARED_CASES[0])).exit_code == 0
    before = snapshot(root)
    r = cli("--actor", "质量保证部 张丽", "sign", "26110001", "--key", str(signers["huangtao"]), "--meaning",
            "approved", env=PASS)
    assert r.exit_code == 2 and "黄涛" in r.stderr
    r = cli("--actor", "张丽", "intake", "--sign-as", str(signers["huangtao"]), str(SHARED_CASES[1]), env=PASS)
    assert r.exit_code == 2 and "黄涛" in r.stderr, r.stderr
    assert snapshot(root) == before
    _draft_and_review(cli, signers, "26110001")
    r = cli("--actor", "质量部经理 黄涛", "sign", "26110001", "--key", str(signers["huangtao"]), "--meaning",
            "approved", env=PASS)
    assert r.exit_code == 0
    assert audit_entries(root)[-1]["actor"] == "质量部经理 黄涛"


def test_write_commands_need_a_person(root: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_ACTOR"}
    case = str(write_case(tmp_path))
    nobody = run_archive(root, "intake", case, env=env)
    assert nobody.returncode == 2 and "--actor" in nobody.stderr
    account = run_archive(root, "--actor", "root", "intake", case, env=env)
    assert account.returncode == 2 and "not a person" in account.stderr
    assert run_archive(root, "list", env=env).returncode == 0  # reading needs nobody
    assert run_archive(root, "--actor", "质量保证部 张丽", "intake", case, env=env).returncode == 0


def test_a_reopened_case_lists_its_lapsed_approvals(root: Path, cli: Cli, tmp_path: Path,
                                                    signers: dict[str, Path]) -> None:
    assert cli("intake", str(SHARED_CASES[0])).exit_code == 0
    for name in ("01-investigation.json", "01-capa.json", "01-close.json"):
        assert cli("update", "26110001", str(SHARED_UPDATES / name)).exit_code == 0
    _draft_and_review(cli, signers, "26110001")
    r = cli("--actor", "黄涛", "sign", "26110001", "--key", str(signers["huangtao"]), "--meaning", "approved",
            env=PASS)
    assert r.exit_code == 0, r.output
    assert json.loads(cli("show", "26110001", "--json").stdout)["lapsed_approvals"] == []
    reopen = _stage(tmp_path, "r.json", follow_up={"visited_at": "2026-11-22T10:00:00+08:00", "by": "张丽",
                                                   "satisfaction": "dissatisfied", "feedback": "仍有破损"})
    assert cli("update", "26110001", reopen, "--reopen", "--reason", "客户再次投诉").exit_code == 0
    shown = json.loads(cli("show", "26110001", "--json").stdout)
    assert shown["lapsed_approvals"] == ["response-feedback"]
    assert shown["signatures"]["response-feedback"]["unsigned"] == ["drafted", "reviewed", "approved"]
    assert "批准已失效" in cli("show", "26110001").stdout
    assert "批准失效" in cli("list").stdout
    report = json.loads(cli("verify", "--json").stdout)
    assert report["findings"] == [] and [w["kind"] for w in report["warnings"]] == ["approval_lapsed"]


def test_closure_can_require_approvals(root: Path, cli: Cli, tmp_path: Path, signers: dict[str, Path]) -> None:
    set_settings(root, lambda t: t.replace("require_approvals = false", "require_approvals = true"))
    assert cli("intake", str(SHARED_CASES[0])).exit_code == 0
    for name in ("01-investigation.json", "01-capa.json"):
        assert cli("update", "26110001", str(SHARED_UPDATES / name)).exit_code == 0
    refused = cli("update", "26110001", str(SHARED_UPDATES / "01-close.json"))
    assert refused.exit_code == 2 and "批准" in refused.stderr
    _draft_and_review(cli, signers, "26110001")
    r = cli("--actor", "黄涛", "sign", "26110001", "--key", str(signers["huangtao"]), "--meaning", "approved",
            env=PASS)
    assert r.exit_code == 0
    assert cli("update", "26110001", str(SHARED_UPDATES / "01-close.json")).exit_code == 0


def test_a_duplicate_intake_is_refused_unless_allowed(root: Path, cli: Cli, tmp_path: Path) -> None:
    first = write_case(tmp_path, "a.json")
    other = write_case(tmp_path, "b.json", received_at="2026-11-04T10:00:00+08:00")
    assert cli("intake", str(first)).exit_code == 0
    again = cli("intake", "--json", str(first), str(other))  # a batch re-run after one refused file
    assert again.exit_code == 2 and "26110001" in again.stderr
    assert [i["number"] for i in json.loads(again.stdout)] == [None, "26110002"]  # one entry per file
    # the same complaint typed into a new file is caught too
    retyped = tmp_path / "c.json"
    retyped.write_text(json.dumps(json.loads(first.read_text(encoding="utf-8")), ensure_ascii=False, indent=2),
                       encoding="utf-8")
    refused = cli("intake", str(retyped))
    assert refused.exit_code == 2 and "same complainant" in refused.stderr
    assert _intake(cli, retyped, "--allow-duplicate") == "26110003"


def test_a_year_the_calendar_does_not_know_is_warned_about(root: Path, cli: Cli, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.rules import workdays

    monkeypatch.setattr(workdays, "_known_years", lambda: range(2004, 2026))
    case = write_case(tmp_path, channel="letter")
    result = cli("intake", "--json", str(case))
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["calendar_unknown"] == [2026]
    assert "2026" in result.stderr and "[calendar]" in result.stderr
    assert json.loads(cli("show", "26110001", "--json").stdout)["calendar_unknown"] == [2026]
    late = json.loads(cli("overdue", "--as-of", "2026-11-24", "--json").stdout)
    assert late and all(r["calendar_unknown"] == [2026] for r in late)
    set_settings(root, lambda t: t.replace('extra_holidays = []', 'extra_holidays = ["2026-10-01"]'))
    assert json.loads(cli("show", "26110001", "--json").stdout)["calendar_unknown"] == []


def test_a_template_version_is_used_only_from_its_effective_date(root: Path, cli: Cli, tmp_path: Path) -> None:
    from docx import Document

    source = root / "templates" / "record-form.v2.docx"
    doc = Document(str(source))
    doc.add_paragraph("第三版")
    v3 = tmp_path / "record-form-v3.docx"
    doc.save(str(v3))
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = cli("templates", "register", str(v3), "--id", "record-form", "--version", "3", "--effective", tomorrow)
    assert r.exit_code == 0, r.output
    number = _intake(cli, write_case(tmp_path))
    meta = json.loads(next(root.glob(f"records/*/*/{number}/documents/record-form.v1.meta.json")).read_text())
    assert meta["template"]["version"] == "2"
    same = cli("templates", "register", str(source), "--id", "record-form", "--version", "4")
    assert same.exit_code == 2 and "byte-identical" in same.stderr


def test_similar_ranks_the_same_lot_from_the_same_hospital_first(root: Path, cli: Cli, tmp_path: Path,
                                                                 engine: str) -> None:
    use_engine(root, engine)
    hospital = {"name": "李药师", "organization": "仁济医院"}
    first = _intake(cli, write_case(tmp_path, "a.json", complainant=hospital, description="药片变色",
                                    product={"name": "维生素C片", "lot": "VC20260901"}))
    _intake(cli, write_case(tmp_path, "noise.json", received_at="2026-11-04T10:00:00+08:00",
                            description="外包装破损严重,铝塑板有压痕"))
    second = _intake(cli, write_case(tmp_path, "b.json", complainant=hospital, description="瓶内有异味",
                                     received_at="2026-11-10T10:00:00+08:00",
                                     product={"name": "维生素C片", "lot": "VC20260901"}))
    hits = json.loads(cli("similar", second, "--json").stdout)
    assert hits[0]["number"] == first
    assert hits[0]["reasons"][:3] == ["同批号 VC20260901", "同产品 维生素C片", "同客户 仁济医院"]
