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


# Since format 2 the approver and the witness sign the plan when it is made (the approval is of the plan);
# what the run adds when it acts stays outside what they signed. Format 1 signed the executed certificate.
FORMAT = 2
EXECUTION_FIELDS = frozenset({"signatures", "status", "executed_at", "executed_by", "finished_by", "destroyed",
                              "not_destroyed"})


def body_of(cert: dict[str, Any]) -> dict[str, Any]:
    if int(cert.get("format", 1)) >= 2:
        return {k: v for k, v in cert.items() if k not in EXECUTION_FIELDS}
    return {k: v for k, v in cert.items() if k != "signatures"}


def is_person(name: str, signer: keys.Signer) -> bool:
    """``name`` is exactly the registered person: their name, or title and name as registered."""
    return name in (signer.name, f"{signer.title} {signer.name}")


def same_person(a: keys.Signer, b: keys.Signer) -> bool:
    """One person under two keys: the same name once titles, bracketed notes （监销）/(代签) and spaces are
    set aside."""
    return bool(a.id == b.id or a.fingerprint == b.fingerprint or person_key(a) == person_key(b))


def person_key(s: keys.Signer) -> str:
    import re

    name = re.sub(r"[（(][^）)]*[）)]", "", s.name)
    name = re.sub(r"\s+", "", name)
    title = re.sub(r"\s+", "", s.title)
    if title and name.startswith(title) and len(name) > len(title):
        name = name[len(title):]
    return name


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
    if int(cert.get("format", 1)) >= 2:
        out += _names_match_signers(cert, signers)
    return out


def _names_match_signers(cert: dict[str, Any], signers: dict[str, keys.Signer]) -> list[str]:
    """The names printed as 批准人/监销人 are the people whose signatures stand beside them, and what the run
    says it destroyed is what was approved."""
    out = []
    for sig in cert.get("signatures", []):
        who = signers.get(str(sig.get("signer")))
        if who is None:
            continue
        named = cert.get("approved_by") if sig.get("meaning") == "approved" else cert.get("witness")
        if not is_person(str(named), who):
            out.append(f"{named!r} is printed beside the {sig.get('meaning')} signature of {who.title} {who.name}")
    planned = {c.get("number") for c in cert.get("cases", [])}
    extra = [n for n in cert.get("destroyed", []) if n not in planned]
    if extra:
        out.append(f"lists as destroyed {', '.join(map(str, extra))}, which the signed plan does not hold")
    return out


def load_all(root: Path) -> list[dict[str, Any]]:
    folder = root / CERTIFICATES_DIR
    out = []
    for p in sorted(folder.glob("XH-*.json")) if folder.is_dir() else []:
        out.append(json.loads(p.read_text(encoding="utf-8")))
    return out
