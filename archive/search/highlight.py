"""Snippets around each matched string, the match marked «like this». Works on CJK without word breaks."""

from __future__ import annotations

from archive.search.analysis import join_lines, normalise

MARK_OPEN, MARK_CLOSE = "«", "»"


def snippets(text: str, literals: list[str], width: int = 18, limit: int = 3) -> list[str]:
    flat = normalise(" ".join(join_lines(text).split()))
    low = flat.lower()
    spans: list[tuple[int, int]] = []
    for lit in sorted({normalise(x).lower() for x in literals if x.strip()}, key=len, reverse=True):
        start = low.find(lit)
        while start >= 0 and len(spans) < 20:
            end = start + len(lit)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = low.find(lit, end)
    out = []
    for s, e in sorted(spans)[:limit]:
        left = max(0, s - width)
        right = min(len(flat), e + width)
        out.append(("…" if left else "") + flat[left:s] + MARK_OPEN + flat[s:e] + MARK_CLOSE + flat[e:right]
                   + ("…" if right < len(flat) else ""))
    return out


def labelled(passages: list[list[str]], literals: list[str], limit: int = 3) -> list[str]:
    """Snippets of the text people wrote, each after its field's label (投诉内容: …«破损»…): one from each
    field that matched before a second from any, so the fields a case matched in all show."""
    per_field = [[f"{label}: {s}" for s in snippets(text, literals, limit=limit)] for label, text in passages]
    out: list[str] = []
    for rank in range(limit):
        out += [found[rank] for found in per_field if len(found) > rank]
    return out[:limit]
