"""Retention runs (ISO 15489, the archive SOP 归档销毁): due lists, legal holds, approved destruction with a signed
certificate that leaves no case content behind, and retention rules that never move silently."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, audit_entries, make_key, record_dirs, set_settings, snapshot, write_case

PASS = {"ARCHIVE_PASSPHRASE": "approver-pass", "ARCHIVE_WITNESS_PASSPHRASE": "witness-pass"}
SECRET = {"name": "欧阳修远", "lot": "ZZLOT9876", "text": "独特投诉内容甲乙丙丁", "file": "ouyang-letter.txt",
          "attachment": "附件里的秘密字样戊己庚"}


# These cases close in 2026 and fall due on 2029-11-22; `purge --execute` judges only by a day that has come,
# so the archive's clock is pinned to a day after it.
PINNED_TODAY = dt.date(2029, 11, 30)


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    from archive import clock

    monkeypatch.setattr(clock, "today", lambda zone: PINNED_TODAY)


def _certificate_id(serial: int, root: Path) -> str:
    """Certificate ids carry the year of the archive's clock: never a year written into a test."""
    from archive import clock, settings

    return f"XH-{clock.today(settings.load(root).zone).year}-{serial:04d}"


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _close(cli: Cli, tmp: Path, number: str, closed: str = "2026-11-21T09:00:00+08:00",
           **closure: Any) -> None:
    stages: dict[str, Any] = {
        "response": {"replied_at": "2026-11-19T10:00:00+08:00", "method": "phone", "content": "已答复客户"},
        "closure": {"closed_at": closed, "approved_by": "质量部经理 黄涛", **closure}}
    if "no_investigation" not in closure:
        stages["investigation"] = {"investigator": "质量部 陈工", "findings": "调查完成",
                                   "completed_at": "2026-11-18T10:00:00+08:00"}
    path = tmp / f"close-{number}.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    result = cli("update", number, str(path))
    assert result.exit_code == 0, result.output


def _intake(cli: Cli, tmp: Path, name: str, **fields: Any) -> str:
    return str(_json(cli("intake", "--json", str(write_case(tmp, name, **fields))))[0]["number"])


@pytest.fixture
def keys(root: Path, tmp_path: Path) -> dict[str, Path]:
    """The approver and the witness, certified by the archive's administrator (its first key)."""
    folder = tmp_path / "keys"
    folder.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "系统管理员", folder / "zhoumin.pem", "admin-pass")
    out = {}
    for kid, name, title, secret in (("huang", "黄涛", "质量部经理", "approver-pass"),
                                     ("li", "李明", "档案管理员", "witness-pass")):
        out[kid] = make_key(root, kid, name, title, folder / f"{kid}.pem", secret, certify_with=admin).pem
    return out


@pytest.fixture
def closed(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """Four cases: 0001 closed (secret content), 0002 closed, 0003 open, 0004 closed and highest."""
    (tmp_path / SECRET["file"]).write_text(SECRET["attachment"], encoding="utf-8")
    numbers = {
        "secret": _intake(cli, tmp_path, "a.json", complainant={"name": SECRET["name"]},
                          product={"name": "阿莫西林胶囊", "lot": SECRET["lot"], "expiry_date": "2027-01-31"},
                          description=SECRET["text"], attachments=[{"path": SECRET["file"], "title": "投诉信"}]),
        "plain": _intake(cli, tmp_path, "b.json", received_at="2026-11-04T10:00:00+08:00"),
        "open": _intake(cli, tmp_path, "c.json", received_at="2026-11-05T10:00:00+08:00"),
        "last": _intake(cli, tmp_path, "d.json", received_at="2026-11-06T10:00:00+08:00"),
    }
    for key in ("secret", "plain", "last"):
        _close(cli, tmp_path, numbers[key])
    return numbers


def _purge(cli: Cli, keys: dict[str, Path], *extra: str) -> Any:
    return cli("--actor", "质量部经理 黄涛", "purge", "--as-of", "2029-11-22", "--approved-by", "质量部经理 黄涛",
               "--execute", "--json", "--sign-as", str(keys["huang"]), "--witness", str(keys["li"]), *extra, env=PASS)


def test_a_case_is_due_the_day_after_its_retention_date(cli: Cli, closed: dict[str, str]) -> None:
    on_the_day = _json(cli("retention", "due", "--as-of", "2029-11-21", "--json"))["due"]
    assert on_the_day == []
    after = _json(cli("retention", "due", "--as-of", "2029-11-22", "--json"))["due"]
    assert [d["number"] for d in after] == sorted([closed["secret"], closed["plain"], closed["last"]])
    assert set(after[0]) == {"number", "retention_until", "rule", "category", "closed_at"}
    assert after[0]["retention_until"] == "2029-11-21" and after[0]["rule"] == "default"


def test_open_and_held_cases_are_never_due(cli: Cli, closed: dict[str, str]) -> None:
    assert _json(cli("hold", closed["plain"], "--reason", "诉讼待决", "--json")) == {"number": closed["plain"],
                                                                                   "hold": "H1"}
    due = {d["number"] for d in _json(cli("retention", "due", "--as-of", "2040-01-01", "--json"))["due"]}
    assert closed["open"] not in due and closed["plain"] not in due and closed["secret"] in due


def test_a_dry_run_writes_nothing(cli: Cli, root: Path, closed: dict[str, str], keys: dict[str, Path]) -> None:
    before = snapshot(root)
    out = _json(cli("purge", "--as-of", "2029-11-22", "--approved-by", "质量部经理 黄涛", "--json"))
    assert out["destroyed"] == sorted([closed["secret"], closed["plain"], closed["last"]])
    assert out["certificate"] is None and out["executed"] is False
    assert snapshot(root) == before


def test_two_holds_one_released_is_still_held(cli: Cli, closed: dict[str, str], keys: dict[str, Path]) -> None:
    n = closed["plain"]
    cli("hold", n, "--reason", "诉讼待决")
    cli("hold", n, "--reason", "监管检查")
    released = _json(cli("release", n, "--hold", "H1", "--reason", "和解", "--json"))
    assert released["still_held_by"] == ["H2"]
    assert [h["hold"] for h in _json(cli("holds", "--json"))] == ["H2"]
    assert _json(cli("show", n, "--json"))["hold"]["id"] == "H2"
    assert "法律保全中" in cli("list").stdout
    out = _json(_purge(cli, keys))
    assert n not in out["destroyed"] and [h["number"] for h in out["held"]] == [n]
    assert n in {p for p in _json(cli("list", "--json")) for p in [p["number"]]}


def test_a_held_case_named_for_destruction_is_refused_naming_the_hold(cli: Cli, root: Path, closed: dict[str, str],
                                                                      keys: dict[str, Path]) -> None:
    cli("hold", closed["plain"], "--reason", "诉讼待决")
    before = snapshot(root)
    result = _purge(cli, keys, closed["plain"], closed["secret"])
    assert result.exit_code == 2 and "H1" in result.stderr and "诉讼待决" in result.stderr
    assert snapshot(root) == before


def test_destruction_leaves_no_case_content_under_the_root(cli: Cli, root: Path, closed: dict[str, str],
                                                           keys: dict[str, Path]) -> None:
    for args in (("render", closed["secret"], "--pdf"),):
        assert cli(*args).exit_code == 0
    out = _json(_purge(cli, keys))
    assert closed["secret"] in out["destroyed"]
    needles = [SECRET[k].encode("utf-8") for k in ("name", "lot", "text", "attachment")] + [b"ouyang"]
    for path in root.rglob("*"):
        if not path.is_file() or path.relative_to(root).parts[0] == "audit":
            continue
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle.decode()} left in {path.relative_to(root)}"
        assert not path.name.startswith(f"{closed['secret']}.") or path.name.endswith(".tombstone.json")
    assert not any((root / ".work").iterdir())
    for word in (SECRET["name"], SECRET["lot"], "独特投诉"):
        assert _json(cli("search", "--json", word))["total"] == 0
    tomb = json.loads(next(root.glob(f"records/*/*/{closed['secret']}.tombstone.json")).read_text(encoding="utf-8"))
    assert set(tomb) == {"number", "received_month", "category", "closed_at", "rule", "retention_until",
                         "certificate", "manifest_sha256", "destroyed_at"}
    logged = [e for e in audit_entries(root) if e["action"] == "destroy"]
    assert {e["number"] for e in logged} == set(out["destroyed"])
    assert logged and all(e["certificate"] == _certificate_id(1, root) for e in logged)


def test_numbers_are_not_reused_after_destroying_the_highest(cli: Cli, tmp_path: Path, closed: dict[str, str],
                                                             keys: dict[str, Path]) -> None:
    _json(_purge(cli, keys, closed["last"]))
    assert _intake(cli, tmp_path, "e.json", received_at="2026-11-22T10:00:00+08:00") == "26110005"


def test_verify_is_clean_after_destruction_and_names_a_folder_removed_by_hand(
        cli: Cli, root: Path, closed: dict[str, str], keys: dict[str, Path]) -> None:
    import shutil

    _json(_purge(cli, keys))
    report = _json(cli("verify", "--json"))
    assert report["findings"] == []
    shutil.rmtree(record_dirs(root)[closed["open"]])
    report = json.loads(cli("verify", "--json").stdout)
    assert [f["kind"] for f in report["findings"]] == ["record_folder_missing"]


def test_the_certificate_is_signed_and_a_tampered_one_is_reported(cli: Cli, root: Path, closed: dict[str, str],
                                                                  keys: dict[str, Path]) -> None:
    out = _json(_purge(cli, keys))
    cert_path = root / out["certificate"]
    cert = json.loads(cert_path.read_text(encoding="utf-8"))
    assert [s["meaning"] for s in cert["signatures"]] == ["approved", "witnessed"]
    assert {c["number"] for c in cert["cases"]} == set(out["destroyed"])
    assert all(len(f["sha256"]) == 64 for c in cert["cases"] for f in c["files"])
    cert_id = _certificate_id(1, root)
    assert out["certificate"] == f"certificates/{cert_id}.json"
    assert (root / f"certificates/{cert_id}.pdf").read_bytes().startswith(b"%PDF")
    listed = _json(cli("retention", "certificates", "--json"))
    assert listed[0]["id"] == cert_id and listed[0]["destroyed"] == len(out["destroyed"])
    cert["cases"] = cert["cases"][1:]  # someone drops a case from the evidence
    cert_path.write_text(json.dumps(cert, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    kinds = {f["kind"] for f in json.loads(cli("verify", "--json").stdout)["findings"]}
    assert {"certificate_invalid", "file_changed"} <= kinds


def test_too_few_keys_or_the_wrong_people_are_refused_before_anything_is_destroyed(
        cli: Cli, root: Path, closed: dict[str, str], keys: dict[str, Path]) -> None:
    before = snapshot(root)
    base = ("purge", "--as-of", "2029-11-22", "--execute")
    attempts = [
        (*base, "--approved-by", "质量部经理 黄涛", "--sign-as", str(keys["huang"])),  # no witness
        (*base, "--approved-by", "质量部经理 黄涛"),  # no keys at all
        (*base, "--approved-by", "张三", "--sign-as", str(keys["huang"]), "--witness", str(keys["li"])),
        (*base, "--approved-by", "黄涛", "--sign-as", str(keys["huang"]), "--witness", str(keys["huang"])),
    ]
    env = {"ARCHIVE_PASSPHRASE": "approver-pass", "ARCHIVE_WITNESS_PASSPHRASE": "approver-pass"}
    rules = ("a witness of another person signs with --witness", "the approver signs the certificate with --sign-as",
             "'张三' is not the registered owner of the --sign-as key", "is the same person as the approver")
    for args, rule in zip(attempts, rules, strict=True):
        result = cli(*args, env=env if args[-1] == str(keys["huang"]) else PASS)
        assert result.exit_code == 2, (args, result.output)
        assert rule in result.stderr and len(result.stderr.strip().splitlines()) == 1, (rule, result.stderr)
        assert "Traceback" not in result.output
    assert snapshot(root) == before


_KILLED_PURGE = """
import datetime as dt, os, sys
from archive.integrity.signing import open_credential
from archive.services.archive import Archive
from archive.services import retention
from archive import clock
from archive.store import txn

clock.today = lambda zone: dt.date(2029, 11, 30)  # the test's pinned clock
root, huang, li, die_after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
real, done = txn.destroy, []

def destroy(*a, **k):
    entry = real(*a, **k)
    done.append(1)
    if len(done) == die_after:
        os._exit(9)  # killed between two destructions
    return entry

txn.destroy = destroy
arc = Archive.open(root, "质量部经理 黄涛", write=True)
approver = open_credential(arc.layout.keys, __import__("pathlib").Path(huang), "approver-pass")
witness = open_credential(arc.layout.keys, __import__("pathlib").Path(li), "witness-pass")
retention.purge(arc, dt.date(2029, 11, 22), "质量部经理 黄涛", execute=True, approver=approver, witness=witness)
"""


@pytest.mark.parametrize("die_after", [1, 4])
def test_a_killed_execute_run_is_finished_by_the_next(root: Path, cli: Cli, tmp_path: Path, keys: dict[str, Path],
                                                      die_after: int) -> None:
    import sys

    numbers = [_intake(cli, tmp_path, f"k{i}.json", received_at=f"2026-10-{10 + i:02d}T10:00:00+08:00")
               for i in range(6)]
    for n in numbers:
        _close(cli, tmp_path, n)
    killed = subprocess.run([sys.executable, "-c", _KILLED_PURGE, str(root), str(keys["huang"]), str(keys["li"]),
                             str(die_after)], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    tombs = list(root.glob("records/*/*/*.tombstone.json"))
    assert len(tombs) == die_after  # each case either intact or destroyed with its tombstone
    assert [json.loads(p.read_text(encoding="utf-8"))["status"] for p in (root / "certificates").glob("*.json")] == [
        "in_progress"]
    done = _purge(cli, keys)
    out = _json(done)
    assert out["resumed"] == _certificate_id(1, root) and sorted(out["destroyed"]) == sorted(numbers)
    certs = [json.loads(p.read_text(encoding="utf-8")) for p in (root / "certificates").glob("XH-*.json")]
    assert len(certs) == 1 and certs[0]["status"] == "executed"
    tombs_now = {json.loads(p.read_text(encoding="utf-8"))["number"] for p in root.glob("records/*/*/*.tombstone.json")}
    assert tombs_now == set(numbers) == {c["number"] for c in certs[0]["cases"]}
    assert _json(cli("verify", "--json"))["findings"] == []
    assert _json(cli("index", "check", "--json")) == {"missing": [], "stale": [], "extra": []}


def test_category_rules_and_recompute(cli: Cli, root: Path, tmp_path: Path) -> None:
    text = (root / "archive.toml").read_text(encoding="utf-8")
    set_settings(root, text.replace("rules = {}", "rules = { adverse_reaction = { years_after_closure = 5 } }"))
    adverse = _intake(cli, tmp_path, "ar.json", category="adverse_reaction")
    _close(cli, tmp_path, adverse)
    shown = _json(cli("show", adverse, "--json"))
    assert shown["retention_until"] == "2031-11-21" and shown["retention"]["rule"] == "adverse_reaction"
    set_settings(root, text.replace("rules = {}", "rules = { adverse_reaction = { years_after_closure = 7 } }"))
    assert _json(cli("show", adverse, "--json"))["retention_until"] == "2031-11-21"  # never moved silently
    moved = _json(cli("retention", "recompute", "--reason", "SOP 修订:不良反应记录保存 7 年", "--json"))["moved"]
    assert moved == [{"number": adverse, "from": "2031-11-21", "to": "2033-11-21", "rule": "adverse_reaction"}]
    assert _json(cli("show", adverse, "--json"))["retention_until"] == "2033-11-21"
    assert [e["reason"] for e in audit_entries(root) if e["action"] == "retention-recompute"] == [
        "SOP 修订:不良反应记录保存 7 年"]
    assert _json(cli("retention", "recompute", "--reason", "再次检查", "--json"))["moved"] == []


def test_reopening_clears_the_date_and_closing_again_recomputes(cli: Cli, tmp_path: Path,
                                                                closed: dict[str, str]) -> None:
    n = closed["plain"]
    reopen = tmp_path / "reopen.json"
    reopen.write_text(json.dumps({"follow_up": {"visited_at": "2026-11-22T10:00:00+08:00", "by": "张丽",
                                                "satisfaction": "dissatisfied"}}), encoding="utf-8")
    assert cli("update", n, str(reopen), "--reopen", "--reason", "客户再次投诉").exit_code == 0
    assert _json(cli("show", n, "--json"))["retention_until"] is None
    again = tmp_path / "close-again.json"
    again.write_text(json.dumps({"closure": {"closed_at": "2026-11-23T09:00:00+08:00", "approved_by": "黄涛"}}),
                     encoding="utf-8")
    assert cli("update", n, str(again), "--reason", "重新结案").exit_code == 0
    assert _json(cli("show", n, "--json"))["retention_until"] == "2029-11-23"


def test_closure_without_investigation_needs_its_reason_and_decider(cli: Cli, tmp_path: Path) -> None:
    n = _intake(cli, tmp_path, "ni.json", category="service")
    _close(cli, tmp_path, n, no_investigation={"reason": "服务态度投诉,已当面致歉,无产品质量问题",
                                               "decided_by": "质量部经理 黄涛"})
    shown = _json(cli("show", n, "--json"))
    assert shown["status"] == "closed" and "investigation" not in shown["stages"]
    bare = _intake(cli, tmp_path, "bare.json", received_at="2026-11-08T10:00:00+08:00")
    path = tmp_path / "bare-close.json"
    path.write_text(json.dumps({"response": {"replied_at": "2026-11-19T10:00:00+08:00", "method": "phone",
                                             "content": "已答复"},
                                "closure": {"closed_at": "2026-11-21T09:00:00+08:00", "approved_by": "黄涛"}}),
                    encoding="utf-8")
    result = cli("update", bare, str(path))
    assert result.exit_code == 2 and "investigation" in result.stderr


def test_the_schedule_counts_months_and_categories_and_shows_held_apart(cli: Cli, tmp_path: Path,
                                                                        closed: dict[str, str]) -> None:
    cli("hold", closed["last"], "--reason", "诉讼待决")
    plan = _json(cli("retention", "schedule", "--from", "2029-01", "--to", "2030-12", "--json"))
    assert plan["months"] == [{"month": "2029-11", "count": 2, "by_category": {"packaging": 2},
                               "cases": sorted([closed["secret"], closed["plain"]])}]
    assert [h["number"] for h in plan["held"]] == [closed["last"]]
    assert _json(cli("retention", "schedule", "--from", "2030-01", "--json"))["months"] == []
    for suffix in (".docx", ".xlsx"):
        out = tmp_path / f"plan{suffix}"
        assert cli("retention", "schedule", "--out", str(out)).exit_code == 0
    # The plans are opened and read, not weighed: the due month, its cases, and the held case apart.
    from docx import Document
    from openpyxl import load_workbook

    due_cases = " ".join(sorted([closed["secret"], closed["plain"]]))
    doc = Document(str(tmp_path / "plan.docx"))
    assert "投诉记录销毁计划" in doc.paragraphs[0].text
    due_table, held_table, _each_case = doc.tables  # the third: each case with its 保存至
    due_rows = [[c.text for c in row.cells] for row in due_table.rows]
    assert due_rows[0][:2] == ["月份", "件数"] and due_rows[0][-1] == "投诉编号"
    assert [(r[0], r[1], r[-1]) for r in due_rows[1:]] == [("2029-11", "2", due_cases)]
    assert [row.cells[0].text for row in held_table.rows] == ["投诉编号", closed["last"]]
    # The spreadsheet: the months with counts, then one row per case (not a month's numbers in one cell).
    book = load_workbook(tmp_path / "plan.xlsx")
    sheet = book["销毁计划"]
    assert [c.value for c in sheet[1]][:2] == ["到期月份", "件数"]
    assert [c.value for c in sheet[2]][:3] == ["2029-11", 2, 0] and sheet.max_row == 2
    each = [[c.value for c in row] for row in book["到期销毁明细"].iter_rows()]
    assert [r[1] for r in each[1:]] == sorted([closed["secret"], closed["plain"]])
    assert all(r[2] == "2029-11" and r[3] == "包装及邮寄" for r in each[1:])
    held_sheet = book["法律保全中"]
    assert [row[0].value for row in held_sheet.iter_rows()] == ["投诉编号", closed["last"]]
    assert [c.value for c in held_sheet[2]][-1] == "诉讼待决"
    refused = cli("retention", "schedule", "--from", "2030-13")
    assert refused.exit_code == 2 and "'2030-13' is not a month YYYY-MM" in refused.stderr
    refused = cli("retention", "schedule", "--out", str(tmp_path / "plan.pdf"))
    assert refused.exit_code == 2 and "write the plan as .docx or .xlsx" in refused.stderr


def test_search_finds_cases_by_retention_date_and_hold(cli: Cli, closed: dict[str, str]) -> None:
    cli("hold", closed["plain"], "--reason", "诉讼待决")

    def found(query: str) -> set[str]:
        return {h["number"] for h in _json(cli("search", "--json", "--limit", "50", query))["hits"]}

    closed_ones = {closed["secret"], closed["plain"], closed["last"]}
    assert found("retention:2029") == closed_ones
    assert found("retention:..2029-11") == closed_ones
    assert found("retention:..2029-10") == set()
    assert found("retention:2030..2031") == set()
    assert found("hold:true") == {closed["plain"]}
    refused = cli("search", "retention:2029-13")
    assert refused.exit_code == 2 and "retention:2029-13: use YYYY, YYYY-MM, YYYY-MM-DD" in refused.stderr
