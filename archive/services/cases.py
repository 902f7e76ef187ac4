"""Cases: intake, stage updates, rendering, and reading one case or the register."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import clock, vocab
from archive.documents import render as documents
from archive.errors import AfterCommitError, ArchiveError, InputError, StateError
from archive.record import folders
from archive.record import grammar as g
from archive.record import reader as casefile
from archive.record.reader import CaseView
from archive.rules import deadlines
from archive.rules.triage import triage
from archive.search.extract import EXTRACTABLE, TextLimits, attachment_text
from archive.services.archive import Archive
from archive.store import txn
from archive.store.hashing import sha256_bytes
from archive.store.manifest import write_manifest

if TYPE_CHECKING:
    from archive.integrity.signing import Credential
    from archive.rules import stages
    from archive.validate import Attachment


@dataclass(frozen=True)
class Prepared:
    file: str
    raw: bytes
    case: dict[str, Any]
    attachments: list[Attachment]  # opened once at validation; copied from these handles

    def close(self) -> None:
        for a in self.attachments:
            a.close()


@dataclass
class IntakeResult:
    number: str
    file: str
    documents: list[str]
    severity: str
    reply_due: str
    reasons: list[str]
    calendar_unknown: list[int] = field(default_factory=list)
    similar: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the case stands, but a step after its commit failed (index, signing...)
    exit_code: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "file": self.file, "documents": self.documents,
                "severity": self.severity, "reply_due": self.reply_due, "triage_reasons": self.reasons,
                "calendar_unknown": self.calendar_unknown,
                "similar": [h["number"] for h in self.similar], **({"error": self.error} if self.error else {})}


def prepare(path: Path, *, allow_absolute: bool = False) -> Prepared:
    """Everything that can refuse a case file, done before the lock is taken and before any write."""
    from archive.validate import check_attachments, check_schema, parse_json, read_input, with_codes

    name = str(path)
    raw = read_input(path)
    case = with_codes(parse_json(name, raw), "case.schema.json")
    check_schema(name, case, "case.schema.json")
    atts = check_attachments(name, case, path.parent, allow_absolute=allow_absolute)
    return Prepared(name, raw, case, atts)


def _allocate(arc: Archive, received_at: str) -> str:
    period = folders.period_of(received_at)
    pattern = arc.settings.number_pattern
    used = folders.used_serials(arc.layout, pattern, period)
    used |= {s for n in arc.register.numbers()
             if (s := pattern.serial_of(n)) is not None and pattern.format(period, s) == n}
    serial = max(used, default=0) + 1
    # {yy} gives 1926-11 and 2026-11 the same numbers: a number is unique across the whole archive, so one
    # held by a record or tombstone in another year's folder is skipped too.
    while serial <= pattern.max_serial and folders.number_taken(arc.layout, pattern.format(period, serial)):
        serial += 1
    if serial > pattern.max_serial:
        raise StateError(f"no case number left for {period:%Y-%m}: serial {pattern.max_serial} is used; "
                         "widen {serial} in numbering.pattern")
    return pattern.format(period, serial)


def intake(arc: Archive, prepared: Prepared, *, allow_duplicate: bool = False, pdf: bool | None = None) -> IntakeResult:
    from archive.rules.chronology import not_before_earliest, not_in_future

    case = prepared.case
    not_in_future(prepared.file, "$.received_at", case["received_at"], clock.now(),
                  dt.timedelta(minutes=arc.settings.clock_skew_minutes))
    not_before_earliest(prepared.file, case["received_at"], arc.settings.earliest_received)
    tri = triage(case, arc.settings)
    dl = deadlines.compute(case, case.get("category", "other"), arc.settings)
    with arc.writing():
        if not allow_duplicate:
            _refuse_duplicate(arc, prepared)
        number = _allocate(arc, case["received_at"])
        period = folders.period_of(case["received_at"])
        stage = txn.staging_dir(arc.layout, txn.new_op_id())
        try:
            with txn.before_commit(f"{prepared.file}: case not archived"):
                documents_made = _build_record(arc, stage, number, prepared, tri.as_json(), dl,
                                               arc.settings.pdf_at_intake if pdf is None else pdf)
        except BaseException:
            # Nothing was published and no number used: the staging folder is all there is to undo.
            shutil.rmtree(stage, ignore_errors=True)
            raise
        final = arc.layout.month_dir(period.year, period.month) / number
        result = IntakeResult(number, prepared.file, documents_made, tri.severity, dl["reply_due"] or "",
                              list(tri.reasons), list(dl["calendar_unknown"]))
        try:
            txn.publish(arc.layout, stage, final, number,
                        txn.Entry(arc.actor, "intake", number, extra={"source": prepared.file}), arc.refresh)
        except AfterCommitError as exc:  # the case stands under its number; what is left is said with it
            result.error, result.exit_code = str(exc), exc.exit_code
    return result


def intake_one(arc: Archive, prepared: Prepared) -> IntakeResult:
    """One prepared case taken in as `archive intake FILE` takes it (the web's intake): archived, then compared
    with earlier complaints; a comparison that fails is said beside the number, as the CLI says it."""
    result = intake(arc, prepared)
    _finish_batch(arc, [result], False, True, [], None)
    return result


def _refuse_duplicate(arc: Archive, prepared: Prepared) -> None:
    """The same file, or the same complaint (complainant, received_at, description), archived before: a batch
    re-run after one refused file must not archive every earlier case twice."""
    from archive.derived.summary import duplicate_key

    same_file = arc.register.find(intake_sha256=sha256_bytes(prepared.raw))
    if same_file:
        raise InputError(prepared.file, "$", f"this file was archived before as case {same_file[0]}; "
                                             "--allow-duplicate archives it again")
    gone = _destroyed_intake(arc, sha256_bytes(prepared.raw))
    if gone:
        raise InputError(prepared.file, "$", f"this file was archived before as case {gone[0]}, destroyed under "
                                             f"certificate {gone[1]}; --allow-duplicate archives it again")
    same_case = arc.register.find(duplicate_key=duplicate_key(prepared.case))
    if same_case:
        raise InputError(prepared.file, "$", f"the same complainant, received_at and description as case "
                                             f"{same_case[0]}; --allow-duplicate archives it again")


def _destroyed_intake(arc: Archive, digest: str) -> tuple[str, str] | None:
    """The destroyed case (number, certificate) whose intake file had this SHA-256: the register forgets a
    destroyed case, its certificate keeps every file's hash."""
    from archive.integrity import certificate

    for cert in certificate.load_all(arc.layout.root):
        for case in cert.get("cases", []):
            if any(f.get("path") == g.INTAKE_FILE and f.get("sha256") == digest for f in case.get("files", [])):
                return str(case["number"]), str(cert["id"])
    return None


def _build_record(arc: Archive, stage: Path, number: str, prepared: Prepared, tri: dict[str, Any],
                  dl: dict[str, Any], pdf: bool) -> list[str]:
    case = prepared.case
    (stage / g.INTAKE_FILE).write_bytes(prepared.raw)
    attachments = []
    if prepared.attachments:
        (stage / g.ATTACHMENTS_DIR).mkdir()
    limits = TextLimits.of(arc.settings)
    for position, (spec, src) in enumerate(zip(case.get("attachments", []), prepared.attachments, strict=True), 1):
        dest = stage / g.ATTACHMENTS_DIR / src.name
        size, digest = _copy_attachment(src, dest)
        attachments.append({"file": f"{g.ATTACHMENTS_DIR}/{src.name}", "title": spec.get("title"),
                            "source": spec["path"], "size": size, "sha256": digest,
                            **_keep_text(stage, dest, position, limits)})
    record: dict[str, Any] = {
        "number": number, "case": case, "triage": tri, "deadlines": dl, "attachments": attachments,
        "intake": {"source_name": Path(prepared.file).name, "sha256": sha256_bytes(prepared.raw),
                   "archived_at": clock.utc_now(), "actor": arc.actor},
    }
    (stage / g.CASE_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    view = casefile.load(stage)
    made = [documents.render(stage, view, doc_id, arc.layout.templates, arc.settings.organisation,
                             now=record["intake"]["archived_at"], settings=arc.settings).docx
            for doc_id in documents.intake_forms(arc.settings.form_set)]
    if pdf:
        made += make_pdfs(arc, stage, made)
    write_manifest(stage, number)
    return made


@dataclass
class IntakeFailure:
    """A file of a batch that was not archived: refused as bad input, or stopped by the state or the disk."""

    file: str
    error: str
    exit_code: int
    refused: bool  # bad input (InputError) rather than a state or disk failure

    @property
    def reason(self) -> str:
        """The error without the file name it starts with (the summary names the file beside it)."""
        return self.error.removeprefix(f"{self.file}: ")

    def as_json(self) -> dict[str, Any]:
        return {"number": None, "file": self.file, "documents": [], "error": self.error}


def _failure_text(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, ArchiveError):
        return str(exc), exc.exit_code
    assert isinstance(exc, OSError)
    where = f" ({exc.filename})" if exc.filename else ""
    return f"disk error: {exc.strerror or exc}{where}", 2


def _keep_text(record: Path, attachment: Path, position: int, limits: TextLimits) -> dict[str, Any]:
    """Extract an attachment's text once, within the [search] caps, and keep it in the record: later changes
    and rebuilds index this file instead of inflating the attachment again."""
    if attachment.suffix.lower() not in EXTRACTABLE:
        return {"text": None, "text_cut": None}
    text, cut = attachment_text(attachment, limits)
    rel = g.attachment_text(position)
    (record / g.TEXT_DIR).mkdir(exist_ok=True)
    with (record / rel).open("x", encoding="utf-8") as fh:
        fh.write(text)
    return {"text": rel, "text_cut": cut}


def _copy_attachment(src: Attachment, dest: Path) -> tuple[int, str]:
    """Copy from the handle opened at validation (never from the path again), hashing what is written."""
    digest = hashlib.sha256()
    size = 0
    src.handle.seek(0)
    with dest.open("xb") as out:
        while chunk := src.handle.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


INDEX_BATCH = 100  # cases per index commit in a bulk intake: one Whoosh writer each, not one per case


def intake_files(arc: Archive, paths: list[Path], *, allow_absolute: bool = False, cred: Credential | None = None,
                 meaning: str = "drafted", report: Callable[[IntakeResult | IntakeFailure], None] | None = None,
                 allow_duplicate: bool = False, similar: bool = True, pdf: bool | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[IntakeResult | IntakeFailure]:
    """Each file accepted or not on its own, one result per file in order: a case archived (signed with
    ``cred`` and compared with earlier complaints), or why not. A failure of one file (bad input, a state
    such as a month without serials, a disk error) does not stop the others; a case that committed but whose
    signing or comparison failed is a result with its number and ``error``.

    Several files are a bulk intake: each case is still its own journaled change, but the index is committed
    once per INDEX_BATCH cases (the cases waiting are noted in .index-pending, which the next writer finishes
    should this run be killed). ``report`` hears each result once its batch is indexed; ``progress`` hears
    every file as it is done. ``pdf`` overrides [documents] pdf for this run."""
    from archive.services import signatures

    if cred is not None:  # before anything is archived: the signer must be the person acting
        arc.acting_as(cred.signer.name, cred.signer.title, cred.signer.id)
    results: list[IntakeResult | IntakeFailure] = []
    batch: list[IntakeResult | IntakeFailure] = []
    bulk = len(paths) > 1
    arc.defer_index = bulk
    try:
        for done, path in enumerate(paths, 1):
            outcome: IntakeResult | IntakeFailure
            try:
                prepared = prepare(path, allow_absolute=allow_absolute)
                try:
                    outcome = intake(arc, prepared, allow_duplicate=allow_duplicate, pdf=pdf)
                finally:
                    prepared.close()
            except (ArchiveError, OSError) as exc:
                text, code = _failure_text(exc)
                outcome = IntakeFailure(str(path), text, code, isinstance(exc, InputError))
            if isinstance(outcome, IntakeResult) and outcome.error is None and cred is not None:
                try:
                    outcome.documents.extend(signatures.sign(arc, outcome.number, cred, meaning,
                                                             list(documents.intake_forms(arc.settings.form_set))))
                except (ArchiveError, OSError) as exc:
                    text, code = _failure_text(exc)
                    outcome.error, outcome.exit_code = f"case {outcome.number} archived, but: {text}", code
            batch.append(outcome)
            if progress is not None:
                progress(done, len(paths))
            if len(batch) >= INDEX_BATCH:
                _finish_batch(arc, batch, bulk, similar, results, report)
        _finish_batch(arc, batch, bulk, similar, results, report)
    finally:
        arc.defer_index = False
    return results


def _finish_batch(arc: Archive, batch: list[IntakeResult | IntakeFailure], bulk: bool, similar: bool,
                  results: list[IntakeResult | IntakeFailure],
                  report: Callable[[IntakeResult | IntakeFailure], None] | None) -> None:
    """Commit the batch's index entries, then compare each case with earlier ones (the index now holds the
    batch, so a case is compared with those taken in just before it) and report."""
    from archive.services import search

    archived = [r for r in batch if isinstance(r, IntakeResult) and r.error is None]
    if bulk and batch:
        try:
            arc.flush_index()
        except (ArchiveError, OSError) as exc:
            text, code = _failure_text(exc)
            for r in archived:
                r.error, r.exit_code = f"case {r.number} archived, but: {text}", code
    for outcome in batch:
        if similar and isinstance(outcome, IntakeResult) and outcome.error is None:
            try:
                outcome.similar = search.similar(arc, outcome.number, limit=3, earlier_only=True)
            except (ArchiveError, OSError) as exc:
                text, code = _failure_text(exc)
                outcome.error, outcome.exit_code = f"case {outcome.number} archived, but: {text}", code
        results.append(outcome)
        if report is not None:
            report(outcome)
    batch.clear()


@dataclass
class ImportSummary:
    """`archive import`: what was archived, and each file refused with its reason."""

    folder: str
    results: list[IntakeResult | IntakeFailure]

    @property
    def archived(self) -> list[IntakeResult]:
        return [r for r in self.results if isinstance(r, IntakeResult)]

    @property
    def refused(self) -> list[IntakeFailure]:
        return [r for r in self.results if isinstance(r, IntakeFailure)]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=0)

    def as_json(self) -> dict[str, Any]:
        return {"folder": self.folder, "archived": [r.as_json() for r in self.archived],
                "refused": [{"file": r.file, "reason": r.reason} for r in self.refused]}


def case_files(folder: Path) -> list[Path]:
    """Every *.json under ``folder`` in path order (so numbers follow the tree), hidden folders left out."""
    if not folder.is_dir():
        raise InputError(str(folder), "$", "not a folder; `archive import` takes a folder of case files "
                                           "(`archive intake` takes files)")
    return sorted(p for p in folder.rglob("*.json")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def import_tree(arc: Archive, folder: Path, *, pdf: bool = False, allow_absolute: bool = False,
                allow_duplicate: bool = False, progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """A folder tree of case files taken in as one bulk intake, without PDFs unless asked (`archive render
    --pdf` makes them later) and without the per-case comparison with earlier complaints."""
    results = intake_files(arc, case_files(folder), allow_absolute=allow_absolute, allow_duplicate=allow_duplicate,
                           similar=False, pdf=pdf, progress=progress)
    return ImportSummary(str(folder), results)


def make_pdfs(arc: Archive, record_dir: Path, docx: list[str]) -> list[str]:
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

@dataclass
class UpdateResult:
    number: str
    stages: list[str]
    documents: list[str]
    status: str
    retention_until: str | None
    unchanged: list[str] = field(default_factory=list)  # stages given again exactly as recorded: not written
    progress: bool = False  # CAPA progress only (done dates): no correction, no reopen

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "stages": self.stages, "documents": self.documents,
                "status": self.status, "retention_until": self.retention_until, "changed": bool(self.stages),
                "unchanged": self.unchanged, "progress": self.progress}


def update(arc: Archive, number: str, prep: stages.PreparedUpdate, *, reason: str | None = None,
           reopen: bool = False, cred: Credential | None = None, meaning: str = "drafted") -> UpdateResult:
    from archive.rules import stages

    if cred is not None:
        arc.acting_as(cred.signer.name, cred.signer.title, cred.signer.id)
    with arc.writing():
        record = folders.find_record(arc.layout, number)
        view = casefile.load(record)
        same = stages.unchanged(prep, view)
        if same and not reopen:
            # Content already recorded is not a new version: only what differs is written, and a file that
            # repeats every stage exactly writes nothing at all (not even an audit entry).
            if len(same) == len(prep.data):
                return UpdateResult(number, [], [], view.status, view.retention_until, same)
            prep = replace(prep, data={k: v for k, v in prep.data.items() if k not in same})
        progress = not reopen and stages.capa_progress(prep, view)
        lapsed = None
        if arc.settings.require_approvals and "closure" in prep.data:
            from archive.integrity import approvals

            lapsed = [d for d, s in approvals.status(view).items() if "approved" in s["unsigned"]]
        planned = stages.plan(prep, view, reason=reason, reopen=reopen, now=clock.now(),
                              skew=dt.timedelta(minutes=arc.settings.clock_skew_minutes), approvals_lapsed=lapsed)
        written: list[str] = []

        def write() -> None:
            now = clock.utc_now()
            folder = record / g.STAGES_DIR
            folder.mkdir(exist_ok=True)
            todo = (["reopen"] if reopen else []) + planned
            current = view
            for stage in todo:
                data = prep.data.get(stage, {"reason": reason})
                extra = ({"version_of_closure": current.stage_versions["closure"]} if stage == "reopen"
                         else stages.derived(stage, data, current, arc.settings))
                version = folders.next_version(folder, stage, ".json")
                older = f"{g.STAGES_DIR}/{g.versioned(stage, version - 1, '.json')}" if version > 1 else None
                doc = stages.record(stage, version, data, extra, actor=arc.actor, now=now, reason=reason,
                                    supersedes=older, source=Path(prep.file).name)
                path = folder / g.versioned(stage, version, ".json")
                with path.open("x", encoding="utf-8") as fh:
                    fh.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
                written.append(f"{g.STAGES_DIR}/{path.name}")
                current = casefile.load(record)
            for doc_id in documents.forms_for(current, planned, arc.settings.form_set):
                written.append(documents.render(record, current, doc_id, arc.layout.templates,
                                                arc.settings.organisation, now=now, settings=arc.settings).docx)
            if arc.settings.pdf_at_intake:
                written.extend(make_pdfs(arc, record, [w for w in written if w.endswith(".docx")]))

        action = "reopen" if reopen else "capa-progress" if progress else \
            ("correction" if any(s in view.stages for s in planned) else "update")
        txn.change_record(arc.layout, record, number,
                          txn.Entry(arc.actor, action, number, reason, {"stages": planned, "source": prep.file}),
                          write, arc.refresh)
        after = casefile.load(record)
    docs = [w for w in written if w.startswith(g.DOCUMENTS_DIR)]
    if cred is not None:
        ids = list(dict.fromkeys(i for d in docs if d.endswith(".docx") and (i := g.document_id(d))))
        if ids:
            from archive.services import signatures

            docs.extend(signatures.sign(arc, number, cred, meaning, ids))
    return UpdateResult(number, planned, docs, after.status, after.retention_until, same if not reopen else [],
                        progress)


def render(arc: Archive, number: str, *, pdf: bool = False, force: bool = False,
           forms: list[str] | None = None) -> list[str]:
    """Re-render documents whose template or stages changed (all with ``force``) as new versions, and
    with ``pdf`` make the PDF of each latest version that lacks one. Nothing is overwritten. ``forms``
    names the documents to consider instead of the case's own (the intake set of [forms] set, what it
    has, what its stages call for): any case form of either set, e.g. the 客户抱怨处理表 in a GL-004 archive."""
    unknown = [f for f in forms or [] if f not in documents.CASE_FORMS]
    if unknown:
        raise StateError(f"--form {unknown[0]}: not a form of a case; use one of {', '.join(documents.CASE_FORMS)}")
    with arc.writing():
        record = folders.find_record(arc.layout, number)
        view = casefile.load(record)
        form_set = arc.settings.form_set
        wanted = list(dict.fromkeys(forms or [*documents.intake_forms(form_set), *view.documents,
                                              *documents.all_forms(view, form_set)]))
        stale = [d for d in wanted if force or documents.is_stale(record, view, d, arc.layout.templates,
                                                                 arc.settings.organisation, arc.settings)]
        made: list[str] = []

        def write() -> None:
            now = clock.utc_now()
            for doc_id in stale:
                made.append(documents.render(record, view, doc_id, arc.layout.templates,
                                             arc.settings.organisation, now=now, settings=arc.settings).docx)
            if pdf:
                latest = casefile.load(record)
                lacking = [d for doc_id in latest.documents if (d := latest.latest_document(doc_id))
                           and (not forms or doc_id in forms)
                           and not (record / (d.removesuffix(".docx") + ".pdf")).exists()]
                made.extend(make_pdfs(arc, record, lacking))

        if stale or pdf:
            txn.change_record(arc.layout, record, number,
                              txn.Entry(arc.actor, "render", number, extra={"documents": stale, "pdf": pdf}),
                              write, arc.refresh)
    return made


PDF_BATCH = 50  # cases per LibreOffice run: a start costs ~1 s, a document ~0.3 s


def render_many(arc: Archive, numbers: list[str], *, pdf: bool = False, force: bool = False,
                forms: list[str] | None = None) -> dict[str, list[str]]:
    """`render` for several cases (e.g. the PDFs an import left for later): documents brought up to date case
    by case, then with ``pdf`` the missing PDFs of PDF_BATCH cases converted in one LibreOffice run, each
    case's PDFs added as its own change (a `render` audit entry), the index committed once per run."""
    made = {n: render(arc, n, pdf=False, force=force, forms=forms) for n in dict.fromkeys(numbers)}
    if pdf:
        todo = list(made)
        for start in range(0, len(todo), PDF_BATCH):
            for number, pdfs in _pdf_batch(arc, todo[start:start + PDF_BATCH], forms).items():
                made[number] += pdfs
    return made


def _pdf_batch(arc: Archive, numbers: list[str], forms: list[str] | None) -> dict[str, list[str]]:
    from archive.documents import pdf

    out = arc.layout.work / f"pdf-{txn.new_op_id()}"
    made: dict[str, list[str]] = {}
    arc.defer_index = True
    try:
        with arc.writing():
            wanted: list[tuple[str, Path, str]] = []
            for number in numbers:
                record = folders.find_record(arc.layout, number)
                view = casefile.load(record)
                wanted += [(number, record, d) for doc_id in view.documents if (d := view.latest_document(doc_id))
                           and (not forms or doc_id in forms)
                           and not (record / (d.removesuffix(".docx") + ".pdf")).exists()]
            with txn.before_commit("PDF conversion"):
                (out / "in").mkdir(parents=True)
                # Every case has a register-form.v1.docx: a numbered link gives each a name of its own in the run.
                links = [out / "in" / f"{i:05d}-{Path(rel).name}" for i, (_n, _r, rel) in enumerate(wanted)]
                for link, (_n, record, rel) in zip(links, wanted, strict=True):
                    shutil.copyfile(record / rel, link)
            produced = pdf.convert(links, out / "pdf", timeout=arc.settings.pdf_timeout)
            for number in numbers:
                mine = [(rel, p) for (n, _r, rel), p in zip(wanted, produced, strict=True) if n == number]
                made[number] = []
                if not mine:
                    continue
                record = next(r for n, r, _rel in wanted if n == number)

                def write(record: Path = record, mine: list[tuple[str, Path]] = mine,
                          into: list[str] = made[number]) -> None:
                    for rel, p in mine:
                        target = record / (rel.removesuffix(".docx") + ".pdf")
                        if target.exists():
                            raise StateError(f"{target}: already exists; a rendered file is never replaced")
                        os.replace(p, target)
                        into.append(str(target.relative_to(record)))

                txn.change_record(arc.layout, record, number,
                                  txn.Entry(arc.actor, "render", number, extra={"documents": [], "pdf": True}),
                                  write, arc.refresh)
            arc.index_pending()
    finally:
        arc.defer_index = False
        shutil.rmtree(out, ignore_errors=True)
    return made


# ---------------------------------------------------------------- reading

def calendar_unknown(arc: Archive, view: CaseView) -> list[int]:
    """Years the case's working-day deadlines fall in that the calendar does not know (asked anew, so
    overrides added to the settings since intake count)."""
    dl = view.deadlines
    days = [dt.date.fromisoformat(view.case["received_at"][:10]),
            *(dt.date.fromisoformat(dl[k]) for k in ("reply_due", "eightd_due") if dl.get(k))]
    return deadlines.calendar_unknown(days, arc.settings)


def show(arc: Archive, number: str) -> dict[str, Any]:
    """The whole case: the complaint and its contact details, urgency, every stage's content (CAPA actions
    with their status), deadlines in force and late marks, holds, signatures per document, findings. A
    destroyed number is answered from its tombstone (NotFound, exit 1: saying when and under which certificate)."""
    from archive.integrity import approvals

    view = casefile.load(folders.find_record(arc.layout, number, zone=arc.settings.zone))
    signatures = approvals.status(view)
    today = clock.today(arc.settings.zone)
    stage_data = {k: v.get("data") for k, v in view.stages.items()}
    capa = [{**a, "status": "done" if a.get("done_at") else "open",
             "late_working_days": deadlines.late_working_days(dt.date.fromisoformat(a["due"]),
                                                              dt.date.fromisoformat(a["done_at"])
                                                              if a.get("done_at") else None, today, arc.settings)}
            for a in (stage_data.get("capa") or [])]
    open_actions = [a for a in capa if a["status"] == "open"]
    triage_data = stage_data.get("triage") or {}
    in_force = view.deadlines
    return {
        "number": view.number,
        "status": view.status,
        "severity": view.severity,
        "category": view.category,
        "urgent": view.urgent,
        "urgent_by_triage": "urgent" in triage_data,
        "departments": view.departments,
        "triage_reasons": view.record["triage"]["reasons"],
        "case": view.case,
        "contact": view.case["complainant"],
        "deadlines": in_force,
        "deadlines_at_intake": view.record["deadlines"] if in_force != view.record["deadlines"] else None,
        "late": deadlines.late_marks(in_force, stage_data, view.closed, today, arc.settings),
        "stages": view.stages,
        "stage_versions": view.stage_versions,
        "capa": capa,
        "closed_with_open_actions": ({"reason": view.stages["closure"].get("reason"), "actions": open_actions}
                                     if view.closed and open_actions else None),
        "documents": view.documents,
        "attachments": view.record["attachments"],
        "retention_until": view.retention_until,
        "retention": view.retention,
        "hold": view.hold,
        "holds": view.active_holds,
        "signatures": signatures,
        "lapsed_approvals": [d for d, s in signatures.items() if s["approval_lapsed"]],
        "findings": approvals.approver_findings(view),
        "calendar_unknown": calendar_unknown(arc, view),
        "path": str(view.path.relative_to(arc.layout.root)),
    }


def list_cases(arc: Archive, *, month: str | None = None, status: str | None = None,
               severity: str | None = None) -> list[dict[str, Any]]:
    _check_month(month)
    return arc.register.select(month=month, status=status, severity=severity)


def _check_month(month: str | None) -> None:
    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise StateError(f"--month: {month!r} is not YYYY-MM")


def register_page(arc: Archive, *, month: str | None = None, status: str | None = None,
                  severity: str | None = None, category: str | None = None, sort: str = "number",
                  descending: bool = False, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """One page of the register, filtered and ordered, with the count of all rows that match."""
    _check_month(month)
    filters = {"month": month, "status": status, "severity": severity, "category": category}
    total = arc.register.count(**filters)
    rows = arc.register.select(**filters, sort=sort, descending=descending, offset=(page - 1) * per_page,
                               limit=per_page)
    return {"rows": rows, "total": total, "page": page, "per_page": per_page}


def overdue(arc: Archive, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Deadlines passed without the stage that meets them: reply → response, investigation →
    investigation, 8D → CAPA recorded (D5–D7); and CAPA actions past their due date without a done date
    (closed cases included: a case may close with an action still open, for a stated reason)."""
    day = as_of or clock.today(arc.settings.zone)
    out = []
    for row in arc.register.select():
        view = casefile.load(folders.find_record(arc.layout, row["number"]))
        base = {"number": view.number, "complainant": view.case["complainant"]["name"], "status": view.status,
                "severity": view.severity, "calendar_unknown": calendar_unknown(arc, view)}
        late: list[tuple[str, str, str | None]] = []
        if row["status"] != "closed":
            for key, met_by in (("reply", "response"), ("investigation", "investigation"), ("eightd", "capa")):
                due = view.deadlines.get(f"{key}_due")
                if due and met_by not in view.stages:
                    late.append((key, due, None))
        capa = view.stages.get("capa", {}).get("data") or []
        late += [("capa", a["due"], a["action"]) for a in capa if not a.get("done_at")]
        for key, due, action in late:
            if day > dt.date.fromisoformat(due):
                out.append({**base, "deadline": key, "deadline_zh": vocab.DEADLINE[key], "due": due,
                            "days_late": (day - dt.date.fromisoformat(due)).days,
                            **({"action": action} if action else {})})
    return out
