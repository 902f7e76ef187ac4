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
from archive.store.atomic import is_temp_name
from archive.store.hashing import sha256_bytes, sha256_file
from archive.store.layout import Layout
from archive.store.manifest import MANIFEST

KINDS = ("file_changed", "file_missing", "unexpected_file", "record_folder_missing", "record_not_in_log",
         "manifest_changed", "signature_invalid", "signer_unknown", "signer_retired", "chain_broken",
         "checkpoint_invalid", "certificate_invalid", "key_invalid", "certification_invalid", "signer_uncertified",
         "settings_unapplied",
         # the audit log's end, and what is kept of it outside the root
         "audit_torn_tail", "audit_line_unreadable", "head_mismatch", "mirror_mismatch",
         # the access register (查阅登记), chained like the audit log
         "access_chain_broken", "access_line_unreadable", "access_torn_tail",
         # a destroyed case's tombstone against its certificate
         "tombstone_invalid")


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
    head: audit.Head = field(default_factory=lambda: audit.Head(0, audit.GENESIS))  # the last readable entry


def _chain_findings(link: audit.Link, report: Report, log_name: str, unreadable: str, broken: str) -> None:
    """What is wrong with one line's place in a chained log (the audit log, the access register)."""
    if link.entry is None:
        report.add(unreadable, f"{log_name} line {link.line}", f"not a readable {log_name} entry")
        return
    seq = int(link.entry["seq"])
    if seq != link.seq_expected:
        report.add(broken, f"{log_name} seq {seq}", f"found at line {link.line} where seq {link.seq_expected} "
                                                    "belongs (an entry was removed, added or moved)")
    if not link.prev_matches:
        report.add(broken, f"{log_name} seq {seq}", "prev does not match the SHA-256 of the line before "
                                                    "(that line was edited, removed or moved)")


def _read_chain(path: Path, report: Report) -> _Log:
    log = _Log()
    for link in audit.links(path):
        _chain_findings(link, report, "audit", "audit_line_unreadable", "chain_broken")
        entry = link.entry
        if entry is None:
            continue
        seq = int(entry["seq"])
        log.line_hashes[seq] = link.digest
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
        log.head = audit.Head(seq, link.digest)
    return log


def _check_access(layout: Layout, report: Report) -> None:
    """The access register (查阅登记) is chained like the audit log; none at all is fine (no web use yet)."""
    for link in audit.links(layout.access_log):
        _chain_findings(link, report, "access", "access_line_unreadable", "access_chain_broken")
    _check_torn_tail(layout, layout.access_log, "access_torn_tail", "the next access entry drops them", report)


def _check_torn_tail(layout: Layout, path: Path, kind: str, then: str, report: Report) -> None:
    tail = audit.torn_tail(path)
    if tail is not None:
        report.add(kind, path.relative_to(layout.root).as_posix(),
                   f"{len(tail)} bytes after the last whole line (SHA-256 {sha256_bytes(tail)}): a line a writer "
                   f"died writing, or added by hand; {then}, recording their size and SHA-256")


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
        if p.is_file() and is_temp_name(p.name):
            _warn_temp_file(report, f"{rel_record}/{rel}", in_record=True)
        elif p.is_file() and rel != MANIFEST and rel not in listed:
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


def _check_certificates(certs: list[dict[str, Any]], signers: dict[str, keys.Signer], report: Report) -> None:
    """A destruction certificate must carry the signatures it was made with, each over its body; since format 2
    the plan is signed when it is made, so an unfinished one is checked too."""
    for cert in certs:
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
        progress: Callable[[int, int], None] | None = None, head: audit.Head | None = None) -> Report:
    """Every check, reading only. ``head``: the head an administrator kept outside the root (--head)."""
    report = Report(audit.Head(0, audit.GENESIS))
    log = _read_chain(layout.audit_log, report)
    report.head = log.head
    _check_audit_end(layout, log, head, report)
    _check_access(layout, report)
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
    for folder in (layout.keys, layout.audit_dir / "checkpoints", layout.root / certificate.CERTIFICATES_DIR,
                   layout.users.parent):
        # keys/ and users/ hold only audited files: anything else there (a note, a private key, a users file
        # put there by hand to let someone in) is a finding too
        found = folder.rglob("*") if folder in (layout.keys, layout.users.parent) else folder.glob("*.json")
        for p in sorted(found) if folder.is_dir() else []:
            rel = p.relative_to(layout.root).as_posix()
            if rel not in claimed_root and not p.is_dir() and not is_temp_name(p.name):  # temp: a warning
                report.add("unexpected_file", rel, "not recorded in the audit log")
    for kind, where, detail in keyring.findings():
        report.add(kind, where, detail)
    _check_templates(layout, claimed_root, report)
    _check_settings(layout, log, claimed_root, report)
    certs = _load_certificates(layout, report)
    _check_certificates(certs, signers, report)
    _check_checkpoints(layout, log, signers, report)
    _check_tombstones(layout, log, certs, report)
    _check_temp_files(layout, report)
    return report


# ---------------------------------------------------------------- the end of the audit log

def _check_audit_end(layout: Layout, log: _Log, head: audit.Head | None, report: Report) -> None:
    """The chain proves the log was not changed in the middle; its end needs an anchor kept elsewhere."""
    _check_torn_tail(layout, layout.audit_log, "audit_torn_tail",
                     "the next write command drops them with an audit entry", report)
    if head is not None:
        _check_head(log, head, report)
    if layout.audit_mirror is not None:
        _check_mirror(layout.audit_mirror, log, report)


def parse_head(text: str) -> audit.Head:
    """``SEQ:SHA256`` as printed by verify ("audit head: seq N sha256 H"), e.g. ``42:9f86d0…``."""
    seq, _, digest = text.partition(":")
    if not (seq.isdigit() and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise ValueError(f"{text!r} is not SEQ:SHA256 (a sequence number, a colon, 64 lower-case hex digits)")
    return audit.Head(int(seq), digest)


def _check_head(log: _Log, given: audit.Head, report: Report) -> None:
    """The log must end exactly at the head kept outside: not before it, not elsewhere, not after it."""
    where = f"audit seq {given.seq}"
    actual = log.line_hashes.get(given.seq) if given.seq else audit.GENESIS
    if actual is None:
        report.add("head_mismatch", where, f"the log ends at seq {log.head.seq}, before the head given: "
                                           "entries were removed")
    elif actual != given.hash:
        report.add("head_mismatch", where, "is not the entry whose SHA-256 was kept (edited or replaced)")
    if log.head.seq > given.seq:
        report.add("head_mismatch", f"audit seq {given.seq + 1}",
                   f"entries seq {given.seq + 1}..{log.head.seq} were appended after the head given; if they are "
                   "changes made since it was kept, verify against the newer head")


def _check_mirror(folder: Path, log: _Log, report: Report) -> None:
    """Every head the mirror received must still be the log's entry, and the log may not outrun the mirror."""
    heads = audit.read_mirror(folder)
    mirrored = {h["seq"]: h["hash"] for h in heads or []}
    if not mirrored:
        if log.head.seq:
            report.add("mirror_mismatch", str(folder / audit.MIRROR_FILE),
                       "[audit] mirror is set but the mirror file is missing or holds no head")
        return
    for seq, digest in sorted(mirrored.items()):
        if seq <= log.head.seq and log.line_hashes.get(seq) != digest:
            report.add("mirror_mismatch", f"audit seq {seq}", "differs from the head the mirror received "
                                                              "(edited, replaced or removed)")
    top = max(mirrored)
    if top > log.head.seq:
        report.add("mirror_mismatch", f"audit seq {top}", f"the log ends at seq {log.head.seq}, the mirror at "
                                                          f"{top}: entries were removed")
    elif log.head.seq > top:
        report.add("mirror_mismatch", f"audit seq {top + 1}",
                   f"entries seq {top + 1}..{log.head.seq} are not in the mirror: written outside the archive, "
                   "or while the mirror could not be reached")


# ---------------------------------------------------------------- tombstones and their certificates

def _load_certificates(layout: Layout, report: Report) -> list[dict[str, Any]]:
    folder = layout.root / certificate.CERTIFICATES_DIR
    out = []
    for p in sorted(folder.glob("XH-*.json")) if folder.is_dir() else []:
        try:
            cert = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(cert, dict) or not isinstance(cert.get("id"), str) \
                    or not isinstance(cert.get("cases"), list):
                raise ValueError(p.name)
        except (ValueError, OSError):
            report.add("certificate_invalid", p.relative_to(layout.root).as_posix(), "not a readable certificate")
            continue
        out.append(cert)
    return out


TOMBSTONE_FIELDS = ("number", "received_month", "category", "closed_at", "rule", "retention_until",
                    "manifest_sha256")


def _check_tombstones(layout: Layout, log: _Log, certs: list[dict[str, Any]], report: Report) -> None:
    """A tombstone is the file of a destroy entry and one case of a certificate: its number, certificate id,
    manifest hash and retention date are that certificate's; one no certificate lists was not destroyed here."""
    destroyed = {rel: (sha, seq) for _n, rel, sha, seq in log.claims if rel.endswith(TOMBSTONE_SUFFIX)}
    by_id = {str(c["id"]): c for c in certs}
    for p in store.tombstones(layout):
        rel = p.relative_to(layout.root).as_posix()
        number = p.name.removesuffix(TOMBSTONE_SUFFIX)
        if rel not in destroyed:
            report.add("tombstone_invalid", rel, "no destroy entry in the audit log left this tombstone")
        elif destroyed[rel][0] != sha256_file(p):
            report.add("file_changed", rel, f"SHA-256 differs from audit seq {destroyed[rel][1]}")
        try:
            tomb = json.loads(p.read_text(encoding="utf-8"))
            cert_id = str(tomb["certificate"])
        except (ValueError, KeyError, TypeError):
            report.add("tombstone_invalid", rel, "not a readable tombstone")
            continue
        cert = by_id.get(cert_id)
        if cert is None:
            report.add("tombstone_invalid", rel, f"names certificate {cert_id}, which is not in "
                                                 f"{certificate.CERTIFICATES_DIR}/: no certificate lists case {number}")
            continue
        case = next((c for c in cert["cases"] if isinstance(c, dict) and c.get("number") == number), None)
        if case is None:
            report.add("tombstone_invalid", rel, f"certificate {cert_id} does not list case {number}")
            continue
        # Since format 2 `cases` is the signed plan and `destroyed` what the executed run took.
        if cert.get("status") == certificate.EXECUTED and "destroyed" in cert and number not in cert["destroyed"]:
            report.add("tombstone_invalid", rel, f"certificate {cert_id} does not list case {number} as destroyed")
            continue
        for key in TOMBSTONE_FIELDS:
            if tomb.get(key) != case.get(key):
                report.add("tombstone_invalid", rel, f"{key} {tomb.get(key)!r} differs from certificate "
                                                     f"{cert_id} ({case.get(key)!r})")
        month = str(case.get("received_month", ""))
        if p.parent.relative_to(layout.records).as_posix() != month.replace("-", "/"):
            report.add("tombstone_invalid", rel, f"not in the folder of its month {month}")


# ---------------------------------------------------------------- temp files a killed writer left

def _warn_temp_file(report: Report, where: str, in_record: bool) -> None:
    how = ("`archive rebuild` removes it (so does the next write command, if the change it belonged to is "
           "still open)" if in_record else "the next write command removes it (its recovery)")
    report.warnings.append({"kind": "temp_file_left", "where": where,
                            "detail": f"a temporary file a killed writer left, not archive content: {how}"})


def _check_temp_files(layout: Layout, report: Report) -> None:
    """Record folders are scanned with their records; here the root's other folders and the month folders
    (where a tombstone is written)."""
    months = sorted(p for p in layout.records.glob("[0-9]*/[0-9]*") if p.is_dir()) if layout.records.is_dir() else []
    for folder in [*layout.outside_records(), *months]:
        for p in sorted(folder.iterdir()) if folder.is_dir() else []:
            if p.is_file() and is_temp_name(p.name):
                _warn_temp_file(report, p.relative_to(layout.root).as_posix(), in_record=False)
