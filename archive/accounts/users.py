"""The users store, users/users.json: read here; written only by archive/services/users.py through the change
protocol (txn.add_files), so every change is journaled and audited."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from archive import vocab
from archive.errors import InputError, StateError
from archive.store.layout import Layout

USERS_FILE = "users/users.json"  # relative to the root (Layout.users)
FORMAT = 1
LOGIN = re.compile(r"[a-z][a-z0-9._-]{1,31}")
NAME_MAX = 40


@dataclass(frozen=True)
class User:
    login: str
    name: str
    role: str
    active: bool
    password: str  # the scrypt string (archive/accounts/passwords.py), never shown
    created_at: str
    created_by: str
    disabled_at: str | None = None
    disabled_by: str | None = None
    disabled_reason: str | None = None

    def public(self) -> dict[str, Any]:
        """Everything but the password hash: what --json and the web show."""
        data = asdict(self)
        del data["password"]
        return data


def check_login(login: str) -> str:
    if not LOGIN.fullmatch(login):
        raise InputError("command line", "LOGIN", f"{login!r}: 以小写字母开头, 2 到 32 个字符: a-z 0-9 . _ - "
                                                  "(starts with a-z; 2 to 32 of a-z, 0-9, '.', '_', '-')")
    return login


def check_name(name: str) -> str:
    text = name.strip()
    if not text:
        raise InputError("command line", "--name", "姓名不能为空 (must not be empty)")
    if len(text) > NAME_MAX:
        raise InputError("command line", "--name", f"至多 {NAME_MAX} 个字符 (at most {NAME_MAX} characters)")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise InputError("command line", "--name", "不能含控制字符 (no control characters)")
    return text


def check_role(role: str) -> str:
    key = vocab.key_of(vocab.ROLE, role)
    if key is None:
        raise InputError("command line", "--role", f"{role!r} is not one of: {vocab.listing(vocab.ROLE)}")
    return key


def _user(item: Any) -> User:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    user = User(**item)
    if not (isinstance(user.login, str) and isinstance(user.password, str) and isinstance(user.active, bool)
            and user.role in vocab.ROLE):
        raise TypeError("ill-typed user")
    return user


def load(layout: Layout) -> dict[str, User]:
    """Every user by login; {} when no user was ever added. A damaged file is one line naming it."""
    path = layout.users
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StateError(f"{USERS_FILE}: cannot be read ({exc.strerror or exc})") from None
    try:
        parsed = json.loads(data)
        if not isinstance(parsed, dict) or parsed.get("format") != FORMAT or not isinstance(parsed.get("users"), list):
            raise TypeError(f"not a users file of format {FORMAT}")
        users = [_user(item) for item in parsed["users"]]
    except (ValueError, TypeError) as exc:
        raise StateError(f"{USERS_FILE} is damaged ({exc}); run `archive verify`, then restore it from a "
                         "copy") from None
    return {u.login: u for u in users}


def get(layout: Layout, login: str) -> User | None:
    return load(layout).get(login)


def to_bytes(users: dict[str, User]) -> bytes:
    """The file's bytes: users sorted by login, one stable form (its SHA-256 goes into the audit entry)."""
    body = {"format": FORMAT, "users": [asdict(users[k]) for k in sorted(users)]}
    return (json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
