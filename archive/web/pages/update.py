"""GET/POST /cases/NUMBER/update: a stage update (调查, CAPA, 答复客户, 跟踪回访, 结案) by uploading a stage file
(field `update`) or by the Chinese form, which builds the same JSON. Both take `archive update NUMBER FILE`'s
path: the file written to a temporary folder outside the root, rules.stages.prepare, services.cases.update as
the logged-in person, with the optional `reason` (a correction of a recorded stage needs one) and `reopen`."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from archive import vocab
from archive.errors import InputError, StateError
from archive.web import forms, staging
from archive.web.routing import Ctx, page

if TYPE_CHECKING:
    from archive.services.cases import UpdateResult

FORM_FILE = "stage-update-form.json"  # the name the form's stage file is recorded under (stage source)


def _current(ctx: Ctx, number: str) -> dict[str, Any]:
    """What the page shows of the case: its status and the stages on record (NotFound → 404)."""
    from archive.record import folders
    from archive.record import reader as casefile

    view = casefile.load(folders.find_record(ctx.arc.layout, number))
    return {"status": view.status, "stages": dict(view.stage_versions)}


def _page(ctx: Ctx, number: str, status: int = 200, *, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, problem: str = "", upload_problem: str = "") -> Response:
    return ctx.page("update.html", status, title=f"登记阶段进展 {number}", number=number,
                    current=_current(ctx, number), sections=forms.UPDATE_FORM, values=values or {},
                    errors=errors or {}, problem=problem, upload_problem=upload_problem,
                    reason=ctx.field("reason"), reopen=bool(ctx.field("reopen")))


@page("/cases/{number}/update", "update")
def update_form(ctx: Ctx) -> Response:
    return _page(ctx, ctx.request.path_params["number"])


@page("/cases/{number}/update", "update", methods=("POST",))
def update(ctx: Ctx) -> Response:
    number = ctx.request.path_params["number"]
    _current(ctx, number)  # an unknown number is 404 before anything else is looked at
    files = staging.uploads(ctx.form, "update")
    if files or ctx.field("mode") == "upload" or ctx.wants_json:
        return _upload(ctx, number, files)
    return _form(ctx, number)


def _upload(ctx: Ctx, number: str, files: list[UploadFile]) -> Response:
    if len(files) != 1:
        problem = "update: 请选择一个阶段进展文件(JSON)上传"
        if ctx.wants_json:
            return JSONResponse({"error": problem}, status_code=400)
        return _page(ctx, number, 400, upload_problem=problem)
    name = staging.safe_name(files[0].filename, "update.json")
    files[0].file.seek(0)
    try:
        result = _apply(ctx, number, name, files[0].file.read())
    except (InputError, StateError) as exc:
        if ctx.wants_json:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return _page(ctx, number, 400, upload_problem=str(exc))
    if ctx.wants_json:
        return JSONResponse(result.as_json())  # `archive update --json`
    return _done(ctx, result)


def _form(ctx: Ctx, number: str) -> Response:
    values = forms.typed(ctx.form, forms.UPDATE_FORM)
    doc, errors = forms.build(values, forms.UPDATE_FORM, ctx.arc.settings.zone)
    if errors:
        return _page(ctx, number, 400, values=values, errors=errors)
    raw = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    try:
        result = _apply(ctx, number, FORM_FILE, raw)
    except InputError as exc:
        where = forms.field_of(exc.where, forms.UPDATE_FORM, forms.capa_rows(values))
        if where is None:
            return _page(ctx, number, 400, values=values, problem=str(exc))
        return _page(ctx, number, 400, values=values, errors={where: f"{exc.where}: {exc.problem}"})
    except StateError as exc:
        return _page(ctx, number, 400, values=values, problem=str(exc))
    return _done(ctx, result)


def _apply(ctx: Ctx, number: str, name: str, raw: bytes) -> UpdateResult:
    """`archive update NUMBER NAME [--reason R] [--reopen]`, the file written outside the root first."""
    from archive.rules.stages import prepare
    from archive.services.cases import update as do_update

    reason = ctx.field("reason")
    arc = ctx.writer()
    with staging.folder(ctx.web.root) as tmp:
        path = staging.place(tmp, name, raw, [])
        try:
            prep = prepare(path)
        except InputError as exc:
            raise InputError(name, exc.where, exc.problem.replace(str(tmp), ".")) from None
    return do_update(arc, number, replace(prep, file=name), reason=reason if reason.strip() else None,
                     reopen=bool(ctx.field("reopen")))


def _done(ctx: Ctx, result: UpdateResult) -> Response:
    if not result.stages:
        same = "、".join(vocab.label(vocab.STAGE, s) for s in result.unchanged)
        return ctx.redirect(f"/cases/{result.number}", f"{same} 与已记录的版本相同,未写入任何内容")
    done = "、".join(vocab.label(vocab.STAGE, s) for s in result.stages)
    return ctx.redirect(f"/cases/{result.number}",
                        f"已登记 {result.number} 的{done},状态:{vocab.label(vocab.STATUS, result.status)}")
