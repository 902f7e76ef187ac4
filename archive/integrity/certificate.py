"""The destruction certificate (销毁证明): what a retention run destroyed, by whose authority, with whose witness.

Its JSON is the record; the .docx and .pdf are its human-readable forms. Each signature covers the SHA-256 of
the canonical certificate body (everything but the signatures) together with the signer, meaning and time, so
no case can be added to or dropped from a signed certificate.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.integrity import keys
from archive.store.audit import canonical
from archive.store.hashing import sha256_bytes

if TYPE_CHECKING:
    from archive.integrity.signing import Credential

CERTIFICATES_DIR = "certificates"
IN_PROGRESS = "in_progress"
EXECUTED = "executed"
SIGNED_FIELDS = ("certificate", "body_sha256", "meaning", "signer", "name", "title", "fingerprint", "time")


def certificate_id(year: int, serial: int) -> str:
    return f"XH-{year}-{serial:04d}"


def body_of(cert: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cert.items() if k != "signatures"}


def body_sha256(cert: dict[str, Any]) -> str:
    return sha256_bytes(canonical(body_of(cert)))


def _message(sig: dict[str, Any]) -> bytes:
    return canonical({k: sig.get(k) for k in SIGNED_FIELDS})


def sign(cert: dict[str, Any], cred: Credential, meaning: str, time: str) -> dict[str, Any]:
    s = cred.signer
    sig: dict[str, Any] = {"certificate": cert["id"], "body_sha256": body_sha256(cert), "meaning": meaning,
                           "signer": s.id, "name": s.name, "title": s.title, "fingerprint": s.fingerprint,
                           "time": time}
    sig["signature"] = base64.b64encode(cred.private.sign(_message(sig))).decode("ascii")
    return sig


def problems(cert: dict[str, Any], signers: dict[str, keys.Signer], required: int) -> list[str]:
    """What is wrong with an executed certificate's signatures (empty when sound)."""
    out = []
    digest = body_sha256(cert)
    sigs = cert.get("signatures", [])
    for sig in sigs:
        who = signers.get(str(sig.get("signer")))
        if who is None:
            out.append(f"signed by {sig.get('signer')!r}, a key not registered here")
        elif who.fingerprint != sig.get("fingerprint") or not keys.verify(who, _message(sig),
                                                                          str(sig.get("signature", ""))):
            out.append(f"the {sig.get('meaning')} signature of {sig.get('signer')} does not verify")
        elif sig.get("body_sha256") != digest or sig.get("certificate") != cert.get("id"):
            out.append(f"the {sig.get('meaning')} signature of {sig.get('signer')} was made for other content "
                       "(the certificate was changed after signing)")
    if len({s.get("signer") for s in sigs}) < required:
        out.append(f"{len(sigs)} signature(s), {required} distinct signers required")
    return out


def load_all(root: Path) -> list[dict[str, Any]]:
    folder = root / CERTIFICATES_DIR
    out = []
    for p in sorted(folder.glob("XH-*.json")) if folder.is_dir() else []:
        out.append(json.loads(p.read_text(encoding="utf-8")))
    return out
