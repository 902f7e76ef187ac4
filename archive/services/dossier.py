"""The inspector's dossier: the selected cases as one bookmarked PDF and a BagIt bag of their originals.

The run reads the records under the shared lock (a writer's change is never half-copied), builds everything
in a folder beside ``--out`` whose name says it is unfinished, renames it into place only when whole, and
then records the hand-over in the audit log: who, when, the selection, the cases, the bag's tag-manifest
SHA-256. A run that fails leaves neither a dossier nor an audit entry.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import clock
from archive.errors import InputError, NotFound
from archive.integrity import signing, trust
from archive.record import folders
from archive.record.grammar import TOMBSTONE_SUFFIX
from archive.services.archive import Archive
from archive.store import audit, txn
from archive.store.hashing import sha256_file

if TYPE_CHECKING:
    from archive.integrity.signing import Credential

PDF_NAME = "dossier.pdf"
BAG_NAME = "bag"
INFO_FILE = "dossier.json"  # in the bag's data/: what was exported, by whom, when, and the PDF's SHA-256
CASES_DIR = "cases"
KEYS_DIR = "keys"
# Inside data/cases/NUMBER/: the record folder exactly as archived, the PDFs made of it, its audit entries;
# a destroyed case holds its tombstone and its destruction certificate instead.
RECORD_DIR, PDF_DIR, AUDIT_FILE = "record", "pdf", "audit.jsonl"
TOMBSTONE_FILE, CERTIFICATE_DIR = "tombstone.json", "certificate"

Progress = Callable[[int, int], None]


@dataclass
class Selected:
    """A case to export: its record folder, or (destroyed) its tombstone."""

    number: str
    record: Path | None = None
    tombstone: Path | None = None


@dataclass
class Gathered:
    """What the bag holds of one case, read under the lock: its folder in the bag and its audit lines."""

    number: str
    folder: Path
    destroyed: bool
    audit_lines: list[bytes] = field(default_factory=list)
    signers: set[str] = field(default_factory=set)


def describe(numbers: list[str], query: str | None) -> str:
    return f"查询 {query}" if query is not None else "编号 " + " ".join(numbers)


def select(arc: Archive, numbers: list[str], query: str | None) -> list[Selected]:
    """The cases named, or matched by the search language; a number that names nothing, or a query that
    matches nothing, refuses the whole export (NotFound: exit 1) before anything is written."""
    if bool(numbers) == (query is not None):
        raise InputError("command line", "NUMBER... | --query",
                         "name the cases (NUMBER...) or give --query QUERY, not both and not neither")
    if query is not None:
        from archive.derived.stores import index_guard
        from archive.search.query import parse

        parsed = parse(query)
        with index_guard():
            _, total = arc.engine.search(parsed, limit=1)
            hits, _ = arc.engine.search(parsed, limit=max(total, 1))
        numbers = sorted({h.number for h in hits})
        if not numbers:
            raise NotFound(f"--query {query!r}: no case matched; nothing was written")
    out: list[Selected] = []
    for number in dict.fromkeys(numbers):
        try:
            out.append(Selected(number, record=folders.find_record(arc.layout, number, zone=arc.settings.zone)))
        except NotFound as exc:
            tomb = next(iter(arc.layout.records.glob(f"[0-9]*/[0-9]*/{number}{TOMBSTONE_SUFFIX}")), None) \
                if "destroyed" in str(exc) else None
            if tomb is None:
                raise NotFound(f"{exc}; nothing was written") from None
            out.append(Selected(number, tombstone=tomb))
    return out


def target(arc: Archive, out: Path) -> Path:
    """``--out``: a folder that does not exist yet (its parent does) or is empty, never inside the root."""
    resolved = out.absolute().resolve()
    try:
        resolved.relative_to(arc.layout.root.resolve())
    except ValueError:
        pass
    else:
        raise InputError("command line", "--out", f"{out}: inside the archive root {arc.layout.root}; "
                                                  "write the dossier elsewhere")
    if resolved.exists() and not resolved.is_dir():
        raise InputError("command line", "--out", f"{out}: is a file; name a new or empty folder")
    if resolved.is_dir() and any(resolved.iterdir()):
        raise InputError("command line", "--out", f"{out}: folder is not empty; name a new or empty folder")
    if not resolved.parent.is_dir():
        raise InputError("command line", "--out", f"{out}: folder {resolved.parent} does not exist")
    return resolved


def _audit_by_case(arc: Archive, wanted: set[str]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {n: [] for n in wanted}
    for raw in audit.read_lines(arc.layout.audit_log):
        entry = audit.parse_entry(raw)
        if entry is not None and entry.get("number") in wanted:
            out[str(entry["number"])].append(raw)
    return out


def last_checkpoint(arc: Archive) -> dict[str, Any] | None:
    folder = arc.layout.audit_dir / "checkpoints"
    best: dict[str, Any] | None = None
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            cp = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(cp, dict) and isinstance(cp.get("seq"), int) and (best is None or cp["seq"] > best["seq"]):
            best = cp
    return best


def _gather(arc: Archive, cases: list[Selected], payload: Path, pdf_signer: str | None
            ) -> tuple[list[Gathered], dict[str, Any]]:
    """Copy each case into the bag's payload; what the audit log says of them; the chain's head; the public
    keys of everyone who signed (records, the last checkpoint, the dossier PDF itself)."""
    from archive.integrity import certificate

    gathered = []
    with arc.consistent():
        lines = _audit_by_case(arc, {c.number for c in cases})
        for c in cases:
            folder = payload / CASES_DIR / c.number
            folder.mkdir(parents=True)
            g = Gathered(c.number, folder, destroyed=c.record is None, audit_lines=lines[c.number])
            if c.record is not None:
                shutil.copytree(c.record, folder / RECORD_DIR)
                g.signers = {str(rec.get("signer")) for _, rec in signing.records(folder / RECORD_DIR)}
            else:
                assert c.tombstone is not None
                shutil.copy2(c.tombstone, folder / TOMBSTONE_FILE)
                cert_id = str(json.loads(c.tombstone.read_text(encoding="utf-8")).get("certificate", ""))
                (folder / CERTIFICATE_DIR).mkdir()
                for ext in (".json", ".pdf", ".docx"):
                    src = arc.layout.root / certificate.CERTIFICATES_DIR / f"{cert_id}{ext}"
                    if cert_id and src.is_file():
                        shutil.copy2(src, folder / CERTIFICATE_DIR / src.name)
            (folder / AUDIT_FILE).write_bytes(b"".join(line + b"\n" for line in g.audit_lines))
            gathered.append(g)
        head = audit.head(arc.layout.audit_log)
        chain = {"head": {"seq": head.seq, "hash": head.hash}, "checkpoint": last_checkpoint(arc)}
        signers = {s for g in gathered for s in g.signers}
        if chain["checkpoint"]:
            signers.add(str(chain["checkpoint"].get("signer")))
        if pdf_signer:
            signers.add(pdf_signer)
        (payload / KEYS_DIR).mkdir()
        for sid in sorted(signers):
            for name in (f"{sid}.json", f"{sid}.certified.json"):
                if (arc.layout.keys / name).is_file():
                    shutil.copy2(arc.layout.keys / name, payload / KEYS_DIR / name)
    return gathered, chain


def signature_rows(arc: Archive, record: Path) -> list[dict[str, Any]]:
    """Every signature record of a case copy, verified against the archive's trusted keys."""
    signers = trust.load(arc.layout).trusted()
    from archive.integrity import keys

    rows = []
    for rel, rec in signing.records(record):
        signer = signers.get(str(rec.get("signer")))
        doc = record / str(rec.get("document"))
        ok = (signer is not None and signer.fingerprint == rec.get("fingerprint")
              and keys.verify(signer, signing.message(rec), str(rec.get("signature", "")))
              and rec.get("number") == record.parent.name and doc.is_file() and sha256_file(doc) == rec.get("sha256"))
        rows.append({"file": rel, "document": rec.get("document"), "name": rec.get("name"),
                     "title": rec.get("title"), "meaning": rec.get("meaning"), "time": rec.get("time"),
                     "verified": ok})
    return rows


def export(arc: Archive, numbers: list[str], query: str | None, out: Path, *, include_versions: bool = False,
           signer: Credential | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Build the dossier at ``out``; returns {"pdf", "bag", "cases"}. ``signer``: the finished PDF is signed
    (PAdES, pyhanko) with that person's registered key, last, before the bag records its SHA-256; their
    public key goes into the bag so `dossier check` verifies it with nothing but the folder."""
    from archive.export import bag
    from archive.export.dossier_pdf import build

    cases = select(arc, numbers, query)
    final = target(arc, out)
    work = final.parent / f".{final.name}.{os.getpid()}.unfinished"
    now = clock.utc_now()
    selection = describe(numbers, query)
    try:
        with txn.before_commit(f"dossier {final}"):
            work.mkdir()
            payload = work / BAG_NAME
            payload.mkdir()
            gathered, chain = _gather(arc, cases, payload, signer.signer.id if signer else None)
            if progress:
                progress(1, 4)
            pdf_path = work / PDF_NAME
            build(arc, gathered, chain, pdf_path, work / "pages", selection=selection, exported_at=now,
                  include_versions=include_versions, progress=progress)
            shutil.rmtree(work / "pages")
            if signer is not None:
                from archive.export.pdf_signature import sign_pdf

                sign_pdf(pdf_path, pdf_path, signer, reason=f"检查档案导出:{selection}",
                         location=arc.settings.organisation, replace=True)
            info: dict[str, Any] = {
                    "organisation": arc.settings.organisation, "exported_by": arc.actor, "exported_at": now,
                    "selection": {"numbers": numbers, "query": query, "text": selection},
                    "cases": [{"number": g.number, "destroyed": g.destroyed} for g in gathered],
                    "pdf": {"name": PDF_NAME, "sha256": sha256_file(pdf_path),
                            "signed_by": signer.signer.id if signer else None}, "audit": chain}
            (payload / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            bag.make(payload, {"External-Identifier": f"dossier {now}",
                               "Source-Organization": arc.settings.organisation,
                               "Bagging-Date": clock.today(arc.settings.zone).isoformat(),
                               "External-Description": f"{selection}; {len(gathered)} case(s)"})
            tag_sha = bag.tag_manifest_sha256(payload)
            if progress:
                progress(4, 4)
            if final.exists():
                final.rmdir()  # empty, checked above
            os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    cases_out = [g.number for g in gathered]
    result: dict[str, Any] = {"pdf": str(final / PDF_NAME), "bag": str(final / BAG_NAME), "cases": cases_out}
    try:
        with arc.writing(derived_needed=False):
            txn.log_event(arc.layout, txn.Entry(arc.actor, "dossier", extra={
                "selection": info["selection"], "cases": cases_out, "exported_at": now,
                "out": str(final), "tagmanifest_sha256": tag_sha, "pdf_sha256": info["pdf"]["sha256"]}))
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)  # nothing leaves the archive without its audit entry
        raise
    return result

