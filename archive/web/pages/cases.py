"""GET /cases/NUMBER: one case as `archive show` knows it, with its stage versions, forms, signatures (as verify
judges them), holds, retention and audit trail; JSON = `archive show NUMBER --json`. GET /cases/NUMBER/files/PATH:
a file of the record's manifest. Both masked for a role without personal data, both in the access register
before anything is sent."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from archive import clock, vocab
from archive.errors import NotFound
from archive.web import permissions
from archive.web.routing import Ctx, page

PDF_TYPE = "application/pdf"
TYPES = {".pdf": PDF_TYPE, ".json": "application/json; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
# A PDF shown inside our own case page may be framed by it (pages themselves are never framed: guards.CSP).
INLINE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; object-src 'self'; " \
             "frame-ancestors 'self'"


@cache
def _schema(name: str) -> dict[str, Any]:
    from importlib import resources

    data: dict[str, Any] = json.loads(resources.files("archive.schemas").joinpath(name).read_text(encoding="utf-8"))
    return data


def _shown(spec: dict[str, Any], value: Any, zone: dt.tzinfo) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return ";".join(f"{t} {v}" for t, v in _pairs(spec, value, zone))
    if isinstance(value, list):
        return "、".join(_shown(spec.get("items") or {}, x, zone) for x in value)
    if "enum" in spec and (coded := vocab.vocabulary_of([str(x) for x in spec["enum"]])):
        return vocab.label(coded, str(value))
    if spec.get("format") == "date-time":
        return clock.local_text(str(value), zone)
    return str(value)


def _pairs(node: dict[str, Any], value: dict[str, Any], zone: dt.tzinfo, skip: tuple[str, ...] = ()
           ) -> list[tuple[str, str]]:
    """A dict's fields in the schema's order, each by its Chinese title (a field the schema lacks by its key)."""
    props: dict[str, Any] = node.get("properties") or {}
    out = []
    for key in [*props, *(k for k in value if k not in props)]:
        if key in skip or key not in value or value[key] in (None, "", [], {}):
            continue
        spec = props.get(key) or {}
        title = spec.get("title") or (_schema("case.schema.json")["properties"].get(key) or {}).get("title") or key
        out.append((str(title), _shown(spec, value[key], zone)))
    return out


def fields(schema: str, path: list[str], value: Any, zone: dt.tzinfo, skip: tuple[str, ...] = ()
           ) -> list[tuple[str, str]]:
    """(标题, 值) pairs of a part of a case or stage, as the templates list them."""
    node = _schema(schema)
    for key in path:
        node = (node.get("properties") or {}).get(key) or {}
    return _pairs(node, value, zone, skip) if isinstance(value, dict) else []


def _names(data: dict[str, Any]) -> list[str]:
    case = data.get("case") or {}
    names = [str((case.get("complainant") or {}).get("name") or "")]
    patient = case.get("patient")
    if isinstance(patient, dict) and patient.get("name"):
        names.append(str(patient["name"]))
    return [n for n in names if n.strip()]


@page("/cases/{number}", "case.view")
def case_page(ctx: Ctx) -> Response:
    from archive.services import case_page as parts
    from archive.services.cases import show

    number = ctx.request.path_params["number"]
    arc = ctx.arc
    try:
        data = show(arc, number)
    except NotFound:
        gone = None if ctx.wants_json else parts.tombstone(arc, number)
        if gone is None:
            raise
        ctx.log("view", number=number, detail="已销毁")
        zone = arc.settings.zone
        return ctx.page("destroyed.html", 410, title=f"案件 {number} 已销毁", gone=gone,
                        local_time=lambda value: clock.local_text(value, zone))
    more = parts.detail(arc, number)
    if not ctx.sees_personal_data:
        from archive.privacy.mask import mask_shown, mask_update

        data, more = mask_shown(data), mask_update(more, _names(data))
    ctx.log("view", number=number, detail=None if ctx.sees_personal_data else "脱敏")
    zone = arc.settings.zone
    return ctx.answer(data, "case.html", title=f"投诉 {number}", d=data, more=more, zone=zone, fields=fields,
                      late={m["deadline"]: m for m in data["late"]},
                      local_time=lambda value: clock.local_text(value, zone))


def _disposition(kind: str, name: str) -> str:
    """RFC 6266/5987: an ASCII fallback and the UTF-8 name (a Chinese file name survives every browser)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _who_may_download(ctx: Ctx) -> str:
    roles = [r for r in vocab.ROLE if permissions.allowed(r, "file.download")
             and r in ctx.arc.settings.web_see_personal_data]
    return "、".join(vocab.ROLE[r] for r in roles) or "没有角色"


@page("/cases/{number}/files/{path:path}", "file.download")
def case_file(ctx: Ctx) -> Response:
    from archive.services import files

    number, path = ctx.request.path_params["number"], ctx.request.path_params["path"]
    served = files.record_file(ctx.arc, number, path)
    if not ctx.sees_personal_data:
        served = files.masked_file(ctx.arc, served, number, _who_may_download(ctx))
    ctx.log("download", number=number, path=served.path, detail="脱敏" if served.masked else None)
    suffix = "." + served.name.rsplit(".", 1)[-1].lower() if "." in served.name else ""
    media = TYPES.get(suffix, "application/octet-stream")
    inline = ctx.request.query_params.get("inline") == "1" and media == PDF_TYPE
    headers = {**ctx.headers, "content-disposition": _disposition("inline" if inline else "attachment", served.name)}
    if inline:
        headers.update({"content-security-policy": INLINE_CSP, "x-frame-options": "SAMEORIGIN"})
    return Response(served.data, media_type=media, headers=headers)
