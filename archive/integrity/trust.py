"""Which keys may sign (21 CFR 11.100(b)): a key file registered through the journal (its bytes are those the
audit log recorded), made by its owner, and certified by an administrator who is another person.

The root of trust is the audit log: the archive's first registered key (the first ``key-create`` entry) is
its administrator's and needs no certification. Every other key carries ``keys/ID.certified.json``, signed by
an administrator's key, naming the key's fingerprint, the SHA-256 of its key file and its role: ``signer``, or
``admin`` (may also certify keys). A key file placed in keys/ by hand, or a certification nobody audited,
signs nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archive import vocab
from archive.integrity import keys
from archive.store import audit
from archive.store.hashing import sha256_file
from archive.store.layout import Layout

CERT_FIELDS = ("id", "fingerprint", "key_sha256", "role", "certified_by", "certifier_fingerprint", "time")
_MAX_CHAIN = 64  # certifications certify certifiers; a longer chain than this is a loop


@dataclass(frozen=True)
class Claim:
    """The last audit entry that recorded a file under keys/."""

    sha256: str
    seq: int
    actor: str
    time: str


@dataclass
class Trust:
    layout: Layout
    signers: dict[str, keys.Signer]  # every readable key file, trusted or not
    not_keys: dict[str, str]  # keys/*.json that are no key file → why
    claims: dict[str, Claim]  # "keys/..." → its last audited version
    registered: dict[str, Claim]  # key id → its key-create entry
    first_key: str | None
    _certs: dict[str, dict[str, Any] | str] = field(default_factory=dict)  # id → certification or why unreadable
    _memo: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    # ------------------------------------------------------------ registration

    def key_sha256(self, signer_id: str) -> str | None:
        path = keys.key_file(self.layout.keys, signer_id)
        return sha256_file(path) if path.is_file() else None

    def registration_problem(self, signer_id: str) -> str | None:
        """Why keys/ID.json is not the file its registration recorded (None: it is)."""
        rel = f"keys/{signer_id}.json"
        claim = self.claims.get(rel)
        if claim is None:
            return f"{rel} is not recorded in the audit log (a key is registered only by `archive keys create`)"
        if self.key_sha256(signer_id) != claim.sha256:
            return f"{rel} differs from its audited registration (audit seq {claim.seq})"
        return None

    def trusted(self) -> dict[str, keys.Signer]:
        """The keys whose files are their audited registrations: the only ones whose signatures count."""
        return {sid: s for sid, s in self.signers.items() if self.registration_problem(sid) is None}

    # ------------------------------------------------------------ certification

    def certification(self, signer_id: str) -> dict[str, Any] | str | None:
        if signer_id not in self._certs:
            path = keys.certification_file(self.layout.keys, signer_id)
            if not path.exists():
                return None
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._certs[signer_id] = data if isinstance(data, dict) and all(
                    isinstance(data.get(k), str) for k in (*CERT_FIELDS, "signature")) else "not a certification"
            except (OSError, UnicodeDecodeError, ValueError):
                self._certs[signer_id] = "not readable JSON"
        return self._certs[signer_id]

    def standing(self, signer_id: str, depth: int = 0) -> tuple[str | None, str | None]:
        """(role, None) for a key whose certification holds, (None, why) otherwise."""
        if signer_id in self._memo:
            return self._memo[signer_id]
        result = self._standing(signer_id, depth)
        self._memo[signer_id] = result
        return result

    def _standing(self, signer_id: str, depth: int) -> tuple[str | None, str | None]:
        if depth > _MAX_CHAIN:
            return None, "its certifications certify each other in a loop"
        signer = self.signers.get(signer_id)
        if signer is None:
            return None, f"key {signer_id} is not registered"
        problem = self.registration_problem(signer_id)
        if problem:
            return None, problem
        if signer_id == self.first_key:
            return "admin", None
        cert = self.certification(signer_id)
        rel = keys.certification_file(self.layout.keys, signer_id).relative_to(self.layout.root).as_posix()
        if cert is None:
            return None, (f"key {signer_id} is not certified: an administrator who is another person certifies "
                          f"it with `archive keys certify {signer_id} --key ADMIN.pem`")
        if isinstance(cert, str):
            return None, f"{rel}: {cert}"
        why = self._certificate_problem(signer, cert, depth)
        if why:
            return None, f"{rel}: {why}"
        claim = self.claims.get(rel)
        if claim is None or claim.sha256 != sha256_file(keys.certification_file(self.layout.keys, signer_id)):
            return None, f"{rel}: not the certification the audit log recorded"
        return cert["role"], None

    def _certificate_problem(self, signer: keys.Signer, cert: dict[str, Any], depth: int) -> str | None:
        if cert["id"] != signer.id or cert["fingerprint"] != signer.fingerprint:
            return f"certifies another key than {signer.id}"
        if cert["key_sha256"] != self.key_sha256(signer.id):
            return f"certifies another key file than keys/{signer.id}.json"
        if cert["role"] not in vocab.KEY_ROLE:
            return f"unknown role {cert['role']!r}"
        certifier = self.signers.get(cert["certified_by"])
        if certifier is None or certifier.fingerprint != cert["certifier_fingerprint"]:
            return f"certified by {cert['certified_by']!r}, not a registered key"
        if not keys.verify(certifier, message(cert), cert["signature"]):
            return f"the signature of {certifier.id} does not verify"
        if certifier.id == signer.id or certifier.name == signer.name:
            return f"certified by its owner {signer.name}; a second person certifies a key"
        role, why = self.standing(certifier.id, depth + 1)
        if role != "admin":
            return f"certified by {certifier.id}, not an administrator ({why or 'role ' + str(role)})"
        if certifier.retired_at and certifier.retired_at <= cert["time"]:
            return f"certified by {certifier.id} after that key was retired ({certifier.retired_at})"
        return None

    def signing_problem(self, signer_id: str) -> str | None:
        """Why this key may not sign now (None: it may)."""
        return self.standing(signer_id)[1]

    def role(self, signer_id: str) -> str | None:
        return self.standing(signer_id)[0]

    def certified_at(self, signer_id: str) -> str | None:
        """Since when the key may sign: its registration for the first key, else its certification."""
        if self.role(signer_id) is None:
            return None
        if signer_id == self.first_key:
            return self.signers[signer_id].created_at
        cert = self.certification(signer_id)
        return str(cert["time"]) if isinstance(cert, dict) else None

    def describe(self, signer: keys.Signer) -> dict[str, Any]:
        """What `keys list` shows beside the key: who registered it, who certified it, and its role."""
        reg = self.registered.get(signer.id)
        cert = self.certification(signer.id)
        role, problem = self.standing(signer.id)
        first = signer.id == self.first_key
        return {**signer.as_json(), "registered_by": reg.actor if reg else None,
                "registered_at": reg.time if reg else None, "role": role,
                "certified_by": None if first or not isinstance(cert, dict) else cert["certified_by"],
                "certified_at": None if first or not isinstance(cert, dict) else cert["time"],
                "first_key": first, "can_sign": problem is None and not signer.retired_at,
                "problem": problem}

    def findings(self) -> list[tuple[str, str, str]]:
        """(kind, where, detail) for verify: files that are no key, and certifications that do not hold."""
        out = [("key_invalid", f"keys/{name}", why) for name, why in sorted(self.not_keys.items())]
        for p in sorted(self.layout.keys.glob("*.certified.json")) if self.layout.keys.is_dir() else []:
            sid = p.name.removesuffix(".certified.json")
            rel = p.relative_to(self.layout.root).as_posix()
            if sid not in self.signers:
                out.append(("certification_invalid", rel, f"certifies key {sid}, which is not registered"))
                continue
            if sid == self.first_key:
                continue
            _, why = self.standing(sid)
            if why and why.startswith(rel):
                out.append(("certification_invalid", rel, why.removeprefix(f"{rel}: ")))
        return out


def message(cert: dict[str, Any]) -> bytes:
    return audit.canonical({k: cert.get(k) for k in CERT_FIELDS})


def certification_bytes(signer: keys.Signer, key_sha256: str | None, role: str, certifier: keys.Signer,
                        private: Ed25519PrivateKey, time: str) -> bytes:
    cert: dict[str, Any] = {"id": signer.id, "fingerprint": signer.fingerprint, "key_sha256": key_sha256,
                            "role": role, "certified_by": certifier.id,
                            "certifier_fingerprint": certifier.fingerprint, "time": time}
    cert["signature"] = base64.b64encode(private.sign(message(cert))).decode("ascii")
    return json.dumps(cert, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def load(layout: Layout) -> Trust:
    signers, not_keys = keys.scan(layout.keys)
    claims: dict[str, Claim] = {}
    registered: dict[str, Claim] = {}
    first_key: str | None = None
    for raw in audit.read_lines(layout.audit_log):
        if b'"keys/' not in raw:  # every entry about a key names a file under keys/; skip the rest unparsed
            continue
        try:
            entry = json.loads(raw)
            seq, actor, time = int(entry["seq"]), str(entry["actor"]), str(entry["time"])
            files = [(str(f["path"]), str(f["sha256"])) for f in entry.get("files", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # verify reports an unreadable audit line; it registers nothing
        for path, sha in files:
            if path.startswith("keys/"):
                claims[path] = Claim(sha, seq, actor, time)
        if entry.get("action") == "key-create" and isinstance(entry.get("signer"), str):
            registered.setdefault(entry["signer"], Claim("", seq, actor, time))
            if first_key is None:
                first_key = entry["signer"]
    return Trust(layout, signers, not_keys, claims, registered, first_key)


def load_keys_dir(keys_dir: Path) -> Trust:
    """For callers that know only keys/: it sits in the root (store layout)."""
    return load(Layout(keys_dir.parent))
