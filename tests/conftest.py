"""Shared fixtures: a fresh archive root per test, the shared examples, and ways to run the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from archive.cli import main

PROJECT = Path(__file__).resolve().parents[1]
# The shared examples sit beside the project; mutmut runs the tests from a copy one level down (mutants/).
SHARED = next((p / "shared" for p in (PROJECT.parent, PROJECT.parent.parent) if (p / "shared").is_dir()),
              PROJECT.parent / "shared")
SHARED_CASES = sorted((SHARED / "examples" / "cases").glob("*.json"))
SHARED_BAD = sorted((SHARED / "examples" / "bad").glob("*.json"))
SHARED_UPDATES = SHARED / "examples" / "updates"
ARCHIVE_BIN = str(Path(sys.executable).with_name("archive"))
# Write commands need a named person (archive.toml [audit] require_actor); tests act as one unless they
# test exactly that, and then remove it from the environment they pass.
os.environ["ARCHIVE_ACTOR"] = "测试员 tester"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    result = CliRunner().invoke(main, ["--root", str(r), "init"])
    assert result.exit_code == 0, result.output
    return r


Cli = Callable[..., Any]


@pytest.fixture
def cli(root: Path) -> Cli:
    """Run the CLI in-process on ``root``; returns click's Result."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(main, ["--root", str(root), "--actor", "tester", *args],
                                  input=input, env=env, catch_exceptions=False)

    return run


def run_archive(root: Path, *args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in its own process."""
    return subprocess.run([ARCHIVE_BIN, "--root", str(root), *args], capture_output=True, text=True,
                          timeout=timeout, **kw)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the root with its SHA-256 (lock file excluded: it is empty and never changes)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != ".lock":
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[p.relative_to(root).as_posix() + "/"] = ""
    return out


def write_case(folder: Path, name: str = "case.json", **overrides: Any) -> Path:
    case: dict[str, Any] = {
        "received_at": "2026-11-03T10:15:00+08:00",
        "channel": "phone",
        "complainant": {"name": "王建国", "organization": "华东医药连锁有限公司"},
        "product": {"name": "阿莫西林胶囊", "lot": "B2026080315", "expiry_date": "2028-07-31"},
        "description": "外包装破损严重,铝塑板有压痕",
        "category": "packaging",
    }
    case.update(overrides)
    path = folder / name
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def audit_entries(root: Path) -> list[dict[str, Any]]:
    log = root / "audit" / "audit.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def record_dirs(root: Path) -> dict[str, Path]:
    return {p.name: p for p in (root / "records").glob("*/*/*") if p.is_dir()}


def env_without_root() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "ARCHIVE_ROOT"}


# --- Skips are never silent: `make test` prints each (-rs) and any skip not in expected_skips.txt fails the run.

EXPECTED_SKIPS = Path(__file__).with_name("expected_skips.txt")


def expected_skip_rules(text: str) -> list[tuple[str, str, str]]:
    rules = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            tag, glob, reason = (part.strip() for part in line.split("|", 2))
            rules.append((tag, glob, reason))
    return rules


def allowed_skip_tags() -> set[str]:
    tags = {"always"} | {t.strip() for t in os.environ.get("ARCHIVE_ALLOW_SKIPS", "").split(",") if t.strip()}
    if os.geteuid() != 0:
        tags.add("mount")
    return tags


def skip_is_expected(nodeid: str, reason: str, rules: list[tuple[str, str, str]], tags: set[str]) -> bool:
    import fnmatch

    return any(tag in tags and fnmatch.fnmatchcase(nodeid, glob) and text in reason for tag, glob, text in rules)


_unexpected_skips: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    if not skip_is_expected(report.nodeid, reason, expected_skip_rules(EXPECTED_SKIPS.read_text(encoding="utf-8")),
                            allowed_skip_tags()):
        _unexpected_skips.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _unexpected_skips:
        terminalreporter.section("unexpected skips (not in tests/expected_skips.txt)", red=True)
        for nodeid, reason in _unexpected_skips:
            terminalreporter.write_line(f"{nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected_skips and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# ---------------------------------------------------------------- signers' keys
# A key is created by its owner (the actor names them) and signs only once an administrator who is another
# person certified it; the first key of an archive is its administrator's. Tests make keys through this one
# helper so a change to those rules is adapted in one place.
KEY_PASSPHRASE = "correct horse battery"


@dataclass(frozen=True)
class Key:
    id: str
    name: str
    title: str
    pem: Path
    passphrase: str

    @property
    def actor(self) -> str:
        return f"{self.title} {self.name}"


def make_key(root: Path, kid: str, name: str, title: str, out: Path, passphrase: str = KEY_PASSPHRASE,
             certify_with: Key | None = None, role: str | None = None) -> Key:
    """``archive keys create`` as its owner, then (``certify_with`` an administrator's Key) ``keys certify``."""
    key = Key(kid, name, title, out, passphrase)
    r = CliRunner().invoke(main, ["--root", str(root), "--actor", key.actor, "keys", "create", kid, "--name", name,
                                  "--title", title, "--out", str(out)],
                           env={"ARCHIVE_PASSPHRASE": passphrase}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    if certify_with is not None:
        r = certify_key(root, kid, certify_with, role)
        assert r.exit_code == 0, r.output
    return key


def certify_key(root: Path, kid: str, admin: Key, role: str | None = None) -> Any:
    return CliRunner().invoke(main, ["--root", str(root), "--actor", admin.actor, "keys", "certify", kid,
                                     "--key", str(admin.pem), *(["--role", role] if role else [])],
                              env={"ARCHIVE_PASSPHRASE": admin.passphrase}, catch_exceptions=False)


def set_settings(root: Path, edit: str | Callable[[str], str], reason: str = "test: settings changed") -> None:
    """Change archive.toml and put it in force the only way the archive accepts: an audited
    `archive settings apply --reason`. ``edit`` is the new text, or a function of the current text."""
    toml = root / "archive.toml"
    text = edit if isinstance(edit, str) else edit(toml.read_text(encoding="utf-8"))
    toml.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(root), "--actor", "测试员 tester", "settings", "apply",
                                       "--reason", reason])
    assert result.exit_code == 0, result.output


class SearchRoot:
    """An archive root searched through the CLI, as a module-scoped fixture holds it (search tests)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["--root", str(self.root), "--actor", "tester", *args],
                                  catch_exceptions=False)

    def search(self, *query: str) -> dict[str, Any]:
        result = self("search", "--json", "--", *query)
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def numbers(self, *query: str) -> list[str]:
        """Hit numbers in rank order."""
        return [h["number"] for h in self.search(*query)["hits"]]


# ---------------------------------------------------------------- search engines
# The search behaviour tests run once per engine ([search] engine in archive.toml): a module-scoped parameter, so a
# module-scoped root (SearchRoot fixtures) is built once per engine too.
ENGINES = ("whoosh", "tantivy")


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def use_engine(root: Path, engine: str) -> None:
    """Choose ``engine`` in archive.toml the way an administrator does (`settings apply`, then `archive rebuild`
    builds its index). Whoosh is the default, so a root made by `init` already uses it."""
    import re

    text = (root / "archive.toml").read_text(encoding="utf-8")
    current = re.search(r'(?m)^engine = "(.*)"', text)
    if current is not None and current.group(1) == engine:
        return
    text, count = re.subn(r'(?m)^engine = ".*"', f'engine = "{engine}"', text)
    assert count == 1, "archive.toml has no [search] engine line"
    set_settings(root, text, reason=f"search with {engine}")
    result = CliRunner().invoke(main, ["--root", str(root), "--actor", "测试员 tester", "rebuild"])
    assert result.exit_code == 0, result.output


def read_only_view(root: Path, tmp_path: Path) -> Iterator[Path]:
    """``root`` bind-mounted read-only (a backup or write-once copy), for a fixture to yield; skips without root."""
    view = tmp_path / "ro"
    view.mkdir()
    mounted = [subprocess.run(["mount", *args], capture_output=True).returncode == 0
               for args in (["--bind", str(root), str(view)], ["-o", "remount,ro,bind", str(view)])]
    if not all(mounted):
        subprocess.run(["umount", str(view)], check=False)
        pytest.skip("bind mounts need root")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


SearchRootT = TypeVar("SearchRootT", bound=SearchRoot)


def searched_root(base: Path, engine: str, cases: list[Path], kind: type[SearchRootT]) -> SearchRootT:
    """A module's archive root for search tests: `init`, ``engine`` chosen, ``cases`` taken in."""
    root = base / "root"
    root.mkdir()
    a = kind(root)
    assert a("init").exit_code == 0
    use_engine(root, engine)
    result = a("intake", *map(str, cases))
    assert result.exit_code == 0, result.output
    return a


# ---------------------------------------------------------------- the web page (tests/web_helpers.py)
# One root with keys, the shared example cases (the first rendered to PDF) and one user per role, built once per
# session; each test gets its own copy, so a test that writes changes nothing another test reads.

@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from web_helpers import make_web_root

    return make_web_root(tmp_path_factory.mktemp("web-template"), SHARED_CASES)


@pytest.fixture
def web_root(web_template: Path, tmp_path: Path) -> Path:
    from web_helpers import copy_root

    return copy_root(web_template, tmp_path / "web")


@pytest.fixture
def web_client(web_root: Path) -> Iterator[Any]:
    """A Starlette test client of ``web_root``'s app, not logged in, redirects not followed."""
    from web_helpers import client_for

    with client_for(web_root) as client:
        yield client
