"""GET/POST /intake: QA registers a complaint by uploading a case file (field `case`, attachments in
`attachments`) or by the Chinese form, which builds the same JSON. Both take the CLI's path: the file is
written to a temporary folder outside the root and taken in by services.cases prepare + intake, acting as the
logged-in person. A refusal is the CLI's one line, shown beside the field its JSON path names, with the form
as it was typed; nothing is written and no number is used."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from archive import clock
from archive.errors import InputError, StateError
from archive.web import forms, staging
from archive.web.routing import Ctx, page

if TYPE_CHECKING:
    from archive.services.cases import IntakeResult

FORM_FILE = "intake-form.json"  # the name the form's case file is archived under (intake.source_name)


def _page(ctx: Ctx, status: int = 200, *, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, problem: str = "", upload_problem: str = "") -> Response:
    return ctx.page("intake.html", status, title="登记投诉", sections=forms.CASE_FORM, values=values or {},
                    errors=errors or {}, problem=problem, upload_problem=upload_problem)


@page("/intake", "intake")
def intake_form(ctx: Ctx) -> Response:
    zone = ctx.arc.settings.zone
    now = clock.now().astimezone(zone)
    assert ctx.user is not None
    return _page(ctx, values={"received_at": f"{now:%Y-%m-%dT%H:%M}", "received_by": ctx.user.name})


@page("/intake", "intake", methods=("POST",))
def intake(ctx: Ctx) -> Response:
    cases = staging.uploads(ctx.form, "case")
    if cases or ctx.field("mode") == "upload" or ctx.wants_json:
        return _upload(ctx, cases)
    return _form(ctx)


def _upload(ctx: Ctx, cases: list[UploadFile]) -> Response:
    if len(cases) != 1:
        problem = "case: 请选择一个案件文件(JSON)上传"
        if ctx.wants_json:
            return JSONResponse({"error": problem}, status_code=400)
        return _page(ctx, 400, upload_problem=problem)
    upload = cases[0]
    name = staging.safe_name(upload.filename, "case.json")
    upload.file.seek(0)
    raw = upload.file.read()
    try:
        result = _take_in(ctx, name, raw, staging.uploads(ctx.form, "attachments"))
    except (InputError, StateError) as exc:
        if ctx.wants_json:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return _page(ctx, 400, upload_problem=str(exc))
    if ctx.wants_json:
        # `archive intake --json`: one entry per file.
        return JSONResponse([result.as_json()])
    return _done(ctx, result)


def _form(ctx: Ctx) -> Response:
    values = forms.typed(ctx.form, forms.CASE_FORM)
    doc, errors = forms.build(values, forms.CASE_FORM, ctx.arc.settings.zone)
    if errors:
        return _page(ctx, 400, values=values, errors=errors)
    files = staging.uploads(ctx.form, "attachments")
    if files:
        doc["attachments"] = [{"path": staging.safe_name(f.filename, f"附件{i}")} for i, f in enumerate(files, 1)]
    raw = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    try:
        result = _take_in(ctx, FORM_FILE, raw, files)
    except InputError as exc:
        where = forms.field_of(exc.where, forms.CASE_FORM)
        if where is None:
            return _page(ctx, 400, values=values, problem=str(exc))
        return _page(ctx, 400, values=values, errors={where: f"{exc.where}: {exc.problem}"})
    except StateError as exc:
        return _page(ctx, 400, values=values, problem=str(exc))
    return _done(ctx, result)


def _take_in(ctx: Ctx, name: str, raw: bytes, attachments: list[UploadFile]) -> IntakeResult:
    """The CLI's `archive intake NAME`, the file written outside the root first; the error names the file as
    it was sent (not the temporary folder)."""
    from archive.services.cases import intake_one, prepare

    arc = ctx.writer()
    with staging.folder(ctx.web.root) as tmp:
        path = staging.place(tmp, name, raw, attachments)
        try:
            prepared = prepare(path)
        except InputError as exc:
            raise InputError(name, exc.where, exc.problem.replace(str(tmp), ".")) from None
        try:
            return intake_one(arc, replace(prepared, file=name))
        finally:
            prepared.close()


def _done(ctx: Ctx, result: IntakeResult) -> Response:
    ctx.session.flash.append(f"已登记 投诉编号 {result.number}")
    if result.similar:
        ctx.session.flash.append("与以往投诉相似:" + "、".join(h["number"] for h in result.similar))
    if result.error:
        ctx.session.flash.append(f"投诉 {result.number} 已登记,但:{result.error}")
    return ctx.redirect(f"/cases/{result.number}")

