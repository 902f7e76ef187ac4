"""Signers' Ed25519 keys: private keys encrypted outside the archive, public keys registered under keys/."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from archive import clock
from archive.clock import local_text
from archive.errors import ArchiveError, NotFound
from archive.store import output

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}")
MIN_PASSPHRASE = 8


class KeyError_(ArchiveError):
    """A key cannot be made, opened or used."""


@dataclass(frozen=True)
class Signer:
    id: str
    name: str
    title: str
    public_key: str  # base64 of the raw 32 bytes
    fingerprint: str
    created_at: str
    retired_at: str | None = None

    def public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def short(fp: str) -> str:
    return " ".join(fp[i:i + 4] for i in range(0, 16, 4))


def key_file(keys_dir: Path, signer_id: str) -> Path:
    return keys_dir / f"{signer_id}.json"


def retirement_file(keys_dir: Path, signer_id: str) -> Path:
    return keys_dir / f"{signer_id}.retired.json"


def certification_file(keys_dir: Path, signer_id: str) -> Path:
    return keys_dir / f"{signer_id}.certified.json"


# Files in keys/ that belong to a key but are not key files themselves.
COMPANION_SUFFIXES = (".retired.json", ".certified.json")
_FIELDS = frozenset(Signer.__dataclass_fields__) - {"retired_at"}


def _parse(path: Path) -> Signer | str:
    """The signer a key file holds, or why it holds none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return "not readable JSON"
    if not isinstance(data, dict) or set(data) != _FIELDS or not all(isinstance(data[k], str) for k in _FIELDS):
        return f"not a key file (a key file holds exactly {', '.join(sorted(_FIELDS))} as text)"
    if data["id"] != path.name.removesuffix(".json"):
        return f"holds key {data['id']!r}, not the key its name says"
    signer = Signer(**data)
    try:
        public = signer.public()
    except ValueError:
        return "public_key is not an Ed25519 public key"
    if fingerprint(public) != signer.fingerprint:
        return "fingerprint is not the SHA-256 of its public key"
    retired = retirement_file(path.parent, signer.id)
    if retired.exists():
        try:
            when = json.loads(retired.read_text(encoding="utf-8"))["retired_at"]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            when = None
        # An unreadable retirement still retires the key: it signs nothing until someone looks.
        signer = replace(signer, retired_at=str(when) if isinstance(when, str) and when else "0000-unreadable")
    return signer


def scan(keys_dir: Path) -> tuple[dict[str, Signer], dict[str, str]]:
    """Every key file under keys/ as a signer, and each ``*.json`` that is not one with the reason
    (ignored as a key: a stray file never becomes a signer or stops the archive from reading its keys)."""
    out: dict[str, Signer] = {}
    bad: dict[str, str] = {}
    if not keys_dir.is_dir():
        return out, bad
    for p in sorted(keys_dir.glob("*.json")):
        if p.name.endswith(COMPANION_SUFFIXES) or not p.is_file():
            continue
        parsed = _parse(p)
        if isinstance(parsed, str):
            bad[p.name] = parsed
        else:
            out[parsed.id] = parsed
    return out, bad


def load_all(keys_dir: Path) -> dict[str, Signer]:
    return scan(keys_dir)[0]


def by_fingerprint(keys_dir: Path) -> dict[str, Signer]:
    return {s.fingerprint: s for s in load_all(keys_dir).values()}


def create(keys_dir: Path, root: Path, signer_id: str, name: str, title: str, out: Path,
           passphrase: str) -> tuple[Signer, Path, bytes]:
    """Make a key pair; write the encrypted private key to ``out`` (0600) and return the public record."""
    if not _ID.fullmatch(signer_id):
        raise KeyError_(f"key id {signer_id!r}: use lower-case letters, digits, '-' and '_'")
    if key_file(keys_dir, signer_id).exists():
        raise KeyError_(f"key id {signer_id} is already registered")
    if not name.strip():
        raise KeyError_("--name: must not be empty")
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyError_(f"passphrase: at least {MIN_PASSPHRASE} characters")
    target = out.absolute()
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        pass
    else:
        raise KeyError_(f"--out {out}: a private key never lives inside the archive root")
    if target.exists():
        raise KeyError_(f"--out {out}: file exists; a private key is never overwritten")
    if not target.parent.is_dir():
        raise KeyError_(f"--out {out}: folder {target.parent} does not exist")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    public = private.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signer = Signer(signer_id, name.strip(), title.strip(), base64.b64encode(raw).decode("ascii"),
                    fingerprint(public), clock.utc_now())
    output.write(target.resolve(), pem, mode=0o600)  # whole or not at all; never over an existing file
    record = json.dumps({k: v for k, v in signer.as_json().items() if k != "retired_at"}, ensure_ascii=False,
                        indent=1).encode("utf-8") + b"\n"
    return signer, target, record


def open_private(path: Path, passphrase: str) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyError_(f"--key {path}: cannot be read: {exc.strerror}") from None
    return load_private(data, passphrase, str(path))


def load_private(data: bytes, passphrase: str, label: str) -> Ed25519PrivateKey:
    """A PEM private key held in memory (the web's uploaded key file: never written to disk); ``label`` names
    it in the one-line error."""
    try:
        key = serialization.load_pem_private_key(data, passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise KeyError_(f"--key {label}: wrong passphrase, or not an encrypted private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"--key {label}: not an Ed25519 key")
    return key


def signer_for(keys_dir: Path, private: Ed25519PrivateKey, path: Path, zone: dt.tzinfo = dt.UTC) -> Signer:
    """The registered, unretired signer whose public key matches ``private``."""
    fp = fingerprint(private.public_key())
    signer = by_fingerprint(keys_dir).get(fp)
    if signer is None:
        raise KeyError_(f"--key {path}: this key is not registered in this archive (fingerprint {short(fp)})")
    if signer.retired_at:
        raise KeyError_(f"--key {path}: key {signer.id} was retired on {local_text(signer.retired_at, zone)}; "
                        "it verifies old signatures but signs nothing new")
    return signer


def find(keys_dir: Path, signer_id: str) -> Signer:
    signer = load_all(keys_dir).get(signer_id)
    if signer is None:
        raise NotFound(f"key {signer_id} is not registered")
    return signer


def verify(signer: Signer, message: bytes, signature_b64: str) -> bool:
    try:
        signer.public().verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True
