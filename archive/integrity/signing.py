"""Electronic signatures with meaning (21 CFR 11.50/11.70): who, as what, when, over which exact file."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archive import vocab
from archive.integrity.keys import KeyError_, Signer, open_private, short, signer_for
from archive.record.grammar import SIGNATURES_DIR, document_id
from archive.store.audit import canonical

SIGNED_FIELDS = ("signer", "name", "title", "meaning", "time", "document", "sha256", "number", "fingerprint",
                 "content_sha256")


@dataclass(frozen=True)
class Credential:
    """An opened private key and the registered signer it belongs to."""

    private: Ed25519PrivateKey
    signer: Signer


def open_credential(keys_dir: Path, key_path: Path, passphrase: str, zone: dt.tzinfo = dt.UTC) -> Credential:
    """The key opened, registered, unretired, its file the audited one, and certified: else nothing signs."""
    return _certified(keys_dir, open_private(key_path, passphrase), key_path, zone)


def open_credential_bytes(keys_dir: Path, key_pem: bytes, passphrase: str, label: str,
                          zone: dt.tzinfo = dt.UTC) -> Credential:
    """open_credential for a key held in memory (the web's upload): the key and passphrase are never written
    anywhere; ``label`` (the uploaded file's name) names the key in errors."""
    from archive.integrity.keys import load_private

    return _certified(keys_dir, load_private(key_pem, passphrase, label), Path(label), zone)


def _certified(keys_dir: Path, private: Ed25519PrivateKey, key_path: Path, zone: dt.tzinfo) -> Credential:
    from archive.integrity import trust

    signer = signer_for(keys_dir, private, key_path, zone)
    problem = trust.load_keys_dir(keys_dir).signing_problem(signer.id)
    if problem:
        raise KeyError_(f"--key {key_path}: {problem}")
    return Credential(private, signer)


def display(sig: dict[str, Any], zone: ZoneInfo) -> dict[str, str]:
    """The human-readable manifestation printed in the form's signature block."""
    local = dt.datetime.fromisoformat(sig["time"].replace("Z", "+00:00")).astimezone(zone)
    offset = local.utcoffset() or dt.timedelta()
    hours = int(offset.total_seconds() // 3600)
    return {"name": sig["name"], "title": f"{sig['title']}({vocab.MEANING[sig['meaning']]})",
            "time": f"{local:%Y年%m月%d日 %H:%M} (UTC{hours:+d})", "date": f"{local:%Y年%m月%d日}",
            "fingerprint": short(sig["fingerprint"])}


def sign_record(cred: Credential, *, meaning: str, time: str, document: str, sha256: str, number: str,
                content_sha256: str) -> dict[str, Any]:
    s = cred.signer
    rec: dict[str, Any] = {"signer": s.id, "name": s.name, "title": s.title, "meaning": meaning, "time": time,
                           "document": document, "sha256": sha256, "number": number,
                           "fingerprint": s.fingerprint, "content_sha256": content_sha256}
    rec["signature"] = base64.b64encode(cred.private.sign(message(rec))).decode("ascii")
    return rec


def message(rec: dict[str, Any]) -> bytes:
    return canonical({k: rec.get(k) for k in SIGNED_FIELDS})


def signature_name(document: str, meaning: str, signer: str) -> str:
    return f"{SIGNATURES_DIR}/{Path(document).name.removesuffix('.docx')}.{meaning}.{signer}.json"


def records(record_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    folder = record_dir / SIGNATURES_DIR
    if not folder.is_dir():
        return []
    return [(f"{SIGNATURES_DIR}/{p.name}", json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(folder.glob("*.json"))]


def carried(record_dir: Path, doc_id: str, content_sha256: str) -> dict[str, dict[str, Any]]:
    """Signatures given to earlier versions of this document with the same content: a new signature
    adds to them. Signatures over different content do not carry: changed content is signed anew."""
    out: dict[str, dict[str, Any]] = {}
    for _, rec in records(record_dir):
        same = document_id(rec["document"]) == doc_id and rec.get("content_sha256") == content_sha256
        if same and (rec["meaning"] not in out or rec["time"] >= out[rec["meaning"]]["time"]):
            out[rec["meaning"]] = rec
    return out
