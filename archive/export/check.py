"""`archive dossier check DIR`: a dossier verified with nothing but DIR (no archive, no network).

The bag's fixity (bagit validate, then each file by name), every signature record against the public keys
the bag carries, each case's manifest.json against the case's files and against the last manifest its
audit entries record, the PDF against the SHA-256 the bag recorded of it, and the PDF's own signature.
Every problem is a typed finding, as `archive verify` reports them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.export import bag
from archive.integrity import keys, signing
from archive.integrity.verify import Finding
from archive.store.hashing import sha256_file
from archive.store.manifest import MANIFEST

KINDS = ("bag_invalid", "file_changed", "file_missing", "unexpected_file", "manifest_changed",
         "signature_invalid", "signer_unknown", "pdf_signature_invalid")


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    cases: int = 0
    signatures: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, kind: str, where: str, detail: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown finding kind {kind!r}")
        f = Finding(kind, where, detail)
        if f not in self.findings:
            self.findings.append(f)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": {"cases": self.cases, "signatures": self.signatures},
                "findings": [f.as_json() for f in self.findings]}


def _bag_keys(data: Path) -> dict[str, keys.Signer]:
    """The signers' public keys the bag carries, each only if its fingerprint is its key's."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    out = {}
    for p in sorted((data / "keys").glob("*.json")):
        if p.name.endswith(".certified.json"):
            continue
        try:
            k = json.loads(p.read_text(encoding="utf-8"))
            signer = keys.Signer(str(k["id"]), str(k["name"]), str(k["title"]), str(k["public_key"]),
                                 str(k["fingerprint"]), str(k.get("created_at", "")))
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer.public_key))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if keys.fingerprint(public) == signer.fingerprint:
            out[signer.id] = signer
    return out


def _last_manifest(audit_file: Path) -> str | None:
    last = None
    try:
        for raw in audit_file.read_bytes().splitlines():
            entry = json.loads(raw)
            if isinstance(entry, dict) and entry.get("manifest_sha256"):
                last = str(entry["manifest_sha256"])
    except (OSError, ValueError):
        return None
    return last


def _check_record(record: Path, where: str, number: str, signers: dict[str, keys.Signer],
                  last_manifest: str | None, report: CheckReport) -> None:
    manifest = record / MANIFEST
    try:
        listed = {str(f["path"]): str(f["sha256"])
                  for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        report.add("manifest_changed", f"{where}/{MANIFEST}", "missing or not a readable manifest")
        return
    if last_manifest is not None and sha256_file(manifest) != last_manifest:
        report.add("manifest_changed", f"{where}/{MANIFEST}",
                   "differs from the manifest the case's last audit entry recorded")
    for rel, sha in sorted(listed.items()):
        path = record / rel
        if not path.is_file():
            report.add("file_missing", f"{where}/{rel}", "listed in the case's manifest, not in the bag")
        elif sha256_file(path) != sha:
            report.add("file_changed", f"{where}/{rel}", "SHA-256 differs from the case's manifest")
    for p in sorted(record.rglob("*")):
        rel = p.relative_to(record).as_posix()
        if p.is_file() and rel != MANIFEST and rel not in listed:
            report.add("unexpected_file", f"{where}/{rel}", "not listed in the case's manifest")
    try:
        recs = signing.records(record)
    except ValueError:
        report.add("signature_invalid", f"{where}/signatures", "a signature file is not readable JSON")
        return
    for rel, rec in recs:
        report.signatures += 1
        at = f"{where}/{rel}"
        signer = signers.get(str(rec.get("signer")))
        if signer is None or signer.fingerprint != rec.get("fingerprint"):
            report.add("signer_unknown", at, f"no public key of signer {rec.get('signer')!r} in the bag's keys/")
        elif not keys.verify(signer, signing.message(rec), str(rec.get("signature", ""))):
            report.add("signature_invalid", at, "Ed25519 signature does not verify over the signed fields")
        elif rec.get("number") != number:
            report.add("signature_invalid", at, f"signature was made for case {rec.get('number')}, not {number}")
        elif not (record / str(rec.get("document"))).is_file() \
                or sha256_file(record / str(rec.get("document"))) != rec.get("sha256"):
            report.add("signature_invalid", at, f"{rec.get('document')} is not the file that was signed")


def _pdf_signature_findings(folder: Path, signers: dict[str, keys.Signer], signed_by: str | None) -> list[Finding]:
    """The dossier PDF's own signature (PAdES), validated by pyhanko against the public keys in the bag only.
    A PDF the export signed (``signed_by`` in the bag's description) must still carry a valid signature; an
    unsigned export carries none."""
    from archive.export.pdf_signature import check_pdf
    from archive.services.dossier import PDF_NAME

    pdf = folder / PDF_NAME
    if not pdf.is_file():
        return []  # named as missing already
    problems = check_pdf(pdf, {s.fingerprint: s.public_key for s in signers.values()})
    if any("没有签名" in p for p in problems):  # no signature at all
        return [] if signed_by is None else [Finding("pdf_signature_invalid", PDF_NAME, f"the export was signed by "
                                                      f"{signed_by}, but the PDF carries no signature now")]
    return [Finding("pdf_signature_invalid", PDF_NAME, p) for p in problems]


def check(folder: Path) -> CheckReport:
    from archive.services.dossier import (
        AUDIT_FILE,
        BAG_NAME,
        CASES_DIR,
        INFO_FILE,
        PDF_NAME,
        RECORD_DIR,
        TOMBSTONE_FILE,
    )

    report = CheckReport()
    bag_dir = folder / BAG_NAME
    if not (bag_dir / "bagit.txt").is_file():
        report.add("bag_invalid", BAG_NAME, "no BagIt bag (bagit.txt) in the dossier folder")
        return report
    for p in bag.problems(bag_dir, BAG_NAME):
        report.add(p.kind, p.where, p.detail)
    data = bag_dir / "data"
    try:
        info = json.loads((data / INFO_FILE).read_text(encoding="utf-8"))
        pdf_sha = str(info["pdf"]["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        report.add("file_missing", f"{BAG_NAME}/data/{INFO_FILE}", "the dossier's description is missing or unreadable")
        info, pdf_sha = {}, ""
    pdf = folder / PDF_NAME
    if not pdf.is_file():
        report.add("file_missing", PDF_NAME, "the dossier PDF is not in the folder")
    elif pdf_sha and sha256_file(pdf) != pdf_sha:
        report.add("file_changed", PDF_NAME, "SHA-256 differs from the one the bag recorded")
    signers = _bag_keys(data)
    signed_by = info.get("pdf", {}).get("signed_by") if isinstance(info.get("pdf"), dict) else None
    for f in _pdf_signature_findings(folder, signers, signed_by):
        report.add(f.kind, f.where, f.detail)
    listed = [str(c.get("number")) for c in info.get("cases", [])]
    present = sorted(p.name for p in (data / CASES_DIR).iterdir() if p.is_dir()) if (data / CASES_DIR).is_dir() else []
    for number in sorted(set(listed) | set(present)):
        where = f"{BAG_NAME}/data/{CASES_DIR}/{number}"
        case_dir = data / CASES_DIR / number
        report.cases += 1
        if not case_dir.is_dir():
            report.add("file_missing", where, "a case the dossier lists is not in the bag")
            continue
        if number not in listed:
            report.add("unexpected_file", where, "a case the dossier does not list")
        if (case_dir / RECORD_DIR).is_dir():
            _check_record(case_dir / RECORD_DIR, f"{where}/{RECORD_DIR}", number, signers,
                          _last_manifest(case_dir / AUDIT_FILE), report)
        elif not (case_dir / TOMBSTONE_FILE).is_file():
            report.add("file_missing", f"{where}/{RECORD_DIR}", "neither the case's record nor its tombstone")
    return report
