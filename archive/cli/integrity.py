"""Signers' keys, signatures, checkpoints and `verify`."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive import clock, vocab
from archive.cli import text
from archive.cli.app import main
from archive.cli.common import MEANINGS, Coded, archive_command, credential, emit, passphrase, progress_printer

if TYPE_CHECKING:
    from archive.services.archive import Archive

KEY = click.Path(dir_okay=False, path_type=Path)


@main.group(name="keys")
def keys_group() -> None:
    """Signers' keys: create, certify, list, retire."""


@archive_command(keys_group, "create", needs="write", json_output=False)
@click.argument("signer_id", metavar="ID")
@click.option("--name", required=True, help="Printed name, e.g. 张丽.")
@click.option("--title", required=True, help="Title, e.g. \"QA 主管\".")
@click.option("--out", required=True, type=KEY,
              help="Where to write the encrypted private key (outside the archive root).")
def keys_create(arc: Archive, signer_id: str, name: str, title: str, out: Path) -> None:
    """Make an Ed25519 key pair; register the public key in the archive."""
    from archive.integrity.keys import short
    from archive.services.signatures import create_key

    signer = create_key(arc, signer_id, name, title, out, passphrase(confirm=True))
    click.echo(f"key {signer.id} for {signer.name} ({signer.title}) fingerprint {short(signer.fingerprint)}; "
               f"private key in {out} (mode 0600)")


@archive_command(keys_group, "certify", needs="write", json_output=False)
@click.argument("signer_id", metavar="ID")
@click.option("--key", "key", required=True, type=KEY, help="The certifying administrator's private key file.")
@click.option("--role", type=Coded(vocab.KEY_ROLE), default="signer", show_default=True,
              help="signer: may sign; admin: may also certify keys.")
def keys_certify(arc: Archive, signer_id: str, key: Path, role: str) -> None:
    """An administrator (another person) certifies a key: only then does it sign (21 CFR 11.100(b))."""
    from archive.services.signatures import certify_key

    cert = certify_key(arc, signer_id, credential(arc, key), role)
    click.echo(f"key {cert['id']} certified as {role} by {cert['certified_by']} at "
               f"{clock.local_text(cert['time'], arc.settings.zone)}")


@archive_command(keys_group, "list")
def keys_list(arc: Archive, as_json: bool) -> None:
    """Registered signers: who registered and who certified each key, its role, whether it signs."""
    from archive.services.signatures import list_keys

    emit(as_json, list_keys(arc), functools.partial(text.keys_table, zone=arc.settings.zone))


@archive_command(keys_group, "retire", needs="write", json_output=False)
@click.argument("signer_id", metavar="ID")
@click.option("--reason", required=True, help="Why the key is retired (kept in the audit log).")
def keys_retire(arc: Archive, signer_id: str, reason: str) -> None:
    """Retire a key: it still verifies old signatures, and signs nothing new."""
    from archive.services.signatures import retire_key

    signer = retire_key(arc, signer_id, reason)
    click.echo(f"key {signer.id} retired {clock.local_text(signer.retired_at, arc.settings.zone)}")


@archive_command(main, needs="write")
@click.argument("number")
@click.option("--key", "key", required=True, type=KEY, help="The signer's private key file.")
@click.option("--meaning", required=True, type=MEANINGS, help="What the signature means: 起草, 审核 or 批准.")
@click.option("--document", "document", multiple=True, help="Document id (default: every current document).")
def sign(arc: Archive, number: str, key: Path, meaning: str, document: tuple[str, ...], as_json: bool) -> None:
    """Sign a case's documents: a new version shows the signature; the signature covers its bytes."""
    from archive.services.signatures import sign as do_sign

    made = do_sign(arc, number, credential(arc, key), meaning, list(document) or None)
    emit(as_json, {"number": number, "files": made}, lambda d: "\n".join(d["files"]))


@archive_command(main, needs="write")
@click.option("--key", "key", required=True, type=KEY, help="The sealing person's private key file.")
def seal(arc: Archive, key: Path, as_json: bool) -> None:
    """Sign the audit chain's head as a checkpoint."""
    from archive.services.signatures import seal as do_seal

    cp = do_seal(arc, credential(arc, key))
    emit(as_json, cp, lambda c: f"sealed audit seq {c['seq']} hash {c['hash']} by {c['signer']}")


@archive_command(main)
@click.argument("numbers", nargs=-1)
@click.option("--head", "head", metavar="SEQ:SHA256",
              help="The audit head kept outside the root (as an earlier verify printed it): the log must end there.")
def verify(arc: Archive, numbers: tuple[str, ...], head: str | None, as_json: bool) -> None:
    """Integrity of record files, signatures and the audit chain; exit 1 on any finding. Writes nothing."""
    from archive.services.maintenance import verify as do_verify

    report = do_verify(arc, list(numbers) or None, progress_printer("verifying", enabled=not as_json), head)
    emit(as_json, report.as_json() if as_json else report, text.verify_report)
    if not report.ok:
        sys.exit(1)
