"""The README's command table and `--help` tell the truth about the command line."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from archive.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command, asked for by name as the command line does (the families load when asked for)."""
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"archive {' '.join((*prefix, name))} is listed but not found"
        path = (*prefix, name)
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
    return out


def _documented() -> set[str]:
    """The command path at the start of each row of the README's command table."""
    out = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `archive ([^`]*)`", line)
        if m:
            words = []
            for token in m.group(1).split():
                if not re.fullmatch(r"[a-z][a-z-]*", token):
                    break
                words.append(token)
            out.add(" ".join(words))
    return out


def test_every_command_is_in_the_readme_command_table() -> None:
    documented = _documented()
    leaves = [" ".join(p) for p, c in _commands(main) if not isinstance(c, click.Group) or not c.commands]
    missing = [c for c in leaves if c not in documented]
    assert missing == [], f"commands missing from README's command table: {missing}"


def test_every_command_has_help_text() -> None:
    for path, cmd in _commands(main):
        assert (cmd.help or "").strip(), f"archive {' '.join(path)} has no --help text"
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.is_flag and param.name not in ("help",):
                assert param.help or param.metavar or isinstance(param.type, click.Choice) or param.required, \
                    f"archive {' '.join(path)} {param.opts[0]} has no help"
