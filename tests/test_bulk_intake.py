"""Intake in bulk: many files, or a folder tree, archived case by case with the index committed per batch,
and a run killed mid-batch never leaves an archived case unfindable without `archive index check` naming it."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ARCHIVE_BIN, audit_entries, record_dirs, run_archive, set_settings, use_engine, write_case

WORDS = ["甲醛超标", "瓶盖松动", "标签模糊", "说明书缺页", "颗粒结块", "铝箔穿孔", "胶囊变色", "封口开裂",
         "气味异常", "数量短少", "批号不清", "铝塑起泡", "片剂裂片", "液体浑浊"]


def _cases(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_case(folder, f"case-{i:02d}.json", description=f"第{i}例投诉:{WORDS[i]},客户要求退换",
                       complainant={"name": f"客户{i}号", "organization": "华东医药连锁有限公司"},
                       received_at=f"2026-11-{3 + i:02d}T10:15:00+08:00")
            for i in range(count)]


def _index_check(root: Path) -> tuple[int, dict[str, list[str]]]:
    done = run_archive(root, "index", "check", "--json")
    return done.returncode, json.loads(done.stdout)


def _found(root: Path, word: str) -> list[str]:
    done = run_archive(root, "search", "--json", word)
    assert done.returncode == 0, done.stderr
    return [h["number"] for h in json.loads(done.stdout)["hits"]]


def _serials_consecutive(root: Path) -> None:
    numbers = sorted(record_dirs(root))
    for period in {n[:4] for n in numbers}:  # the serial restarts every month
        serials = [int(n[-4:]) for n in numbers if n[:4] == period]
        assert serials == list(range(1, len(serials) + 1)), numbers
    intakes = [e["number"] for e in audit_entries(root) if e["action"] == "intake"]
    assert sorted(intakes) == numbers, "one intake audit entry per published case, none twice"


def test_batch_intake_gives_one_result_per_file_and_the_index_holds_every_case(root: Path, tmp_path: Path,
                                                                              engine: str) -> None:
    use_engine(root, engine)
    files = _cases(tmp_path / "in", 5)
    bad = tmp_path / "in" / "broken.json"
    bad.write_text("{ not json", encoding="utf-8")
    given = [*files[:2], bad, *files[2:]]
    done = run_archive(root, "intake", "--json", *map(str, given))
    assert done.returncode == 2, done.stderr
    results = json.loads(done.stdout)
    assert [r["file"] for r in results] == [str(p) for p in given]
    assert results[2]["number"] is None and "broken.json" in results[2]["error"]
    numbers = [r["number"] for r in results if r["number"]]
    assert len(numbers) == 5 == len(set(numbers))
    code, report = _index_check(root)
    assert code == 0 and not any(report.values()), report
    for i, number in enumerate(numbers):
        assert _found(root, WORDS[i]) == [number]
    _serials_consecutive(root)


def test_batch_intake_commits_the_index_once_per_batch_not_once_per_case(root: Path, tmp_path: Path, engine: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from archive.services.archive import Archive
    from archive.services.cases import intake_files

    use_engine(root, engine)
    index_class = importlib.import_module(f"archive.search.engines.{engine}").SearchIndex
    commits: list[int] = []
    real = index_class.update

    def counting(self: object, docs: object) -> None:
        batch = list(docs)  # type: ignore[call-overload]
        commits.append(len(batch))
        real(self, batch)

    monkeypatch.setattr(index_class, "update", counting)
    arc = Archive.open(root, "测试员 tester", write=True)
    results = intake_files(arc, _cases(tmp_path / "in", 6))
    assert len(results) == 6 and all(getattr(r, "number", None) for r in results)
    assert commits == [6]
    assert not (root / ".index-pending").exists()


def test_import_of_a_folder_tree_names_each_refused_file_and_archives_the_rest(root: Path, tmp_path: Path) -> None:
    tree = tmp_path / "paper"
    _cases(tree / "2019" / "03", 2)
    (tree / "2020").mkdir()
    write_case(tree / "2020", "only.json", description=f"旧档案:{WORDS[9]}", received_at="2020-05-06T09:00:00+08:00")
    (tree / "2020" / "notes.txt").write_text("not a case file", encoding="utf-8")
    (tree / "2019" / "broken.json").write_text("{ not json", encoding="utf-8")
    (tree / "2020" / "inventory.json").write_text(json.dumps({"shelf": "A3"}), encoding="utf-8")
    done = run_archive(root, "import", "--json", str(tree))
    assert done.returncode == 2, done.stderr
    summary = json.loads(done.stdout)
    assert [Path(a["file"]).name for a in summary["archived"]] == ["case-00.json", "case-01.json", "only.json"]
    refused = {Path(r["file"]).name: r["reason"] for r in summary["refused"]}
    assert set(refused) == {"broken.json", "inventory.json"}
    assert "JSON" in refused["broken.json"]
    assert refused["inventory.json"] == "$.shelf: unknown field (not in the schema)"
    text = run_archive(root, "import", str(tree))  # again: each earlier case is refused as archived before
    assert "archived 0 cases" in text.stdout
    assert "inventory.json" in text.stdout and "case-00.json" in text.stdout and "archived before" in text.stdout
    code, report = _index_check(root)
    assert code == 0 and not any(report.values()), report
    _serials_consecutive(root)


def test_import_makes_no_pdfs_by_default_even_when_intake_does(root: Path, tmp_path: Path) -> None:
    set_settings(root, lambda t: t.replace('pdf = "on_demand"', 'pdf = "intake"', 1))
    _cases(tmp_path / "paper", 2)
    done = run_archive(root, "import", "--json", str(tmp_path / "paper"))
    assert done.returncode == 0, done.stderr
    assert all(not d.endswith(".pdf") for a in json.loads(done.stdout)["archived"] for d in a["documents"])
    assert not [p for p in (root / "records").rglob("*.pdf")]


def _intakes_logged(root: Path) -> int:
    log = root / "audit" / "audit.jsonl"
    return log.read_bytes().count(b'"action": "intake"') + log.read_bytes().count(b'"action":"intake"') \
        if log.exists() else 0


def test_a_bulk_run_killed_mid_batch_leaves_every_case_findable_or_named_and_the_next_writer_indexes_it(
        root: Path, tmp_path: Path, engine: str) -> None:
    use_engine(root, engine)
    files = _cases(tmp_path / "paper", 14)
    words = {f.name: WORDS[i] for i, f in enumerate(files)}
    named_missing = set()
    for stop_after in (2, 5):
        before = _intakes_logged(root)
        proc = subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "import", str(tmp_path / "paper")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while _intakes_logged(root) < before + stop_after and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the run finished before the kill: use more files"
        code, report = _index_check(root)
        for number, folder in record_dirs(root).items():
            source = json.loads((folder / "case.json").read_text(encoding="utf-8"))["intake"]["source_name"]
            if number in report["missing"]:
                named_missing.add(number)
            else:
                assert number in _found(root, words[source]), f"{number} neither findable nor named"
    assert named_missing, "the kill should have left cases published but not yet in the index"
    # The next writer (here: the rest of the import) finishes the index first, then goes on.
    done = run_archive(root, "import", "--json", str(tmp_path / "paper"))
    assert done.returncode == 2, done.stderr  # the cases archived before are refused as archived
    code, report = _index_check(root)
    assert code == 0 and not any(report.values()), report
    assert len(record_dirs(root)) == 14
    for name, word in words.items():
        assert len(_found(root, word)) == 1, name
    _serials_consecutive(root)
    assert run_archive(root, "verify").returncode == 0


def test_pdfs_left_by_an_import_are_made_afterwards_in_one_libreoffice_run(root: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from archive.cli.app import main
    from archive.documents import pdf

    _cases(tmp_path / "paper", 3)
    done = run_archive(root, "import", "--json", str(tmp_path / "paper"))
    numbers = [a["number"] for a in json.loads(done.stdout)["archived"]]
    runs: list[int] = []
    real = pdf.convert

    def counting(docs: list[Path], *args: object, **kw: object) -> list[Path]:
        runs.append(len(docs))
        return real(docs, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf, "convert", counting)
    result = CliRunner().invoke(main, ["--root", str(root), "render", "--pdf", "--json", *numbers])
    assert result.exit_code == 0, result.output
    assert runs == [6], "the two forms of three cases in one LibreOffice run"
    made = json.loads(result.output)
    assert [r["number"] for r in made] == numbers
    for r in made:
        folder = record_dirs(root)[r["number"]]
        assert sorted(r["documents"]) == sorted(p.relative_to(folder).as_posix()
                                                for p in folder.glob("documents/*.pdf"))
        assert len(r["documents"]) == 2
    assert [e["number"] for e in audit_entries(root) if e["action"] == "render"] == numbers
    code, report = _index_check(root)
    assert code == 0 and not any(report.values()), report
    assert run_archive(root, "verify").returncode == 0
