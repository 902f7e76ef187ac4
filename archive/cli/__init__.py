"""Command line: parses, calls the library, prints. Heavy libraries are imported inside commands."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archive import __version__

if TYPE_CHECKING:
    from archive.services.core import Archive

F = TypeVar("F", bound=Callable[..., Any])
MEANINGS = click.Choice(["drafted", "reviewed", "approved"])


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 2) -> None:
    click.echo(f"archive: {message}", err=True)
    sys.exit(code)


def user_errors(fn: F) -> F:
    """Turn the library's typed errors into one line on stderr and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from archive.errors import ArchiveError

        try:
            return fn(*args, **kwargs)
        except ArchiveError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def open_archive(ctx: click.Context, *, create: bool = True) -> Archive:
    from archive.services.core import Archive

    return Archive.open(ctx.obj["root"], ctx.obj["actor"], create=create)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive")
@click.option("--root", type=click.Path(file_okay=False), help="Archive root (else $ARCHIVE_ROOT, else .).")
@click.option("--actor", help="Who is acting, for the audit log (default: the OS user).")
@click.pass_context
def main(ctx: click.Context, root: str | None, actor: str | None) -> None:
    """Complaint records archive (SOP GL-004): intake, documents, signatures, search, retention."""
    ctx.ensure_object(dict)
    ctx.obj.update(root=root, actor=actor)


@main.command()
@click.pass_context
@user_errors
def init(ctx: click.Context) -> None:
    """Create the archive layout and archive.toml (idempotent)."""
    from archive.services.core import init as do_init
    from archive.store.layout import Layout

    layout = Layout.resolve(ctx.obj["root"])
    created = do_init(layout)
    click.echo(f"archive root {layout.root}: " + (", ".join(created) if created else "already initialised"))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the accepted cases.")
@click.option("--allow-absolute", is_flag=True, help="Allow absolute attachment paths (batch imports).")
@click.option("--sign-as", "sign_as", type=click.Path(dir_okay=False, path_type=Path),
              help="Sign the intake forms with this private key.")
@click.option("--meaning", type=MEANINGS, default="drafted", show_default=True, help="Meaning of --sign-as.")
@click.pass_context
@user_errors
def intake(ctx: click.Context, files: tuple[Path, ...], as_json: bool, allow_absolute: bool,
           sign_as: Path | None, meaning: str) -> None:
    """Validate, number and archive case files; each file is accepted or refused on its own."""
    from archive.errors import InputError
    from archive.services.core import intake as do_intake
    from archive.services.core import prepare, similar
    from archive.services.core import sign as do_sign

    arc = open_archive(ctx)
    cred = credential(ctx, sign_as) if sign_as else None  # a wrong passphrase stops before anything is written
    results, refused = [], 0
    for path in files:
        try:
            result = do_intake(arc, prepare(path, allow_absolute=allow_absolute))
        except InputError as exc:
            click.echo(f"archive: refused {exc}", err=True)
            refused += 1
            continue
        if cred is not None:
            result.documents.extend(do_sign(arc, result.number, cred, meaning, ["register-form", "record-form"]))
        earlier = similar(arc, result.number, limit=3, earlier_only=True)
        results.append({**result.as_json(), "similar": [h["number"] for h in earlier]})
        if not as_json:
            reasons = f"  重大投诉: {'; '.join(result.reasons)}" if result.reasons else ""
            click.echo(f"{result.number}  {path}  severity={result.severity}  reply by {result.reply_due}{reasons}")
            for doc in result.documents:
                click.echo(f"    {doc}")
            for h in earlier:
                click.echo(f"    相似投诉 {h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}")
    if as_json:
        emit_json(results)
    if refused:
        sys.exit(2)


@main.command()
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def show(ctx: click.Context, number: str, as_json: bool) -> None:
    """One case: the complaint, stages, documents, deadlines, retention."""
    from archive.cli.text import show_text
    from archive.services.core import show as do_show

    data = do_show(open_archive(ctx, create=False), number)
    if as_json:
        emit_json(data)
    else:
        click.echo(show_text(data))


@main.command(name="list")
@click.option("--month", metavar="YYYY-MM")
@click.option("--status", type=click.Choice(["registered", "investigating", "answered", "following_up", "closed"]))
@click.option("--severity", type=click.Choice(["critical", "major", "minor"]))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def list_(ctx: click.Context, month: str | None, status: str | None, severity: str | None, as_json: bool) -> None:
    """The complaint register, filtered."""
    from archive.cli.text import register_table
    from archive.services.core import list_cases

    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        fail(f"--month: {month!r} is not YYYY-MM")
    rows = list_cases(open_archive(ctx, create=False), month=month, status=status, severity=severity)
    if as_json:
        emit_json(rows)
    else:
        click.echo(register_table(rows))


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def rebuild(ctx: click.Context, as_json: bool) -> None:
    """Recreate the register and the full-text index from the record folders."""
    from archive.services.core import rebuild as do_rebuild

    tty = sys.stderr.isatty() and not as_json

    def progress(done: int, total: int) -> None:
        if tty and (done % 50 == 0 or done == total):
            click.echo(f"\rindexing {done}/{total}", err=True, nl=done == total)

    counts = do_rebuild(open_archive(ctx), progress)
    if as_json:
        emit_json(counts)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@main.command()
@click.argument("number")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reason", help="Why: needed to correct a recorded stage, and with --reopen.")
@click.option("--reopen", is_flag=True, help="Reopen a closed case (needs --reason).")
@click.option("--sign-as", "sign_as", type=click.Path(dir_okay=False, path_type=Path),
              help="Sign the documents this update renders with this private key.")
@click.option("--meaning", type=MEANINGS, default="drafted", show_default=True, help="Meaning of --sign-as.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def update(ctx: click.Context, number: str, file: Path, reason: str | None, reopen: bool, sign_as: Path | None,
           meaning: str, as_json: bool) -> None:
    """Add stages to a case: triage, investigation, CAPA, response, follow-up, closure."""
    from archive.rules.stages import prepare
    from archive.services.core import sign as do_sign
    from archive.services.core import update as do_update

    if reason is not None and not reason.strip():
        fail("--reason: must not be empty")
    prep = prepare(file)
    cred = credential(ctx, sign_as) if sign_as else None
    arc = open_archive(ctx, create=False)
    result = do_update(arc, number, prep, reason=reason, reopen=reopen)
    if cred is not None and result.documents:
        ids = list(dict.fromkeys(Path(d).name.split(".v")[0] for d in result.documents if d.endswith(".docx")))
        result.documents.extend(do_sign(arc, number, cred, meaning, ids))
    if as_json:
        emit_json(result.as_json())
        return
    click.echo(f"{result.number}  {', '.join(result.stages)}  → status {result.status}"
               + (f", retention until {result.retention_until}" if result.retention_until else ""))
    for doc in result.documents:
        click.echo(f"    {doc}")


@main.command()
@click.argument("number")
@click.option("--pdf", is_flag=True, help="Also make the PDF of each latest document that lacks one.")
@click.option("--force", is_flag=True, help="Render every document again as a new version.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def render(ctx: click.Context, number: str, pdf: bool, force: bool, as_json: bool) -> None:
    """Render a case's documents from the current template versions (new versions; nothing overwritten)."""
    from archive.services.core import render as do_render

    made = do_render(open_archive(ctx, create=False), number, pdf=pdf, force=force)
    if as_json:
        emit_json({"number": number, "documents": made})
    else:
        click.echo("\n".join(made) if made else f"{number}: documents are current")


@main.command()
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date to judge by (default: today in time.zone).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def overdue(ctx: click.Context, as_of: str | None, as_json: bool) -> None:
    """Open cases past their reply, investigation or 8D deadline."""
    import datetime as dt

    from archive.cli.text import overdue_table
    from archive.services.core import overdue as do_overdue

    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of: {as_of!r} is not a date YYYY-MM-DD")
    rows = do_overdue(open_archive(ctx, create=False), day)
    if as_json:
        emit_json(rows)
    else:
        click.echo(overdue_table(rows))


@main.group()
def templates() -> None:
    """The controlled template register."""


@templates.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def templates_list(ctx: click.Context, as_json: bool) -> None:
    """Every registered template version, with its hash check."""
    from archive.cli.text import table
    from archive.services.core import template_versions

    rows = template_versions(open_archive(ctx.find_root(), create=False))
    if as_json:
        emit_json(rows)
    else:
        click.echo(table(["id", "文件编号", "标题", "版本", "生效日期", "文件", "校验"],
                         [[r["id"], r["document_number"], r["title"], r["version"], r["effective_date"],
                           r["file"], "ok" if r["intact"] else "已改动!"] for r in rows]))


@templates.command(name="register")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "template_id", required=True)
@click.option("--version", required=True)
@click.option("--title", help="Form title (needed for a new template id).")
@click.option("--effective", metavar="YYYY-MM-DD", help="Effective date (default: today).")
@click.pass_context
@user_errors
def templates_register(ctx: click.Context, file: Path, template_id: str, version: str, title: str | None,
                       effective: str | None) -> None:
    """Register FILE as a new version of a template; earlier versions stay."""
    from archive.services.core import register_template

    t = register_template(open_archive(ctx.find_root(), create=False), file, template_id, version, title, effective)
    click.echo(f"registered {t.id} v{t.version} ({t.file}, sha256 {t.sha256[:16]}…)")


def passphrase(confirm: bool = False) -> str:
    """From $ARCHIVE_PASSPHRASE (scripts), else a hidden prompt on the terminal."""
    import os

    env = os.environ.get("ARCHIVE_PASSPHRASE")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        fail("no passphrase: set ARCHIVE_PASSPHRASE or run on a terminal")
    value: str = click.prompt("passphrase", hide_input=True, confirmation_prompt=confirm, err=True)
    return value


def credential(ctx: click.Context, key: Path) -> Any:
    from archive.integrity.signing import open_credential

    arc = open_archive(ctx, create=False)
    return open_credential(arc.layout.keys, key, passphrase())


@main.group(name="keys")
def keys_group() -> None:
    """Signers' keys: create, list, retire."""


@keys_group.command(name="create")
@click.argument("signer_id", metavar="ID")
@click.option("--name", required=True, help="Printed name, e.g. 张丽.")
@click.option("--title", required=True, help="Title, e.g. \"QA 主管\".")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the encrypted private key (outside the archive root).")
@click.pass_context
@user_errors
def keys_create(ctx: click.Context, signer_id: str, name: str, title: str, out: Path) -> None:
    """Make an Ed25519 key pair; register the public key in the archive."""
    from archive.integrity.keys import short
    from archive.services.core import create_key

    arc = open_archive(ctx, create=False)
    signer = create_key(arc, signer_id, name, title, out, passphrase(confirm=True))
    click.echo(f"key {signer.id} for {signer.name} ({signer.title}) fingerprint {short(signer.fingerprint)}; "
               f"private key in {out} (mode 0600)")


@keys_group.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """Registered signers."""
    from archive.cli.text import table
    from archive.integrity.keys import short
    from archive.services.core import list_keys

    rows = list_keys(open_archive(ctx, create=False))
    if as_json:
        emit_json(rows)
    else:
        click.echo(table(["id", "姓名", "职务", "指纹", "创建", "停用"],
                         [[r["id"], r["name"], r["title"], short(r["fingerprint"]), r["created_at"],
                           r["retired_at"] or ""] for r in rows]))


@keys_group.command(name="retire")
@click.argument("signer_id", metavar="ID")
@click.option("--reason", required=True)
@click.pass_context
@user_errors
def keys_retire(ctx: click.Context, signer_id: str, reason: str) -> None:
    """Retire a key: it still verifies old signatures, and signs nothing new."""
    from archive.services.core import retire_key

    signer = retire_key(open_archive(ctx, create=False), signer_id, reason)
    click.echo(f"key {signer.id} retired {signer.retired_at}")


@main.command()
@click.argument("number")
@click.option("--key", "key", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--meaning", required=True, type=MEANINGS)
@click.option("--document", "document", multiple=True, help="Document id (default: every current document).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def sign(ctx: click.Context, number: str, key: Path, meaning: str, document: tuple[str, ...], as_json: bool) -> None:
    """Sign a case's documents: a new version shows the signature; the signature covers its bytes."""
    from archive.services.core import sign as do_sign

    cred = credential(ctx, key)
    made = do_sign(open_archive(ctx, create=False), number, cred, meaning, list(document) or None)
    if as_json:
        emit_json({"number": number, "files": made})
    else:
        click.echo("\n".join(made))


@main.command()
@click.option("--key", "key", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def seal(ctx: click.Context, key: Path, as_json: bool) -> None:
    """Sign the audit chain's head as a checkpoint."""
    from archive.services.core import seal as do_seal

    cp = do_seal(open_archive(ctx, create=False), credential(ctx, key))
    if as_json:
        emit_json(cp)
    else:
        click.echo(f"sealed audit seq {cp['seq']} hash {cp['hash']} by {cp['signer']}")


@main.command()
@click.argument("numbers", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def verify(ctx: click.Context, numbers: tuple[str, ...], as_json: bool) -> None:
    """Integrity of record files, signatures and the audit chain; exit 1 on any finding."""
    import time

    from archive.services.core import verify as do_verify

    started = time.monotonic()
    tty = sys.stderr.isatty() and not as_json

    def progress(done: int, total: int) -> None:
        if tty and time.monotonic() - started > 1.0:
            click.echo(f"\rverifying {done}/{total} records", err=True, nl=done == total)

    report = do_verify(open_archive(ctx, create=False), list(numbers) or None, progress)
    if as_json:
        emit_json(report.as_json())
    else:
        for f in report.findings:
            click.echo(f.line())
        c = report
        click.echo(f"{'OK' if report.ok else 'FAILED'}: {c.records} records, {c.files} files, "
                   f"{c.bytes / 1e6:.1f} MB, {c.signatures} signatures, {c.checkpoints} checkpoints, "
                   f"{len(report.findings)} findings")
        click.echo(f"audit head: seq {report.head.seq} sha256 {report.head.hash}")
    if not report.ok:
        sys.exit(1)


@main.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def search(ctx: click.Context, query: tuple[str, ...], limit: int, sort: str, as_json: bool) -> None:
    """Full-text search: words ANDed, "quoted phrases", filters lot: severity: status: category: channel:
    customer: received:2026-11 or received:2026-01..2026-06."""
    import shlex

    from archive.search.service import search as do_search
    from archive.store.layout import Layout

    # Searching reads only the index: no operations layer, so the command starts quickly.
    layout = Layout.resolve(ctx.obj["root"])
    if not layout.root.is_dir():
        fail(f"{layout.root}: archive root does not exist")
    text = " ".join(shlex.quote(q) if " " in q else q for q in query)
    result = do_search(layout.index, text, limit=limit, sort=sort)
    if as_json:
        emit_json(result)
        return
    click.echo(f"{result['total']} 件")
    for h in result["hits"]:
        click.echo(f"{h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}  "
                   f"[{h['status']}]  score {h['score']:.2f}")
        for line in h["highlights"]:
            click.echo(f"    {line}")


@main.command()
@click.argument("number")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def similar(ctx: click.Context, number: str, limit: int, as_json: bool) -> None:
    """Earlier complaints most like this one (SOP: consider similar complaints)."""
    from archive.services.core import similar as do_similar

    hits = do_similar(open_archive(ctx, create=False), number, limit)
    if as_json:
        emit_json(hits)
    else:
        for h in hits:
            click.echo(f"{h['number']}  {h['received_at'][:10]}  {h['complainant']}  {h['product']}  "
                       f"score {h['score']:.2f}")


@main.group(name="index")
def index_group() -> None:
    """The full-text index."""


@index_group.command(name="check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@user_errors
def index_check(ctx: click.Context, as_json: bool) -> None:
    """Report cases missing from the index or indexed from an older state; exit 1 if any."""
    from archive.services.core import index_check as do_check

    report = do_check(open_archive(ctx, create=False))
    if as_json:
        emit_json(report)
    else:
        for kind, numbers in report.items():
            for n in numbers:
                click.echo(f"{kind}: {n}")
        if not any(report.values()):
            click.echo("index is current")
        else:
            click.echo("run `archive rebuild` to repair")
    if any(report.values()):
        sys.exit(1)
