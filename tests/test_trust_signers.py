"""Signers are who they say: a key is made by its owner, signs only once an administrator who is another person
certified it (21 CFR 11.100(b)), meanings come in order, and keys/ holds nothing verify does not account for."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ARCHIVE_BIN, SHARED_CASES, Cli, Key, audit_entries, certify_key, make_key, record_dirs, snapshot

NUMBER = "26110001"


def _sign(cli: Cli, key: Key, meaning: str, *extra: str, number: str = NUMBER) -> Any:
    return cli("--actor", key.actor, "sign", number, "--key", str(key.pem), "--meaning", meaning, *extra,
               env={"ARCHIVE_PASSPHRASE": key.passphrase})


def _findings(cli: Cli) -> tuple[int, set[tuple[str, str]], list[dict[str, str]]]:
    r = cli("verify", "--json")
    data = json.loads(r.stdout)
    return r.exit_code, {(f["kind"], f["where"]) for f in data["findings"]}, data["findings"]


@pytest.fixture
def people(root: Path, tmp_path: Path) -> dict[str, Key]:
    """The administrator (first key), and three certified signers."""
    folder = tmp_path / "private-keys"
    folder.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", folder / "zhoumin.pem")
    out = {"admin": admin}
    for kid, name, title in (("zhangli", "张丽", "QA 主管"), ("wangfang", "王芳", "QA 经理"),
                             ("huangtao", "黄涛", "质量部经理")):
        out[kid] = make_key(root, kid, name, title, folder / f"{kid}.pem", certify_with=admin)
    return out


@pytest.fixture
def case(cli: Cli, people: dict[str, Key]) -> str:
    r = cli("intake", str(SHARED_CASES[0]))
    assert r.exit_code == 0, r.output
    return NUMBER


# ---------------------------------------------------------------- 1. a key is created by its owner

def test_a_key_in_another_persons_name_is_refused(root: Path, cli: Cli, tmp_path: Path) -> None:
    before = snapshot(root)
    r = cli("--actor", "王芳", "keys", "create", "liqiang2", "--name", "李强", "--title", "QA", "--out",
            str(tmp_path / "liqiang2.pem"), env={"ARCHIVE_PASSPHRASE": "correct horse battery"})
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "李强" in r.stderr and "a key is created by its owner" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before and not (tmp_path / "liqiang2.pem").exists()
    r = cli("--actor", "QA 李强", "keys", "create", "liqiang2", "--name", "李强", "--title", "QA", "--out",
            str(tmp_path / "liqiang2.pem"), env={"ARCHIVE_PASSPHRASE": "correct horse battery"})
    assert r.exit_code == 0, r.output
    assert audit_entries(root)[-1]["actor"] == "QA 李强"


# ---------------------------------------------------------------- 2. certified by a second person, an administrator

def test_an_uncertified_key_signs_nothing(root: Path, cli: Cli, tmp_path: Path, people: dict[str, Key],
                                          case: str) -> None:
    chen = make_key(root, "chen", "陈工", "质量部", tmp_path / "chen.pem")
    before = snapshot(root)
    r = _sign(cli, chen, "drafted")
    assert r.exit_code == 2 and "key chen is not certified" in r.stderr and "keys certify" in r.stderr
    r = cli("--actor", chen.actor, "seal", "--key", str(chen.pem), env={"ARCHIVE_PASSPHRASE": chen.passphrase})
    assert r.exit_code == 2 and "key chen is not certified" in r.stderr
    r = cli("--actor", chen.actor, "intake", "--sign-as", str(chen.pem), str(SHARED_CASES[1]),
            env={"ARCHIVE_PASSPHRASE": chen.passphrase})
    assert r.exit_code == 2 and "key chen is not certified" in r.stderr
    assert snapshot(root) == before
    assert certify_key(root, "chen", people["admin"]).exit_code == 0
    r = _sign(cli, chen, "drafted")
    assert r.exit_code == 0, r.output


def test_the_first_key_is_the_administrators_and_keys_list_shows_who_registered_and_certified(
        root: Path, cli: Cli, people: dict[str, Key]) -> None:
    listed = {k["id"]: k for k in json.loads(cli("keys", "list", "--json").stdout)}
    assert listed["zhoumin"]["role"] == "admin" and listed["zhoumin"]["certified_by"] is None
    assert listed["zhoumin"]["registered_by"] == "档案管理员 周敏" and listed["zhoumin"]["can_sign"] is True
    assert listed["zhangli"]["role"] == "signer" and listed["zhangli"]["certified_by"] == "zhoumin"
    assert listed["zhangli"]["registered_by"] == "QA 主管 张丽" and listed["zhangli"]["certified_at"]
    text = cli("keys", "list").stdout
    row = next(line for line in text.splitlines() if line.startswith("zhangli"))
    assert "QA 主管 张丽" in row and "zhoumin" in row and "签名人" in row
    row = next(line for line in text.splitlines() if line.startswith("zhoumin"))
    assert "管理员" in row and "首个密钥" in row


def test_certification_is_journaled_and_signed_by_the_administrator(root: Path, cli: Cli,
                                                                     people: dict[str, Key]) -> None:
    [entry] = [e for e in audit_entries(root) if e["action"] == "key-certify" and e["signer"] == "zhangli"]
    assert entry["actor"] == "档案管理员 周敏" and entry["certified_by"] == "zhoumin" and entry["role"] == "signer"
    assert [f["path"] for f in entry["files"]] == ["keys/zhangli.certified.json"]
    cert = json.loads((root / "keys" / "zhangli.certified.json").read_text(encoding="utf-8"))
    assert cert["certified_by"] == "zhoumin" and cert["signature"]
    assert _findings(cli)[0] == 0


def test_a_person_cannot_certify_their_own_key(root: Path, cli: Cli, tmp_path: Path,
                                               people: dict[str, Key]) -> None:
    second = make_key(root, "zhoumin2", "周敏", "档案管理员", tmp_path / "zhoumin2.pem")
    before = snapshot(root)
    r = certify_key(root, "zhoumin2", people["admin"])
    assert r.exit_code == 2 and "another person" in r.output and "周敏" in r.output
    assert snapshot(root) == before
    listed = {k["id"]: k for k in json.loads(cli("keys", "list", "--json").stdout)}
    assert listed[second.id]["can_sign"] is False


def test_only_an_administrator_certifies_and_an_administrator_makes_more(root: Path, cli: Cli, tmp_path: Path,
                                                                         people: dict[str, Key]) -> None:
    make_key(root, "chen", "陈工", "质量部", tmp_path / "chen.pem")
    before = snapshot(root)
    r = certify_key(root, "chen", people["zhangli"])
    assert r.exit_code == 2 and "not an administrator" in r.output and "zhangli" in r.output
    assert snapshot(root) == before
    assert certify_key(root, "zhangli", people["admin"], role="admin").exit_code == 0
    assert certify_key(root, "chen", people["zhangli"]).exit_code == 0
    listed = {k["id"]: k for k in json.loads(cli("keys", "list", "--json").stdout)}
    assert listed["zhangli"]["role"] == "admin" and listed["chen"]["certified_by"] == "zhangli"
    r = certify_key(root, "chen", people["zhangli"])
    assert r.exit_code == 2 and "already certified" in r.output
    assert _findings(cli)[0] == 0


def test_verify_flags_an_edited_certification_and_one_by_a_non_administrator(
        root: Path, cli: Cli, tmp_path: Path, people: dict[str, Key]) -> None:
    from archive.integrity import trust
    from archive.integrity.keys import open_private
    from archive.store import txn
    from archive.store.layout import Layout

    chen = make_key(root, "chen", "陈工", "质量部", tmp_path / "chen.pem")
    # a certification by a signer, slipped in through the journal (as an older or a patched program would)
    layout = Layout(root)
    t = trust.load(layout)
    private = open_private(people["zhangli"].pem, people["zhangli"].passphrase)
    data = trust.certification_bytes(t.signers["chen"], t.key_sha256("chen"), "signer",
                                     t.signers["zhangli"], private, "2026-11-30T00:00:00.000000Z")
    txn.add_files(layout, {"keys/chen.certified.json": data}, txn.Entry("QA 主管 张丽", "key-certify"))
    code, kinds, findings = _findings(cli)
    assert code == 1 and ("certification_invalid", "keys/chen.certified.json") in kinds
    assert any("not an administrator" in f["detail"] for f in findings)
    r = _sign(cli, chen, "drafted")
    assert r.exit_code == 2 and "not an administrator" in r.stderr

    cert_path = root / "keys" / "wangfang.certified.json"
    cert = json.loads(cert_path.read_text(encoding="utf-8"))
    cert["role"] = "admin"  # promoted behind the administrator's back
    cert_path.write_text(json.dumps(cert), encoding="utf-8")
    code, kinds, findings = _findings(cli)
    assert ("certification_invalid", "keys/wangfang.certified.json") in kinds
    assert any(f["where"] == "keys/wangfang.certified.json" and "signature" in f["detail"] for f in findings)


# ---------------------------------------------------------------- 3. meanings in order

def test_approval_before_review_is_refused_naming_what_is_missing(root: Path, cli: Cli, people: dict[str, Key],
                                                                 case: str) -> None:
    assert _sign(cli, people["zhangli"], "drafted", "--document", "record-form").exit_code == 0
    before = snapshot(root)
    r = _sign(cli, people["huangtao"], "approved", "--document", "record-form")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "批准" in r.stderr and "审核 (reviewed)" in r.stderr and "起草" not in r.stderr
    assert snapshot(root) == before
    r = _sign(cli, people["huangtao"], "reviewed", "--document", "register-form")
    assert r.exit_code == 2 and "起草 (drafted)" in r.stderr
    assert _sign(cli, people["wangfang"], "reviewed", "--document", "record-form").exit_code == 0
    r = _sign(cli, people["huangtao"], "approved", "--document", "record-form")
    assert r.exit_code == 0, r.output


def test_signature_order_is_a_setting_with_the_sop_default(root: Path) -> None:
    from archive import settings
    from archive.errors import SettingsError

    assert settings.load(root).signature_order == ("drafted", "reviewed", "approved")
    assert 'order = ["drafted", "reviewed", "approved"]' in (root / "archive.toml").read_text(encoding="utf-8")
    with pytest.raises(SettingsError, match=r"signatures\.order"):
        settings.from_mapping({"signatures": {"order": ["drafted", "witnessed"]}})


# ---------------------------------------------------------------- 4. keys/ holds only what verify accounts for

def test_a_keys_json_that_is_not_a_key_file_is_a_finding_not_a_traceback(root: Path, cli: Cli,
                                                                         people: dict[str, Key]) -> None:
    (root / "keys" / "notes.json").write_text("[1, 2]", encoding="utf-8")
    (root / "keys" / "broken.json").write_text("{", encoding="utf-8")
    (root / "keys" / "half.json").write_text('{"id": "half"}', encoding="utf-8")
    for args in (("keys", "list"), ("keys", "list", "--json"), ("verify",)):
        r = cli(*args)
        assert "Traceback" not in r.output
    listed = json.loads(cli("keys", "list", "--json").stdout)
    assert {k["id"] for k in listed} == {"zhoumin", "zhangli", "wangfang", "huangtao"}
    code, kinds, _ = _findings(cli)
    assert code == 1
    for name in ("notes.json", "broken.json", "half.json"):
        assert ("key_invalid", f"keys/{name}") in kinds


def test_a_key_file_planted_outside_the_audit_log_signs_nothing(root: Path, cli: Cli, tmp_path: Path,
                                                                people: dict[str, Key], case: str) -> None:
    from archive.integrity import keys

    _signer, _, record = keys.create(tmp_path / "elsewhere", root, "liqiang", "李强", "QA", tmp_path / "lq.pem",
                                     "correct horse battery")
    (root / "keys" / "liqiang.json").write_bytes(record)
    planted = Key("liqiang", "李强", "QA", tmp_path / "lq.pem", "correct horse battery")
    before = snapshot(root)
    r = _sign(cli, planted, "drafted")
    assert r.exit_code == 2 and "keys/liqiang.json is not recorded in the audit log" in r.stderr
    assert snapshot(root) == before
    assert ("unexpected_file", "keys/liqiang.json") in _findings(cli)[1]


def test_a_registered_key_file_swapped_for_another_key_signs_nothing(root: Path, cli: Cli, tmp_path: Path,
                                                                     people: dict[str, Key], case: str) -> None:
    from archive.integrity import keys

    _signer, _, record = keys.create(tmp_path / "elsewhere", root, "huangtao", "黄涛", "质量部经理",
                                     tmp_path / "forged.pem", "correct horse battery")
    (root / "keys" / "huangtao.json").write_bytes(record)
    forged = Key("huangtao", "黄涛", "质量部经理", tmp_path / "forged.pem", "correct horse battery")
    r = _sign(cli, forged, "drafted")
    assert r.exit_code == 2 and "keys/huangtao.json differs from its audited registration" in r.stderr
    assert ("file_changed", "keys/huangtao.json") in _findings(cli)[1]


# ---------------------------------------------------------------- 5. tests that catch a removed check

def test_verify_reports_a_signature_made_after_its_key_was_retired(root: Path, cli: Cli, people: dict[str, Key],
                                                                   case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive import clock

    assert _sign(cli, people["zhangli"], "drafted", "--document", "record-form").exit_code == 0
    [sig] = (record_dirs(root)[NUMBER] / "signatures").glob("record-form.*.drafted.zhangli.json")
    signed_at = json.loads(sig.read_text(encoding="utf-8"))["time"]
    # the retirement is recorded later but dated before the signature (a key retired, then used anyway)
    monkeypatch.setattr(clock, "utc_now", lambda: "2026-11-01T00:00:00.000000Z")
    assert cli("keys", "retire", "zhangli", "--reason", "离职").exit_code == 0
    monkeypatch.undo()
    code, kinds, findings = _findings(cli)
    where = sig.relative_to(root).as_posix()
    assert code == 1 and ("signer_retired", where) in kinds
    assert any(signed_at in f["detail"] for f in findings if f["kind"] == "signer_retired")


def test_verify_reports_stray_files_in_keys(root: Path, cli: Cli, tmp_path: Path, people: dict[str, Key]) -> None:
    from archive.integrity import keys

    _signer, _, record = keys.create(tmp_path / "elsewhere", root, "liqiang", "李强", "QA", tmp_path / "lq.pem",
                                     "correct horse battery")
    (root / "keys" / "liqiang.json").write_bytes(record)
    (root / "keys" / "notes.txt").write_text("密码提示", encoding="utf-8")
    (root / "keys" / "zhangli.pem").write_text("-----BEGIN", encoding="utf-8")
    code, kinds, _ = _findings(cli)
    assert code == 1
    for name in ("liqiang.json", "notes.txt", "zhangli.pem"):
        assert ("unexpected_file", f"keys/{name}") in kinds


# ---------------------------------------------------------------- 6. no passphrase and no terminal

@pytest.mark.parametrize("command", ["keys create chen --name 陈工 --title 质量部 --out {tmp}/chen.pem",
                                     "sign 26110001 --key {tmp}/private-keys/zhangli.pem --meaning drafted",
                                     "keys certify zhangli --key {tmp}/private-keys/zhoumin.pem"])
def test_no_passphrase_and_stdin_closed_is_one_line(root: Path, tmp_path: Path, people: dict[str, Key],
                                                    case: str, command: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_PASSPHRASE"}
    env["ARCHIVE_ACTOR"] = "陈工 张丽 周敏"
    args = shlex.join([ARCHIVE_BIN, "--root", str(root), *shlex.split(command.format(tmp=tmp_path))])
    r = subprocess.run(["bash", "-c", f"exec {args} <&-"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["archive: no passphrase: set ARCHIVE_PASSPHRASE or run on a terminal"]
