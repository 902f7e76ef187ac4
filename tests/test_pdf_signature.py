"""The dossier PDF's own signature (PAdES, pyhanko): made with a certificate for the signer's registered key,
checked by pyhanko's validator against the public keys the reader trusts."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import make_key
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pypdf import PdfWriter
from pypdf.generic import ContentStream

from archive.errors import ArchiveError
from archive.export.pdf_signature import certificate_for, check_pdf, sign_pdf, trust_context
from archive.integrity.keys import load_all
from archive.integrity.signing import Credential, open_credential


@pytest.fixture
def cred(root: Path, tmp_path: Path) -> Credential:
    """The administrator's key (the archive's first: it signs without a certification), opened as the CLI does."""
    keydir = tmp_path / "keys"
    keydir.mkdir()
    admin = make_key(root, "zhoumin", "周敏", "档案管理员", keydir / "zhoumin.pem")
    return open_credential(root / "keys", admin.pem, admin.passphrase)


@pytest.fixture
def known(root: Path) -> dict[str, str]:
    """fingerprint → base64 public key, as the keys/*.json files (and a bag's copies of them) hold them."""
    return {s.fingerprint: s.public_key for s in load_all(root / "keys").values()}


def blank_pdf(path: Path) -> Path:
    w = PdfWriter()
    page = w.add_blank_page(width=595, height=842)
    content = ContentStream(None, w)
    content.set_data(b"0.5 g 72 700 200 40 re f")  # a grey box: a page with content a later update adds to
    page.replace_contents(content)
    w.add_metadata({"/Title": "投诉档案 26110001", "/Subject": "检查资料"})
    with path.open("wb") as f:
        w.write(f)
    return path


@pytest.fixture
def signed(cred: Credential, tmp_path: Path) -> Path:
    dst = tmp_path / "dossier.pdf"
    sign_pdf(blank_pdf(tmp_path / "plain.pdf"), dst, cred, reason="检查资料导出", location="质量部")
    return dst


def test_a_signed_pdf_checks_clean_with_the_signers_key(signed: Path, known: dict[str, str]) -> None:
    assert check_pdf(signed, known) == []


def test_pyhankos_validator_finds_the_signature_intact_valid_and_covering_the_whole_file(
        signed: Path, known: dict[str, str]) -> None:
    with signed.open("rb") as f:
        sigs = PdfFileReader(f).embedded_signatures
        assert len(sigs) == 1
        status = validate_pdf_signature(sigs[0], trust_context(sigs[0], known))
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    assert status.signing_cert.subject.native["common_name"] == "周敏"
    assert status.signing_cert.subject.native["title"] == "档案管理员"
    # PAdES baseline B-B: the ETSI subfilter, an ESS signing-certificate-v2 attribute, no CMS signing time
    # (the time is the signature dictionary's /M); a certification signature that allows no change.
    assert sigs[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    attrs = {a["type"].native for a in sigs[0].signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in attrs and "signing_time" not in attrs
    assert sigs[0].docmdp_level == MDPPerm.NO_CHANGES
    assert sigs[0].sig_object["/Reason"] == "检查资料导出"


def test_the_certificate_is_self_issued_for_the_registered_key_and_carries_its_fingerprint(
        cred: Credential) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = certificate_for(cred)
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "周敏"
    assert cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == "zhoumin"
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest.hex() == cred.signer.fingerprint
    cert.verify_directly_issued_by(cert)  # signed by the very key it certifies
    assert cert.not_valid_before_utc < cert.not_valid_after_utc


def test_a_byte_changed_inside_the_signed_range_is_named(signed: Path, known: dict[str, str]) -> None:
    data = bytearray(signed.read_bytes())
    at = data.index(b"/Subject")  # in the document info, inside the first signed range
    data[at + 1] = ord("X")
    signed.write_bytes(bytes(data))
    problems = check_pdf(signed, known)
    assert any("不成立" in p or "does not verify" in p for p in problems), problems


def test_text_added_after_signing_is_named_as_a_modification(signed: Path, known: dict[str, str]) -> None:
    with signed.open("rb") as f:
        w = IncrementalPdfFileWriter(io.BytesIO(f.read()))
    # An incremental update that writes a line of text on the page: the signed bytes stay as they were.
    font = generic.DictionaryObject({generic.NameObject("/Type"): generic.NameObject("/Font"),
                                     generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                                     generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica")})
    text = generic.StreamObject(stream_data=b"BT /FAdded 12 Tf 72 720 Td (added after signing) Tj ET")
    w.add_stream_to_page(0, w.add_object(text), resources=generic.DictionaryObject(
        {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/FAdded"): font})}))
    out = io.BytesIO()
    w.write(out)
    signed.write_bytes(out.getvalue())
    problems = check_pdf(signed, known)
    assert any("签名后被修改" in p and "modified after signing" in p for p in problems), problems


def test_a_signer_whose_key_is_not_given_is_named_unknown(signed: Path) -> None:
    problems = check_pdf(signed, {})
    assert len(problems) == 1 and "未知签名人" in problems[0] and "zhoumin" in problems[0], problems


def test_a_certificate_that_had_lapsed_when_the_signature_was_made_is_named(
        cred: Credential, tmp_path: Path, known: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from archive.export import pdf_signature

    # The certificate is dated by the archive clock, the signature's /M by pyhanko: a clock eleven years back
    # gives a certificate that had lapsed when it signed.
    monkeypatch.setattr(pdf_signature.clock, "now", lambda: dt.datetime.now(dt.UTC) - dt.timedelta(days=11 * 366))
    dst = tmp_path / "lapsed.pdf"
    sign_pdf(blank_pdf(tmp_path / "plain.pdf"), dst, cred, reason="r", location="l")
    problems = check_pdf(dst, known)
    assert len(problems) == 1 and "证书不成立" in problems[0], problems


def test_a_pdf_without_a_signature_is_named(tmp_path: Path, known: dict[str, str]) -> None:
    problems = check_pdf(blank_pdf(tmp_path / "plain.pdf"), known)
    assert problems and "没有签名" in problems[0], problems


def test_a_file_that_is_not_a_pdf_is_a_problem_not_a_traceback(tmp_path: Path, known: dict[str, str]) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    problems = check_pdf(bad, known)
    assert problems and "无法读取" in problems[0], problems


def test_signing_never_leaves_a_half_file_or_replaces_one(cred: Credential, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pyhanko.sign import signers

    src = blank_pdf(tmp_path / "plain.pdf")
    dst = tmp_path / "out" / "dossier.pdf"
    dst.parent.mkdir()

    def fail(*args: object, **kwargs: object) -> None:
        raise SigningError("boom")

    monkeypatch.setattr(signers.PdfSigner, "sign_pdf", fail)
    with pytest.raises(ArchiveError, match="PDF 签名失败"):
        sign_pdf(src, dst, cred, reason="r", location="l")
    assert list(dst.parent.iterdir()) == []
    monkeypatch.undo()
    dst.write_bytes(b"existing")
    with pytest.raises(ArchiveError, match="file exists"):
        sign_pdf(src, dst, cred, reason="r", location="l")
    assert dst.read_bytes() == b"existing"


def test_poppler_pdfsig_lists_the_signature(signed: Path) -> None:
    pdfsig = shutil.which("pdfsig")
    assert pdfsig, "poppler-utils (pdfsig) is installed with the project's system packages"
    out = subprocess.run([pdfsig, str(signed)], capture_output=True, text=True, timeout=60)
    assert "Signature #1" in out.stdout, out.stdout + out.stderr
    assert "周敏" in out.stdout and "ETSI.CAdES.detached" in out.stdout and "Total document signed" in out.stdout
