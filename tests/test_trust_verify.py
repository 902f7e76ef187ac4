"""Verify misses nothing and changes nothing (issue 16): a torn audit tail, an outside head and a mirror, garbage
in the log, tombstones against their certificates, templates against their audited registration, every file
of a record in its manifest, temp files left by a kill, and a deleted file caught by both of verify's checks."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, audit_entries, make_key, record_dirs, set_settings, snapshot, write_case

LOG = Path("audit") / "audit.jsonl"
PASS = {"ARCHIVE_PASSPHRASE": "approver-pass", "ARCHIVE_WITNESS_PASSPHRASE": "witness-pass"}


# ---------------------------------------------------------------- helpers (adapt here when other rules change)

def _verify(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("verify", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _kinds(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["kind"], f["where"]) for f in report["findings"]}


def _intake(cli: Cli, folder: Path, name: str = "case.json", **fields: Any) -> str:
    fields.setdefault("description", f"外包装破损严重 ({name})")  # each file its own content: not a duplicate
    result = cli("intake", "--json", str(write_case(folder, name, **fields)))
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)[0]["number"])


def _make_keys(root: Path, folder: Path) -> dict[str, Path]:
    """The approver's and the witness's keys (the one place tests here create keys): each made by its owner,
    certified by the archive's administrator (the first key)."""
    admin = make_key(root, "zhou", "周敏", "系统管理员", folder / "zhou.pem", "admin-pass-0")
    out = {}
    for kid, name, title, secret in (("huang", "黄涛", "质量部经理", "approver-pass"),
                                     ("li", "李明", "档案管理员", "witness-pass")):
        out[kid] = make_key(root, kid, name, title, folder / f"{kid}.pem", secret, certify_with=admin).pem
    return out


def _set_setting(root: Path, section: str, key: str, value: str) -> None:
    """Set ``key = value`` (TOML) in ``[section]`` of archive.toml and apply it (the one place tests here edit
    settings)."""
    def edit(text: str) -> str:
        head, sep, rest = text.partition(f"[{section}]\n")
        assert sep, section
        body, nxt, tail = rest.partition("\n[")
        lines = [line for line in body.split("\n") if not line.startswith(f"{key} =")]
        return head + sep + "\n".join([f"{key} = {value}", *lines]) + nxt + tail

    set_settings(root, edit)


def _destroyed(cli: Cli, root: Path, tmp: Path) -> tuple[str, Path]:
    """A case received and closed in 2020 (kept until 2023-03-09), destroyed: its number and tombstone."""
    number = _intake(cli, tmp, "old.json", received_at="2020-03-03T10:15:00+08:00",
                     product={"name": "阿莫西林胶囊", "lot": "B1", "expiry_date": "2021-07-31"})
    stages = {"investigation": {"investigator": "质量部 陈工", "findings": "调查完成",
                                "completed_at": "2020-03-05T10:00:00+08:00"},
              "response": {"replied_at": "2020-03-06T10:00:00+08:00", "method": "phone", "content": "已答复客户"},
              "closure": {"closed_at": "2020-03-09T09:00:00+08:00", "approved_by": "质量部经理 黄涛"}}
    (tmp / "close.json").write_text(json.dumps(stages, ensure_ascii=False), encoding="utf-8")
    assert cli("update", number, str(tmp / "close.json")).exit_code == 0
    keys = _make_keys(root, tmp)
    r = cli("--actor", "质量部经理 黄涛", "purge", "--as-of", "2023-03-10", "--approved-by", "质量部经理 黄涛",
            "--execute", "--json", "--sign-as", str(keys["huang"]), "--witness", str(keys["li"]), env=PASS)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["destroyed"] == [number]
    [tomb] = (root / "records").glob(f"*/*/{number}.tombstone.json")
    return number, tomb


def _log_bytes(root: Path) -> bytes:
    return (root / LOG).read_bytes()


def _chain_line(root: Path, **fields: Any) -> bytes:
    """An audit line forged the way an attacker would: correct seq and prev for the current end of the log."""
    from archive.store import audit
    from archive.store.hashing import sha256_bytes

    last = _log_bytes(root).rstrip(b"\n").rsplit(b"\n", 1)[-1]
    entry = {"seq": json.loads(last)["seq"] + 1, "time": "2026-11-30T01:00:00.000000Z", "actor": "tester",
             "action": "note", "number": None, "files": [], "prev": sha256_bytes(last), **fields}
    return audit.canonical(entry) + b"\n"


@pytest.fixture
def one_case(root: Path, cli: Cli, tmp_path: Path) -> str:
    return _intake(cli, tmp_path)


# ---------------------------------------------------------------- 1. verify never writes

def test_verify_reports_a_torn_audit_tail_and_leaves_it(root: Path, cli: Cli, one_case: str) -> None:
    assert cli("hold", one_case, "--reason", "诉讼").exit_code == 0
    log = root / LOG
    log.write_bytes(log.read_bytes().rstrip(b"\n"))  # the hold entry lost its newline
    before = snapshot(root)
    code, report = _verify(cli)
    assert code == 1
    [finding] = [f for f in report["findings"] if f["kind"] == "audit_torn_tail"]
    assert finding["where"] == "audit/audit.jsonl" and "bytes" in finding["detail"]
    assert snapshot(root) == before
    assert b'"action":"hold"' in log.read_bytes()


def test_the_next_writer_drops_a_torn_tail_with_an_entry_saying_what_it_dropped(root: Path, cli: Cli,
                                                                                one_case: str, tmp_path: Path) -> None:
    log = root / LOG
    torn = b'{"seq":99,"half written'
    log.write_bytes(log.read_bytes() + torn)
    _intake(cli, tmp_path, "second.json")
    entries = audit_entries(root)
    [dropped] = [e for e in entries if e["action"] == "audit-tail-dropped"]
    assert dropped["dropped_bytes"] == len(torn)
    assert dropped["dropped_sha256"] == hashlib.sha256(torn).hexdigest()
    assert entries[-1]["action"] == "intake" and entries.index(dropped) == len(entries) - 2
    assert _verify(cli)[0] == 0


def _open_journal(root: Path) -> None:
    """What a writer killed after writing its journal and before its change leaves behind."""
    from archive.store import txn
    from archive.store.layout import Layout

    rel = "keys/never.json"
    digest = hashlib.sha256(b"{}").hexdigest()
    txn._begin(Layout(root), txn.Journal(
        kind="files", action="key-create", number="", files=[{"path": rel, "sha256": digest, "backup": None}],
        audit={"actor": "tester", "action": "key-create", "number": None, "files": [{"path": rel, "sha256": digest}],
               "reason": None, "extra": {}}))


def test_verify_reports_an_unfinished_change_and_does_not_finish_it(root: Path, cli: Cli, one_case: str) -> None:
    _open_journal(root)
    before = snapshot(root)
    code, report = _verify(cli)
    assert snapshot(root) == before
    assert code == 0  # nothing of the change was written yet: a warning, not a finding
    assert report["unfinished_change"] is True
    [warning] = [w for w in report["warnings"] if w["kind"] == "unfinished_change"]
    assert "archive rebuild" in warning["detail"]
    assert (root / ".journal.json").exists()
    assert "中断" in cli("verify").stdout


def test_verify_creates_no_lock_file(root: Path, cli: Cli) -> None:
    (root / ".lock").unlink(missing_ok=True)
    assert cli("verify").exit_code == 0
    assert not (root / ".lock").exists()


def test_verify_writes_nothing_on_a_damaged_root(root: Path, cli: Cli, one_case: str) -> None:
    record = record_dirs(root)[one_case]
    (record / "case.json").write_bytes(b"{}")
    (record / ".manifest.json.4242.tmp").write_bytes(b"{")
    (root / LOG).write_bytes(_log_bytes(root) + b"garbage\n" + b"torn")
    _open_journal(root)
    before = snapshot(root)
    assert _verify(cli)[0] == 1
    assert cli("verify").exit_code == 1
    assert snapshot(root) == before


# ---------------------------------------------------------------- 2. a head kept outside the root

def test_verify_head_finds_an_edited_last_entry(root: Path, cli: Cli, one_case: str) -> None:
    head = _verify(cli)[1]["head"]
    log = root / LOG
    lines = log.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].replace(b'"actor":"tester"', b'"actor":"nobody"')
    log.write_bytes(b"".join(lines))
    assert _verify(cli)[0] == 0  # the chain alone cannot see it
    code, report = _verify(cli, "--head", f"{head['seq']}:{head['hash']}")
    assert code == 1
    assert ("head_mismatch", f"audit seq {head['seq']}") in _kinds(report)


def test_verify_head_finds_a_forged_entry_appended_with_a_correct_chain(root: Path, cli: Cli, one_case: str) -> None:
    head = _verify(cli)[1]["head"]
    (root / LOG).write_bytes(_log_bytes(root) + _chain_line(root))
    assert _verify(cli)[0] == 0
    code, report = _verify(cli, "--head", f"{head['seq']}:{head['hash']}")
    assert code == 1
    [finding] = report["findings"]
    assert finding["kind"] == "head_mismatch" and f"seq {head['seq'] + 1}" in finding["detail"]
    assert _verify(cli, "--head", f"{head['seq'] + 1}:{_verify(cli)[1]['head']['hash']}")[0] == 0


def test_verify_head_finds_a_chain_cut_short(root: Path, cli: Cli, one_case: str, tmp_path: Path) -> None:
    _intake(cli, tmp_path, "b.json")
    head = _verify(cli)[1]["head"]
    log = root / LOG
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-1]))
    code, report = _verify(cli, "--head", f"{head['seq']}:{head['hash']}")
    assert code == 1 and ("head_mismatch", f"audit seq {head['seq']}") in _kinds(report)


def test_a_malformed_head_is_refused_in_one_line(root: Path, cli: Cli) -> None:
    result = cli("verify", "--head", "7:xyz")
    assert result.exit_code == 2
    assert "--head" in result.output and "SEQ:SHA256" in result.output and "Traceback" not in result.output


def _mirror(tmp_path: Path, root: Path) -> Path:
    mirror = tmp_path / "other-disk"
    mirror.mkdir()
    _set_setting(root, "audit", "mirror", json.dumps(str(mirror)))
    return mirror


def test_the_mirror_holds_every_head_and_verify_compares(root: Path, cli: Cli, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path, root)
    _intake(cli, tmp_path, "a.json")
    _intake(cli, tmp_path, "b.json")
    [file] = list(mirror.iterdir())
    heads = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
    # every head from the `settings apply` that turned the mirror on (init's own entry came before it)
    lines = _log_bytes(root).splitlines()
    start = next(i for i, line in enumerate(lines) if json.loads(line).get("action") == "settings-apply" and i > 0)
    assert [(h["seq"], h["hash"]) for h in heads] == [
        (json.loads(line)["seq"], hashlib.sha256(line).hexdigest()) for line in lines[start:]]
    assert all(h["time"] for h in heads)
    assert _verify(cli)[0] == 0


@pytest.mark.parametrize("tamper", ["edit_last", "append_forged", "cut_last"])
def test_verify_finds_a_chain_that_differs_from_its_mirror(root: Path, cli: Cli, tmp_path: Path, tamper: str) -> None:
    _mirror(tmp_path, root)
    _intake(cli, tmp_path, "a.json")
    log = root / LOG
    lines = log.read_bytes().splitlines(keepends=True)
    if tamper == "edit_last":
        lines[-1] = lines[-1].replace(b'"actor":"tester"', b'"actor":"nobody"')
    elif tamper == "append_forged":
        lines.append(_chain_line(root))
    else:
        lines = lines[:-1]
    log.write_bytes(b"".join(lines))
    code, report = _verify(cli)
    assert code == 1
    kinds = {f["kind"] for f in report["findings"]}
    # removing the last entry (an intake) also loses that case's log entry; the rest is the mirror's finding alone
    assert kinds - {"record_not_in_log", "manifest_changed"} == {"mirror_mismatch"}
    assert tamper == "cut_last" or kinds == {"mirror_mismatch"}


def test_a_configured_mirror_that_is_missing_is_a_finding(root: Path, cli: Cli, tmp_path: Path) -> None:
    mirror = _mirror(tmp_path, root)
    _intake(cli, tmp_path, "a.json")
    shutil.rmtree(mirror)
    code, report = _verify(cli)
    assert code == 1 and {f["kind"] for f in report["findings"]} == {"mirror_mismatch"}


# ---------------------------------------------------------------- 3. garbage in the audit log

@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_garbage_audit_line_is_exactly_one_finding(root: Path, cli: Cli, tmp_path: Path, where: str) -> None:
    _intake(cli, tmp_path, "a.json")
    _intake(cli, tmp_path, "b.json")
    log = root / LOG
    lines = log.read_bytes().splitlines(keepends=True)
    lines.insert(1 if where == "middle" else len(lines), b"this is not an audit entry\n")
    log.write_bytes(b"".join(lines))
    code, report = _verify(cli)
    assert code == 1
    [finding] = report["findings"]
    line_no = 2 if where == "middle" else len(lines)
    assert finding == {"kind": "audit_line_unreadable", "where": f"audit line {line_no}",
                       "detail": "not a readable audit entry"}


@pytest.mark.parametrize("command", ["intake", "rebuild", "hold"])
def test_writers_refuse_a_garbage_last_audit_line_before_changing_anything(root: Path, cli: Cli, one_case: str,
                                                                           tmp_path: Path, command: str) -> None:
    log = root / LOG
    log.write_bytes(log.read_bytes() + b'{"seq": "x"}\n')
    line_no = len(log.read_bytes().splitlines())
    before = snapshot(root)
    args = {"intake": ["intake", str(write_case(tmp_path, "new.json"))], "rebuild": ["rebuild"],
            "hold": ["hold", one_case, "--reason", "诉讼"]}[command]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert f"audit/audit.jsonl line {line_no}" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(root) == before


# ---------------------------------------------------------------- 4. tombstones against their certificates

def test_a_destroyed_case_leaves_a_tombstone_that_verifies(root: Path, cli: Cli, tmp_path: Path) -> None:
    _destroyed(cli, root, tmp_path)
    code, report = _verify(cli)
    assert (code, report["findings"]) == (0, [])


@pytest.mark.parametrize("field,value", [("certificate", "XH-2020-0099"), ("retention_until", "2019-01-01"),
                                         ("manifest_sha256", "0" * 64)])
def test_an_edited_tombstone_is_a_finding(root: Path, cli: Cli, tmp_path: Path, field: str, value: str) -> None:
    _number, tomb = _destroyed(cli, root, tmp_path)
    data = json.loads(tomb.read_text(encoding="utf-8"))
    data[field] = value
    tomb.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    code, report = _verify(cli)
    rel = tomb.relative_to(root).as_posix()
    assert code == 1
    assert ("tombstone_invalid", rel) in _kinds(report)
    assert ("file_changed", rel) in _kinds(report)  # and not the file its destroy entry recorded


def test_a_forged_tombstone_no_certificate_lists_is_a_finding(root: Path, cli: Cli, tmp_path: Path) -> None:
    _number, tomb = _destroyed(cli, root, tmp_path)
    forged = tomb.parent / "20030007.tombstone.json"
    data = {**json.loads(tomb.read_text(encoding="utf-8")), "number": "20030007"}
    forged.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    code, report = _verify(cli)
    assert code == 1
    found = {f["where"]: f["detail"] for f in report["findings"] if f["kind"] == "tombstone_invalid"}
    assert set(found) == {forged.relative_to(root).as_posix()}
    assert "does not list" in found[forged.relative_to(root).as_posix()]


# ---------------------------------------------------------------- 5. templates against their audited registration

def _forge_template(root: Path, template_file: str, from_file: str) -> None:
    """Replace a template with other valid .docx bytes and write the new hash into templates.toml."""
    folder = root / "templates"
    old = hashlib.sha256((folder / template_file).read_bytes()).hexdigest()
    shutil.copyfile(folder / from_file, folder / template_file)
    new = hashlib.sha256((folder / template_file).read_bytes()).hexdigest()
    register = folder / "templates.toml"
    entry = f'file = "{template_file}"\nsha256 = "{old}"'
    text = register.read_text(encoding="utf-8")
    assert text.count(entry) == 1
    register.write_text(text.replace(entry, entry.replace(old, new)), encoding="utf-8")


def test_intake_refuses_a_shipped_template_edited_with_its_register_hash(root: Path, cli: Cli,
                                                                         tmp_path: Path) -> None:
    _forge_template(root, "register-form.v2.docx", "record-form.v2.docx")
    assert ("unexpected_file", "templates/register-form.v2.docx") in _kinds(_verify(cli)[1])
    listed = {t["file"]: t["intact"] for t in json.loads(cli("templates", "list", "--json").stdout)}
    assert listed["register-form.v2.docx"] is False and listed["record-form.v2.docx"] is True
    result = cli("intake", str(write_case(tmp_path)))
    assert result.exit_code == 2, result.output
    assert "register-form" in result.output and "audited" in result.output
    assert record_dirs(root) == {}


def test_render_refuses_a_registered_template_edited_with_its_register_hash(root: Path, cli: Cli,
                                                                            tmp_path: Path) -> None:
    number = _intake(cli, tmp_path)
    new = tmp_path / "record-form-v3.docx"
    shutil.copyfile(root / "templates" / "capa-record.v1.docx", new)
    r = cli("templates", "register", str(new), "--id", "record-form", "--version", "3", "--effective", "2026-11-01")
    assert r.exit_code == 0, r.output
    assert cli("render", "--force", number).exit_code == 0  # the audited registration renders
    _forge_template(root, "record-form.v3.docx", "response-feedback.v1.docx")
    result = cli("render", "--force", number)
    assert result.exit_code == 2, result.output
    assert "record-form" in result.output and "audited" in result.output


# ---------------------------------------------------------------- 6. every file of a record is in its manifest

def test_an_attachment_named_like_a_dotfile_is_in_the_manifest(root: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".hidden.txt").write_text("附件", encoding="utf-8")
    number = _intake(cli, tmp_path, attachments=[{"path": ".hidden.txt", "title": "附件"}])
    manifest = json.loads((record_dirs(root)[number] / "manifest.json").read_text(encoding="utf-8"))
    assert "attachments/.hidden.txt" in {f["path"] for f in manifest["files"]}
    assert _verify(cli)[0] == 0


def test_an_attachment_named_like_a_temp_file_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".notes.txt.123.tmp").write_text("附件", encoding="utf-8")
    result = cli("intake", str(write_case(tmp_path, attachments=[{"path": ".notes.txt.123.tmp"}])))
    assert result.exit_code == 2
    assert "$.attachments[0].path" in result.output and "temporary" in result.output
    assert record_dirs(root) == {}


# ---------------------------------------------------------------- 7. temp files left by a kill

def test_leftover_temp_files_are_warnings_naming_the_recovery(root: Path, cli: Cli, one_case: str) -> None:
    record = record_dirs(root)[one_case]
    planted = [record / ".manifest.json.4242.tmp", root / "keys" / ".wu.json.4242.tmp",
               root / ".archive.toml.4242.tmp"]
    for p in planted:
        p.write_bytes(b"{")
    before = snapshot(root)
    code, report = _verify(cli)
    assert code == 0, report["findings"]
    assert snapshot(root) == before
    temps = {w["where"]: w["detail"] for w in report["warnings"] if w["kind"] == "temp_file_left"}
    assert set(temps) == {p.relative_to(root).as_posix() for p in planted}
    assert "archive rebuild" in temps[planted[0].relative_to(root).as_posix()]
    assert "next write command" in temps["keys/.wu.json.4242.tmp"]


def test_the_next_writer_removes_temp_files_outside_records(root: Path, cli: Cli, one_case: str) -> None:
    planted = [root / "keys" / ".wu.json.4242.tmp", root / ".archive.toml.4242.tmp",
               root / "templates" / ".templates.toml.4242.tmp"]
    for p in planted:
        p.write_bytes(b"{")
    keep = root / "templates" / ".notes"  # not one of ours: left alone
    keep.write_bytes(b"x")
    assert cli("hold", one_case, "--reason", "诉讼").exit_code == 0
    assert not any(p.exists() for p in planted) and keep.exists()


def test_a_killed_record_change_leaves_no_temp_manifest_after_the_next_writer(root: Path, cli: Cli,
                                                                              one_case: str) -> None:
    from archive.store import txn
    from archive.store.layout import Layout

    record = record_dirs(root)[one_case]
    rel = record.relative_to(root).as_posix()
    txn._begin(Layout(root), txn.Journal(kind="record", action="update", number=one_case, record=rel))
    (record / ".manifest.json.4242.tmp").write_bytes(b"{")  # killed inside write_bytes of the new manifest
    assert cli("hold", one_case, "--reason", "诉讼").exit_code == 0
    assert not (record / ".manifest.json.4242.tmp").exists()
    code, report = _verify(cli)
    assert (code, report["findings"], report["warnings"]) == (0, [], [])


def test_rebuild_removes_temp_files_in_record_folders(root: Path, cli: Cli, one_case: str) -> None:
    stray = record_dirs(root)[one_case] / "documents" / ".record-form.v1.meta.json.77.tmp"
    stray.write_bytes(b"{")
    assert cli("rebuild").exit_code == 0
    assert not stray.exists()
    assert _verify(cli)[1]["warnings"] == []


# ---------------------------------------------------------------- 8. a deleted file, caught by both checks

def test_a_file_deleted_from_a_record_is_found_by_the_manifest(root: Path, cli: Cli, one_case: str) -> None:
    record = record_dirs(root)[one_case]
    (record / "case.json").unlink()
    code, report = _verify(cli)
    where = f"{record.relative_to(root).as_posix()}/case.json"
    assert code == 1
    details = [f["detail"] for f in report["findings"] if (f["kind"], f["where"]) == ("file_missing", where)]
    assert "listed in the manifest, not on disk" in details


def test_a_file_deleted_with_its_manifest_line_is_found_by_the_audit_log(root: Path, cli: Cli,
                                                                         one_case: str) -> None:
    record = record_dirs(root)[one_case]
    (record / "case.json").unlink()
    manifest = json.loads((record / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = [f for f in manifest["files"] if f["path"] != "case.json"]
    (record / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")
    code, report = _verify(cli)
    where = f"{record.relative_to(root).as_posix()}/case.json"
    assert code == 1
    [finding] = [f for f in report["findings"] if f["where"] == where]
    assert finding["kind"] == "file_missing" and finding["detail"].startswith("named by audit seq")
