"""Integrity: signatures with meaning, manifests, the audit chain and checkpoints; verify names every tamper."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
from pathlib import Path

import pytest
from conftest import SHARED_CASES, SHARED_UPDATES, Cli, audit_entries, make_key, record_dirs, snapshot
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archive.integrity import signing
from archive.store import audit

PASS = {"ARCHIVE_PASSPHRASE": "correct horse battery"}


@pytest.fixture
def keydir(tmp_path: Path) -> Path:
    d = tmp_path / "private-keys"
    d.mkdir()
    return d


@pytest.fixture
def worked(root: Path, cli: Cli, keydir: Path) -> Path:
    """An archive after intake, updates, signatures by three people in order, re-rendering and a checkpoint."""
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", keydir / "zhoumin.pem", PASS["ARCHIVE_PASSPHRASE"])
    for sid, name, title in (("zhangli", "张丽", "QA 主管"), ("huangtao", "黄涛", "质量部经理")):
        make_key(root, sid, name, title, keydir / f"{sid}.pem", PASS["ARCHIVE_PASSPHRASE"], certify_with=admin)
    r = cli("--actor", "QA 主管 张丽", "intake", "--sign-as", str(keydir / "zhangli.pem"), str(SHARED_CASES[0]),
            str(SHARED_CASES[4]), env=PASS)
    assert r.exit_code == 0, r.output
    assert cli("update", "26110001", str(SHARED_UPDATES / "01-investigation.json")).exit_code == 0
    # drafted, reviewed, approved: each meaning on the current version after the earlier ones ([signatures] order)
    for actor, key, meaning, docs in (("QA 主管 张丽", "zhangli", "drafted", ("register-form", "investigation-report")),
                                      ("档案管理员 周敏", "zhoumin", "reviewed", ()),
                                      ("质量部经理 黄涛", "huangtao", "approved", ())):
        r = cli("--actor", actor, "sign", "26110001", "--key", str(keydir / f"{key}.pem"), "--meaning", meaning,
                *[a for d in docs for a in ("--document", d)], env=PASS)
        assert r.exit_code == 0, r.output
    assert cli("render", "--force", "26110002").exit_code == 0
    assert cli("--actor", "黄涛", "seal", "--key", str(keydir / "huangtao.pem"), env=PASS).exit_code == 0
    return root


def _verify(cli: Cli, *numbers: str) -> tuple[int, list[dict[str, str]]]:
    result = cli("verify", "--json", *numbers)
    data = json.loads(result.stdout)
    return result.exit_code, data["findings"]


def _kinds(findings: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(f["kind"], f["where"]) for f in findings}


def test_clean_archive_verifies_after_every_sanctioned_change(worked: Path, cli: Cli) -> None:
    code, findings = _verify(cli)
    assert (code, findings) == (0, [])
    out = cli("verify").stdout
    head_line = (worked / "audit" / "audit.jsonl").read_bytes().splitlines()[-1]
    assert hashlib.sha256(head_line).hexdigest() in out and "OK:" in out


def test_signature_block_shows_name_title_meaning_time_and_fingerprint(worked: Path, cli: Cli, keydir: Path) -> None:
    from test_documents import _all_text

    record = record_dirs(worked)["26110001"]
    [sig_path] = (record / "signatures").glob("record-form.*.approved.huangtao.json")
    sig = json.loads(sig_path.read_text(encoding="utf-8"))
    text = _all_text(record / sig["document"])
    assert "黄涛" in text and "质量部经理(批准)" in text and "(UTC+8)" in text
    # The fingerprint is computed here from the private key file, not taken from the product's output.
    from cryptography.hazmat.primitives import serialization

    pem = (keydir / "huangtao.pem").read_bytes()
    private = serialization.load_pem_private_key(pem, PASS["ARCHIVE_PASSPHRASE"].encode())
    assert isinstance(private, Ed25519PrivateKey)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected = hashlib.sha256(raw).hexdigest()
    assert sig["fingerprint"] == expected
    assert f"{expected[0:4]} {expected[4:8]} {expected[8:12]} {expected[12:16]}" in text
    signed = {k: sig[k] for k in ("signer", "name", "title", "meaning", "time", "document", "sha256", "number",
                                  "fingerprint", "content_sha256")}
    message = json.dumps(signed, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    private.public_key().verify(base64.b64decode(sig["signature"]), message)  # raises if it does not verify
    assert hashlib.sha256((record / sig["document"]).read_bytes()).hexdigest() == sig["sha256"]
    assert sig["number"] == "26110001" and sig["meaning"] == "approved"


def test_each_tamper_is_found_and_named(worked: Path, cli: Cli) -> None:
    rec1, rec5 = record_dirs(worked)["26110001"], record_dirs(worked)["26110002"]
    doc = rec1 / "documents" / "register-form.v1.docx"
    data = bytearray(doc.read_bytes())
    data[100] ^= 0x01
    doc.write_bytes(bytes(data))
    (rec1 / "attachments" / "huadong-complaint-letter.pdf").write_bytes(b"%PDF-1.4 forged letter")
    case = rec5 / "case.json"
    case.write_text(case.read_text(encoding="utf-8").replace("Mr. Tanaka", "Mr. Suzuki"), encoding="utf-8")
    (rec5 / "documents" / "planted.docx").write_bytes(b"not ours")
    code, findings = _verify(cli)
    assert code == 1
    kinds = _kinds(findings)
    assert ("file_changed", "records/2026/11/26110001/documents/register-form.v1.docx") in kinds
    assert ("file_changed", "records/2026/11/26110001/attachments/huadong-complaint-letter.pdf") in kinds
    assert ("file_changed", "records/2026/11/26110002/case.json") in kinds
    assert ("unexpected_file", "records/2026/11/26110002/documents/planted.docx") in kinds
    text = cli("verify")
    assert text.exit_code == 1 and "FAILED" in text.stdout


def test_removed_record_folder_is_named(worked: Path, cli: Cli) -> None:
    shutil.rmtree(record_dirs(worked)["26110002"])
    code, findings = _verify(cli)
    assert code == 1 and ("record_folder_missing", "26110002") in _kinds(findings)


def test_record_not_in_the_log_is_named(worked: Path, cli: Cli) -> None:
    src = record_dirs(worked)["26110002"]
    shutil.copytree(src, src.parent / "26110009")
    _, findings = _verify(cli)
    assert ("record_not_in_log", "26110009") in _kinds(findings)


def _log_lines(root: Path) -> list[bytes]:
    return (root / "audit" / "audit.jsonl").read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("how", ["removed", "edited", "swapped"])
def test_audit_line_tamper_breaks_the_chain(worked: Path, cli: Cli, how: str) -> None:
    lines = _log_lines(worked)
    if how == "removed":
        del lines[3]
    elif how == "edited":
        lines[3] = lines[3].replace(b'"actor":"', b'"actor":"mallory ')
    else:
        lines[3], lines[4] = lines[4], lines[3]
    (worked / "audit" / "audit.jsonl").write_bytes(b"".join(lines))
    code, findings = _verify(cli)
    assert code == 1
    broken = [f for f in findings if f["kind"] == "chain_broken"]
    assert broken and all(f["where"].startswith("audit seq") for f in broken)
    if how == "edited":
        assert broken[0]["where"] == "audit seq 5"  # the line after the edited one no longer chains


def test_signature_copied_to_another_record_is_invalid(worked: Path, cli: Cli) -> None:
    rec1, rec5 = record_dirs(worked)["26110001"], record_dirs(worked)["26110002"]
    sig = next((rec1 / "signatures").glob("record-form.*.approved.huangtao.json"))
    shutil.copy(sig, rec5 / "signatures" / sig.name)
    _, findings = _verify(cli)
    where = f"records/2026/11/26110002/signatures/{sig.name}"
    assert ("signature_invalid", where) in _kinds(findings)
    assert any("made for case 26110001" in f["detail"] for f in findings)


def test_signature_by_an_unregistered_key_is_named(worked: Path, cli: Cli) -> None:
    record = record_dirs(worked)["26110001"]
    doc = "documents/record-form.v1.docx"
    key = Ed25519PrivateKey.generate()
    rec = {"signer": "mallory", "name": "冒名", "title": "QA", "meaning": "approved", "time": "2026-11-24T00:00:00Z",
           "document": doc, "sha256": hashlib.sha256((record / doc).read_bytes()).hexdigest(), "number": "26110001",
           "fingerprint": "0" * 64, "content_sha256": ""}
    rec["signature"] = base64.b64encode(key.sign(signing.message(rec))).decode()
    (record / "signatures" / "record-form.v1.approved.mallory.json").write_text(json.dumps(rec), encoding="utf-8")
    _, findings = _verify(cli)
    assert ("signer_unknown", "records/2026/11/26110001/signatures/record-form.v1.approved.mallory.json") \
        in _kinds(findings)


def test_forged_signature_bytes_are_invalid(worked: Path, cli: Cli) -> None:
    record = record_dirs(worked)["26110001"]
    sig = next((record / "signatures").glob("*.approved.huangtao.json"))
    rec = json.loads(sig.read_text(encoding="utf-8"))
    rec["meaning"] = "reviewed"  # claims another meaning with the same signature bytes
    sig.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    _, findings = _verify(cli)
    assert any(f["kind"] == "signature_invalid" and f["where"].endswith(sig.name) for f in findings)


def test_manifest_edited_with_its_file_is_caught_by_the_audit_chain(worked: Path, cli: Cli) -> None:
    record = record_dirs(worked)["26110002"]
    case = record / "case.json"
    case.write_text(case.read_text(encoding="utf-8").replace("Mr. Tanaka", "Mr. Suzuki"), encoding="utf-8")
    manifest = json.loads((record / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        if f["path"] == "case.json":
            f["sha256"] = hashlib.sha256(case.read_bytes()).hexdigest()
            f["size"] = case.stat().st_size
    (record / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _, findings = _verify(cli)
    kinds = _kinds(findings)
    assert ("manifest_changed", "records/2026/11/26110002/manifest.json") in kinds
    assert ("file_changed", "records/2026/11/26110002/case.json") in kinds


def test_rewriting_history_before_a_checkpoint_is_caught(worked: Path, cli: Cli) -> None:
    # Rewrite an early entry and recompute every prev after it: the chain is whole again,
    # but the sealed head no longer matches.
    entries = [json.loads(line) for line in _log_lines(worked)]
    entries[0]["actor"] = "mallory"
    prev = audit.GENESIS
    out = []
    for e in entries:
        e["prev"] = prev
        line = audit.canonical(e)
        out.append(line + b"\n")
        prev = hashlib.sha256(line).hexdigest()
    (worked / "audit" / "audit.jsonl").write_bytes(b"".join(out))
    code, findings = _verify(cli)
    assert code == 1
    assert [f["kind"] for f in findings if f["kind"] != "file_changed"] == ["checkpoint_invalid"]


def test_verify_scoped_to_numbers(worked: Path, cli: Cli) -> None:
    doc = record_dirs(worked)["26110002"] / "case.json"
    doc.write_text(doc.read_text(encoding="utf-8") + " ", encoding="utf-8")
    assert _verify(cli, "26110001") == (0, [])
    assert _verify(cli, "26110002")[0] == 1


def test_wrong_passphrase_is_refused_with_nothing_written(worked: Path, cli: Cli, keydir: Path) -> None:
    before = snapshot(worked)
    r = cli("sign", "26110001", "--key", str(keydir / "huangtao.pem"), "--meaning", "reviewed",
            env={"ARCHIVE_PASSPHRASE": "not the passphrase"})
    assert r.exit_code == 2 and "wrong passphrase" in r.stderr and "Traceback" not in r.output
    r = cli("intake", "--sign-as", str(keydir / "huangtao.pem"), str(SHARED_CASES[1]),
            env={"ARCHIVE_PASSPHRASE": "not the passphrase"})
    assert r.exit_code == 2 and "wrong passphrase" in r.stderr, r.stderr
    assert snapshot(worked) == before


def test_retired_key_is_refused_but_still_verifies_old_signatures(worked: Path, cli: Cli, keydir: Path) -> None:
    assert cli("keys", "retire", "huangtao", "--reason", "调岗").exit_code == 0
    before = snapshot(worked)
    r = cli("sign", "26110002", "--key", str(keydir / "huangtao.pem"), "--meaning", "approved", env=PASS)
    assert r.exit_code == 2 and "retired" in r.stderr
    assert snapshot(worked) == before
    assert _verify(cli) == (0, [])
    keys_listed = {k["id"]: k for k in json.loads(cli("keys", "list", "--json").stdout)}
    assert keys_listed["huangtao"]["retired_at"] and keys_listed["zhangli"]["retired_at"] is None


def test_unknown_meaning_is_a_usage_error(worked: Path, cli: Cli, keydir: Path) -> None:
    r = cli("sign", "26110001", "--key", str(keydir / "zhangli.pem"), "--meaning", "witnessed", env=PASS)
    assert r.exit_code == 2 and "'witnessed' is not one of: drafted 起草, reviewed 审核, approved 批准" in r.stderr


def test_private_key_is_encrypted_0600_and_never_inside_the_root(root: Path, cli: Cli, keydir: Path) -> None:
    r = cli("--actor", "物流 吴凡", "keys", "create", "wuf", "--name", "吴凡", "--title", "物流", "--out",
            str(keydir / "wuf.pem"), env=PASS)
    assert r.exit_code == 0
    pem = keydir / "wuf.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in pem.read_bytes()
    registered = json.loads((root / "keys" / "wuf.json").read_text(encoding="utf-8"))
    assert set(registered) >= {"id", "name", "title", "public_key", "fingerprint", "created_at"}
    r = cli("--actor", "y x", "keys", "create", "inside", "--name", "x", "--title", "y", "--out",
            str(root / "keys" / "x.pem"), env=PASS)
    assert r.exit_code == 2 and "never lives inside the archive root" in r.stderr
    assert not (root / "keys" / "x.pem").exists()


def test_already_signed_with_same_meaning_is_refused(worked: Path, cli: Cli, keydir: Path) -> None:
    r = cli("--actor", "黄涛", "sign", "26110001", "--key", str(keydir / "huangtao.pem"), "--meaning", "approved",
            "--document", "record-form", env=PASS)
    assert r.exit_code == 2 and "already signed" in r.stderr


@pytest.mark.parametrize("file_written", [True, False])
def test_key_registration_killed_midway_is_finished_or_undone(root: Path, cli: Cli, keydir: Path,
                                                             file_written: bool) -> None:
    from archive.integrity import keys
    from archive.store import txn
    from archive.store.atomic import write_bytes
    from archive.store.hashing import sha256_bytes
    from archive.store.layout import Layout

    layout = Layout(root)
    _signer, _, record = keys.create(layout.keys, root, "wuf", "吴凡", "物流", keydir / "wuf.pem", "passphrase!")
    rel = "keys/wuf.json"
    digest = sha256_bytes(record)
    journal = txn.Journal(kind="files", action="key-create", number="",
                          files=[{"path": rel, "sha256": digest, "backup": None}],
                          audit={"actor": "tester", "action": "key-create", "number": None,
                                 "files": [{"path": rel, "sha256": digest}], "reason": None, "extra": {}})
    txn._begin(layout, journal)
    if file_written:
        write_bytes(root / rel, record)
    # the process dies here: no audit entry yet
    assert cli("rebuild").exit_code == 0  # the next writer finishes or undoes it
    assert not (root / ".journal.json").exists()
    logged = [e for e in audit_entries(root) if e["action"] == "key-create"]
    assert (len(logged) == 1) is file_written
    assert (root / rel).exists() is file_written
    assert _verify(cli) == (0, [])


def test_a_later_update_does_not_bless_a_tampered_file(worked: Path, cli: Cli) -> None:
    record = record_dirs(worked)["26110001"]
    letter = record / "attachments" / "huadong-complaint-letter.pdf"
    letter.write_bytes(b"%PDF-1.4 forged letter")
    r = cli("update", "26110001", str(SHARED_UPDATES / "01-capa.json"))
    assert r.exit_code == 0, r.output
    manifest = json.loads((record / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed["attachments/huadong-complaint-letter.pdf"] != hashlib.sha256(letter.read_bytes()).hexdigest()
    _, findings = _verify(cli)
    assert ("file_changed", "records/2026/11/26110001/attachments/huadong-complaint-letter.pdf") in _kinds(findings)
