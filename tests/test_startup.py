"""Start-up: `archive search` loads what searching needs and nothing else, and opens the index without reading
it whole. Checked by what a fresh process holds in sys.modules and what opening allocates, never by timing."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import Cli, write_case

import archive.cli
from archive.cli import app

# What the other commands need (forms, signatures, schemas, PDFs, spreadsheets, the register) and what a
# library pulls in for features the search never uses (networking, asyncio, English stemming tables).
NOT_FOR_SEARCH = ("docx", "docxtpl", "jinja2", "lxml", "jsonschema", "cryptography", "pyhanko", "pypdf",
                  "openpyxl", "bagit", "sqlite3", "pypinyin", "asyncio", "urllib.request", "http.client", "ssl",
                  "email.parser", "whoosh.lang.morph_en", "cached_property", "archive.documents",
                  "archive.integrity", "archive.export", "archive.validate", "archive.store.txn",
                  "archive.store.audit", "archive.cli.cases", "archive.cli.dossier", "archive.cli.integrity",
                  "archive.cli.maintenance", "archive.cli.retention", "archive.cli.settings")


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
