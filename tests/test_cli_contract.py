"""The command-line contract: fast start, JSON only on stdout, no tracebacks, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import SHARED_CASES, run_archive


def test_version_does_not_import_heavy_libraries() -> None:
    code = ("import sys; from archive.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('docx', 'docxtpl', 'jsonschema', 'whoosh', 'cryptography', 'pypdf', 'sqlite3')"
            " if m in sys.modules]\nprint(heavy, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"


def test_json_output_is_one_document(root: Path) -> None:
    result = run_archive(root, "intake", "--json", *map(str, SHARED_CASES[:2]))
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 2
    listed = run_archive(root, "list", "--json")
    assert [r["number"] for r in json.loads(listed.stdout)] == ["26110001", "26110002"]


def test_missing_root_is_a_clear_error(tmp_path: Path) -> None:
    result = run_archive(tmp_path / "nowhere", "list")
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
