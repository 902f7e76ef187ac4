"""A PDF's own signature (PAdES B-B, pyhanko), so any PDF reader shows whether an exported file changed.

The signing key is the signer's registered Ed25519 key; PDF signatures need an X.509 certificate, so one is
made on the spot: self-issued, its subject the person (CN = name, title, UID = key id), its subject key
identifier the archive's key fingerprint itself (SHA-256 of the raw public key, as keys/*.json record it,
instead of the customary SHA-1: RFC 5280 §4.2.1.2 allows any method). Nobody vouches for it but the
archive's key register: a checker trusts the certificate only when its public key is one of the keys it is
given (keys/*.json, or their copies in a bag), never by name. The signature is a certification signature
that allows no changes, so a reader flags any later incremental update, not only a broken byte.

Checking uses pyhanko's own validator (never a hand-rolled parser of the signature).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError as PyhankoPdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.registry import SimpleCertificateStore

from archive import clock
from archive.errors import ArchiveError
from archive.integrity.keys import fingerprint
from archive.integrity.signing import Credential
from archive.store import output

# Long enough for a reader years later who checks at today's date rather than the signing time; check_pdf
# itself judges the certificate at the moment the signature says it was made.
VALIDITY = dt.timedelta(days=10 * 366)
# Clocks of the reader and the signer differ a little; a certificate "not yet valid" for that would be noise.
BACKDATE = dt.timedelta(minutes=5)
FIELD = "ArchiveSignature"


class PdfSignatureError(ArchiveError):
    """A PDF could not be signed (unreadable source, a signing failure): nothing was written."""


@contextmanager
def _quiet() -> Iterator[None]:
    """pyhanko logs what it finds wrong with tracebacks; here every finding is returned as a line instead, and
    a traceback on the terminal would read as a crash."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def certificate_for(cred: Credential) -> x509.Certificate:
    """A self-issued certificate for the registered key, signed by that key."""
    s = cred.signer
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, s.name),
                      *([x509.NameAttribute(NameOID.TITLE, s.title)] if s.title else []),
                      x509.NameAttribute(NameOID.USER_ID, s.id)])
    public = cred.private.public_key()
    ski = x509.SubjectKeyIdentifier(bytes.fromhex(fingerprint(public)))
    now = clock.now()
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
            .sign(cred.private, None))  # Ed25519 hashes internally: no digest is named


def sign_pdf(src: Path, dst: Path, cred: Credential, *, reason: str, location: str, replace: bool = False) -> None:
    """Write ``src`` signed by ``cred`` to ``dst``, whole or not at all; an existing ``dst`` is replaced only
    with ``replace`` (``src`` and ``dst`` may then be one file)."""
    cert = certificate_for(cred)
    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    asn1_key = asn1_keys.PrivateKeyInfo.load(cred.private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    registry = SimpleCertificateStore.from_certs([asn1_cert])  # type: ignore[no-untyped-call]
    signer = signers.SimpleSigner(signing_cert=asn1_cert, signing_key=asn1_key, cert_registry=registry)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, reason=reason, location=location, name=cred.signer.name,
        subfilter=fields.SigSeedSubFilter.PADES, certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise PdfSignatureError(f"{src}: cannot be read: {exc.strerror}") from None
    try:
        with _quiet():
            writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
            out = io.BytesIO()
            signers.PdfSigner(meta, signer).sign_pdf(writer, output=out)
    except (PyhankoPdfError, SigningError, ValueError) as exc:
        raise PdfSignatureError(f"{src}: PDF 签名失败 (PDF not signed): {exc}") from None
    output.write(dst.absolute(), out.getvalue(), force=replace)


def _raw_public(cert: asn1_x509.Certificate) -> bytes | None:
    """The raw 32 bytes of an Ed25519 certificate key, else None."""
    try:
        loaded = serialization.load_der_public_key(cert.public_key.dump())
    except (ValueError, UnsupportedAlgorithm):
        return None
    if not isinstance(loaded, Ed25519PublicKey):
        return None
    return loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _registered(raw: bytes | None, public_keys: dict[str, str]) -> bool:
    if raw is None:
        return False
    given = public_keys.get(hashlib.sha256(raw).hexdigest())
    try:
        return given is not None and base64.b64decode(given, validate=True) == raw
    except ValueError:
        return False


def trust_context(embedded: Any, public_keys: dict[str, str]) -> ValidationContext:
    """A validation context that trusts the signature's own certificate exactly when its key is a given one,
    judged at the time the signature claims (no fetching: the check runs offline)."""
    cert = embedded.signer_cert
    # A trust anchor's own validity period is not checked unless asked for: a self-issued certificate used
    # outside its dates would otherwise pass.
    roots = ([CertTrustAnchor(cert, derive_default_quals_from_cert=True)]
             if _registered(_raw_public(cert), public_keys) else [])
    when = embedded.self_reported_timestamp
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail",
                             moment=when if isinstance(when, dt.datetime) else None)


def _who(embedded: Any) -> str:
    subject = embedded.signer_cert.subject.native
    return f"{subject.get('common_name', '?')} ({subject.get('user_id', '?')})"


def check_pdf(path: Path, public_keys: dict[str, str]) -> list[str]:
    """Every problem with the PDF signatures of ``path``, one line each; [] when every signature is sound,
    covers the whole file, and was made by one of ``public_keys`` (fingerprint → base64 raw Ed25519 key)."""
    try:
        with path.open("rb") as f, _quiet():
            sigs = list(PdfFileReader(f, strict=False).embedded_signatures)
            return _check(sigs, public_keys) if sigs else [f"{path.name}: 没有签名 (the PDF carries no signature)"]
    except Exception as exc:  # whatever the file holds, the answer is a finding, never a crash
        return [f"{path.name}: 无法读取 (not a readable PDF): {exc}"]


def _check(sigs: list[Any], public_keys: dict[str, str]) -> list[str]:
    problems: list[str] = []
    for embedded in sigs:
        label = f"signature {embedded.field_name}"
        try:
            who = _who(embedded)
            status = validate_pdf_signature(embedded, trust_context(embedded, public_keys))
        except Exception as exc:  # a malformed signature of any kind is a finding, never a crash
            problems.append(f"{label}: 签名不成立 (signature does not verify): {exc}")
            continue
        if not (status.intact and status.valid):
            problems.append(f"{label} by {who}: 签名不成立 (signature does not verify: the signed bytes or the "
                            "signature itself changed)")
            continue
        if not _registered(_raw_public(embedded.signer_cert), public_keys):
            problems.append(f"{label} by {who}: 未知签名人 (unknown signer: the key is not among the given keys)")
        elif not status.trusted:
            problems.append(f"{label} by {who}: 证书不成立 (certificate not valid at the signing time it claims, "
                            "or not made for signing)")
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            level = status.modification_level.name if status.modification_level is not None else "unknown"
            problems.append(f"{label} by {who}: 签名后被修改 (modified after signing: the signature does not cover "
                            f"the whole file; change level {level})")
    return problems
