"""The one layer that wires a change through store → documents → audit → register (→ index)."""

from __future__ import annotations

import base64
import datetime as dt
import getpass
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import settings as settings_mod
from archive.derived import register
from archive.documents import render as documents
from archive.documents import templates as templates_register
from archive.documents.context import MEANING_ZH
from archive.errors import ArchiveError, NotFound, StateError
from archive.record import folders as store
from archive.record import reader as casefile
from archive.rules import deadlines
from archive.rules.triage import triage
from archive.settings import Settings
from archive.store import audit, txn
from archive.store.atomic import fsync_dir, fsync_tree, write_bytes
from archive.store.hashing import sha256_bytes, sha256_file
from archive.store.layout import Layout
from archive.store.locking import exclusive

if TYPE_CHECKING:  # cryptography loads only for commands that sign or check keys
    from archive.integrity import keys, signing
    from archive.rules import stages


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


@dataclass
class Archive:
    """An opened archive root: its layout and settings, and who is acting."""

    layout: Layout
    settings: Settings
    actor: str = field(default_factory=default_actor)

    @classmethod
    def open(cls, root: str | Path | None, actor: str | None = None, *, create: bool = True) -> Archive:
        layout = Layout.resolve(root)
        if not layout.root.is_dir():
            raise StateError(f"{layout.root}: archive root does not exist")
        if create and not layout.settings.exists():
            init(layout)
        return cls(layout, settings_mod.load(layout.root), actor or default_actor())

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the archive lock and finish whatever a killed writer left before changing anything."""
        with exclusive(self.layout.lock):
            txn.recover(self.layout, self.refresh)
            yield

    def refresh(self, number: str) -> None:
        """Bring the derived stores (register, index) in line with one record folder."""
        from archive.search.engines.whoosh import SearchIndex
        from archive.search.extract import document

        view = casefile.load(store.find_record(self.layout, number))
        register.upsert(self.layout.register, register.row_of(view))
        SearchIndex(self.layout.index).update([document(view)])


def init(layout: Layout) -> list[str]:
    """Create the layout; idempotent. Returns what it created."""
    created = []
    layout.root.mkdir(parents=True, exist_ok=True)
    for folder in (layout.records, layout.audit_dir, layout.keys):
        if not folder.exists():
            folder.mkdir(parents=True)
            created.append(folder.name + "/")
    layout.work.mkdir(exist_ok=True)
    if not layout.settings.exists():
        write_bytes(layout.settings, settings_mod.DEFAULT_TEXT.encode("utf-8"))
        created.append(layout.settings.name)
    if templates_register.install_shipped(layout.templates):
        created.append("templates/")
    settings_mod.load(layout.root)
    return created


# ---------------------------------------------------------------- intake

@dataclass(frozen=True)
class Prepared:
    file: str
    raw: bytes
    case: dict[str, Any]
    attachments: list[Path]


@dataclass(frozen=True)
class IntakeResult:
    number: str
    file: str
    documents: list[str]
    severity: str
    reply_due: str
    reasons: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "file": self.file, "documents": self.documents,
                "severity": self.severity, "reply_due": self.reply_due, "triage_reasons": self.reasons}


def prepare(path: Path, *, allow_absolute: bool = False) -> Prepared:
    """Everything that can refuse a case file, done before the lock is taken and before any write."""
    from archive.validate import check_attachments, check_schema, parse_json, read_input  # jsonschema: only here

    name = str(path)
    raw = read_input(path)
    case = parse_json(name, raw)
    check_schema(name, case, "case.schema.json")
    atts = check_attachments(name, case, path.parent, allow_absolute=allow_absolute)
    return Prepared(name, raw, case, atts)


def _allocate(arc: Archive, received_at: str) -> str:
    period = store.period_of(received_at)
    pattern = arc.settings.number_pattern
    used = store.used_serials(arc.layout, pattern, period)
    used |= {s for n in register.numbers(arc.layout.register)
             if (s := pattern.serial_of(n)) is not None and pattern.format(period, s) == n}
    serial = max(used, default=0) + 1
    if serial > pattern.max_serial:
        raise StateError(f"no case number left for {period:%Y-%m}: serial {pattern.max_serial} is used; "
                         "widen {serial} in numbering.pattern")
    return pattern.format(period, serial)


def _audit_files(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"path": f["path"], "sha256": f["sha256"]} for f in manifest["files"]]


def intake(arc: Archive, prepared: Prepared) -> IntakeResult:
    case = prepared.case
    tri = triage(case, arc.settings)
    dl = deadlines.compute(case, case.get("category", "other"), arc.settings)
    with arc.writing():
        number = _allocate(arc, case["received_at"])
        period = store.period_of(case["received_at"])
        op = txn.new_op_id()
        stage = txn.staging_dir(arc.layout, op)
        try:
            (stage / casefile.INTAKE_FILE).write_bytes(prepared.raw)
            attachments = []
            if prepared.attachments:
                (stage / "attachments").mkdir()
            for spec, src in zip(case.get("attachments", []), prepared.attachments, strict=True):
                dest = stage / "attachments" / src.name
                shutil.copyfile(src, dest)
                attachments.append({"file": f"attachments/{src.name}", "title": spec.get("title"),
                                    "source": spec["path"], "size": dest.stat().st_size,
                                    "sha256": sha256_file(dest)})
            record = {
                "number": number,
                "case": case,
                "triage": tri.as_json(),
                "deadlines": dl,
                "attachments": attachments,
                "intake": {"source_name": Path(prepared.file).name, "sha256": sha256_bytes(prepared.raw),
                           "archived_at": audit.utc_now(), "actor": arc.actor},
            }
            (stage / casefile.CASE_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
            documents = _render_intake_documents(arc, stage, record)
            manifest_sha = store.write_manifest(stage, number)
            fsync_tree(stage)
        except BaseException:
            # Nothing was published and no number used: the staging folder is all there is to undo.
            shutil.rmtree(stage, ignore_errors=True)
            raise
        month = arc.layout.month_dir(period.year, period.month)
        final = month / number
        manifest = store.read_manifest(stage)
        journal = txn.Journal(
            action="intake", number=number, record=str(final.relative_to(arc.layout.root)),
            manifest_sha256=manifest_sha, staging=str(stage.relative_to(arc.layout.root)), op=op,
            audit={"actor": arc.actor, "action": "intake", "number": number,
                   "files": _audit_files(manifest),
                   "extra": {"manifest_sha256": manifest_sha, "source": prepared.file}})
        txn.begin(arc.layout, journal)
        month.mkdir(parents=True, exist_ok=True)
        os.rename(stage, final)
        fsync_dir(month)
        txn.commit(arc.layout, journal, arc.refresh)
    return IntakeResult(number, prepared.file, documents, tri.severity, dl["reply_due"] or "", list(tri.reasons))


def _render_intake_documents(arc: Archive, stage: Path, record: dict[str, Any]) -> list[str]:
    view = casefile.load(stage)
    rendered = [documents.render(stage, view, doc_id, arc.layout.templates, arc.settings.organisation,
                                 now=record["intake"]["archived_at"]) for doc_id in documents.INTAKE_FORMS]
    paths = [r.docx for r in rendered]
    if arc.settings.pdf_at_intake:
        paths += _make_pdfs(arc, stage, paths)
    return paths


def _make_pdfs(arc: Archive, record_dir: Path, docx: list[str]) -> list[str]:
    """PDFs of the given documents, converted in one LibreOffice run outside the record, then moved in."""
    from archive.documents import pdf

    out = arc.layout.work / f"pdf-{txn.new_op_id()}"
    try:
        made = pdf.convert([record_dir / d for d in docx], out, timeout=arc.settings.pdf_timeout)
        result = []
        for rel, produced in zip(docx, made, strict=True):
            target = record_dir / (rel.removesuffix(".docx") + ".pdf")
            if target.exists():
                raise StateError(f"{target}: already exists; a rendered file is never replaced")
            os.replace(produced, target)
            result.append(str(target.relative_to(record_dir)))
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ---------------------------------------------------------------- changes to an archived record

def _supersedes(path: str, present: set[str]) -> str | None:
    folder, _, name = path.rpartition("/")
    m = store.VERSIONED.match(name)
    if not m or int(m.group("v")) < 2:
        return None
    for v in range(int(m.group("v")) - 1, 0, -1):
        older = f"{folder}/{m.group('stem')}.v{v}{m.group('ext')}"
        if older in present:
            return older
    return None


def _change(arc: Archive, record: Path, number: str, action: str, write: Callable[[], None],
            reason: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add files to a record as one transaction: journal, write, manifest (the commit point), audit, register."""
    previous = store.read_manifest(record)["files"]
    before = {f["path"]: f["sha256"] for f in previous}
    rel = str(record.relative_to(arc.layout.root))
    journal = txn.Journal(action=action, number=number, record=rel, manifest_sha256="", audit={})
    txn.begin(arc.layout, journal)
    try:
        write()
    except BaseException:
        txn.recover(arc.layout, arc.refresh)  # manifest not replaced yet: this rolls the change back
        raise
    data = store.manifest_bytes(record, number, previous)
    after = json.loads(data)["files"]
    changed = [f for f in after if f["path"] not in before]
    present = set(before) | {f["path"] for f in after}
    files = [{"path": f["path"], "sha256": f["sha256"],
              **({"supersedes": s} if (s := _supersedes(f["path"], present)) else {})} for f in changed]
    journal.manifest_sha256 = sha256_bytes(data)
    journal.audit = {"actor": arc.actor, "action": action, "number": number, "files": files, "reason": reason,
                     "extra": {"manifest_sha256": journal.manifest_sha256, **(extra or {})}}
    txn.begin(arc.layout, journal)
    write_bytes(record / store.MANIFEST, data)
    return txn.commit(arc.layout, journal, arc.refresh)


@dataclass(frozen=True)
class UpdateResult:
    number: str
    stages: list[str]
    documents: list[str]
    status: str
    retention_until: str | None

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "stages": self.stages, "documents": self.documents,
                "status": self.status, "retention_until": self.retention_until}


def update(arc: Archive, number: str, prep: stages.PreparedUpdate, *, reason: str | None = None,
           reopen: bool = False) -> UpdateResult:
    from archive.rules import stages

    with arc.writing():
        record = store.find_record(arc.layout, number)
        view = casefile.load(record)
        planned = stages.plan(prep, view, reason=reason, reopen=reopen)
        written: list[str] = []

        def write() -> None:
            now = audit.utc_now()
            folder = record / casefile.STAGES_DIR
            folder.mkdir(exist_ok=True)
            todo = (["reopen"] if reopen else []) + planned
            current = view
            for stage in todo:
                data = prep.data.get(stage, {"reason": reason})
                extra = ({"version_of_closure": current.stage_versions["closure"]} if stage == "reopen"
                         else stages.derived(stage, data, current, arc.settings))
                version = store.next_version(folder, stage, ".json")
                older = f"{casefile.STAGES_DIR}/{stage}.v{version - 1}.json" if version > 1 else None
                doc = stages.record(stage, version, data, extra, actor=arc.actor, now=now, reason=reason,
                                    supersedes=older, source=Path(prep.file).name)
                path = folder / f"{stage}.v{version}.json"
                with path.open("x", encoding="utf-8") as fh:
                    fh.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
                written.append(f"{casefile.STAGES_DIR}/{path.name}")
                current = casefile.load(record)
            for doc_id in documents.forms_for(current, planned):
                written.append(documents.render(record, current, doc_id, arc.layout.templates,
                                                arc.settings.organisation, now=now).docx)
            if arc.settings.pdf_at_intake:
                written.extend(_make_pdfs(arc, record, [w for w in written if w.endswith(".docx")]))

        action = "reopen" if reopen else ("correction" if any(s in view.stages for s in planned) else "update")
        _change(arc, record, number, action, write, reason=reason,
                extra={"stages": planned, "source": prep.file})
        after = casefile.load(record)
    return UpdateResult(number, planned, [w for w in written if w.startswith(casefile.DOCUMENTS_DIR)],
                        after.status, after.retention_until)


def render(arc: Archive, number: str, *, pdf: bool = False, force: bool = False) -> list[str]:
    """Re-render documents whose template or stages changed (all with ``force``) as new versions, and
    with ``pdf`` make the PDF of each latest version that lacks one. Nothing is overwritten."""
    with arc.writing():
        record = store.find_record(arc.layout, number)
        view = casefile.load(record)
        wanted = list(dict.fromkeys([*documents.INTAKE_FORMS, *view.documents, *documents.all_forms(view)]))
        stale = [d for d in wanted if force or documents.is_stale(record, view, d, arc.layout.templates,
                                                                 arc.settings.organisation)]
        made: list[str] = []

        def write() -> None:
            now = audit.utc_now()
            for doc_id in stale:
                made.append(documents.render(record, view, doc_id, arc.layout.templates,
                                             arc.settings.organisation, now=now).docx)
            if pdf:
                latest = casefile.load(record)
                lacking = [d for doc_id in latest.documents if (d := latest.latest_document(doc_id))
                           and not (record / (d.removesuffix(".docx") + ".pdf")).exists()]
                made.extend(_make_pdfs(arc, record, lacking))

        if stale or pdf:
            _change(arc, record, number, "render", write, extra={"documents": stale, "pdf": pdf})
    return made


# ---------------------------------------------------------------- reading

def show(arc: Archive, number: str) -> dict[str, Any]:
    view = casefile.load(store.find_record(arc.layout, number))
    return {
        "number": view.number,
        "status": view.status,
        "severity": view.severity,
        "category": view.category,
        "departments": view.departments,
        "triage_reasons": view.record["triage"]["reasons"],
        "case": view.case,
        "deadlines": view.record["deadlines"],
        "stages": view.stages,
        "stage_versions": view.stage_versions,
        "documents": view.documents,
        "attachments": view.record["attachments"],
        "retention_until": view.retention_until,
        "hold": view.hold,
        "path": str(view.path.relative_to(arc.layout.root)),
    }


def list_cases(arc: Archive, *, month: str | None = None, status: str | None = None,
               severity: str | None = None) -> list[dict[str, Any]]:
    return register.select(arc.layout.register, month=month, status=status, severity=severity)


def rebuild(arc: Archive, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Recreate the register and the index from the record folders alone."""
    from archive.search.engines.whoosh import SearchIndex
    from archive.search.extract import document

    with arc.writing():
        dirs = store.record_dirs(arc.layout)
        count = register.rebuild(arc.layout.register, (register.row_of(casefile.load(p)) for p in dirs))
        indexed = SearchIndex(arc.layout.index).rebuild(
            (document(casefile.load(p)) for p in dirs),
            (lambda done: progress(done, len(dirs))) if progress else None)
    return {"register_rows": count, "indexed": indexed}


def index_check(arc: Archive) -> dict[str, list[str]]:
    """Cases missing from the index, indexed from an older state of their record, or indexed but gone."""
    from archive.search.engines.whoosh import SearchIndex

    stamps = SearchIndex(arc.layout.index).stamps()
    missing, stale = [], []
    records = {p.name: p for p in store.record_dirs(arc.layout)}
    for number, path in records.items():
        if number not in stamps:
            missing.append(number)
        elif stamps[number] != sha256_file(path / store.MANIFEST):
            stale.append(number)
    return {"missing": missing, "stale": stale, "extra": sorted(set(stamps) - set(records))}


def similar(arc: Archive, number: str, limit: int = 5, earlier_only: bool = False) -> list[dict[str, Any]]:
    from archive.search.engines.whoosh import SearchIndex

    view = casefile.load(store.find_record(arc.layout, number))
    before = view.case["received_at"] if earlier_only else None
    return [h.as_json() for h in SearchIndex(arc.layout.index).similar(number, limit, before)]



# ---------------------------------------------------------------- keys and signatures

def _append_root_file(arc: Archive, rel: str, data: bytes, action: str, extra: dict[str, Any],
                      reason: str | None = None) -> dict[str, Any]:
    """A new file outside any record (key, retirement, checkpoint) and its audit entry, as one journaled change:
    the file is the commit point, so a killed process leaves neither a file without its entry nor the reverse."""
    path = arc.layout.root / rel
    if path.exists():
        raise StateError(f"{rel} already exists")
    digest = sha256_bytes(data)
    journal = txn.Journal(action=action, number="", record=rel, manifest_sha256=digest, kind="file",
                          audit={"actor": arc.actor, "action": action, "number": None,
                                 "files": [{"path": rel, "sha256": digest}], "reason": reason, "extra": extra})
    txn.begin(arc.layout, journal)
    write_bytes(path, data)
    return txn.commit(arc.layout, journal, arc.refresh)


def create_key(arc: Archive, signer_id: str, name: str, title: str, out: Path, passphrase: str) -> keys.Signer:
    from archive.integrity import keys

    with arc.writing():
        signer, _path, record = keys.create(arc.layout.keys, arc.layout.root, signer_id, name, title, out,
                                            passphrase)
        _append_root_file(arc, f"keys/{signer_id}.json", record, "key-create",
                          {"signer": signer_id, "fingerprint": signer.fingerprint})
    return signer


def retire_key(arc: Archive, signer_id: str, reason: str) -> keys.Signer:
    from archive.integrity import keys, signing

    with arc.writing():
        signer = keys.find(arc.layout.keys, signer_id)
        if signer.retired_at:
            raise StateError(f"key {signer_id} was already retired on {signer.retired_at}")
        data = json.dumps({"id": signer_id, "retired_at": signing.utc_now(), "reason": reason},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        _append_root_file(arc, f"keys/{signer_id}.retired.json", data, "key-retire", {"signer": signer_id},
                          reason=reason)
    return keys.find(arc.layout.keys, signer_id)


def list_keys(arc: Archive) -> list[dict[str, Any]]:
    from archive.integrity import keys

    return [s.as_json() for s in keys.load_all(arc.layout.keys).values()]


def sign(arc: Archive, number: str, cred: signing.Credential, meaning: str,
         doc_ids: list[str] | None = None) -> list[str]:
    """Re-render each document with its signature block filled, and sign that version's exact bytes."""
    from archive.integrity import signing

    if meaning not in MEANING_ZH:
        raise StateError(f"--meaning {meaning!r}: use drafted, reviewed or approved")
    with arc.writing():
        record = store.find_record(arc.layout, number)
        view = casefile.load(record)
        targets = doc_ids or list(view.documents)
        for doc_id in targets:
            if doc_id not in view.documents:
                raise NotFound(f"case {number} has no document {doc_id!r} "
                               f"(it has: {', '.join(view.documents) or 'none'})")
        made: list[str] = []

        def write() -> None:
            now = signing.utc_now()
            for doc_id in targets:
                digest = documents.digest_for(view, doc_id, arc.layout.templates, arc.settings.organisation)
                earlier = signing.carried(record, doc_id, digest)
                if earlier.get(meaning, {}).get("signer") == cred.signer.id:
                    raise StateError(f"{doc_id} of case {number} is already signed by {cred.signer.id} as "
                                     f"{meaning}")
                new = {"name": cred.signer.name, "title": cred.signer.title, "meaning": meaning, "time": now,
                       "fingerprint": cred.signer.fingerprint}
                shown = {m: signing.display(r, arc.settings.zone) for m, r in {**earlier, meaning: new}.items()}
                rendered = documents.render(record, view, doc_id, arc.layout.templates, arc.settings.organisation,
                                            signatures=shown, now=now)
                rec = signing.sign_record(cred, meaning=meaning, time=now, document=rendered.docx,
                                          sha256=sha256_file(record / rendered.docx), number=number,
                                          content_sha256=digest)
                name = signing.signature_name(rendered.docx, meaning, cred.signer.id)
                (record / signing.SIGNATURES_DIR).mkdir(exist_ok=True)
                with (record / name).open("x", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec, ensure_ascii=False, indent=1) + "\n")
                made.extend([rendered.docx, name])

        _change(arc, record, number, "sign", write,
                extra={"signer": cred.signer.id, "meaning": meaning, "documents": targets})
    return made


def seal(arc: Archive, cred: signing.Credential) -> dict[str, Any]:
    """A person signs the audit chain's head: rewriting history before it would need their key."""
    from archive.integrity import signing

    with arc.writing():
        head = audit.head(arc.layout.audit_log)
        if head.seq == 0:
            raise StateError("the audit log is empty: nothing to seal")
        cp: dict[str, Any] = {"seq": head.seq, "hash": head.hash, "time": signing.utc_now(),
                              "signer": cred.signer.id, "fingerprint": cred.signer.fingerprint}
        cp["signature"] = base64.b64encode(cred.private.sign(audit.canonical(cp))).decode("ascii")
        data = json.dumps(cp, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        _append_root_file(arc, f"audit/checkpoints/{head.seq:08d}.json", data, "seal",
                          {"sealed_seq": head.seq, "sealed_hash": head.hash, "signer": cred.signer.id})
    return cp


def verify(arc: Archive, numbers: list[str] | None = None,
           progress: Callable[[int, int], None] | None = None) -> Any:
    """Check records, signatures and the audit chain; under the lock, so no change is seen half-made."""
    from archive.integrity import verify as verifier

    with arc.writing():
        return verifier.run(arc.layout, numbers, progress)


DEADLINE_ZH = {"reply": "答复", "investigation": "调查", "eightd": "8D 报告"}


def overdue(arc: Archive, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Deadlines passed without the stage that meets them: reply → response, investigation →
    investigation, 8D → CAPA recorded (D5–D7)."""
    day = as_of or casefile.today(arc.settings.zone)
    out = []
    for row in register.select(arc.layout.register):
        if row["status"] == "closed":
            continue
        view = casefile.load(store.find_record(arc.layout, row["number"]))
        for key, met_by in (("reply", "response"), ("investigation", "investigation"), ("eightd", "capa")):
            due = view.record["deadlines"].get(f"{key}_due")
            if due and met_by not in view.stages and day > dt.date.fromisoformat(due):
                out.append({"number": view.number, "complainant": view.case["complainant"]["name"],
                            "deadline": key, "deadline_zh": DEADLINE_ZH[key], "due": due,
                            "days_late": (day - dt.date.fromisoformat(due)).days, "status": view.status,
                            "severity": view.severity})
    return out


def template_versions(arc: Archive) -> list[dict[str, Any]]:
    rows = []
    for t in templates_register.load(arc.layout.templates):
        path = t.path(arc.layout.templates)
        rows.append({**t.__dict__, "intact": path.is_file() and sha256_file(path) == t.sha256})
    return rows


def register_template(arc: Archive, source: Path, template_id: str, version: str, title: str | None,
                      effective: str | None) -> templates_register.Template:
    with arc.writing():
        t = templates_register.register(arc.layout.templates, source, template_id, version, effective, title)
        audit.append(arc.layout.audit_log, actor=arc.actor, action="template-register", number=None,
                     files=[{"path": f"templates/{t.file}", "sha256": t.sha256}],
                     extra={"template": {"id": t.id, "version": t.version}})
    return t


__all__ = ["Archive", "ArchiveError", "IntakeResult", "Prepared", "init", "intake", "list_cases",
           "prepare", "rebuild", "show"]
