"""Destruction never takes what it must not (issue 16): no destruction before its time, none of a case whose
evidence was tampered with or whose CAPA is open, none left searchable by a kill, an interrupted run finished
as it was approved, signers who are the registered people, the archivist as 执行人, no duplicate intake of a
destroyed file, and output files that never land on the archive's evidence."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, record_dirs, snapshot, write_case

from archive import clock
from archive import settings as settings_mod

TODAY = clock.today(settings_mod.from_mapping({}).zone)
YEAR = TODAY.year
SECRETS = {"approver-pass", "witness-pass", "third-pass"}
APPROVER = "质量部经理 黄涛"
ARCHIVIST = "档案管理员 张丽"


def _json(result: Any, code: int = 0) -> Any:
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


ADMIN = ("zhou", "周敏", "系统管理员", "admin-pass-0")


def _make_key(cli: Cli, folder: Path, kid: str, name: str, title: str, secret: str) -> Path:
    """The one place this file registers a signing key: made by its owner, certified by the archive's
    administrator (whose key, the archive's first, is made on first use)."""
    folder.mkdir(exist_ok=True)
    admin = folder / f"{ADMIN[0]}.pem"
    if not admin.exists():
        r = cli("--actor", f"{ADMIN[2]} {ADMIN[1]}", "keys", "create", ADMIN[0], "--name", ADMIN[1], "--title",
                ADMIN[2], "--out", str(admin), env={"ARCHIVE_PASSPHRASE": ADMIN[3]})
        assert r.exit_code == 0, r.output
    out = folder / f"{kid}.pem"
    r = cli("--actor", f"{title} {name}", "keys", "create", kid, "--name", name, "--title", title, "--out", str(out),
            env={"ARCHIVE_PASSPHRASE": secret})
    assert r.exit_code == 0, r.output
    r = cli("--actor", f"{ADMIN[2]} {ADMIN[1]}", "keys", "certify", kid, "--key", str(admin),
            env={"ARCHIVE_PASSPHRASE": ADMIN[3]})
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture
def keys(cli: Cli, tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "private"
    return {"huang": _make_key(cli, folder, "huang", "黄涛", "质量部经理", "approver-pass"),
            "li": _make_key(cli, folder, "li", "李明", "档案管理员", "witness-pass")}


def _pass(approver: str = "approver-pass", witness: str = "witness-pass") -> dict[str, str]:
    return {"ARCHIVE_PASSPHRASE": approver, "ARCHIVE_WITNESS_PASSPHRASE": witness}


def _old_case(cli: Cli, tmp: Path, name: str, day: int, *, close: bool = True, **fields: Any) -> str:
    """A case received and closed in 2022 (product expired 2023): kept until 2025, so due today."""
    case = write_case(tmp, f"{name}.json", received_at=f"2022-03-{day:02d}T10:00:00+08:00",
                      product={"name": "阿莫西林胶囊", "lot": f"L{name}", "expiry_date": "2023-01-31"},
                      description=f"外包装破损 独特词{name}", **fields)
    number = str(_json(cli("intake", "--json", str(case)))[0]["number"])
    if close:
        _close(cli, tmp, number)
    return number


def _close(cli: Cli, tmp: Path, number: str, *extra: str, **more: Any) -> None:
    stages: dict[str, Any] = {
        "investigation": {"investigator": "质量部 陈工", "findings": "运输破损",
                          "completed_at": "2022-03-20T10:00:00+08:00"},
        "response": {"replied_at": "2022-03-21T10:00:00+08:00", "method": "phone", "content": "已答复客户"},
        **more,
        "closure": {"closed_at": "2022-04-10T09:00:00+08:00", "approved_by": APPROVER}}
    path = tmp / f"close-{number}.json"
    path.write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    r = cli("update", number, str(path), *extra)
    assert r.exit_code == 0, r.output


def _purge(cli: Cli, keys: dict[str, Path], *numbers: str, as_of: dt.date = TODAY, approved_by: str = APPROVER,
           actor: str = ARCHIVIST, sign_as: str = "huang", witness: str = "li", env: dict[str, str] | None = None,
           json_out: bool = True) -> Any:
    return cli("--actor", actor, "purge", *numbers, "--as-of", as_of.isoformat(), "--approved-by", approved_by,
               "--execute", *(("--json",) if json_out else ()), "--sign-as", str(keys[sign_as]),
               "--witness", str(keys[witness]), env=env or _pass())


def _alive(root: Path) -> set[str]:
    return set(record_dirs(root))


# ---------------------------------------------------------------- 1. never before its time

def test_execute_refuses_an_as_of_later_than_today(cli: Cli, root: Path, tmp_path: Path,
                                                   keys: dict[str, Path]) -> None:
    _old_case(cli, tmp_path, "a", 1)
    before = snapshot(root)
    # Today as the archive sees it now, not when the module was imported (a run may cross midnight).
    today = clock.today(settings_mod.from_mapping({}).zone)
    result = _purge(cli, keys, as_of=today + dt.timedelta(days=1))
    assert result.exit_code == 2
    assert "--as-of" in result.stderr and "later than today" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert snapshot(root) == before


def test_a_dry_run_may_look_ahead_and_says_it_is_a_preview(cli: Cli, tmp_path: Path) -> None:
    n = _old_case(cli, tmp_path, "a", 1)
    ahead = TODAY + dt.timedelta(days=400)
    out = _json(cli("purge", "--as-of", ahead.isoformat(), "--approved-by", APPROVER, "--json"))
    assert out["preview"] is True and out["destroyed"] == [n]
    now = _json(cli("purge", "--as-of", TODAY.isoformat(), "--approved-by", APPROVER, "--json"))
    assert now["preview"] is False
    text = cli("purge", "--as-of", ahead.isoformat(), "--approved-by", APPROVER).stdout
    assert "预览" in text and "preview" in text


# ---------------------------------------------------------------- 2. verified before destroyed

def _tamper_hold(record: Path, how: str) -> None:
    hold = record / "holds" / "H1.v1.json"
    if how == "edited":
        data = json.loads(hold.read_text(encoding="utf-8"))
        hold.write_text(json.dumps({**data, "active": False}, ensure_ascii=False), encoding="utf-8")
    else:
        import shutil

        shutil.rmtree(record / "holds")
        if how == "removed-and-manifest-rewritten":
            from archive.store.manifest import write_manifest

            write_manifest(record, record.name)


@pytest.mark.parametrize("how", ["edited", "removed", "removed-and-manifest-rewritten"])
def test_a_case_whose_hold_was_tampered_with_is_not_destroyed_and_is_named(
        cli: Cli, root: Path, tmp_path: Path, keys: dict[str, Path], how: str) -> None:
    held, plain = _old_case(cli, tmp_path, "a", 1), _old_case(cli, tmp_path, "b", 2)
    assert cli("hold", held, "--reason", "诉讼待决").exit_code == 0
    _tamper_hold(record_dirs(root)[held], how)
    dry_run = cli("purge", "--as-of", TODAY.isoformat(), "--approved-by", APPROVER, "--json")
    assert dry_run.exit_code == 1, dry_run.output
    dry = json.loads(dry_run.stdout)
    assert dry["destroyed"] == [plain] and [r["number"] for r in dry["refused"]] == [held]
    result = _purge(cli, keys)
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert out["destroyed"] == [plain]
    [refused] = out["refused"]
    assert refused["number"] == held and refused["findings"]
    assert any(k in " ".join(refused["findings"]) for k in ("file_changed", "file_missing", "manifest_changed"))
    assert held in _alive(root)
    text = _purge(cli, keys, held, json_out=False)
    assert f"未销毁 {held}" in text.stdout and held in _alive(root)


# ---------------------------------------------------------------- 3. open CAPA: not due

def test_a_case_closed_with_an_open_capa_action_is_blocked_not_due(cli: Cli, root: Path, tmp_path: Path,
                                                                   keys: dict[str, Path]) -> None:
    capa = [{"kind": "corrective", "action": "更换包装供应商", "owner": "采购部 王五", "due": "2022-06-30"}]
    open_capa = _old_case(cli, tmp_path, "a", 1, close=False)
    _close(cli, tmp_path, open_capa, "--reason", "措施长期执行,先行结案", capa=capa)
    plain = _old_case(cli, tmp_path, "b", 2)
    due = _json(cli("retention", "due", "--as-of", TODAY.isoformat(), "--json"))
    assert [d["number"] for d in due["due"]] == [plain]
    [blocked] = due["blocked"]
    assert blocked["number"] == open_capa and "CAPA" in blocked["reason"] and "更换包装供应商" in blocked["reason"]
    dry = _json(cli("purge", "--as-of", TODAY.isoformat(), "--approved-by", APPROVER, "--json"))
    assert dry["destroyed"] == [plain] and [b["number"] for b in dry["blocked"]] == [open_capa]
    by_number = _purge(cli, keys, open_capa)
    assert by_number.exit_code == 2 and "CAPA" in by_number.stderr and open_capa in by_number.stderr
    assert _json(_purge(cli, keys))["destroyed"] == [plain]
    assert open_capa in _alive(root)


# ---------------------------------------------------------------- kills

_KILLED = """
import datetime as dt, os, sys
from pathlib import Path
from archive.integrity.signing import open_credential
from archive.services.archive import Archive
from archive.services import retention
from archive.store import txn

root, huang, li, die_after, where = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
numbers = sys.argv[6:]
real_destroy, real_finish, done = txn.destroy, txn._finish, []

def destroy(*a, **k):
    entry = real_destroy(*a, **k)
    done.append(1)
    if len(done) == die_after:
        os._exit(9)  # killed between two destructions
    return entry

def finish(layout, journal, refresh):
    if journal.kind == "destroy":
        os._exit(9)  # killed just after the tombstone committed, before the audit entry and the derived stores
    return real_finish(layout, journal, refresh)

if where == "commit":
    txn._finish = finish
else:
    txn.destroy = destroy
arc = Archive.open(root, "档案管理员 张丽", write=True)
approver = open_credential(arc.layout.keys, Path(huang), "approver-pass")
witness = open_credential(arc.layout.keys, Path(li), "witness-pass")
today = retention.clock.today(arc.settings.zone)
retention.purge(arc, today, "质量部经理 黄涛", execute=True, approver=approver, witness=witness, numbers=numbers)
"""


def _killed_purge(root: Path, keys: dict[str, Path], die_after: int, *numbers: str, where: str = "between") -> None:
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(root), str(keys["huang"]), str(keys["li"]),
                             str(die_after), where, *numbers], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr


def _certificates(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "certificates").glob("XH-*.json"))]


# ---------------------------------------------------------------- 4. a kill leaves nothing findable

def test_a_purge_killed_at_the_commit_leaves_the_destroyed_case_unfindable(cli: Cli, root: Path, tmp_path: Path,
                                                                           keys: dict[str, Path]) -> None:
    gone = _old_case(cli, tmp_path, "a", 1, complainant={"name": "欧阳修远"})
    _old_case(cli, tmp_path, "b", 2)
    _killed_purge(root, keys, 1, where="commit")
    assert gone not in _alive(root)
    # Readers only: nothing has finished the killed change.
    for query in ("欧阳修远", "独特词a", gone):
        assert _json(cli("search", "--json", query))["total"] == 0, query
    assert gone not in {r["number"] for r in _json(cli("list", "--json"))}


# ---------------------------------------------------------------- 5. an unfinished run is finished as approved

def test_the_next_purge_finishes_exactly_the_interrupted_plan_with_its_signatures(
        cli: Cli, root: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    planned = [_old_case(cli, tmp_path, x, i) for i, x in enumerate("abc", start=1)]
    other = _old_case(cli, tmp_path, "d", 9)
    keys["wang"] = _make_key(cli, tmp_path / "private", "wang", "王伟", "质量总监", "third-pass")
    _killed_purge(root, keys, 1, *planned)
    [plan] = _certificates(root)
    assert plan["status"] == "in_progress"
    assert {s["name"] for s in plan["signatures"]} == {"黄涛", "李明"}  # the approval is of the plan
    result = _purge(cli, keys, other, approved_by="质量总监 王伟", sign_as="wang", witness="li",
                    env=_pass("third-pass"), json_out=False)
    assert result.exit_code == 0, result.output
    assert f"finishing {plan['id']} (approved by {APPROVER}, 3 cases)" in result.stdout
    assert other in _alive(root) and not set(planned) & _alive(root)
    [cert] = _certificates(root)
    assert cert["status"] == "executed" and cert["approved_by"] == APPROVER and cert["destroyed"] == planned
    assert [(s["meaning"], s["name"]) for s in cert["signatures"]] == [("approved", "黄涛"), ("witnessed", "李明")]
    assert "王伟" not in json.dumps(cert, ensure_ascii=False)
    assert _json(cli("verify", "--json"))["findings"] == []


def test_verify_names_a_certificate_whose_plan_was_changed_after_it_was_signed(
        cli: Cli, root: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    _old_case(cli, tmp_path, "a", 1)
    out = _json(_purge(cli, keys))
    path = root / out["certificate"]
    cert = json.loads(path.read_text(encoding="utf-8"))
    cert["approved_by"] = "质量总监 王伟"
    path.write_text(json.dumps(cert, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    findings = json.loads(cli("verify", "--json").stdout)["findings"]
    assert any(f["kind"] == "certificate_invalid" and "changed after signing" in f["detail"] for f in findings)


# ---------------------------------------------------------------- 6. the registered people, exactly

@pytest.mark.parametrize("approved_by", ["王伟(代黄涛签)", "黄涛 ", "质量部 黄涛", "黄"])
def test_approved_by_must_be_exactly_the_registered_approver(cli: Cli, root: Path, tmp_path: Path,
                                                            keys: dict[str, Path], approved_by: str) -> None:
    _old_case(cli, tmp_path, "a", 1)
    before = snapshot(root)
    result = _purge(cli, keys, approved_by=approved_by)
    assert result.exit_code == 2 and "--approved-by" in result.stderr and "黄涛" in result.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize("approved_by", ["黄涛", APPROVER])
def test_approved_by_may_be_the_name_or_title_and_name_as_registered(cli: Cli, tmp_path: Path,
                                                                   keys: dict[str, Path], approved_by: str) -> None:
    n = _old_case(cli, tmp_path, "a", 1)
    assert _json(_purge(cli, keys, approved_by=approved_by))["destroyed"] == [n]


@pytest.mark.parametrize("variant", ["黄涛(监销)", "黄涛（监销）", " 黄 涛 ", "质量部经理黄涛"])
def test_a_witness_who_is_the_approver_under_a_name_variant_is_refused(cli: Cli, root: Path, tmp_path: Path,
                                                                      keys: dict[str, Path], variant: str) -> None:
    _old_case(cli, tmp_path, "a", 1)
    keys["twin"] = _make_key(cli, tmp_path / "private", "twin", variant, "质量部经理", "witness-pass")
    before = snapshot(root)
    result = _purge(cli, keys, witness="twin")
    assert result.exit_code == 2 and "--witness" in result.stderr and "same person" in result.stderr
    assert snapshot(root) == before


# ---------------------------------------------------------------- 7. the archivist executes

def test_the_actor_who_runs_the_purge_is_the_executor_on_the_certificate(cli: Cli, root: Path, tmp_path: Path,
                                                                        keys: dict[str, Path]) -> None:
    from docx import Document

    _old_case(cli, tmp_path, "a", 1)
    out = _json(_purge(cli, keys, actor=ARCHIVIST))
    assert out["executed_by"] == ARCHIVIST
    cert_path = root / out["certificate"]
    cert = json.loads(cert_path.read_text(encoding="utf-8"))
    assert cert["executed_by"] == ARCHIVIST and cert["approved_by"] == APPROVER
    doc = Document(str(cert_path.with_suffix(".docx")))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "执行人" in cells and ARCHIVIST in cells
    pdf_text = subprocess.run(["pdftotext", str(cert_path.with_suffix(".pdf")), "-"], capture_output=True,
                              text=True, check=True).stdout
    assert "执行人" in pdf_text and "张丽" in pdf_text


# ---------------------------------------------------------------- 8. duplicates

def test_a_number_given_twice_is_listed_once(cli: Cli, tmp_path: Path) -> None:
    n = _old_case(cli, tmp_path, "a", 1)
    out = _json(cli("purge", n, n, "--as-of", TODAY.isoformat(), "--approved-by", APPROVER, "--json"))
    assert out["destroyed"] == [n]


def test_a_destroyed_cases_intake_file_taken_in_again_is_a_duplicate(cli: Cli, root: Path, tmp_path: Path,
                                                                     keys: dict[str, Path]) -> None:
    n = _old_case(cli, tmp_path, "a", 1)
    out = _json(_purge(cli, keys))
    again = cli("intake", str(tmp_path / "a.json"))
    assert again.exit_code == 2
    assert "destroyed" in again.stderr and n in again.stderr and out["certificate"].split("/")[-1][:-5] in again.stderr
    assert "--allow-duplicate" in again.stderr
    assert cli("intake", "--allow-duplicate", str(tmp_path / "a.json")).exit_code == 0


# ---------------------------------------------------------------- 9. output files

def test_schedule_out_never_overwrites_without_force(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "plan.docx"
    out.write_bytes(b"the approval file")
    result = cli("retention", "schedule", "--out", str(out))
    assert result.exit_code == 2 and "--force" in result.stderr
    assert out.read_bytes() == b"the approval file"
    assert cli("retention", "schedule", "--out", str(out), "--force").exit_code == 0
    assert out.read_bytes().startswith(b"PK")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_schedule_out_never_writes_inside_the_root_even_through_a_link(cli: Cli, root: Path, tmp_path: Path,
                                                                      keys: dict[str, Path]) -> None:
    n = _old_case(cli, tmp_path, "a", 1)
    form = next((record_dirs(root)[n] / "documents").glob("*.docx"))
    link_dir = tmp_path / "elsewhere"
    link_dir.symlink_to(form.parent)
    link_file = tmp_path / "plan.docx"
    link_file.symlink_to(form)
    before = snapshot(root)
    for target in (form, root / "certificates" / "XH-1.docx", link_dir / "plan.docx", link_file):
        result = cli("retention", "schedule", "--out", str(target), "--force")
        assert result.exit_code == 2 and "inside the archive root" in result.stderr, target
    assert snapshot(root) == before


def test_output_module_writes_whole_and_refuses_a_file_that_appeared(tmp_path: Path) -> None:
    from archive.errors import InputError
    from archive.store import output

    root = tmp_path / "root"
    root.mkdir()
    path = output.target(tmp_path / "x.xlsx", root)
    path.write_bytes(b"appeared since the check")
    with pytest.raises(InputError, match="--force"):
        output.write(path, b"new")
    assert path.read_bytes() == b"appeared since the check"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root", "x.xlsx"]


# ---------------------------------------------------------------- 10. what a resumed run re-checks

def test_a_resumed_purge_skips_a_case_whose_manifest_changed_since_the_plan(
        cli: Cli, root: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    a, b = _old_case(cli, tmp_path, "a", 1), _old_case(cli, tmp_path, "b", 2)
    _killed_purge(root, keys, 1, a, b)
    assert cli("render", b, "--force").exit_code == 0  # a sanctioned change: verify stays clean
    out = _json(_purge(cli, keys), code=1)
    assert out["destroyed"] == [a] and b in _alive(root)
    [refused] = out["refused"]
    assert refused["number"] == b and any("since the plan" in f for f in refused["findings"])
    [cert] = _certificates(root)
    assert cert["destroyed"] == [a] and [c["number"] for c in cert["not_destroyed"]] == [b]
    assert _json(cli("verify", "--json"))["findings"] == []


def test_a_resumed_purge_skips_a_case_reopened_in_between(cli: Cli, root: Path, tmp_path: Path,
                                                          keys: dict[str, Path]) -> None:
    a, b = _old_case(cli, tmp_path, "a", 1), _old_case(cli, tmp_path, "b", 2)
    _killed_purge(root, keys, 1, a, b)
    follow = tmp_path / "follow.json"
    follow.write_text(json.dumps({"follow_up": {"visited_at": "2022-05-01T10:00:00+08:00", "by": "客服 小李",
                                                "satisfaction": "dissatisfied"}}, ensure_ascii=False), encoding="utf-8")
    r = cli("update", b, str(follow), "--reopen", "--reason", "客户再次投诉")
    assert r.exit_code == 0, r.output
    out = _json(_purge(cli, keys), code=1)
    assert out["destroyed"] == [a] and b in _alive(root)
    assert [r["number"] for r in out["refused"]] == [b]
    assert _json(cli("show", b, "--json"))["status"] != "closed"
