"""Who may do what on the web: one table, default deny. Every route names one action from ACTIONS; a role
not listed for that action gets 403 and nothing is changed."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from archive import vocab

ACTIONS: Final = vocab.WEB_ACTION

_ALL: Final = frozenset(vocab.ROLE)

# Role → the actions it may take. Inspectors and managers read (masked); only QA enters cases; the people who
# keep the archive run retention; only the administrator reads the access register.
PERMITTED: Final = MappingProxyType({
    "qa": frozenset({"register", "search", "case.view", "file.download", "intake", "update", "sign", "reports"}),
    "archivist": frozenset({"register", "search", "case.view", "file.download", "retention.view", "hold",
                            "purge.preview", "certificates.view", "dossier"}),
    "inspector": frozenset({"register", "search", "case.view", "file.download", "certificates.view", "dossier"}),
    "retention": frozenset({"register", "search", "case.view", "retention.view", "hold", "purge.preview",
                            "certificates.view"}),
    "manager": frozenset({"register", "search", "case.view", "file.download", "sign", "reports",
                          "retention.view", "certificates.view"}),
    "admin": frozenset({"register", "search", "case.view", "access-log"}),
})


def allowed(role: str, action: str) -> bool:
    """Default deny: an unknown role or an action nobody listed is refused."""
    return action in PERMITTED.get(role, frozenset())


def check_table() -> None:
    """The table names only known roles and actions (a typo would silently deny or allow)."""
    unknown_roles = set(PERMITTED) - _ALL
    unknown_actions = {a for acts in PERMITTED.values() for a in acts} - set(ACTIONS)
    if unknown_roles or unknown_actions:
        raise AssertionError(f"permissions table: unknown roles {sorted(unknown_roles)}, "
                             f"actions {sorted(unknown_actions)}")
