"""What folding costs: traditional→simplified (OpenCC) and the names' pinyin keys, against doing without.

    python bench/folding.py [--cases 2000] [--rounds 3]

Builds the same generated documents into a Whoosh index with folding on and off (alternating, best of
--rounds), then times the bench's query set on each. In-process; documents are indexed directly.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from search import QUERIES, doc, timed

from archive.search import analysis
from archive.search.engines import whoosh
from archive.search.engines.whoosh import SearchIndex
from archive.search.query import parse

ON = (analysis.fold, whoosh.name_keys, whoosh.spellings)
OFF = (lambda text: text, lambda name: frozenset(), lambda flat, literals: [])


def use(parts: tuple[object, object, object]) -> None:
    analysis.fold, whoosh.name_keys, whoosh.spellings = parts  # type: ignore[assignment]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(7)
    docs = [doc(i, rng) for i in range(args.cases)]
    work = Path(tempfile.mkdtemp(prefix="bench-fold-"))
    build: dict[str, list[float]] = {"on": [], "off": []}
    try:
        for _ in range(args.rounds):
            for mode, parts in (("off", OFF), ("on", ON)):
                use(parts)
                t0 = time.perf_counter()
                SearchIndex(work / mode).rebuild(iter(docs))
                build[mode].append(time.perf_counter() - t0)
        for mode, parts in (("off", OFF), ("on", ON)):
            use(parts)
            index = SearchIndex(work / mode)
            ms = timed(lambda q, index=index: index.search(parse(q)), QUERIES, rounds=args.rounds)
            qs = statistics.quantiles(ms, n=100)
            print(f"folding {mode:3}: build {args.cases} docs best {min(build[mode]):.2f} s "
                  f"({args.cases / min(build[mode]):.0f} docs/s); query p50 {statistics.median(ms):.2f} ms "
                  f"p95 {qs[94]:.2f} ms")
        use(ON)
        t0 = time.perf_counter()
        for d in docs:
            analysis.fold(d["content"])
        print(f"fold() alone over the {args.cases} contents: {(time.perf_counter() - t0) * 1000:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
