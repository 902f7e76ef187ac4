"""Finding past complaints: the query language over the index, and cases like a given one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.derived.stores import index_guard

if TYPE_CHECKING:
    from archive.services.archive import Archive


def search(arc: Archive, text: str | list[str] | tuple[str, ...], limit: int = 10, sort: str = "relevance"
           ) -> dict[str, Any]:
    """``text`` is the query as one string or as several (a shell's arguments): the same answer either way."""
    from archive.search.query import parse

    query = parse(text)
    with index_guard():
        hits, total = arc.engine.search(query, limit=limit, sort=sort)
    return {"hits": [h.as_json() for h in hits], "total": total}


# Weights of what makes two complaints alike for a QA reviewer: the same lot first (a batch problem), then the
# same product or customer, then the words of the complaint (the index's key-term similarity, scaled to 0–2).
SAME_LOT, SAME_PRODUCT, SAME_CUSTOMER, TEXT = 3.0, 2.0, 2.0, 2.0


def similar(arc: Archive, number: str, limit: int = 5, earlier_only: bool = False) -> list[dict[str, Any]]:
    """Earlier (or all) complaints most like this one, each with the reasons it is similar."""
    from archive.record import folders
    from archive.record import reader as casefile

    view = casefile.load(folders.find_record(arc.layout, number))
    case = view.case
    before = case["received_at"] if earlier_only else None
    product = case.get("product", {})
    lot, name = product.get("lot"), product.get("name")
    customers = [c for c in (case["complainant"].get("organization"), case["complainant"]["name"]) if c]
    with index_guard():
        text_hits = [h.as_json() for h in arc.engine.similar(number, limit * 4, before)]
    top = max((h["score"] for h in text_hits), default=0.0) or 1.0
    found: dict[str, dict[str, Any]] = {}
    for h in text_hits:
        found[h["number"]] = {**h, "score": TEXT * h["score"] / top, "reasons": []}
    for row in arc.register.related(number, lot=lot, product=name, customers=customers):
        if before is not None and row["received_at"] >= before:
            continue
        hit = found.setdefault(row["number"], {"number": row["number"], "score": 0.0, "highlights": [],
                                               "received_at": row["received_at"], "complainant": row["complainant"],
                                               "product": row["product"] or "", "status": row["status"],
                                               "reasons": []})
        if lot and row["lot"] == lot:
            hit["score"] += SAME_LOT
            hit["reasons"].append(f"同批号 {lot}")
        if name and row["product"] == name:
            hit["score"] += SAME_PRODUCT
            hit["reasons"].append(f"同产品 {name}")
        shared = [c for c in customers if c in (row["organisation"], row["complainant"])]
        if shared:
            hit["score"] += SAME_CUSTOMER
            hit["reasons"].append(f"同客户 {shared[0]}")
    for h in text_hits:
        found[h["number"]]["reasons"].append("内容相近")
    ranked = sorted(found.values(), key=lambda h: (-h["score"], h["number"]))[:limit]
    return [{**h, "score": round(h["score"], 3)} for h in ranked]
