"""The web page's defences, each through the ASGI test client: security headers, CSRF, the login limiter,
sessions (expiry, rotation at login, logout, a disabled user), open redirects, the body cap, paths that climb
out of the record, the access register that must be written before anything is shown, stored passwords, and
the warning `archive serve` prints when it listens beyond loopback without TLS."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ARCHIVE_BIN, set_settings, snapshot
from web_helpers import PASSWORD, PDF_CASE, USERS, client_for, csrf_of, fill, login

from archive import vocab
from archive.cli import main
from archive.web import permissions, routing
from archive.web.sessions import COOKIE, Sessions

routing.loaded()
GET_ROUTES = sorted(p for p, m in routing.ACTION_OF if m == "GET")
POST_ROUTES = sorted(p for p, m in routing.ACTION_OF if m == "POST")
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def role_for(action: str) -> str:
    """A role the table permits ``action`` (any role for a public page)."""
    if action == routing.PUBLIC:
        return "qa"
    return next(role for role in vocab.ROLE if permissions.allowed(role, action))


def login_of(role: str) -> str:
    return next(user for user, (_, r) in USERS.items() if r == role)


def test_client(app: Any, address: str) -> Any:
    from starlette.testclient import TestClient

    return TestClient(app, follow_redirects=False, client=(address, 50000))


test_client.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


# ---------------------------------------------------------------- headers

def assert_headers(answer: Any, *, framed_ok: bool = False) -> None:
    h = answer.headers
    csp = h.get("content-security-policy", "")
    directives = dict([*d.strip().split(" ", 1), ""][:2] for d in csp.split(";") if d.strip())
    assert directives.get("default-src") == "'none'"
    # No inline script ever (a script either comes from our own static folder or not at all).
    assert "unsafe" not in directives.get("script-src", "")
    if not framed_ok:
        assert "unsafe" not in csp
    if not framed_ok:
        assert "frame-ancestors 'none'" in csp
        assert h.get("x-frame-options") == "DENY"
    assert h.get("x-content-type-options") == "nosniff"
    assert "no-store" in h.get("cache-control", "")


def test_security_headers_on_every_page(web_root: Path) -> None:
    with client_for(web_root) as anonymous:
        for path in ("/login", "/", "/no-such-page", "/static/style.css"):
            assert_headers(anonymous.get(path))
    for path in GET_ROUTES:
        role = role_for(routing.ACTION_OF[(path, "GET")])
        with client_for(web_root) as client:
            login(client, login_of(role))
            answer = client.get(fill(path, web_root))
            assert answer.status_code < 500, f"{path}: {answer.status_code}"
            assert_headers(answer)
            if "/files/" in path:
                # A PDF shown inline may be framed by our own case page, never by another site.
                inline = client.get(fill(path, web_root) + "?inline=1")
                assert_headers(inline, framed_ok=True)
                assert "frame-ancestors 'self'" in inline.headers["content-security-policy"]
                assert inline.headers["x-frame-options"] == "SAMEORIGIN"
            refused = client.get("/access-log" if role != "admin" else "/intake")
            assert_headers(refused)


# ---------------------------------------------------------------- CSRF

@pytest.mark.parametrize("token", ["forged-token", None], ids=["forged", "missing"])
def test_a_post_without_its_session_csrf_token_is_refused_and_changes_nothing(web_root: Path,
                                                                            token: str | None) -> None:
    for path in POST_ROUTES:
        role = role_for(routing.ACTION_OF[(path, "POST")])
        with client_for(web_root) as client:
            if path != "/login":
                login(client, login_of(role))
            else:
                csrf_of(client)
            before = snapshot(web_root)
            form = {"login": login_of(role), "password": PASSWORD, "reason": "测试", "next": "/"}
            if token is not None:
                form["csrf"] = token
            answer = client.post(fill(path, web_root), data=form)
            assert answer.status_code == 403, f"{path}: {answer.status_code} {answer.text[:200]}"
            assert "CSRF" in answer.text and "未做任何更改" in answer.text
            assert snapshot(web_root) == before, path
            # A header with a wrong token is no better than a form field.
            answer = client.post(fill(path, web_root), data=form, headers={"X-CSRF-Token": "forged"})
            assert answer.status_code == 403 and snapshot(web_root) == before


def test_the_csrf_token_of_another_session_is_refused(web_root: Path) -> None:
    with client_for(web_root) as mallory, client_for(web_root) as victim:
        login(victim, "qa")
        theirs = login(mallory, "archivist")
        before = snapshot(web_root)
        answer = victim.post("/logout", data={"csrf": theirs})
        assert answer.status_code == 403 and "CSRF" in answer.text
        assert snapshot(web_root) == before
        assert victim.get("/").status_code == 200  # still logged in


# ---------------------------------------------------------------- the login limiter

def try_login(client: Any, user: str, password: str) -> Any:
    return client.post("/login", data={"login": user, "password": password, "csrf": csrf_of(client)})


def test_failed_logins_are_limited_per_login_whatever_the_address(web_root: Path) -> None:
    from archive.web.app import create_app

    app = create_app(web_root)
    attempts = app.state.web.limiter.attempts
    assert attempts == 5  # [web] login_attempts by default
    for n in range(attempts):
        with test_client(app, f"10.0.0.{n + 1}") as guesser:
            assert try_login(guesser, "qa", "wrong-password-0").status_code == 401
    with test_client(app, "10.0.1.1") as owner:
        refused = try_login(owner, "qa", PASSWORD)
        assert refused.status_code == 429
        assert "登录失败次数过多" in refused.text
        assert owner.get("/").status_code == 303  # not logged in
        # Another login from a fresh address is not affected.
        assert try_login(owner, "archivist", PASSWORD).status_code == 303
        assert owner.get("/").status_code == 200


def test_failed_logins_are_limited_per_address_whatever_the_login(web_root: Path) -> None:
    from archive.web.app import create_app

    app = create_app(web_root)
    with test_client(app, "10.0.0.9") as guesser:
        for n in range(app.state.web.limiter.attempts):
            assert try_login(guesser, f"nobody{n}", "wrong-password-0").status_code == 401
        refused = try_login(guesser, "qa", PASSWORD)
        assert refused.status_code == 429 and "登录失败次数过多" in refused.text
    with test_client(app, "10.0.0.10") as colleague:
        assert try_login(colleague, "qa", PASSWORD).status_code == 303


def test_login_tries_sent_at_once_are_each_counted_before_any_password_is_checked(web_root: Path) -> None:
    """Found in review: the limit was checked before the (slow) password check and counted after it, so tries
    sent at the same moment all passed the check."""
    import threading

    from archive.web.app import create_app

    app = create_app(web_root)
    clients = [test_client(app, f"10.0.2.{n + 1}") for n in range(12)]
    tokens = [csrf_of(c) for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(client: Any, token: str) -> None:
        barrier.wait()
        answer = client.post("/login", data={"login": "manager", "password": "wrong-password-0", "csrf": token})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(statuses) == [401] * app.state.web.limiter.attempts + [429] * (12 - app.state.web.limiter.attempts)


def test_a_good_login_does_not_use_up_its_address_s_tries(web_root: Path) -> None:
    from archive.web.app import create_app

    app = create_app(web_root)
    for _ in range(app.state.web.limiter.attempts + 2):
        with test_client(app, "10.0.3.1") as colleague:
            assert try_login(colleague, "qa", PASSWORD).status_code == 303


def test_refused_logins_are_in_the_access_register(web_root: Path) -> None:
    with client_for(web_root) as client:
        try_login(client, "qa", "wrong-password-0")
        login(client, "qa")
    entries = [json.loads(line) for line in (web_root / "audit" / "access.jsonl").read_text("utf-8").splitlines()]
    assert [e["action"] for e in entries][-2:] == ["login-failed", "login"]
    assert all(PASSWORD not in json.dumps(e, ensure_ascii=False) for e in entries)


# ---------------------------------------------------------------- sessions

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_without_a_cookie_cannot_fill_the_session_store_nor_end_logged_in_sessions() -> None:
    """Found in review: every request without a cookie stored a session until it idled out."""
    sessions = Sessions(idle_seconds=60, clock=Clock(), max_anonymous=3)
    person = sessions.new("qa")
    visitors = [sessions.new() for _ in range(5)]
    assert [sessions.get(v.token) is not None for v in visitors] == [False, False, True, True, True]
    assert sessions.get(person.token) is person
    sessions.drop(visitors[-1].token)
    sessions.new()
    assert [sessions.get(v.token) is not None for v in visitors[2:4]] == [True, True]


def test_a_session_ends_after_its_idle_minutes_and_after_a_working_day() -> None:
    clock = Clock()
    sessions = Sessions(idle_seconds=60, clock=clock)
    s = sessions.new("qa")
    clock.now += 59
    assert sessions.get(s.token) is s
    clock.now += 61
    assert sessions.get(s.token) is None
    busy = sessions.new("qa")
    for _ in range(12 * 60 + 1):  # a request every minute, for more than twelve hours
        clock.now += 60
        if sessions.get(busy.token) is None:
            break
    else:
        raise AssertionError("an always-active session never ended")
    assert clock.now - busy.started > 12 * 3600 - 60


def test_a_session_expires_after_the_settings_session_minutes(web_root: Path) -> None:
    from archive.web.app import create_app

    set_settings(web_root, lambda text: re.sub(r"(?m)^session_minutes = \d+", "session_minutes = 1", text))
    app = create_app(web_root)
    sessions = app.state.web.sessions
    assert sessions.idle_seconds == 60
    clock = Clock()
    sessions.clock = clock
    with test_client(app, "10.0.0.1") as client:
        login(client, "qa")
        clock.now += 50
        assert client.get("/").status_code == 200
        clock.now += 50  # 50 s after the last request: still alive
        assert client.get("/").status_code == 200
        clock.now += 61
        gone = client.get("/")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert client.get("/", headers={"Accept": "application/json"}).status_code == 401


def test_the_session_token_changes_at_login(web_client: Any) -> None:
    csrf_of(web_client)
    before = web_client.cookies[COOKIE]
    login(web_client, "qa")
    after = web_client.cookies[COOKIE]
    assert after != before
    # The token planted before login is not logged in.
    web_client.cookies.set(COOKIE, before)
    assert web_client.get("/").status_code == 303


def test_logout_ends_the_session(web_client: Any) -> None:
    csrf = login(web_client, "qa")
    token = web_client.cookies[COOKIE]
    out = web_client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert web_client.get("/").status_code == 303
    web_client.cookies.set(COOKIE, token)  # the old cookie, kept by someone
    assert web_client.get("/", headers={"Accept": "application/json"}).status_code == 401


def test_a_disabled_users_open_session_ends_at_its_next_request(web_root: Path, web_client: Any) -> None:
    login(web_client, "inspector")
    assert web_client.get("/").status_code == 200
    result = CliRunner().invoke(main, ["--root", str(web_root), "--actor", "信息部 系统管理员 吴刚", "users",
                                       "disable", "inspector", "--reason", "调离"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    gone = web_client.get("/")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert "账号已停用" in web_client.get("/login").text
    assert web_client.get("/", headers={"Accept": "application/json"}).status_code == 401
    refused = try_login(web_client, "inspector", PASSWORD)
    assert refused.status_code == 401 and "用户名或密码错误" in refused.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "\\\\evil.example"])
def test_login_never_redirects_off_the_site(web_client: Any, target: str) -> None:
    answer = web_client.post("/login", data={"login": "qa", "password": PASSWORD, "csrf": csrf_of(web_client),
                                             "next": target})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    form = web_client.get("/login", params={"next": target})
    assert f'value="{target}"' not in form.text


def test_login_returns_to_the_page_asked_for(web_client: Any) -> None:
    first = web_client.get("/?status=registered")
    assert first.status_code == 303
    form = web_client.get(first.headers["location"])
    answer = web_client.post("/login", data={"login": "qa", "password": PASSWORD, "csrf": csrf_of(web_client),
                                             "next": re.search(r'name="next" value="([^"]*)"', form.text)
                                             .group(1).replace("&amp;", "&")})  # type: ignore[union-attr]
    assert answer.headers["location"] == "/?status=registered"


# ---------------------------------------------------------------- bodies and paths

BIG = 20 * 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_20_mb_body_to_any_post_is_refused_with_one_message(web_root: Path, chunked: bool) -> None:
    for path in POST_ROUTES:
        role = role_for(routing.ACTION_OF[(path, "POST")])
        with client_for(web_root) as client:
            csrf = login(client, login_of(role)) if path != "/login" else csrf_of(client)
            before = snapshot(web_root)
            body = b"csrf=" + csrf.encode() + b"&text=" + b"x" * BIG
            step = 1 << 20
            content: Any = (body[i:i + step] for i in range(0, len(body), step)) if chunked else body
            answer = client.post(fill(path, web_root), content=content,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 413, f"{path}: {answer.status_code}"
            assert answer.text == "上传内容超过 10 MB 上限,已拒绝,未做任何更改。"
            assert snapshot(web_root) == before, path


CLIMBS = ["../../../archive.toml", "..%2f..%2f..%2farchive.toml", "%2e%2e/%2e%2e/%2e%2e/archive.toml",
          "%2e%2e%2f%2e%2e%2f%2e%2e%2farchive.toml", "documents/../../../../archive.toml",
          "..\\..\\archive.toml", "/etc/passwd", "%2fetc%2fpasswd"]


@pytest.mark.parametrize("climb", CLIMBS)
def test_a_path_that_climbs_out_is_refused_on_every_route(web_root: Path, climb: str) -> None:
    secret = (web_root / "archive.toml").read_text(encoding="utf-8")
    routes = [(p, m) for p, m in routing.ACTION_OF if PARAM.search(p)] + [("/static/{path:path}", "GET")]
    for path, method in routes:
        action = routing.ACTION_OF.get((path, method), routing.PUBLIC)
        with client_for(web_root) as client:
            csrf = login(client, login_of(role_for(action)))
            for name in PARAM.findall(path):
                one = re.sub(r"\{" + name + r"(?::\w+)?\}", "HOSTILE", path)
                url = (fill(one, web_root) if PARAM.search(one) else one).replace("HOSTILE", climb)
                answer = (client.post(url, data={"csrf": csrf}) if method == "POST" else client.get(url))
                assert answer.status_code in (400, 404), f"{method} {url}: {answer.status_code}"
                assert "[archive]" not in answer.text and "root:x:0" not in answer.text
                assert secret[:200] not in answer.text


def test_paths_that_climb_reach_no_file_in_the_access_register(web_root: Path) -> None:
    """A refused climb is not served, so nothing names it as downloaded."""
    with client_for(web_root) as client:
        login(client, "qa")
        client.get(f"/cases/{PDF_CASE}/files/%2e%2e/%2e%2e/archive.toml")
    text = (web_root / "audit" / "access.jsonl").read_text(encoding="utf-8")
    assert all(json.loads(line)["action"] != "download" for line in text.splitlines())


# ---------------------------------------------------------------- the access register

def test_a_page_is_not_shown_when_the_access_register_cannot_be_written(web_root: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.errors import StorageError
    from archive.store import txn

    working = txn.record_access
    disk_full = False

    def record_access(*args: Any, **kw: Any) -> Any:
        if disk_full:
            raise StorageError("查阅登记 could not be written (disk full); the request is refused")
        return working(*args, **kw)

    monkeypatch.setattr(txn, "record_access", record_access)
    checked = []
    for path in GET_ROUTES:
        if routing.ACTION_OF[(path, "GET")] == routing.PUBLIC:
            continue
        with client_for(web_root) as reader:
            disk_full = False
            login(reader, login_of(role_for(routing.ACTION_OF[(path, "GET")])))
            registered = len(access_lines(web_root))
            shown = reader.get(fill(path, web_root))
            if len(access_lines(web_root)) == registered:
                continue  # a page that shows no record (a blank form) registers nothing, so cannot fail on it
            assert shown.status_code == 200, path
            checked.append(path)
            disk_full = True
            before = snapshot(web_root)
            answer = reader.get(fill(path, web_root))
            assert answer.status_code == 503, f"{path}: {answer.status_code}"
            assert "查阅登记" in answer.text and "disk full" in answer.text
            assert PDF_CASE not in answer.text, f"{path} showed the case while its viewing was not registered"
            as_json = reader.get(fill(path, web_root), headers={"Accept": "application/json"})
            assert as_json.status_code == 503 and "查阅登记" in as_json.json()["error"]
            assert snapshot(web_root) == before
    assert "/" in checked


def access_lines(root: Path) -> list[str]:
    log = root / "audit" / "access.jsonl"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


# ---------------------------------------------------------------- stored passwords

def test_passwords_are_stored_as_scrypt_strings_only(web_root: Path) -> None:
    stored = json.loads((web_root / "users" / "users.json").read_text(encoding="utf-8"))
    assert {u["login"] for u in stored["users"]} == set(USERS)
    for user in stored["users"]:
        assert re.fullmatch(r"scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+", user["password"])
    with client_for(web_root) as client:
        login(client, "qa")
    for p in web_root.rglob("*"):
        if p.is_file():
            assert PASSWORD.encode() not in p.read_bytes(), p


# ---------------------------------------------------------------- archive serve beyond loopback

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_first_lines(root: Path, *args: str) -> str:
    """Start `archive serve`, read until it says where it serves, stop it; its stderr and stdout so far."""
    proc = subprocess.Popen([ARCHIVE_BIN, "--root", str(root), "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or "serving" in line:
                break
        return "".join(lines)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serving_beyond_loopback_without_tls_warns(web_root: Path) -> None:
    out = serve_first_lines(web_root, "--host", "0.0.0.0", "--port", str(free_port()))
    assert "warning: serving on 0.0.0.0 without TLS" in out
    assert "TLS proxy" in out


def test_serving_on_loopback_or_behind_tls_does_not_warn(web_root: Path) -> None:
    assert "warning" not in serve_first_lines(web_root, "--port", str(free_port()))
    set_settings(web_root, lambda text: re.sub(r"(?m)^tls = false", "tls = true", text))
    assert "warning" not in serve_first_lines(web_root, "--host", "0.0.0.0", "--port", str(free_port()))


def test_a_port_another_program_holds_is_one_line_and_nothing_served(web_root: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        run = subprocess.run([ARCHIVE_BIN, "--root", str(web_root), "serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "serving" not in run.stdout  # it never announced an address it could not serve
    lines = run.stderr.strip().splitlines()
    assert lines[-1] == (f"archive: --port {port}: 127.0.0.1:{port} cannot be used (Address already in use); "
                         "another program may hold it: choose another --port")
    assert "Traceback" not in run.stderr and "ERROR" not in run.stderr


# ---------------------------------------------------------------- hostile case text

def test_html_and_template_syntax_in_case_text_are_shown_as_typed(web_root: Path) -> None:
    from conftest import write_case

    hostile = "{{ 7*7 }}<script>alert(1)</script>{% raw %}"
    case = write_case(web_root.parent, complainant={"name": hostile, "organization": "<b>粗体</b>公司"},
                      product={"name": "<img src=x onerror=alert(1)>", "lot": "{{ config }}"})
    result = CliRunner().invoke(main, ["--root", str(web_root), "--actor", "质量保证部 张丽", "intake", str(case)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with client_for(web_root) as client:
        login(client, "qa")
        page = client.get("/").text
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page and "<b>粗体" not in page
    assert "{{ 7*7 }}&lt;script&gt;alert(1)&lt;/script&gt;{% raw %}" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "{{ config }}" in page
    assert ">49<" not in page
