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
    """A key is made by its owner: the acting person must be the one --name names. It signs once an
    administrator certified it; the archive's first key is its administrator's (see integrity.trust)."""
    from archive.integrity import keys

    arc.acting_as(name.strip(), title.strip(), signer_id,
                  why="a key is created by its owner; that person makes their own key")
    with arc.writing():
        signer, _path, record = keys.create(arc.layout.keys, arc.layout.root, signer_id, name, title, out,
                                            passphrase)
        txn.add_files(arc.layout, {f"keys/{signer_id}.json": record},
                      txn.Entry(arc.actor, "key-create", extra={"signer": signer_id,
                                                                "fingerprint": signer.fingerprint}))
    return signer


def certify_key(arc: Archive, signer_id: str, cred: Credential, role: str = "signer") -> dict[str, Any]:
    """An administrator who is another person vouches for a key (21 CFR 11.100(b)): only then does it sign.
    ``role="admin"`` makes its owner an administrator too (who then certifies keys); a certified signer is
    raised to administrator the same way, by a new certification replacing the old."""
    from archive.integrity import keys, trust

    if role not in vocab.KEY_ROLE:
        raise StateError(f"--role {role!r}: use {', '.join(vocab.KEY_ROLE)}")
    admin = cred.signer
    arc.acting_as(admin.name, admin.title, admin.id, why="a certification is the administrator's act")
    with arc.writing():
        t = trust.load(arc.layout)
        target = t.signers.get(signer_id)
        if target is None:
            raise NotFound(f"key {signer_id} is not registered")
        problem = t.registration_problem(signer_id)
        if problem:
            raise StateError(f"key {signer_id}: {problem}")
        if target.retired_at:
            when = clock.local_text(target.retired_at, arc.settings.zone)
            raise StateError(f"key {signer_id} was retired on {when}; it is certified no more")
        if t.role(admin.id) != "admin":
            raise StateError(f"key {admin.id} ({admin.name}) is not an administrator: only an administrator "
                             f"certifies keys (role {t.role(admin.id) or 'none'})")
        if admin.id == target.id or admin.name == target.name:
            raise StateError(f"key {signer_id} belongs to {target.name}: a key is certified by another person "
                             "than its owner")
        held = t.role(signer_id)
        if held == "admin" or held == role:
            raise StateError(f"key {signer_id} is already certified as {vocab.KEY_ROLE[held]} ({held})")
        now = clock.utc_now()
        data = trust.certification_bytes(target, t.key_sha256(signer_id), role, admin, cred.private, now)
        rel = keys.certification_file(arc.layout.keys, signer_id).relative_to(arc.layout.root).as_posix()
        txn.add_files(arc.layout, {rel: data},
                      txn.Entry(arc.actor, "key-certify", extra={"signer": signer_id, "role": role,
                                                                 "certified_by": admin.id,
                                                                 "fingerprint": target.fingerprint}),
                      replace=frozenset({rel}))
        return dict(json.loads(data))


def retire_key(arc: Archive, signer_id: str, reason: str) -> keys.Signer:
    from archive.integrity import keys

    with arc.writing():
        signer = keys.find(arc.layout.keys, signer_id)
        if signer.retired_at:
            raise StateError(f"key {signer_id} was already retired on "
                             f"{clock.local_text(signer.retired_at, arc.settings.zone)}")
        data = json.dumps({"id": signer_id, "retired_at": clock.utc_now(), "reason": reason},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        txn.add_files(arc.layout, {f"keys/{signer_id}.retired.json": data},
                      txn.Entry(arc.actor, "key-retire", reason=reason, extra={"signer": signer_id}))
    return keys.find(arc.layout.keys, signer_id)


def list_keys(arc: Archive) -> list[dict[str, Any]]:
    from archive.integrity import trust

    t = trust.load(arc.layout)
    return [t.describe(s) for s in t.signers.values()]


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
                digest = documents.digest_for(view, doc_id, arc.layout.templates, arc.settings.organisation,
                                               arc.settings)
                earlier = signing.carried(record, doc_id, digest)
                if earlier.get(meaning, {}).get("signer") == cred.signer.id:
                    raise StateError(f"{doc_id} of case {number} is already signed by {cred.signer.id} as "
                                     f"{meaning}")
                if arc.settings.separate_meanings:
                    _one_meaning_per_person(record, number, doc_id, cred.signer.id, meaning)
                _in_order(arc.settings.signature_order, earlier, number, doc_id, meaning)
                new = {"name": cred.signer.name, "title": cred.signer.title, "meaning": meaning, "time": now,
                       "fingerprint": cred.signer.fingerprint}
                shown = {m: signing.display(r, arc.settings.zone) for m, r in {**earlier, meaning: new}.items()}
                rendered = documents.render(record, view, doc_id, arc.layout.templates, arc.settings.organisation,
                                            signatures=shown, now=now, settings=arc.settings)
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


def _in_order(order: tuple[str, ...], earlier: dict[str, Any], number: str, doc_id: str, meaning: str) -> None:
    """批准 needs 审核, 审核 needs 起草, on this very content ([signatures] order)."""
    if meaning not in order:
        return
    missing = [m for m in order[:order.index(meaning)] if m not in earlier]
    if missing:
        need = ", ".join(f"{vocab.MEANING[m]} ({m})" for m in missing)
        raise StateError(f"{doc_id} of case {number}: {vocab.MEANING[meaning]} ({meaning}) needs {need} on this "
                         "version first (archive.toml [signatures] order)")


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
