"""Start-up: `archive search` loads what searching needs and nothing else, and opens the index without reading
it whole. Checked by what a fresh process holds in sys.modules and what opening allocates, never by timing."""

from __future__ import annotations

import importlib
import json
import pkgutil
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Cli, write_case

import archive.cli
from archive.cli import app

# What the other commands need (forms, signatures, schemas, PDFs, spreadsheets, the register) and what a
# library pulls in for features the search never uses (networking, asyncio, English stemming tables).
NOT_FOR_SEARCH = ("docx", "docxtpl", "jinja2", "lxml", "jsonschema", "cryptography", "pyhanko", "pypdf",
                  "openpyxl", "bagit", "sqlite3", "pypinyin",
                  "asyncio", "urllib.request", "http.client", "ssl", "email.parser", "html", "tempfile", "shutil",
                  "_hashlib", "cached_property", "whoosh.lang.morph_en", "whoosh.lang.porter",
                  "archive.search.similarity", "archive.search.extract", "archive.documents", "archive.integrity",
                  "archive.export", "archive.validate", "archive.store.txn", "archive.store.audit",
                  "archive.cli.cases", "archive.cli.dossier", "archive.cli.integrity", "archive.cli.maintenance",
                  "archive.cli.retention", "archive.cli.settings")


def loaded_after(*argv: str) -> tuple[list[str], str]:
    """Run the CLI in a fresh interpreter; returns the modules of NOT_FOR_SEARCH it loaded and its stdout."""
    code = ("import sys, json\nfrom archive.cli import main\n"
            f"try:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps([m for m in {NOT_FOR_SEARCH!r} if m in sys.modules]), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(out.stderr.strip().splitlines()[-1])
    return loaded, out.stdout


def test_search_loads_only_what_searching_needs(cli: Cli, root: Path, tmp_path: Path) -> None:
    assert cli("intake", str(write_case(tmp_path))).exit_code == 0
    loaded, stdout = loaded_after("--root", str(root), "search", "--json", "破损")
    assert [h["number"] for h in json.loads(stdout)["hits"]] == ["26110001"]  # it did search
    assert loaded == []


def test_version_loads_no_command_family() -> None:
    loaded, stdout = loaded_after("--version")
    assert stdout.startswith("archive, version")
    assert loaded == []


def test_every_command_is_found_by_name_from_its_module() -> None:
    """`archive NAME` imports the one module app.COMMANDS names for it; the table must name every command."""
    families = [m.name for m in pkgutil.iter_modules(archive.cli.__path__) if m.name not in ("app", "common", "text")]
    for family in families:
        importlib.import_module(f"archive.cli.{family}")
    defined = {name: getattr(cmd.callback, "__module__", None) for name, cmd in app.main.commands.items()}
    assert {name: f"archive.cli.{family}" for name, family in app.COMMANDS.items()} == defined


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app.main, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(app.COMMANDS)


def test_an_unknown_command_is_refused_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app.main, ["--root", str(tmp_path), "serch", "破损"])
    assert result.exit_code == 2 and "No such command 'serch'" in result.output


def _cases(n: int) -> Iterator[dict[str, Any]]:
    """Index documents whose text (random characters) makes a term index of a few MB."""
    rng = random.Random(19)
    pool = [chr(c) for c in range(0x4E00, 0x4E00 + 400)]
    for i in range(n):
        text = "".join(rng.choice(pool) for _ in range(300)) + " 外包装破损"
        yield {"number": f"2611{i + 1:04d}", "received": 20261103, "received_at": "2026-11-03T10:15:00+08:00",
               "channel": "phone", "category": "packaging", "severity": "minor", "status": "registered",
               "complainant": "王建国", "organisation": "华东医药连锁有限公司", "product": "阿莫西林胶囊",
               "lot": "B2026080315", "identifiers": "B2026080315", "departments": "质量部", "retention_until": "",
               "hold": False, "content": text, "stamp": "", "passages": [["投诉内容", text]]}


def test_a_search_reads_the_index_in_place_not_a_copy_of_it(tmp_path: Path) -> None:
    from archive.search.engines.whoosh import SearchIndex
    from archive.search.query import parse

    folder = tmp_path / "index"
    SearchIndex(folder).rebuild(_cases(30))
    size = sum(p.stat().st_size for p in folder.iterdir())
    SearchIndex(folder).search(parse("破损"))  # what a first search imports is not what this measures
    tracemalloc.start()
    try:
        hits, total = SearchIndex(folder).search(parse("破损"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 30 and len(hits) == 10
    assert peak < size / 4, f"opening and searching an index of {size:,} bytes allocated {peak:,}"


def test_whoosh_leaves_the_modules_it_does_not_use_to_whoever_imports_them() -> None:
    code = ("import sys\nimport archive.search.engines.whoosh\n"
            "assert 'urllib.request' not in sys.modules and 'asyncio' not in sys.modules\n"
            "import urllib.request, cached_property, html, tempfile, shutil, hashlib\n"
            "from whoosh.query import Variations\n"
            "from whoosh.lang.morph_en import variations\n"
            "import pickle\nfrom whoosh.analysis import StemmingAnalyzer\n"
            "stemming = pickle.loads(pickle.dumps(StemmingAnalyzer()))\n"
            "print(callable(urllib.request.urlopen), hasattr(cached_property, 'threaded_cached_property'),"
            " 'rendering' in variations('render'), [t.text for t in stemming('rendering')] == ['render'],"
            " html.escape('<') == '&lt;' and callable(tempfile.mkdtemp) and callable(shutil.rmtree),"
            " callable(hashlib.sha256))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"] * 6


def test_equal_scores_come_in_case_number_order_and_the_total_counts_every_match(tmp_path: Path) -> None:
    """The top hits are chosen without loading every candidate's stored fields: ties still go by number."""
    from archive.search.engines.whoosh import SearchIndex
    from archive.search.query import parse

    index = SearchIndex(tmp_path / "index")
    docs = list(_cases(24))
    random.Random(5).shuffle(docs)
    for batch in (docs[:8], docs[8:16], docs[16:]):  # three segments, numbers out of order in each
        index.update(batch)
    for query in ("破损", "received:2026-11", "外包装破损 lot:B2026080315"):
        hits, total = index.search(parse(query), limit=5)
        assert total == 24
        assert [h.number for h in hits] == [f"2611{i:04d}" for i in range(1, 6)], query


def test_the_total_of_a_one_word_search_leaves_out_deleted_and_replaced_cases(tmp_path: Path) -> None:
    """A word's total is read from its document frequency, which still counts what was deleted until segments
    merge: then the matches are counted."""
    from archive.search.engines.whoosh import SearchIndex
    from archive.search.query import parse

    folder = tmp_path / "index"
    docs = list(_cases(6))
    SearchIndex(folder).update(docs)
    assert SearchIndex(folder).search(parse("破损"))[1] == 6
    SearchIndex(folder).update([{**docs[0], "content": "包装完好", "passages": [["投诉内容", "包装完好"]]}])
    SearchIndex(folder).delete(docs[1]["number"])
    assert SearchIndex(folder).search(parse("破损"))[1] == 4  # one replaced, one deleted
    assert SearchIndex(folder).search(parse("完好"))[1] == 1


def test_a_stand_in_gives_whoosh_the_real_module_for_anything_it_does_not_name() -> None:
    """Whoosh's writers reach for tempfile.mkdtemp and shutil.rmtree, which no stand-in names: they must work."""
    import shutil as real_shutil
    import tempfile as real_tempfile

    from archive.search.engines import whoosh_startup

    standin = whoosh_startup._StandIn("tempfile", "test")
    assert standin.mkdtemp is real_tempfile.mkdtemp
    assert whoosh_startup._StandIn("shutil", "test").rmtree is real_shutil.rmtree


@pytest.mark.parametrize("engine_name", ["whoosh", "tantivy"])
def test_a_long_lived_index_sees_what_other_writers_replaced_and_deleted(tmp_path: Path, engine_name: str) -> None:
    """One SearchIndex held across writes (a web server's) answers as a fresh one would: Whoosh's refresh() kept
    unchanged segments' old deletions and went on finding a replaced and a deleted case."""
    from archive.search.query import parse

    if engine_name == "whoosh":
        from archive.search.engines.whoosh import SearchIndex as Engine
    else:
        from archive.search.engines.tantivy import SearchIndex as Engine  # type: ignore[assignment]
    folder = tmp_path / "index"
    docs = list(_cases(6))
    Engine(folder).update(docs)
    held = Engine(folder)
    assert held.search(parse("破损"))[1] == 6
    Engine(folder).update([{**docs[0], "content": "包装完好", "passages": [["投诉内容", "包装完好"]]}])
    Engine(folder).delete(docs[1]["number"])
    assert held.search(parse("破损"))[1] == Engine(folder).search(parse("破损"))[1] == 4
    assert [h.number for h in held.search(parse("完好"))[0]] == [docs[0]["number"]]
