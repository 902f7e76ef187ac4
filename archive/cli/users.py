"""Users of the web page (`archive users add|list|disable`) and the access register (`archive access-log`)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from archive import clock, vocab
from archive.cli.app import main
from archive.cli.common import Coded, archive_command, emit, fail, optional_day, say

if TYPE_CHECKING:
    from archive.services.archive import Archive

PASSWORD_ENV = "ARCHIVE_PASSWORD"


@main.group()
def users() -> None:
    """Users of the web page: their login, name and role (质量保证, 档案管理员, 检查员 ...)."""


def on_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin was closed
        return False


def _password() -> str:
    """From $ARCHIVE_PASSWORD (scripts), else typed twice at a hidden prompt."""
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    if not on_terminal():
        fail(f"no password: set {PASSWORD_ENV} or run on a terminal")
    typed: str = click.prompt("password (密码)", hide_input=True, confirmation_prompt=True, err=True)
    return typed


@archive_command(users, "add", needs="write", json_output=False)
@click.argument("login")
@click.option("--name", required=True, help='The person, as the audit log names them, e.g. "质量部 王芳".')
@click.option("--role", required=True, type=Coded(vocab.ROLE), help="What they may do: " + vocab.listing(vocab.ROLE))
def users_add(arc: Archive, login: str, name: str, role: str) -> None:
    """Add a user (password from $ARCHIVE_PASSWORD, else prompted twice)."""
    from archive.accounts.users import check_login, check_name
    from archive.services.users import add

    check_login(login)  # a wrong login or name is said before the password is asked for
    check_name(name)
    user = add(arc, login, name, role, _password())
    say(f"用户 {user.login} ({user.name}, {vocab.label(vocab.ROLE, user.role)}) 已添加")


def _users_table(rows: list[dict[str, Any]]) -> str:
    from archive.cli.text import table

    if not rows:
        return "(没有用户 no users)"
    return table(["登录名", "姓名", "角色", "状态", "创建"],
                 [[u["login"], u["name"], vocab.label(vocab.ROLE, u["role"]),
                   "启用" if u["active"] else f"停用: {u['disabled_reason']}",
                   f"{u['created_at'][:10]} {u['created_by']}"] for u in rows])


@archive_command(users, "list")
def users_list(arc: Archive, as_json: bool) -> None:
    """Every user with role and state (the password hash is never shown)."""
    from archive.services.users import list_users

    emit(as_json, [u.public() for u in list_users(arc)], _users_table)


@archive_command(users, "disable", needs="write", json_output=False)
@click.argument("login")
@click.option("--reason", required=True, help="Why the user may no longer log in (kept in the audit log).")
def users_disable(arc: Archive, login: str, reason: str) -> None:
    """Disable a user: they can no longer log in; they stay listed, and so does what they did."""
    from archive.services.users import disable

    user = disable(arc, login, reason)
    say(f"用户 {user.login} ({user.name}) 已停用: {user.disabled_reason}")


def _access_table(arc: Archive, rows: list[dict[str, Any]]) -> str:
    from archive.cli.text import table

    if not rows:
        return "(没有查阅记录 no entries)"
    return table(["时间", "用户", "姓名", "角色", "操作", "案件", "文件或检索词", "地址"],
                 [[clock.local_text(e.get("time"), arc.settings.zone), e.get("login") or "", e.get("name") or "",
                   vocab.label(vocab.ROLE, e.get("role")), vocab.label(vocab.ACCESS_ACTION, e.get("action")),
                   e.get("number") or "", e.get("path") or e.get("query") or "", e.get("address") or ""]
                  for e in rows])


@archive_command(main, "access-log")
@click.option("--case", "case", metavar="NUMBER", help="Only entries about this case.")
@click.option("--user", "user", metavar="LOGIN", help="Only entries of this login.")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (inclusive, in the archive's time zone).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day (inclusive).")
def access_log(arc: Archive, case: str | None, user: str | None, start: str | None, end: str | None,
               as_json: bool) -> None:
    """The access register (查阅登记): who viewed, downloaded, searched or exported what, when, from where."""
    from archive.services.access_log import entries

    rows = entries(arc, case=case, user=user, date_from=optional_day("--from", start),
                   date_to=optional_day("--to", end))
    emit(as_json, rows, lambda r: _access_table(arc, r))
