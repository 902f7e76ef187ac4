"""Command line: one module per command family; each command parses, calls one service, and prints."""

from __future__ import annotations

from archive.cli import cases, dossier, integrity, maintenance, retention, search, settings
from archive.cli.app import main

__all__ = ["cases", "dossier", "integrity", "main", "maintenance", "retention", "search", "settings"]
