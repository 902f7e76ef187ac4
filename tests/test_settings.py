"""archive.toml: every setting present and commented; bad settings named by key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Cli, audit_entries, snapshot, write_case

from archive.cli import main
from archive.settings import DEFAULT_TEXT


def test_init_is_idempotent(root: Path) -> None:
    before = snapshot(root)
    result = CliRunner().invoke(main, ["--root", str(root), "init"])
    assert result.exit_code == 0 and "already initialised" in result.stdout
    assert snapshot(root) == before


def test_init_writes_every_setting_with_a_comment(root: Path) -> None:
    text = (root / "archive.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["numbering"]["pattern"] == "{yy}{mm}{serial:04}"
    assert data["time"]["zone"] == "Asia/Shanghai"
    assert data["retention"]["years_after_closure"] == 3
    for section in ("organisation", "numbering", "time", "deadlines", "calendar", "retention"):
        # a comment line sits right under each section header
        assert f"[{section}]\n#" in text


def test_root_comes_from_the_environment(tmp_path: Path) -> None:
    r = tmp_path / "envroot"
    r.mkdir()
    result = CliRunner().invoke(main, ["init"], env={"ARCHIVE_ROOT": str(r)})
    assert result.exit_code == 0 and (r / "archive.toml").exists()


@pytest.mark.parametrize(("old", "new", "named"), [
    ('zone = "Asia/Shanghai"', 'zone = "Mars/Olympus"', "time.zone"),
    ("years_after_closure = 3", "years_after_closure = \"three\"", "retention.years_after_closure"),
    ("[retention]", "[retention]\nyears_forever = 1", "retention.years_forever"),
    ("[retention]", "[colour]\nx = 1\n[retention]", "[colour]"),
    ('pattern = "{yy}{mm}{serial:04}"', 'pattern = "{yy}{serial:04}"', "numbering.pattern"),
    ('pattern = "{yy}{mm}{serial:04}"', 'pattern = "../{yy}{mm}{serial:04}"', "numbering.pattern"),
    ("extra_holidays = []", 'extra_holidays = ["2027-02-30"]', "calendar.extra_holidays"),
    ('pdf = "on_demand"', 'pdf = "sometimes"', "documents.pdf"),
    ("[time]", "[time", "malformed TOML"),
])
def test_bad_setting_is_named(root: Path, cli: Cli, tmp_path: Path, old: str, new: str, named: str) -> None:
    toml = root / "archive.toml"
    assert old in toml.read_text(encoding="utf-8")
    toml.write_text(toml.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    result = cli("intake", str(write_case(tmp_path)))
    assert result.exit_code == 2 and named in result.stderr and "Traceback" not in result.output
    assert [e["action"] for e in audit_entries(root)] == ["settings-apply"]


def test_default_text_parses() -> None:
    assert tomllib.loads(DEFAULT_TEXT)["organisation"]["name"]
