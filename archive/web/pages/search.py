"""GET /search?q=QUERY: the query language of `archive search`, twenty hits a page with their labelled highlights
(the match marked), the query's filters as chips (each links to the query without it), the count and the order.
JSON = `archive search QUERY --json`. Masked for a role without personal data; registered before the answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.responses import Response

from archive import vocab
from archive.errors import InputError
from archive.web.routing import Ctx, page

PER_PAGE = 20
MAX_PAGE = 50  # 1,000 hits: as many as `archive search --limit` gives
SORTS = {"relevance": "按相关度", "date": "按受理日期"}
MARK_OPEN, MARK_CLOSE = "«", "»"  # archive/search/highlight.py's marks (not imported: it pulls the analyser in)
EXAMPLES = [
    ("破损 外包装", "两个词都出现(中文词按连续字符匹配)"),
    ("\u201c铝塑板有压痕\u201d", "引号内的短语按原样出现"),
    ("lot:B2026080315", "产品批号字段为该批号"),
    ("customer:华东 received:2026-11", "客户名称含“华东”,2026 年 11 月受理"),
    ("severity:重要 status:已结案", "严重程度、状态可用代码或中文"),
    ("category:包装及邮寄 received:2026-01..2026-06", "类别与受理日期范围"),
    ("signer:张丽", "张丽签署或经办过的案件"),
    ("retention:..2029-12 hold:false", "2029 年底前到期、未保全的已结案案件"),
    ("2026-11-03", "单独的日期:当天受理、处理或文中提及"),
]


def marked(text: str) -> Markup:
    """A highlight with its match in <mark>: the text escaped, only our marks become tags (balanced, so a «
    typed by the customer cannot leave a tag open)."""
    out: list[str] = []
    open_ = False
    for ch in text:
        if ch == MARK_OPEN and not open_:
            out.append("<mark>")
            open_ = True
        elif ch == MARK_CLOSE and open_:
            out.append("</mark>")
            open_ = False
        else:
            out.append(str(escape(ch)))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


def _unparsed(text: str, quoted: bool) -> str:
    """One part of a query written back so that the query language reads it as it was."""
    from archive.search.query import _FIELD

    if quoted:
        return f"\u201c{text}\u201d" if '"' in text else f'"{text}"'
    m = _FIELD.match(text)
    if m and any(c.isspace() for c in m.group(2)):
        return f'{m.group(1)}:\u201c{m.group(2)}\u201d' if '"' in m.group(2) else f'{m.group(1)}:"{m.group(2)}"'
    return text


def chips(q: str, sort: str) -> list[dict[str, str]]:
    """Each filter of the query with the link to the same query without it."""
    from archive.search.query import _FIELD, ENUMS, FILTERS, split

    parts = split(q)
    out = []
    for i, (text, quoted) in enumerate(parts):
        m = _FIELD.match(text)
        if quoted or m is None or m.group(1) not in FILTERS:
            continue
        name, value = m.group(1), m.group(2).strip()
        if name in ENUMS:
            code = vocab.key_of(ENUMS[name], value.lower()) or vocab.key_of(ENUMS[name], value)
            value = ENUMS[name].get(code, value) if code else value
        rest = " ".join(_unparsed(t, qq) for j, (t, qq) in enumerate(parts) if j != i)
        out.append({"label": vocab.SEARCH_FILTER.get(name, name), "value": value,
                    "href": "/search?" + urlencode({"q": rest, "sort": sort}) if rest else "/search"})
    return out


def _int(ctx: Ctx, name: str, default: int, high: int) -> int:
    raw = ctx.request.query_params.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise InputError("检索", name, f"{raw!r} 不是 1 到 {high} 之间的整数")
    return int(raw)


def _masked(ctx: Ctx, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if ctx.sees_personal_data:
        return hits
    from archive.privacy.mask import mask_summary
    from archive.search.extract import address_labels

    labels = address_labels()
    return [mask_summary(h, labels) for h in hits]


@page("/search", "search")
def search_page(ctx: Ctx) -> Response:
    from archive.search.query import QueryError
    from archive.services.search import search

    q = ctx.request.query_params.get("q", "").strip()
    sort = ctx.request.query_params.get("sort", "relevance")
    if sort not in SORTS:
        raise InputError("检索", "sort", f"{sort!r} 不是 relevance 或 date")
    values: dict[str, Any] = {"title": "检索", "q": q, "sort": sort, "sorts": SORTS, "examples": EXAMPLES,
                              "marked": marked, "error": "", "result": None, "chips": [], "page_no": 1, "pages": 1}
    if not q:
        if ctx.wants_json:
            raise InputError("检索", "q", "没有检索式")
        return ctx.page("search.html", **values)
    web = ctx.web
    try:
        if ctx.wants_json:
            limit = _int(ctx, "limit", 10, 1000)  # `archive search`'s --limit, its default too
            with web.search_lock:
                result = search(ctx.arc, q, limit=limit, sort=sort, engine=web.engine())
            result["hits"] = _masked(ctx, result["hits"])
            ctx.log("search", query=q)
            return ctx.answer(result, "search.html")
        page_no = _int(ctx, "page", 1, MAX_PAGE)
        with web.search_lock:
            result = search(ctx.arc, q, limit=page_no * PER_PAGE, sort=sort, engine=web.engine())
    except QueryError as exc:
        if ctx.wants_json:
            raise InputError("检索式", "q", str(exc)) from None
        return ctx.page("search.html", 400, **{**values, "error": str(exc)})
    result["hits"] = _masked(ctx, result["hits"][(page_no - 1) * PER_PAGE:])
    ctx.log("search", query=q)
    pages = max(1, min(MAX_PAGE, -(-result["total"] // PER_PAGE)))
    return ctx.page("search.html", **{**values, "result": result, "chips": chips(q, sort), "page_no": page_no,
                                      "pages": pages, "first": (page_no - 1) * PER_PAGE})
