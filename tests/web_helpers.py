"""Shared helpers of the web tests: an archive root with keys, a few cases (one with rendered PDFs) and one user
per role with a known password; logging a test client in; the CSRF token of its session.

Building such a root costs seconds (the PDFs go through LibreOffice, each password through scrypt), so the
fixtures in conftest.py build it once per session (`web_template`) and copy it for each test (`web_root`)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from archive import vocab
from archive.cli import main

# One user per role (vocab.ROLE): login → (the person's name as the audit log shows it, role). The names of the
# QA user and the manager are those of their signing keys' owners (make_key's actor: "TITLE NAME").
PASSWORD = "web-test-password-0"
USERS: dict[str, tuple[str, str]] = {
    "qa": ("质量保证部 张丽", "qa"),
    "archivist": ("档案管理员 李明", "archivist"),
    "inspector": ("药监检查员 周敏", "inspector"),
    "retention": ("档案室 保管员 孙强", "retention"),
    "manager": ("质量部经理 黄涛", "manager"),
    "admin": ("信息部 系统管理员 吴刚", "admin"),
}
# The case with rendered PDFs (the first example, 王建国's packaging complaint, phone 021-55550123).
PDF_CASE = "26110001"
CHINESE_QUERY = "破损"


def password_of(login: str) -> str:
    return PASSWORD


def _cli(root: Path, actor: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(main, ["--root", str(root), "--actor", actor, *args], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def make_web_root(base: Path, cases: list[Path], *, pdf: bool = True) -> Path:
    """An archive at ``base``/root with the administrator's and the signers' keys, ``cases`` taken in, the
    first one's forms rendered to PDF (when ``pdf``), and one user per role (USERS, password PASSWORD)."""
    from conftest import make_key

    root = base / "root"
    root.mkdir(parents=True)
    _cli(root, "测试员 tester", "init")
    keys = base / "keys"
    keys.mkdir()
    admin = make_key(root, "liming", "李明", "档案管理员", keys / "liming.pem")
    make_key(root, "zhangli", "张丽", "质量保证部", keys / "zhangli.pem", certify_with=admin)
    make_key(root, "huangtao", "黄涛", "质量部经理", keys / "huangtao.pem", certify_with=admin)
    _cli(root, USERS["qa"][0], "intake", *map(str, cases))
    if pdf:
        _cli(root, "测试员 tester", "render", PDF_CASE, "--pdf", env=None)
    for login, (name, role) in USERS.items():
        _cli(root, "信息部 系统管理员 吴刚", "users", "add", login, "--name", name, "--role", role,
             env={"ARCHIVE_PASSWORD": PASSWORD})
    return root


def copy_root(template: Path, dest: Path) -> Path:
    """A test's own copy of a built root (and its keys folder beside it)."""
    shutil.copytree(template.parent, dest, symlinks=True)
    return dest / template.name


def manifest_paths(root: Path, number: str) -> list[str]:
    """The files of a record's manifest (the only files GET /cases/NUMBER/files/PATH serves)."""
    result = CliRunner().invoke(main, ["--root", str(root), "show", number, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    folder = root / json.loads(result.stdout)["path"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return sorted(f["path"] for f in manifest["files"])


def pdf_path(root: Path, number: str = PDF_CASE) -> str:
    """A rendered form's PDF (documents/...pdf), not the complainant's attachment."""
    pdfs = [p for p in manifest_paths(root, number) if p.startswith("documents/") and p.endswith(".pdf")]
    assert pdfs, f"{number} has no rendered PDF in its manifest"
    return next((p for p in pdfs if "register-form" in p), pdfs[0])


# ---------------------------------------------------------------- routes with real values

ROUTE_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def fill(path: str, root: Path) -> str:
    """A route's path with real values: a case that exists, a file of its manifest, a certificate id, this
    month, a chart of the monthly report, a download kind (a value that is not real only answers 404)."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1).lower()
        if "number" in name or name == "case":
            return PDF_CASE
        if name == "month":
            return today(root).strftime("%Y-%m")
        if name == "kind":
            return "docx"  # the statistics table without LibreOffice (pdf renders it: seconds)
        if name == "name" and "/chart/" in path:
            from archive.web.pages import reports

            return str(next(iter(reports.CHART_NAMES)))
        if name == "name":
            return "certificate.pdf"
        if "path" in name or "file" in name:
            return pdf_path(root)
        if "cert" in name or name == "id":
            return certificate_id(root)
        raise AssertionError(f"{path}: no value known for the path parameter {m.group(1)!r}; teach fill()")

    return ROUTE_PARAM.sub(value, path)


def today(root: Path) -> Any:
    """The archive's today, in its time zone (archive/clock.py)."""
    from archive import clock, settings

    return clock.today(settings.load(root).zone)


def certificate_id(root: Path) -> str:
    """An executed purge's certificate id when the root has one; otherwise a well-formed id of this year (the
    role check comes before any lookup, so a refused role is refused either way)."""

    found = sorted(p.stem for p in root.rglob("XH-*") if p.is_file())
    return found[0].split(".")[0] if found else f"XH-{today(root).year}-0001"


# ---------------------------------------------------------------- the test client

_CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)"')


def csrf_of(client: Any, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from the hidden input of a page it may open."""
    page = client.get(path)
    match = _CSRF_INPUT.search(page.text)
    assert match is not None, f"no CSRF input on {path} ({page.status_code})"
    return match.group(1)


def login(client: Any, login: str, password: str | None = None) -> str:
    """Log the client in through POST /login (JSON answer); returns the session's CSRF token."""
    token = csrf_of(client)
    answer = client.post("/login", data={"login": login, "password": password or password_of(login),
                                         "csrf": token}, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    assert data["user"]["login"] == login
    return str(data["csrf"])


def logged_in(root: Path, login: str, password: str = PASSWORD) -> Any:
    """A test client of a new app on ``root`` whose session is ``login``'s, logged in through the form as a
    person does (the answer is the redirect, 303)."""
    from starlette.testclient import TestClient

    from archive.web.app import create_app

    client = TestClient(create_app(root))
    r = client.post("/login", data={"login": login, "password": password, "csrf": csrf_of(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def client_for(root: Path, **kw: Any) -> Any:
    from starlette.testclient import TestClient

    from archive.web.app import create_app

    return TestClient(create_app(root), follow_redirects=False, **kw)


@dataclass(frozen=True)
class WebRoot:
    """What a web test needs to know of its root."""

    root: Path
    keys: Path

    @property
    def roles(self) -> list[str]:
        return list(vocab.ROLE)

    def login_of(self, role: str) -> str:
        return next(login for login, (_, r) in USERS.items() if r == role)


# ---------------------------------------------------------------- a real server and a real browser
# `archive serve` in its own process on a free loopback port, and Debian's Chromium driven through Debian's
# chromedriver (make browser-deps installs both): the browser tests and docs/web/screenshots.py use these.

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(root: Path, port: int | None = None, archive_bin: str | None = None) -> Iterator[str]:
    """`archive serve --port PORT` on ``root`` until the block ends; yields its address once it answers."""
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    port = port or free_port()
    exe = archive_bin or str(Path(sys.executable).with_name("archive"))
    proc = subprocess.Popen([exe, "--root", str(root), "serve", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/login", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"archive serve did not answer on {base}: {out}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def chrome(profile: Path, downloads: Path, width: int = 1280, height: int = 900) -> Any:
    """Headless Chromium with its own fresh profile; files sent as attachments land in ``downloads``; a PDF
    framed inline (the case page) is shown by Chromium's own viewer."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--lang=zh-CN", f"--user-data-dir={profile}",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "download.directory_upgrade": True, "intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    # Headless Chromium saves files only where it is told by the DevTools protocol.
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def browser_login(driver: Any, base: str, user: str, password: str = PASSWORD) -> None:
    """Log in through the form, as a person does."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/login")
    driver.find_element(By.NAME, "login").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "section.login button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)


def browser_logout(driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/login"))


def full_page_png(driver: Any, out: Path, width: int = 1280, settle: float = 0.0) -> Path:
    """A screenshot of the whole page, ``width`` CSS pixels wide and as tall as its content (at least 600): the
    viewport set through the DevTools protocol, so no window frame or scroll position cuts it; ``settle``
    seconds for what draws itself after the resize, such as a framed PDF."""
    import base64
    import time

    def viewport(height: int) -> None:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    viewport(600)
    height = int(driver.execute_script("return Math.ceil(document.body.getBoundingClientRect().height)"))
    viewport(min(max(height, 600), 8000))
    time.sleep(settle)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    return out
