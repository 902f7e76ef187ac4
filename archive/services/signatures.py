"""Signers' keys, signatures on documents, and checkpoints of the audit chain."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import clock, vocab
from archive.documents import render as documents
from archive.errors import NotFound, StateError
from archive.record import folders
from archive.record import grammar as g
from archive.record import reader as casefile
from archive.services.archive import Archive
from archive.store import audit, txn
from archive.store.hashing import sha256_file

if TYPE_CHECKING:
    from archive.integrity import keys
    from archive.integrity.signing import Credential


def create_key(arc: Archive, signer_id: str, name: str, title: str, out: Path, passphrase: str) -> keys.Signer:
    from archive.integrity import keys

    with arc.writing():
        signer, _path, record = keys.create(arc.layout.keys, arc.layout.root, signer_id, name, title, out,
                                            passphrase)
        txn.add_files(arc.layout, {f"keys/{signer_id}.json": record},
                      txn.Entry(arc.actor, "key-create", extra={"signer": signer_id,
                                                                "fingerprint": signer.fingerprint}))
    return signer


def retire_key(arc: Archive, signer_id: str, reason: str) -> keys.Signer:
    from archive.integrity import keys

    with arc.writing():
        signer = keys.find(arc.layout.keys, signer_id)
        if signer.retired_at:
            raise StateError(f"key {signer_id} was already retired on {signer.retired_at}")
        data = json.dumps({"id": signer_id, "retired_at": clock.utc_now(), "reason": reason},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        txn.add_files(arc.layout, {f"keys/{signer_id}.retired.json": data},
                      txn.Entry(arc.actor, "key-retire", reason=reason, extra={"signer": signer_id}))
    return keys.find(arc.layout.keys, signer_id)


def list_keys(arc: Archive) -> list[dict[str, Any]]:
    from archive.integrity import keys

    return [s.as_json() for s in keys.load_all(arc.layout.keys).values()]


def sign(arc: Archive, number: str, cred: Credential, meaning: str, doc_ids: list[str] | None = None) -> list[str]:
    """Re-render each document with its signature block filled, and sign that version's exact bytes."""
    from archive.integrity import signing

    if meaning not in vocab.DOCUMENT_MEANINGS:
        raise StateError(f"--meaning {meaning!r}: use {', '.join(vocab.DOCUMENT_MEANINGS)}")
    arc.acting_as(cred.signer.name, cred.signer.title, cred.signer.id)
    with arc.writing():
        record = folders.find_record(arc.layout, number)
        view = casefile.load(record)
        targets = doc_ids or list(view.documents)
        for doc_id in targets:
            if doc_id not in view.documents:
                raise NotFound(f"case {number} has no document {doc_id!r} "
                               f"(it has: {', '.join(view.documents) or 'none'})")
        made: list[str] = []

        def write() -> None:
            now = clock.utc_now()
            for doc_id in targets:
                digest = documents.digest_for(view, doc_id, arc.layout.templates, arc.settings.organisation)
                earlier = signing.carried(record, doc_id, digest)
                if earlier.get(meaning, {}).get("signer") == cred.signer.id:
                    raise StateError(f"{doc_id} of case {number} is already signed by {cred.signer.id} as "
                                     f"{meaning}")
                if arc.settings.separate_meanings:
                    _one_meaning_per_person(record, number, doc_id, cred.signer.id, meaning)
                new = {"name": cred.signer.name, "title": cred.signer.title, "meaning": meaning, "time": now,
                       "fingerprint": cred.signer.fingerprint}
                shown = {m: signing.display(r, arc.settings.zone) for m, r in {**earlier, meaning: new}.items()}
                rendered = documents.render(record, view, doc_id, arc.layout.templates, arc.settings.organisation,
                                            signatures=shown, now=now)
                rec = signing.sign_record(cred, meaning=meaning, time=now, document=rendered.docx,
                                          sha256=sha256_file(record / rendered.docx), number=number,
                                          content_sha256=digest)
                name = signing.signature_name(rendered.docx, meaning, cred.signer.id)
                (record / g.SIGNATURES_DIR).mkdir(exist_ok=True)
                with (record / name).open("x", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec, ensure_ascii=False, indent=1) + "\n")
                made.extend([rendered.docx, name])

        txn.change_record(arc.layout, record, number,
                          txn.Entry(arc.actor, "sign", number,
                                    extra={"signer": cred.signer.id, "meaning": meaning, "documents": targets}),
                          write, arc.refresh)
    return made


def _one_meaning_per_person(record: Path, number: str, doc_id: str, signer: str, meaning: str) -> None:
    """Segregation of duties: who drafted a document does not also review or approve it."""
    from archive.integrity import signing

    for _, rec in signing.records(record):
        if g.document_id(rec["document"]) == doc_id and rec["signer"] == signer and rec["meaning"] != meaning:
            raise StateError(f"{doc_id} of case {number}: key {signer} already signed it as "
                             f"{vocab.MEANING[rec['meaning']]} ({rec['meaning']}); one person may not also sign it as "
                             f"{vocab.MEANING[meaning]} (archive.toml [signatures] separate_meanings)")


def seal(arc: Archive, cred: Credential) -> dict[str, Any]:
    """A person signs the audit chain's head: rewriting history before it would need their key."""
    arc.acting_as(cred.signer.name, cred.signer.title, cred.signer.id)
    with arc.writing():
        head = audit.head(arc.layout.audit_log)
        if head.seq == 0:
            raise StateError("the audit log is empty: nothing to seal")
        cp: dict[str, Any] = {"seq": head.seq, "hash": head.hash, "time": clock.utc_now(),
                              "signer": cred.signer.id, "fingerprint": cred.signer.fingerprint}
        cp["signature"] = base64.b64encode(cred.private.sign(audit.canonical(cp))).decode("ascii")
        data = json.dumps(cp, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        txn.add_files(arc.layout, {f"audit/checkpoints/{head.seq:08d}.json": data},
                      txn.Entry(arc.actor, "seal", extra={"sealed_seq": head.seq, "sealed_hash": head.hash,
                                                          "signer": cred.signer.id}))
    return cp
