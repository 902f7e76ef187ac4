"""A second engine for large archives (issue 19): archive.toml `[search] engine` chooses Whoosh or tantivy,
`archive rebuild` builds the chosen one, and an index the chosen engine cannot answer from (the other engine's,
an older format, a damaged one) is one line naming `archive rebuild`. What the engines answer is tested once per
engine by the search test files (the `engine` fixture); what is particular to one engine is here."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    SHARED_CASES,
    Cli,
    read_only_view,
    run_archive,
    set_settings,
    snapshot,
    use_engine,
    write_case,
)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _numbers(cli: Cli, *query: str) -> list[str]:
    result = cli("search", "--json", *query)
    assert result.exit_code == 0, result.output
    return [h["number"] for h in json.loads(result.stdout)["hits"]]


# ---------------------------------------------------------------- the setting

def test_the_default_engine_is_whoosh_and_archive_toml_documents_both() -> None:
    from archive import settings

    assert settings.from_mapping({}).search_engine == "whoosh"
    section = settings.DEFAULT_TEXT.split("[search]")[1].split("\n[")[0]
    assert 'engine = "whoosh"' in section and "tantivy" in section


def test_an_unknown_engine_is_refused_in_one_line_naming_the_key_and_the_allowed_values(root: Path, cli: Cli) -> None:
    toml = root / "archive.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('engine = "whoosh"', 'engine = "lucene"'),
                    encoding="utf-8")
    result = cli("search", "破损")
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "search.engine" in line and "lucene" in line
    assert '"whoosh"' in line and '"tantivy"' in line


# ---------------------------------------------------------------- switching engines

@pytest.mark.parametrize(("first", "second"), [("whoosh", "tantivy"), ("tantivy", "whoosh")])
def test_after_switching_engines_search_and_writes_name_rebuild_until_it_is_run_then_index_check_is_clean(
        root: Path, cli: Cli, tmp_path: Path, first: str, second: str) -> None:
    use_engine(root, first)
    assert cli("intake", str(write_case(tmp_path))).exit_code == 0
    assert _numbers(cli, "破损") == ["26110001"]
    set_settings(root, lambda t: t.replace(f'engine = "{first}"', f'engine = "{second}"'))

    result = cli("search", "破损")
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "archive rebuild" in line and second in line, line
    before = snapshot(root)
    result = cli("intake", str(write_case(tmp_path, "b.json", description="瓶盖松动")))
    assert result.exit_code == 2 and "archive rebuild" in _one_line(result.stderr), result.output
    assert snapshot(root) == before, "a write refused for the index wrote something"

    assert cli("rebuild").exit_code == 0
    from archive.search.engines import tantivy, whoosh

    written = {"tantivy": tantivy.FORMAT, "whoosh": str(whoosh.FORMAT_VERSION)}[second]
    assert (root / "index" / "FORMAT").read_text(encoding="utf-8").strip() == written
    check = cli("index", "check", "--json")
    assert check.exit_code == 0 and not any(json.loads(check.stdout).values()), check.output
    assert _numbers(cli, "破损") == ["26110001"]
    assert cli("intake", str(write_case(tmp_path, "b.json", description="瓶盖松动"))).exit_code == 0
    assert _numbers(cli, "瓶盖松动") == ["26110002"]


def test_the_tantivy_index_names_its_engine_and_version_in_its_format_file(root: Path) -> None:
    from archive.search.engines import tantivy

    use_engine(root, "tantivy")
    assert (root / "index" / "FORMAT").read_text(encoding="utf-8").strip() == tantivy.FORMAT == "tantivy 2"


# ---------------------------------------------------------------- an index tantivy cannot answer from

def test_a_tantivy_index_of_an_older_format_or_none_names_rebuild(root: Path, cli: Cli, tmp_path: Path) -> None:
    use_engine(root, "tantivy")
    assert cli("intake", str(write_case(tmp_path))).exit_code == 0
    marker = root / "index" / "FORMAT"
    marker.write_text("tantivy 0\n", encoding="utf-8")
    result = cli("search", "破损")
    line = _one_line(result.stderr)
    assert result.exit_code == 2 and "older format" in line and "archive rebuild" in line
    marker.unlink()
    result = cli("search", "破损")
    assert result.exit_code == 2 and "archive rebuild" in _one_line(result.stderr)
    assert cli("rebuild").exit_code == 0
    assert _numbers(cli, "破损") == ["26110001"]


@pytest.mark.parametrize("damage", ["meta.json garbled", "segment files gone", "index folder gone"])
def test_a_damaged_tantivy_index_is_one_line_naming_rebuild(root: Path, cli: Cli, tmp_path: Path, damage: str) -> None:
    use_engine(root, "tantivy")
    assert cli("intake", str(write_case(tmp_path))).exit_code == 0
    index = root / "index"
    if damage == "meta.json garbled":
        (index / "meta.json").write_text("{not json", encoding="utf-8")
    elif damage == "segment files gone":
        for f in index.iterdir():
            if re.fullmatch(r"[0-9a-f]{32}\..*", f.name):
                f.unlink()
    else:
        import shutil

        shutil.rmtree(index)
    for args in (["search", "破损"], ["similar", "26110001"], ["index", "check"]):
        result = cli(*args)
        line = _one_line(result.stderr)
        assert result.exit_code == 2 and "archive rebuild" in line and "Traceback" not in result.output, (args, line)
    assert cli("rebuild").exit_code == 0
    assert _numbers(cli, "破损") == ["26110001"]


# ---------------------------------------------------------------- readers and writers

def test_readers_answer_while_a_writer_commits(root: Path, tmp_path: Path) -> None:
    """Each intake commits the index (a new segment, merges, old files removed) while searches run in other
    processes: every search answers, and never with an error."""
    use_engine(root, "tantivy")
    files = [write_case(tmp_path, f"c{i}.json", description=f"并发读写第{i}例 外包装破损") for i in range(6)]
    done = threading.Event()

    def write() -> None:
        try:
            for f in files:
                run_archive(root, "intake", str(f), check=True)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    answers = []
    while not done.is_set():
        result = run_archive(root, "search", "--json", "并发读写")
        assert result.returncode == 0, result.stderr
        answers.append(json.loads(result.stdout)["total"])
    writer.join()
    assert answers == sorted(answers), "a search saw fewer cases than the one before it"
    final = run_archive(root, "search", "--json", "--limit", "20", "并发读写")
    assert json.loads(final.stdout)["total"] == 6


def test_reading_commands_write_nothing_inside_a_tantivy_root(root: Path, cli: Cli) -> None:
    use_engine(root, "tantivy")
    assert cli("intake", *map(str, SHARED_CASES[:3])).exit_code == 0
    before = snapshot(root)
    for args in (["search", "破损"], ["search", "--sort", "date", "received:2026-11"], ["similar", "26110001"],
                 ["index", "check"], ["list"]):
        assert run_archive(root, *args).returncode == 0, args
    assert snapshot(root) == before


@pytest.fixture
def read_only_tantivy(root: Path, tmp_path: Path) -> Iterator[Path]:
    use_engine(root, "tantivy")
    for case in SHARED_CASES[:2]:
        assert run_archive(root, "--actor", "t", "intake", str(case)).returncode == 0
    yield from read_only_view(root, tmp_path)


def test_a_read_only_copy_of_a_tantivy_archive_is_searched(read_only_tantivy: Path) -> None:
    """tantivy takes a lock file in the index folder to read it; a backup copy on read-only media is still searched."""
    for args in (["search", "破损"], ["similar", "26110001"], ["index", "check"]):
        result = run_archive(read_only_tantivy, *args)
        assert result.returncode == 0, (args, result.stderr)
    found = run_archive(read_only_tantivy, "search", "--json", "破损")
    assert [h["number"] for h in json.loads(found.stdout)["hits"]] == ["26110001"]


# ---------------------------------------------------------------- destruction leaves no bytes behind

def test_compact_leaves_no_deleted_document_in_the_tantivy_index(tmp_path: Path) -> None:
    from archive.search.engines.tantivy import SearchIndex
    from archive.search.query import parse

    index = SearchIndex(tmp_path / "index")
    index.create()
    index.update([_doc("26110001", "外包装破损"), _doc("26110002", "瓶盖松动")])
    index.delete("26110001")
    index.compact()
    meta = json.loads((tmp_path / "index" / "meta.json").read_text(encoding="utf-8"))
    assert [s.get("deletes") for s in meta["segments"]] == [None]
    assert index.stamps() == {"26110002": "stamp-26110002"}
    assert [h.number for h in index.search(parse("瓶盖"))[0]] == ["26110002"]


def _doc(number: str, text: str) -> dict[str, object]:
    return {"number": number, "received": 20261103, "received_at": "2026-11-03T10:15:00+08:00", "channel": "phone",
            "category": "packaging", "severity": "minor", "status": "registered", "complainant": "王建国",
            "organisation": "华东医药", "product": "阿莫西林胶囊", "lot": "B2026080315", "identifiers": number,
            "departments": "质量部", "retention_until": "", "hold": False, "content": text,
            "passages": [["投诉内容", text]], "days": "20261103", "stamp": f"stamp-{number}"}


def test_rebuild_with_tantivy_clears_the_note_of_cases_a_bulk_intake_left_unindexed(root: Path, cli: Cli,
                                                                                   tmp_path: Path) -> None:
    use_engine(root, "tantivy")
    assert cli("intake", str(write_case(tmp_path))).exit_code == 0
    (root / ".index-pending").write_text("26110001\n", encoding="utf-8")
    assert cli("rebuild").exit_code == 0
    assert not (root / ".index-pending").exists()
    assert cli("index", "check").exit_code == 0 and _numbers(cli, "破损") == ["26110001"]
