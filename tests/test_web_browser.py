"""A real browser on a real server: Debian's Chromium, headless, driven by Selenium through Debian's chromedriver,
against `archive serve` on a loopback port. For each role: log in through the form, search in Chinese, open a
case, download a rendered form's PDF (or be refused it), be refused another role's page, log out. And the
screenshots of docs/web/ are taken the way docs/web/screenshots.py takes them.

Never skipped: `make test` installs chromium and chromium-driver (make browser-deps)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from web_helpers import (
    CHINESE_QUERY,
    PDF_CASE,
    USERS,
    browser_login,
    browser_logout,
    chrome,
    copy_root,
    pdf_path,
    served,
)

from archive import vocab
from archive.web import permissions

PROJECT = Path(__file__).resolve().parents[1]
ROLES = [role for _, role in USERS.values()]
# A page each role may not open (403, 无权限), for the refusal step.
ANOTHER_ROLES_PAGE = {role: "/intake" if role == "admin" else "/access-log" for role in ROLES}


@pytest.fixture(scope="module")
def site(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("browser")
    root = copy_root(web_template, base / "web")
    downloads = base / "downloads"
    downloads.mkdir()
    with served(root) as url:
        driver = chrome(base / "profile", downloads)
        try:
            yield {"url": url, "root": root, "driver": driver, "downloads": downloads}
        finally:
            driver.quit()


def text_of(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def wait_for_download(folder: Path, name_end: str, seconds: float = 60) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.name.endswith(name_end)]
        if done and not any(p.name.endswith(".crdownload") for p in folder.iterdir()):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {name_end} arrived in {folder}: {sorted(p.name for p in folder.iterdir())}")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_works_through_a_real_browser(site: dict[str, Any], role: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver, url, root = site["driver"], site["url"], site["root"]
    downloads: Path = site["downloads"]
    for old in downloads.iterdir():
        old.unlink()
    user = next(login for login, (_, r) in USERS.items() if r == role)
    sees_personal_data = role in ("qa", "archivist", "admin")

    browser_login(driver, url, user)
    assert "投诉登记台账" in text_of(driver)
    assert USERS[user][0] in text_of(driver)  # who is logged in, by name

    # Search in Chinese through the search box.
    driver.get(url + "/search")
    box = driver.find_element(By.NAME, "q")
    box.send_keys(CHINESE_QUERY, Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: "q=" in d.current_url)
    assert f"q={quote(CHINESE_QUERY)}" in driver.current_url
    results = text_of(driver)
    assert PDF_CASE in results and CHINESE_QUERY in results

    # Open the case from its hit.
    driver.find_element(By.CSS_SELECTOR, f"a[href='/cases/{PDF_CASE}']").click()
    case_page = text_of(driver)
    assert driver.current_url.endswith(f"/cases/{PDF_CASE}") and PDF_CASE in case_page
    assert ("王建国" in case_page) == sees_personal_data
    if not sees_personal_data:
        assert "王**" in case_page and "个人信息已脱敏" in case_page

    # Download a rendered form's PDF, when the role may.
    target = f"/cases/{PDF_CASE}/files/{pdf_path(root)}"
    if permissions.allowed(role, "file.download"):
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a[href*='/files/']")]
        assert any(str(h).endswith(".pdf") for h in links), links
        driver.get(url + target)
        pdf = wait_for_download(downloads, ".pdf")
        assert pdf.read_bytes().startswith(b"%PDF")
    else:
        driver.get(url + target)
        assert "无权限" in text_of(driver)
        assert not list(downloads.iterdir())

    # Another role's page is refused, in Chinese.
    driver.get(url + ANOTHER_ROLES_PAGE[role])
    assert "无权限" in text_of(driver)

    browser_logout(driver)
    assert "已退出登录" in text_of(driver)
    driver.get(url + "/")
    assert "/login" in driver.current_url


def test_the_documentation_screenshots_are_taken(site: dict[str, Any], tmp_path: Path) -> None:
    """docs/web/screenshots.py's shots, into a temporary folder: three full-width pages, not blank."""
    import importlib.util

    from PIL import Image

    spec = importlib.util.spec_from_file_location("screenshots", PROJECT / "docs" / "web" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    shots = screenshots.take(site["driver"], site["url"], tmp_path)
    assert sorted(p.name for p in shots) == ["case.png", "register.png", "search.png"]
    for shot in shots:
        with Image.open(shot) as image:
            assert image.width >= 1280 and image.height >= 600
            assert len(image.convert("L").resize((64, 64)).getcolors(4096) or ()) > 8, f"{shot.name} looks blank"


# ---------------------------------------------------------------- what make does for the web page

def make_recipe(target: str) -> tuple[str, str]:
    """A Makefile target's prerequisites and its recipe (the tab-indented lines under it)."""
    text = (PROJECT / "Makefile").read_text(encoding="utf-8")
    found = re.search(rf"(?m)^{re.escape(target)}:([^\n=]*)\n((?:\t[^\n]*\n|#[^\n]*\n)*)", text)
    assert found is not None, f"Makefile has no {target} target"
    return found.group(1), found.group(2)


def test_make_test_installs_chromium_and_its_driver_first() -> None:
    prerequisites, _ = make_recipe("test")
    assert "browser-deps" in prerequisites.split()
    _, recipe = make_recipe("browser-deps")
    assert "/usr/bin/chromium" in recipe and "/usr/bin/chromedriver" in recipe
    assert "apt-get update" in recipe and "install" in recipe and "chromium chromium-driver" in recipe


def test_make_demo_adds_a_user_per_role_and_leaves_the_web_page_served() -> None:
    _, recipe = make_recipe("demo")
    added = re.findall(r"users add (\S+) --name \"([^\"]+)\" --role (\S+)", recipe)
    assert sorted(role for _, _, role in added) == sorted(vocab.ROLE)
    assert "serve --port" in recipe and "setsid nohup" in recipe and ">$(DEMO_LOG)" in recipe
    assert "make demo-stop" in recipe
    for login, _, _ in added:
        assert login in recipe.split("demo logins", 1)[1], f"{login} is not among the printed demo logins"
