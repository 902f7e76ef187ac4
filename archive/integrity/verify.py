"""`archive verify`: every problem found, each a typed finding naming the path or number (as bagit does)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.integrity import certificate, keys, signing, trust
from archive.integrity.settings_applied import ACTION as SETTINGS_ACTION
from archive.integrity.settings_applied import APPLY_COMMAND
from archive.record import folders as store
from archive.record.grammar import TOMBSTONE_SUFFIX
from archive.store import audit
from archive.store.hashing import sha256_bytes, sha256_file
from archive.store.layout import Layout
from archive.store.manifest import MANIFEST

KINDS = ("file_changed", "file_missing", "unexpected_file", "record_folder_missing", "record_not_in_log",
         "manifest_changed", "signature_invalid", "signer_unknown", "signer_retired", "chain_broken",
         "checkpoint_invalid", "certificate_invalid", "key_invalid", "certification_invalid", "signer_uncertified",
         "settings_unapplied")


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str  # a path relative to the root, a case number, or "audit seq N"
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}

    def line(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


@dataclass
class Report:
    head: audit.Head
    findings: list[Finding] = field(default_factory=list)
    records: int = 0
    files: int = 0
    bytes: int = 0
    signatures: int = 0
    checkpoints: int = 0
    unfinished_change: bool = False  # a read-only copy holds a change a killed writer left (cannot be finished)
    # Not integrity problems but what a reviewer must see: approvals that lapsed when content changed.
    warnings: list[dict[str, str]] = field(default_factory=list)
    _seen: set[Finding] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, where: str, detail: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown finding kind {kind!r}")  # the kinds are a contract with --json readers
        f = Finding(kind, where, detail)
        if f not in self._seen:  # one problem reached by two checks is reported once
            self._seen.add(f)
            self.findings.append(f)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "head": {"seq": self.head.seq, "hash": self.head.hash},
                "checked": {"records": self.records, "files": self.files, "bytes": self.bytes,
                            "signatures": self.signatures, "checkpoints": self.checkpoints},
                "findings": [f.as_json() for f in self.findings], "unfinished_change": self.unfinished_change,
                "warnings": self.warnings}


@dataclass
class _Log:
    line_hashes: dict[int, str] = field(default_factory=dict)
    intake: set[str] = field(default_factory=set)
    destroyed: set[str] = field(default_factory=set)
    manifests: dict[str, str] = field(default_factory=dict)
    claims: list[tuple[str | None, str, str, int]] = field(default_factory=list)  # number, path, sha, seq
    settings: tuple[int, str] | None = None  # the last settings-apply entry: seq, SHA-256 of archive.toml


def _read_chain(path: Path, report: Report) -> _Log:
    log = _Log()
    prev_hash, expected = audit.GENESIS, 1
    for i, raw in enumerate(audit.read_lines(path), start=1):
        digest = sha256_bytes(raw)
        try:
            entry = json.loads(raw)
            seq = int(entry["seq"])
        except (ValueError, KeyError, TypeError):
            report.add("chain_broken", f"audit line {i}", "not a readable audit entry")
            prev_hash, expected = digest, expected + 1
            continue
        if seq != expected:
            report.add("chain_broken", f"audit seq {seq}", f"found at line {i} where seq {expected} belongs "
                                                            "(an entry was removed, added or moved)")
        if entry.get("prev") != prev_hash:
            report.add("chain_broken", f"audit seq {seq}", "prev does not match the SHA-256 of the line before "
                                                           "(that line was edited, removed or moved)")
        log.line_hashes[seq] = digest
        number = entry.get("number")
        if entry.get("action") == "intake" and number:
            log.intake.add(number)
        if entry.get("action") == "destroy" and number:
            log.destroyed.add(number)
        if number and entry.get("manifest_sha256"):
            log.manifests[number] = entry["manifest_sha256"]
        if entry.get("action") == SETTINGS_ACTION:
            log.settings = (seq, str(entry.get("settings_sha256")))
        for f in entry.get("files", []):
            log.claims.append((number, f["path"], f["sha256"], seq))
        prev_hash, expected = digest, seq + 1
    return log


class _Hashes:
    """Each file hashed once, however many checks ask."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.cache: dict[Path, str | None] = {}

    def prefetch(self, paths: list[Path]) -> None:
        """Hash many files on every core: hashlib releases the GIL, so threads scale with cores."""
        def one(path: Path) -> tuple[Path, str | None, int]:
            try:
                return path, sha256_file(path), path.stat().st_size
            except OSError:
                return path, None, 0

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for path, digest, size in pool.map(one, paths):
                self.cache[path] = digest
                if digest is not None:
                    self.report.files += 1
                    self.report.bytes += size

    def get(self, path: Path) -> str | None:
        if path not in self.cache:
            if path.is_file():
                self.cache[path] = sha256_file(path)
                self.report.files += 1
                self.report.bytes += path.stat().st_size
            else:
                self.cache[path] = None
        return self.cache[path]


def _check_signature(root: Path, record: Path, number: str, rel: str, rec: dict[str, Any],
                     signers: dict[str, keys.Signer], certified: dict[str, str], hashes: _Hashes,
                     report: Report) -> None:
    where = f"{record.relative_to(root).as_posix()}/{rel}"
    report.signatures += 1
    signer = signers.get(str(rec.get("signer")))
    if signer is None or signer.fingerprint != rec.get("fingerprint"):
        report.add("signer_unknown", where, f"signer {rec.get('signer')!r} with this key is not registered")
        return
    if not keys.verify(signer, signing.message(rec), str(rec.get("signature", ""))):
        report.add("signature_invalid", where, "Ed25519 signature does not verify over the signed fields")
        return
    if signer.retired_at and signer.retired_at <= str(rec.get("time")):
        report.add("signer_retired", where, f"key {signer.id} was retired {signer.retired_at}, "
                                            f"before this signature ({rec.get('time')})")
    since = certified.get(signer.id)
    if since is None or since > str(rec.get("time")):
        report.add("signer_uncertified", where, f"key {signer.id} was not certified when it signed ({rec.get('time')})"
                   + (f"; certified {since}" if since else ""))
    if rec.get("number") != number:
        report.add("signature_invalid", where, f"signature was made for case {rec.get('number')}, not {number}")
        return
    if hashes.get(record / str(rec.get("document"))) != rec.get("sha256"):
        report.add("signature_invalid", where, f"{rec.get('document')} is not the file that was signed")


def _check_record(root: Path, record: Path, log: _Log, signers: dict[str, keys.Signer], certified: dict[str, str],
                  hashes: _Hashes, report: Report) -> None:
    number = record.name
    rel_record = record.relative_to(root).as_posix()
    report.records += 1
    if number not in log.intake:
        report.add("record_not_in_log", number, f"{rel_record} has no intake entry in the audit log")
    manifest_path = record / MANIFEST
    if not manifest_path.is_file():
        report.add("file_missing", f"{rel_record}/{MANIFEST}", "record has no manifest")
        return
    manifest_sha = sha256_file(manifest_path)
    if number in log.manifests and manifest_sha != log.manifests[number]:
        report.add("manifest_changed", f"{rel_record}/{MANIFEST}",
                   "differs from the manifest the audit log last recorded")
    try:
        listed = {f["path"]: f["sha256"] for f in json.loads(manifest_path.read_text(encoding="utf-8"))["files"]}
    except (ValueError, KeyError, TypeError):
        report.add("manifest_changed", f"{rel_record}/{MANIFEST}", "not a readable manifest")
        listed = {}
    for rel, sha in listed.items():
        actual = hashes.get(record / rel)
        if actual is None:
            report.add("file_missing", f"{rel_record}/{rel}", "listed in the manifest, not on disk")
        elif actual != sha:
            report.add("file_changed", f"{rel_record}/{rel}", "SHA-256 differs from the manifest")
    for p in sorted(record.rglob("*")):
        rel = p.relative_to(record).as_posix()
        if p.is_file() and rel != MANIFEST and rel not in listed:
            report.add("unexpected_file", f"{rel_record}/{rel}", "not listed in the manifest")
    for rel, rec in _signature_records(record, report):
        _check_signature(root, record, number, rel, rec, signers, certified, hashes, report)


def _signature_records(record: Path, report: Report) -> list[tuple[str, dict[str, Any]]]:
    try:
        return signing.records(record)
    except ValueError:
        report.add("signature_invalid", record.name, "a signature file is not readable JSON")
        return []


def _check_checkpoints(layout: Layout, log: _Log, signers: dict[str, keys.Signer], report: Report) -> None:
    folder = layout.audit_dir / "checkpoints"
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        where = p.relative_to(layout.root).as_posix()
        report.checkpoints += 1
        try:
            cp = json.loads(p.read_text(encoding="utf-8"))
            fields = {k: cp[k] for k in ("seq", "hash", "time", "signer", "fingerprint")}
        except (ValueError, KeyError):
            report.add("checkpoint_invalid", where, "not a readable checkpoint")
            continue
        signer = signers.get(str(cp["signer"]))
        if signer is None or signer.fingerprint != cp["fingerprint"] \
                or not keys.verify(signer, audit.canonical(fields), str(cp.get("signature", ""))):
            report.add("checkpoint_invalid", where, "signature by a registered key does not verify")
        elif log.line_hashes.get(int(cp["seq"])) != cp["hash"]:
            report.add("checkpoint_invalid", where, f"audit seq {cp['seq']} is no longer the line that was sealed "
                                                    "(history before the checkpoint was rewritten)")


def _check_certificates(layout: Layout, signers: dict[str, keys.Signer], report: Report) -> None:
    """A destruction certificate must carry the signatures it was made with, each over its body; since format 2
    the plan is signed when it is made, so an unfinished one is checked too."""
    for cert in certificate.load_all(layout.root):
        if cert.get("status") != certificate.EXECUTED and int(cert.get("format", 1)) < 2:
            continue
        where = f"{certificate.CERTIFICATES_DIR}/{cert['id']}.json"
        for problem in certificate.problems(cert, signers, int(cert.get("required_signatures", 0))):
            report.add("certificate_invalid", where, problem)


def _check_templates(layout: Layout, claimed: set[str], report: Report) -> None:
    """Templates come from the shipped set (copied by init) or from an audited registration; anything
    else in templates/ was put there behind the archive's back."""
    from archive.documents.templates import SHIPPED

    folder = layout.templates
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        rel = p.relative_to(layout.root).as_posix()
        if not p.is_file() or p.name.startswith(".") or rel in claimed:
            continue
        shipped = SHIPPED / p.name
        if not (shipped.is_file() and sha256_file(shipped) == sha256_file(p)):
            report.add("unexpected_file", rel, "a template file not shipped and not recorded in the audit log")


def _check_claim(root: Path, path: Path, sha: str, seq: int, hashes: _Hashes, report: Report) -> None:
    actual = hashes.get(path)
    where = path.relative_to(root).as_posix()
    if actual is None:
        report.add("file_missing", where, f"named by audit seq {seq}, not on disk")
    elif actual != sha:
        report.add("file_changed", where, f"SHA-256 differs from audit seq {seq}")


def check_records(layout: Layout, records: list[Path]) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """Verify's own checks of the given record folders (manifest and files, what the audit log recorded of
    them, signatures), each record's findings apart: what a destruction run proves before it acts. Also
    returns the audit chain's own findings, without which nothing the log says of a record can be trusted."""
    chain = Report(audit.head(layout.audit_log))
    log = _read_chain(layout.audit_log, chain)
    keyring = trust.load(layout)
    signers = keyring.trusted()
    certified = {sid: since for sid in signers if (since := keyring.certified_at(sid)) is not None}
    wanted = {p.name for p in records}
    claims: dict[str, list[tuple[str, str, int]]] = {}
    for number, rel, sha, seq in log.claims:
        if number in wanted:
            claims.setdefault(number, []).append((rel, sha, seq))
    out = {}
    for record in records:
        report = Report(chain.head)
        hashes = _Hashes(report)
        _check_record(layout.root, record, log, signers, certified, hashes, report)
        for rel, sha, seq in claims.get(record.name, []):
            _check_claim(layout.root, record / rel, sha, seq, hashes, report)
        out[record.name] = report.findings
    return chain.findings, out


def _check_settings(layout: Layout, log: _Log, claimed: set[str], report: Report) -> None:
    """archive.toml must be the version the audit log last applied; applied copies only come from there."""
    where = layout.settings.name
    if layout.settings.is_file():
        if log.settings is None:
            report.add("settings_unapplied", where, f"never applied through `{APPLY_COMMAND}`; "
                                                    "write commands refuse it")
        elif sha256_file(layout.settings) != log.settings[1]:
            report.add("settings_unapplied", where, f"differs from the settings applied at audit seq "
                                                    f"{log.settings[0]}; write commands refuse it until "
                                                    f"`{APPLY_COMMAND}`")
    elif log.settings is not None:
        report.add("settings_unapplied", where, f"missing; audit seq {log.settings[0]} applied it")
    folder = layout.applied_settings
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        rel = p.relative_to(layout.root).as_posix()
        if rel not in claimed:
            report.add("unexpected_file", rel, "not recorded in the audit log")


def run(layout: Layout, numbers: list[str] | None = None,
        progress: Callable[[int, int], None] | None = None) -> Report:
    report = Report(audit.head(layout.audit_log))
    log = _read_chain(layout.audit_log, report)
    # Only keys whose files are their audited registrations verify anything: a key planted in keys/ is no signer.
    keyring = trust.load(layout)
    signers = keyring.trusted()
    certified = {sid: since for sid in signers if (since := keyring.certified_at(sid)) is not None}
    hashes = _Hashes(report)
    records = {p.name: p for p in store.record_dirs(layout)}
    tombstoned = {p.name.removesuffix(TOMBSTONE_SUFFIX) for p in store.tombstones(layout)}
    scope = set(numbers) if numbers else set(records) | log.intake
    for n in sorted(scope):
        if n not in records and n not in tombstoned:
            report.add("record_folder_missing", n, "the audit log records this case; its folder is gone")
    todo = [records[n] for n in sorted(scope) if n in records]
    for start in range(0, len(todo), 64):
        batch = todo[start:start + 64]
        hashes.prefetch([p for r in batch for p in r.rglob("*") if p.is_file() and p.name != MANIFEST])
        for i, record in enumerate(batch, start=start + 1):
            _check_record(layout.root, record, log, signers, certified, hashes, report)
            if progress:
                progress(i, len(todo))
    # A root file may be replaced by a later change (templates.toml on each registration): its last claim counts.
    last_root = {rel: (sha, seq) for number, rel, sha, seq in log.claims if number is None}
    for number, rel, sha, seq in log.claims:
        if number is None and last_root[rel] != (sha, seq):
            continue
        if number is None:
            path = layout.root / rel
        elif number in scope and number in records:
            path = records[number] / rel
        else:
            continue
        _check_claim(layout.root, path, sha, seq, hashes, report)
    claimed_root = {rel for number, rel, _, _ in log.claims if number is None}
    for folder in (layout.keys, layout.audit_dir / "checkpoints", layout.root / certificate.CERTIFICATES_DIR):
        # keys/ holds only audited files: anything else there (a note, a private key) is a finding too
        found = folder.rglob("*") if folder == layout.keys else folder.glob("*.json")
        for p in sorted(found) if folder.is_dir() else []:
            rel = p.relative_to(layout.root).as_posix()
            if rel not in claimed_root and not p.is_dir():
                report.add("unexpected_file", rel, "not recorded in the audit log")
    for kind, where, detail in keyring.findings():
        report.add(kind, where, detail)
    _check_templates(layout, claimed_root, report)
    _check_settings(layout, log, claimed_root, report)
    _check_certificates(layout, signers, report)
    _check_checkpoints(layout, log, signers, report)
    return report
