"""The role matrix: every role × every route of the web page (archive.web.routing.ACTION_OF, so a route a page
module adds is covered here without being named). A role the table permits is never refused; any other role
gets 403 naming the missing permission, with nothing changed in the root; nobody logged in is sent to the login
form (a page) or gets 401 (a program asking for JSON)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import snapshot
from web_helpers import USERS, client_for, copy_root, fill, login

from archive import vocab
from archive.web import permissions, routing

routing.loaded()
ROUTES = sorted(routing.ACTION_OF)
GUARDED = [r for r in ROUTES if routing.ACTION_OF[r] != routing.PUBLIC]
def ask(client: Any, method: str, url: str, csrf: str | None, *, json_: bool = False) -> Any:
    headers = {"Accept": "application/json"} if json_ else {}
    if method == "POST":
        return client.post(url, data={"csrf": csrf or ""}, headers=headers)
    return client.request(method, url, headers=headers)


# A page's own refusal of a role the table permits, by a rule other than the role (so not the table's 403):
# (path, method, role) → the text that names that rule. Each is a decision to look at, not a default.
PAGE_REFUSALS = {
    # webkeep: a dossier holds signed originals that cannot be masked, so a role without [web]
    # see_personal_data (inspectors, by default) is refused the export although the table permits `dossier`.
    ("/dossier", "POST", "inspector"): "see_personal_data",
}


@pytest.fixture(scope="module")
def matrix(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One root for the module and one client logged in per role (each with its session's CSRF token)."""
    root = copy_root(web_template, tmp_path_factory.mktemp("matrix") / "web")
    clients = {}
    for user, (_, role) in USERS.items():
        client = client_for(root)
        client.__enter__()
        clients[role] = (client, login(client, user))
    yield {"root": root, "clients": clients}
    for client, _ in clients.values():
        client.__exit__(None, None, None)


def test_the_table_names_every_role_and_only_known_actions() -> None:
    assert set(permissions.PERMITTED) == set(vocab.ROLE)
    permissions.check_table()
    for (path, method), action in routing.ACTION_OF.items():
        assert action == routing.PUBLIC or action in vocab.WEB_ACTION, f"{method} {path}: {action}"


def test_default_deny_for_an_unknown_role_or_action() -> None:
    assert not any(permissions.allowed("visitor", action) for action in vocab.WEB_ACTION)
    assert not any(permissions.allowed(role, "no-such-action") for role in vocab.ROLE)


def test_every_route_is_in_the_matrix() -> None:
    """The routes Starlette serves are exactly those the table knows (a route added without @page would escape
    the role check)."""
    served = {(r.path, m) for r in routing.ROUTES for m in (r.methods or ()) if m != "HEAD"}
    assert served == set(routing.ACTION_OF)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_each_role_is_allowed_or_refused_by_the_table(route: tuple[str, str], matrix: dict[str, Any]) -> None:
    path, method = route
    action = routing.ACTION_OF[route]
    root: Path = matrix["root"]
    url = fill(path, root)
    wrong = []
    for role, (client, csrf) in matrix["clients"].items():
        if action == routing.PUBLIC:
            # Its own session: logging out (or in again) must not end the shared one.
            with client_for(root) as own:
                answer = ask(own, method, url, login(own, next(u for u, (_, r) in USERS.items() if r == role)))
            if answer.status_code == 403:
                wrong.append(f"{role}: a public page refused: {answer.text[:200]}")
            continue
        if permissions.allowed(role, action):
            answer = ask(client, method, url, csrf)
            if answer.status_code == 403 and PAGE_REFUSALS.get((path, method, role), "@") not in answer.text:
                wrong.append(f"{role}: permitted {action} but refused: {answer.text[:300]}")
            continue
        before = snapshot(root)
        answer = ask(client, method, url, csrf)
        if answer.status_code != 403:
            wrong.append(f"{role}: not permitted {action} but got {answer.status_code}")
        elif "无权限" not in answer.text or vocab.WEB_ACTION[action] not in answer.text:
            wrong.append(f"{role}: 403 for another reason than the role: {answer.text[:300]}")
        if snapshot(root) != before:
            wrong.append(f"{role}: refused, yet the root changed")
        as_json = ask(client, method, url, csrf, json_=True)
        if as_json.status_code != 403 or "无权限" not in as_json.json().get("error", ""):
            wrong.append(f"{role}: JSON answer {as_json.status_code} {as_json.text[:200]}")
    assert not wrong, f"{method} {path} ({action}):\n" + "\n".join(wrong)


@pytest.mark.parametrize("route", GUARDED, ids=[f"{m} {p}" for p, m in GUARDED])
def test_nobody_logged_in_is_sent_to_login_or_gets_401(route: tuple[str, str], web_root: Path) -> None:
    path, method = route
    url = fill(path, web_root)
    with client_for(web_root) as client:
        before = snapshot(web_root)
        page = ask(client, method, url, None)
        assert page.status_code == 303, page.text[:300]
        assert page.headers["location"].startswith("/login?next=")
        program = ask(client, method, url, None, json_=True)
        assert program.status_code == 401
        assert program.json() == {"error": "未登录"}
        assert snapshot(web_root) == before



def roles_table() -> str:
    """README's roles table, from the one table (permissions.PERMITTED): an action per row, a role per column."""
    roles = list(vocab.ROLE)
    lines = ["| 操作 (action) | " + " | ".join(f"{vocab.ROLE[r]} `{r}`" for r in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for action, label in vocab.WEB_ACTION.items():
        marks = ["✓" if permissions.allowed(r, action) else "" for r in roles]
        lines.append(f"| {label} `{action}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def test_the_readme_roles_table_is_the_permissions_table() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- roles: .*? -->\n(.*?)\n<!-- end roles -->", readme, re.S)
    assert found is not None, "README.md has no roles table between <!-- roles: ... --> and <!-- end roles -->"
    assert found.group(1) == roles_table(), "README's roles table differs from permissions.PERMITTED:\n" + roles_table()
