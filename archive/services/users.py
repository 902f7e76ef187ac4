"""Users of the web page: added and disabled through the change protocol and audited; checked at login."""

from __future__ import annotations

from dataclasses import replace

from archive import clock
from archive.accounts import passwords
from archive.accounts import users as store
from archive.accounts.users import USERS_FILE, User
from archive.errors import InputError, NotFound, StateError
from archive.services.archive import Archive
from archive.store import txn
from archive.store.layout import Layout


def _write(arc: Archive, users: dict[str, User], entry: txn.Entry) -> None:
    replace_ = frozenset({USERS_FILE}) if arc.layout.users.exists() else frozenset[str]()
    txn.add_files(arc.layout, {USERS_FILE: store.to_bytes(users)}, entry, replace=replace_)


def add(arc: Archive, login: str, name: str, role: str, password: str) -> User:
    """A new user (audit action user-add, naming login, name and role; never the password or its hash)."""
    login = store.check_login(login)
    name = store.check_name(name)
    role = store.check_role(role)
    passwords.check_strength(password)
    with arc.writing(derived_needed=False):
        users = store.load(arc.layout)
        if login in users:
            raise StateError(f"user {login} already exists (用户已存在); a login is never given twice")
        user = User(login=login, name=name, role=role, active=True, password=passwords.hash_password(password),
                    created_at=clock.utc_now(), created_by=arc.actor)
        _write(arc, {**users, login: user},
               txn.Entry(arc.actor, "user-add", extra={"user": {"login": login, "name": name, "role": role}}))
    return user


def disable(arc: Archive, login: str, reason: str) -> User:
    """A user who may no longer log in (audit action user-disable, with the reason); kept, never removed, so
    the access register's entries keep naming a known person."""
    if not reason.strip():
        raise InputError("command line", "--reason", "停用原因不能为空 (a reason is needed)")
    with arc.writing(derived_needed=False):
        users = store.load(arc.layout)
        user = users.get(login)
        if user is None:
            raise NotFound(f"user {login} does not exist (无此用户)")
        if not user.active:
            raise StateError(f"user {login} is already disabled (已停用) since {user.disabled_at}: "
                             f"{user.disabled_reason}")
        user = replace(user, active=False, disabled_at=clock.utc_now(), disabled_by=arc.actor,
                       disabled_reason=reason.strip())
        _write(arc, {**users, login: user},
               txn.Entry(arc.actor, "user-disable", reason=reason.strip(),
                         extra={"user": {"login": login, "name": user.name, "role": user.role}}))
    return user


def list_users(arc: Archive) -> list[User]:
    users = store.load(arc.layout)
    return [users[k] for k in sorted(users)]


def authenticate(layout: Layout, login: str, password: str) -> User | None:
    """The user ``login`` names when ``password`` is theirs and they are active; None otherwise, for any reason
    (unknown, wrong password, disabled), after the same scrypt work, so the answer's time says nothing."""
    user = store.get(layout, login)
    ok = passwords.check_password(password, user.password if user is not None else passwords.DUMMY_HASH)
    return user if ok and user is not None and user.active else None
