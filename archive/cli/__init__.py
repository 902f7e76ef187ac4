"""Command line: one module per command family; each command parses, calls one service, and prints.

The families are imported when their command is asked for (app.COMMANDS), so a command loads only its own."""

from __future__ import annotations

from archive.cli.app import main

__all__ = ["main"]
