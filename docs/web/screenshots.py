"""Screenshots of the web page into docs/web/ (register.png, case.png, search.png), 1280 pixels wide, taken by
Debian's headless Chromium from `archive serve` on a fresh archive of the shipped examples (one user per role,
the first case investigated, its CAPA planned and its forms rendered to PDF).

    .venv/bin/python docs/web/screenshots.py          (needs chromium and chromium-driver: `make browser-deps`)

tests/test_web_browser.py calls `take` with its own browser and server, into a temporary folder."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).parent
QUERY = "破损"
CASE = "26110001"
# QA sees the complainant's details (an inspector or a manager would see them masked: 王**).
USER = "qa"
# The case page frames its forms' PDFs; Chromium's viewer draws them after the page has loaded.
PDF_VIEWER_SECONDS = 4


def take(driver: Any, url: str, out: Path, user: str = USER) -> list[Path]:
    """Log ``user`` in, photograph the register, the search page and a case page, log out."""
    sys.path.insert(0, str(PROJECT / "tests"))
    from web_helpers import browser_login, browser_logout, full_page_png

    browser_login(driver, url, user)
    shots = []
    driver.get(url + "/")
    shots.append(full_page_png(driver, out / "register.png"))
    driver.get(url + f"/search?q={QUERY}")
    shots.append(full_page_png(driver, out / "search.png"))
    driver.get(url + f"/cases/{CASE}")
    shots.append(full_page_png(driver, out / "case.png", settle=PDF_VIEWER_SECONDS))
    browser_logout(driver)
    return shots


def main() -> None:
    sys.path.insert(0, str(PROJECT / "tests"))
    from click.testing import CliRunner
    from web_helpers import USERS, chrome, make_web_root, served

    from archive.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = make_web_root(base / "web", sorted((PROJECT / "examples").glob("*.json")))
        for update in ("01-investigation.json", "01-capa.json"):
            result = CliRunner().invoke(cli, ["--root", str(root), "--actor", USERS["qa"][0], "update", CASE,
                                              str(PROJECT / "examples" / "updates" / update)])
            assert result.exit_code == 0, result.output
        (base / "downloads").mkdir()
        with served(root) as url:
            driver = chrome(base / "profile", base / "downloads")
            try:
                for shot in take(driver, url, OUT):
                    print(shot.relative_to(PROJECT))
            finally:
                driver.quit()


if __name__ == "__main__":
    main()
