"""The archivist's and retention officer's pages: what is due and what blocks it, the destruction plan, legal
holds placed and released, a purge's dry run, and the executed certificates. Every page calls the service the
CLI command calls; none of them destroys or signs anything (that stays `archive purge --execute`, with the
approver's and the witness's keys)."""

from __future__ import annotations

import datetime as dt
import shlex
from typing import Any

from starlette.responses import FileResponse, Response

from archive import clock
from archive.errors import InputError, NotFound
from archive.web.routing import Ctx, page


def _day(ctx: Ctx, name: str) -> dt.date:
    """A date parameter (YYYY-MM-DD), today when absent; a wrong one is one line naming the parameter."""
    raw = ctx.request.query_params.get(name, "").strip()
    if not raw:
        return clock.today(ctx.arc.settings.zone)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError("日期", name, f"{raw!r} 不是 YYYY-MM-DD 格式的日期") from None


def masked(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their free text (hold reasons, CAPA actions) masked for the case's complainant and any phone
    or ID number, for a role that does not see personal data: staff type these, and may type a name."""
    if ctx.sees_personal_data or not rows:
        return rows
    from archive.privacy.mask import _names_of, mask_text
    from archive.record import folders
    from archive.record import reader as casefile

    names: dict[str, list[str]] = {}

    def text(number: str, value: Any) -> Any:
        if number not in names:
            try:
                names[number] = _names_of(casefile.load(folders.find_record(ctx.arc.layout, number)).case)
            except NotFound:  # destroyed meanwhile: nothing of it is shown but the number
                names[number] = []
        if isinstance(value, str):
            return mask_text(value, names[number])
        if isinstance(value, list):
            return [text(number, v) for v in value]
        if isinstance(value, dict):
            return {k: text(number, v) if k in ("action", "reason") else v for k, v in value.items()}
        return value

    return [{k: text(r["number"], v) if k in ("reason", "hold_reasons", "open_actions") else v
             for k, v in r.items()} for r in rows]


@page("/retention", "retention.view")
def retention(ctx: Ctx) -> Response:
    from archive.services.retention import due, holds, schedule

    as_of = _day(ctx, "as_of")
    arc = ctx.arc
    due_list, plan = due(arc, as_of), schedule(arc)
    due_list["blocked"], plan["held"] = masked(ctx, due_list["blocked"]), masked(ctx, plan["held"])
    data = {"due": due_list, "schedule": plan, "holds": masked(ctx, holds(arc))}
    ctx.log("view", detail=f"保管与销毁 到期判定日 {as_of.isoformat()}")
    return ctx.answer(data, "retention.html", title="保管与销毁", as_of=as_of.isoformat())


def _back(ctx: Ctx, number: str) -> str:
    """Where the form came from: the retention page, or the case page (the default)."""
    return "/retention" if ctx.field("back") == "retention" else f"/cases/{number}"


@page("/cases/{number}/hold", "hold", methods=("POST",))
def place_hold(ctx: Ctx) -> Response:
    from archive.services.retention import hold

    number = ctx.request.path_params["number"]
    reason = ctx.field("reason").strip()
    if not reason:  # checked before the archive is opened for writing: nothing is written
        raise InputError("法律保全", "reason", "请填写保全原因(例如诉讼、监管检查),未做任何更改")
    result = hold(ctx.writer(), number, reason)
    if ctx.wants_json:
        return ctx.answer(result, "error.html")
    return ctx.redirect(_back(ctx, number), f"案件 {number} 已施加法律保全 {result['hold']}:{reason}")


@page("/cases/{number}/release", "hold", methods=("POST",))
def release_hold(ctx: Ctx) -> Response:
    from archive.services.retention import release

    number = ctx.request.path_params["number"]
    hold_id, reason = ctx.field("hold_id").strip(), ctx.field("reason").strip()
    if not hold_id:
        raise InputError("解除法律保全", "hold_id", "请指明要解除的保全(例如 H1),未做任何更改")
    if not reason:
        raise InputError("解除法律保全", "reason", "请填写解除原因,未做任何更改")
    result = release(ctx.writer(), number, hold_id, reason)
    if ctx.wants_json:
        return ctx.answer(result, "error.html")
    still = f";仍在法律保全中({'、'.join(result['still_held_by'])})" if result["still_held_by"] else ""
    return ctx.redirect(_back(ctx, number), f"案件 {number} 已解除法律保全 {hold_id}{still}")


def purge_command(ctx: Ctx, as_of: str, approved_by: str) -> str:
    """The command line that executes the run this page previews: only the approver's and the witness's own
    keys can sign it, so the web never does."""
    user = ctx.user
    actor = user.name if user else "执行人姓名"
    need = ctx.arc.settings.destruction_signatures  # [retention] destruction_signatures: which keys must sign
    keys = [*(["--sign-as", "批准人私钥.pem"] if need >= 1 else []),
            *(["--witness", "监销人私钥.pem"] if need >= 2 else [])]
    return shlex.join(["archive", "--root", str(ctx.web.root), "--actor", actor, "purge", "--as-of", as_of,
                       "--approved-by", approved_by or "批准人姓名", "--execute", *keys])


@page("/retention/purge", "purge.preview")
def purge_preview(ctx: Ctx) -> Response:
    from archive.services.retention import purge

    as_of = _day(ctx, "as_of")
    approved_by = ctx.request.query_params.get("approved_by", "").strip()
    # A dry run: execute=False reads and verifies, and writes nothing (no plan, no signature, no certificate).
    result = purge(ctx.arc, as_of, approved_by, execute=False)
    result.held, result.blocked = masked(ctx, result.held), masked(ctx, result.blocked)
    ctx.log("view", detail=f"销毁预览 判定日 {as_of.isoformat()}")
    return ctx.answer(result.as_json(), "purge.html", title="销毁预览", as_of=as_of.isoformat(),
                      signatures=ctx.arc.settings.destruction_signatures,
                      approved_by=approved_by, command=purge_command(ctx, as_of.isoformat(), approved_by))


@page("/retention/certificates", "certificates.view")
def certificates_page(ctx: Ctx) -> Response:
    from archive.services.retention import certificates

    rows = certificates(ctx.arc)
    ctx.log("view", detail="销毁证明")
    return ctx.answer(rows, "certificates.html", title="销毁证明")


def certificate_file(ctx: Ctx, cert_id: str, name: str) -> tuple[dict[str, Any], str]:
    """The certificate and the relative path of one of ITS files, looked up in what the service lists: the
    request's words are compared, never joined into a path."""
    from archive.services.retention import certificates

    for row in certificates(ctx.arc):
        if row["id"] == cert_id:
            for path in row["files"]:
                if path.rsplit("/", 1)[-1] == name:
                    return row, str(path)
            names = "、".join(p.rsplit("/", 1)[-1] for p in row["files"])
            raise NotFound(f"销毁证明 {cert_id} 没有文件 {name!r}(有:{names})")
    raise NotFound(f"没有销毁证明 {cert_id!r}")


MEDIA = {".pdf": "application/pdf", ".json": "application/json",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@page("/retention/certificates/{cert_id}/{name}", "certificates.view")
def certificate_download(ctx: Ctx) -> Response:
    cert_id, name = ctx.request.path_params["cert_id"], ctx.request.path_params["name"]
    _, rel = certificate_file(ctx, cert_id, name)
    ctx.log("download", path=rel, detail=f"销毁证明 {cert_id}")
    suffix = rel[rel.rfind("."):]
    return FileResponse(ctx.web.root / rel, media_type=MEDIA.get(suffix, "application/octet-stream"),
                        filename=name, content_disposition_type="attachment", headers=ctx.headers)
