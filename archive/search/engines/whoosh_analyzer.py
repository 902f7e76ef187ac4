"""The tokenizer above as a Whoosh analyzer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from archive.search.analysis import tokens
from archive.search.engines.whoosh_startup import analysis


class BigramTokenizer(analysis.Tokenizer):  # type: ignore[misc]
    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Any]:
        t = analysis.Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for tok in tokens(value):
            if mode == "query" and tok.extra:
                continue
            t.text = tok.text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = tok.text
            if positions:
                t.pos = start_pos + tok.pos
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t


def analyzer() -> BigramTokenizer:
    return BigramTokenizer()
