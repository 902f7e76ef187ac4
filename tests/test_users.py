"""Users of the web page: added and disabled through the one change protocol and audited, passwords kept only as
scrypt hashes (never shown, never audited), bad input refused in one line with nothing written; the [web] settings."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Cli, audit_entries, snapshot

from archive import settings as settings_mod
from archive import vocab
from archive.accounts import passwords, users
from archive.cli import main
from archive.errors import InputError, SettingsError
from archive.services.users import authenticate
from archive.store.layout import Layout

PASSWORD = "correct-horse-42"


def add(cli: Cli, login: str = "wangfang", name: str = "质量部 王芳", role: str = "qa",
        password: str = PASSWORD) -> object:
    return cli("users", "add", login, "--name", name, "--role", role, env={"ARCHIVE_PASSWORD": password})


def users_json(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / "users" / "users.json").read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------- adding

def test_adding_a_user_says_who_was_added_in_one_line(cli: Cli) -> None:
    result = add(cli)
    assert result.exit_code == 0, result.output
    assert result.stdout == "用户 wangfang (质量部 王芳, 质量保证) 已添加\n"


def test_a_role_is_given_by_its_code_or_its_chinese_label(cli: Cli, root: Path) -> None:
    assert add(cli, "lina", "档案室 李娜", "档案管理员").exit_code == 0
    assert users.get(Layout(root), "lina").role == "archivist"  # type: ignore[union-attr]


def test_users_live_in_the_root_with_a_scrypt_hash_of_the_password(cli: Cli, root: Path) -> None:
    add(cli)
    data = users_json(root)
    assert data["format"] == 1
    [stored] = data["users"]  # type: ignore[misc]
    assert stored["login"] == "wangfang" and stored["role"] == "qa" and stored["active"] is True
    assert stored["created_by"] == "tester"
    scheme, n, r, p, salt, digest = stored["password"].split("$")
    assert (scheme, n, r, p) == ("scrypt", "32768", "8", "1") and PASSWORD not in stored["password"]
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert passwords.check_password(PASSWORD, stored["password"])


def test_adding_a_user_is_one_audited_change_naming_login_name_and_role(cli: Cli, root: Path) -> None:
    add(cli)
    entry = audit_entries(root)[-1]
    assert entry["action"] == "user-add" and entry["actor"] == "tester"
    assert entry["user"] == {"login": "wangfang", "name": "质量部 王芳", "role": "qa"}
    assert [f["path"] for f in entry["files"]] == ["users/users.json"]
    assert vocab.AUDIT_ACTION["user-add"] == "新增用户"


def test_the_password_hash_is_never_in_the_audit_log_nor_in_the_listing(cli: Cli, root: Path) -> None:
    add(cli)
    cli("users", "disable", "wangfang", "--reason", "离职")
    stored = users_json(root)["users"][0]["password"]  # type: ignore[index]
    salt, digest = stored.split("$")[4:]
    log = (root / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    listing = cli("users", "list", "--json").stdout
    for secret in (stored, salt, digest, PASSWORD):
        assert secret not in log and secret not in listing
    assert set(json.loads(listing)[0]) == {"login", "name", "role", "active", "created_at", "created_by",
                                           "disabled_at", "disabled_by", "disabled_reason"}


def test_the_listing_shows_login_name_role_state_and_creation(cli: Cli) -> None:
    add(cli)
    add(cli, "zhaolei", "检查组 赵磊", "inspector")
    cli("users", "disable", "zhaolei", "--reason", "检查结束")
    text = cli("users", "list").stdout
    assert text.splitlines()[0].split() == ["登录名", "姓名", "角色", "状态", "创建"]
    assert "质量保证" in text and "启用" in text and "停用: 检查结束" in text
    rows = json.loads(cli("users", "list", "--json").stdout)
    assert [u["login"] for u in rows] == ["wangfang", "zhaolei"]
    assert rows[1]["active"] is False and rows[1]["disabled_reason"] == "检查结束"


def test_the_password_is_prompted_twice_when_not_in_the_environment(cli: Cli, root: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVE_PASSWORD", raising=False)
    monkeypatch.setattr("archive.cli.users.on_terminal", lambda: True)
    result = cli("users", "add", "wangfang", "--name", "质量部 王芳", "--role", "qa",
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert authenticate(Layout(root), "wangfang", PASSWORD) is not None


def test_no_password_and_no_terminal_is_one_line(cli: Cli, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVE_PASSWORD", raising=False)
    before = snapshot(root)
    result = cli("users", "add", "wangfang", "--name", "质量部 王芳", "--role", "qa")
    assert result.exit_code == 2 and "no password: set ARCHIVE_PASSWORD" in result.stderr
    assert snapshot(root) == before


def test_adding_a_user_needs_a_person_acting(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVE_ACTOR", raising=False)
    before = snapshot(root)
    result = CliRunner().invoke(main, ["--root", str(root), "users", "add", "wangfang", "--name", "王芳", "--role",
                                       "qa"], env={"ARCHIVE_PASSWORD": PASSWORD, "ARCHIVE_ACTOR": None})
    assert result.exit_code == 2 and "who is acting" in result.stderr
    assert snapshot(root) == before


# ---------------------------------------------------------------- refused, nothing written

@pytest.mark.parametrize(("login", "name", "role", "password", "rule"), [
    ("Wang", "王芳", "qa", PASSWORD, "LOGIN"),
    ("w", "王芳", "qa", PASSWORD, "LOGIN"),
    ("1wang", "王芳", "qa", PASSWORD, "LOGIN"),
    ("wang fang", "王芳", "qa", PASSWORD, "LOGIN"),
    ("wang/../x", "王芳", "qa", PASSWORD, "LOGIN"),
    ("w" * 33, "王芳", "qa", PASSWORD, "LOGIN"),
    ("wangfang", "  ", "qa", PASSWORD, "--name: 姓名不能为空"),
    ("wangfang", "王" * 41, "qa", PASSWORD, "--name: 至多 40 个字符"),
    ("wangfang", "王芳\x1b[31m", "qa", PASSWORD, "--name: 不能含控制字符"),
    ("wangfang", "王芳", "qa", "short9", "password: 至少 10 个字符"),
    ("wangfang", "王芳", "qa", "aaaaaaaaaaaa", "password: 不能全是同一个字符"),
])
def test_bad_user_input_is_one_line_naming_the_rule_and_nothing_is_written(
        cli: Cli, root: Path, login: str, name: str, role: str, password: str, rule: str) -> None:
    before = snapshot(root)
    result = add(cli, login, name, role, password)
    assert result.exit_code == 2, result.output
    assert rule in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert snapshot(root) == before


def test_an_unknown_role_is_refused_with_the_roles_offered(cli: Cli, root: Path) -> None:
    before = snapshot(root)
    result = add(cli, role="boss")
    assert result.exit_code == 2 and "inspector 检查员" in result.stderr
    assert snapshot(root) == before


def test_a_login_is_never_given_twice(cli: Cli, root: Path) -> None:
    add(cli)
    before = snapshot(root)
    result = add(cli, name="销售部 王芳")
    assert result.exit_code == 2 and "user wangfang already exists" in result.stderr
    assert snapshot(root) == before


# ---------------------------------------------------------------- disabling

def test_disabling_a_user_is_audited_with_its_reason_and_keeps_the_user(cli: Cli, root: Path) -> None:
    add(cli)
    result = cli("users", "disable", "wangfang", "--reason", "调岗")
    assert result.exit_code == 0 and result.stdout == "用户 wangfang (质量部 王芳) 已停用: 调岗\n"
    entry = audit_entries(root)[-1]
    assert entry["action"] == "user-disable" and entry["reason"] == "调岗"
    assert entry["user"] == {"login": "wangfang", "name": "质量部 王芳", "role": "qa"}
    user = users.get(Layout(root), "wangfang")
    assert user is not None and not user.active and user.disabled_by == "tester" and user.disabled_reason == "调岗"


@pytest.mark.parametrize(("login", "reason", "code", "rule"), [
    ("nobody", "离职", 1, "user nobody does not exist"),
    ("wangfang", "  ", 2, "--reason: 停用原因不能为空"),
])
def test_disabling_needs_a_known_user_and_a_reason(cli: Cli, root: Path, login: str, reason: str, code: int,
                                                   rule: str) -> None:
    add(cli)
    before = snapshot(root)
    result = cli("users", "disable", login, "--reason", reason)
    assert result.exit_code == code and rule in result.stderr
    assert snapshot(root) == before


def test_a_disabled_user_is_not_disabled_twice(cli: Cli, root: Path) -> None:
    add(cli)
    cli("users", "disable", "wangfang", "--reason", "离职")
    before = snapshot(root)
    result = cli("users", "disable", "wangfang", "--reason", "again")
    assert result.exit_code == 2 and "already disabled" in result.stderr
    assert snapshot(root) == before


# ---------------------------------------------------------------- logging in

def test_authenticate_answers_the_user_only_for_the_right_password_of_an_active_user(cli: Cli, root: Path) -> None:
    add(cli)
    layout = Layout(root)
    user = authenticate(layout, "wangfang", PASSWORD)
    assert user is not None and user.name == "质量部 王芳" and user.role == "qa"
    assert authenticate(layout, "wangfang", PASSWORD + "x") is None
    assert authenticate(layout, "nobody", PASSWORD) is None
    assert authenticate(Layout(root / "nowhere"), "wangfang", PASSWORD) is None


def test_a_disabled_user_fails_authenticate(cli: Cli, root: Path) -> None:
    add(cli)
    cli("users", "disable", "wangfang", "--reason", "离职")
    assert authenticate(Layout(root), "wangfang", PASSWORD) is None


@pytest.mark.parametrize("stored", [
    "", "scrypt", "scrypt$32768$8$1$$", "bcrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
    "scrypt$30000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44,  # n not a power of two
    "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44,  # a memory bomb written by hand
    "scrypt$32768$8$1$not base64!$" + "A" * 44,
    "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # a hash of the wrong length
    "scrypt$x$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44,
])
def test_a_malformed_stored_hash_never_matches(stored: str) -> None:
    assert passwords.check_password(PASSWORD, stored) is False


def test_each_hash_has_its_own_salt() -> None:
    one, two = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert one != two and passwords.check_password(PASSWORD, one) and passwords.check_password(PASSWORD, two)


def test_an_unknown_login_is_checked_against_a_dummy_hash() -> None:
    assert passwords.DUMMY_HASH.startswith("scrypt$32768$8$1$")
    assert not passwords.check_password(PASSWORD, passwords.DUMMY_HASH)


@pytest.mark.parametrize(("password", "rule"), [("abc", "至少 10 个字符"), ("xxxxxxxxxxxx", "不能全是同一个字符"),
                                                (" padded-password ", "不能以空格开头或结尾")])
def test_check_strength_names_the_rule(password: str, rule: str) -> None:
    with pytest.raises(InputError, match=rule):
        passwords.check_strength(password)


# ---------------------------------------------------------------- the store

def test_no_users_file_is_no_users(root: Path) -> None:
    assert users.load(Layout(root)) == {}


def test_a_damaged_users_file_is_one_line(cli: Cli, root: Path) -> None:
    add(cli)
    (root / "users" / "users.json").write_text('{"format": 1, "users": [{"login": 1}]}', encoding="utf-8")
    result = cli("users", "list")
    assert result.exit_code == 2 and "users/users.json is damaged" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_verify_finds_a_users_file_edited_by_hand(cli: Cli, root: Path) -> None:
    add(cli, role="inspector")
    path = root / "users" / "users.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"inspector"', '"admin"'), encoding="utf-8")
    result = cli("verify", "--json")
    assert result.exit_code == 1
    assert {"kind": "file_changed", "where": "users/users.json"} in [
        {k: f[k] for k in ("kind", "where")} for f in json.loads(result.stdout)["findings"]]


def test_verify_finds_a_users_file_put_there_by_hand(cli: Cli, root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    assert CliRunner().invoke(main, ["--root", str(other), "init"]).exit_code == 0
    assert add(cli, role="inspector").exit_code == 0
    planted = (root / "users" / "users.json").read_bytes()
    assert CliRunner().invoke(main, ["--root", str(other), "verify"]).exit_code == 0
    (other / "users").mkdir()
    (other / "users" / "users.json").write_bytes(planted)
    result = CliRunner().invoke(main, ["--root", str(other), "verify", "--json"])
    assert result.exit_code == 1
    assert {"kind": "unexpected_file", "where": "users/users.json", "detail": "not recorded in the audit log"} \
        in json.loads(result.stdout)["findings"]


def test_a_killed_writers_temp_file_in_users_is_cleaned_by_the_next_change(cli: Cli, root: Path) -> None:
    add(cli)
    temp = root / "users" / ".users.json.99999.tmp"
    temp.write_text("half", encoding="utf-8")
    assert root / "users" in Layout(root).outside_records()
    assert add(cli, "lina", "档案室 李娜", "archivist").exit_code == 0
    assert not temp.exists()


# ---------------------------------------------------------------- [web] settings

def test_web_settings_have_documented_defaults() -> None:
    s = settings_mod.from_mapping({})
    assert s.web_see_personal_data == ("qa", "archivist", "admin")
    assert (s.web_session_minutes, s.web_login_attempts, s.web_login_window_minutes, s.web_upload_max_mb,
            s.web_tls) == (30, 5, 15, 10, False)
    assert "[web]\n#" in settings_mod.DEFAULT_TEXT and "see_personal_data" in settings_mod.DEFAULT_TEXT


@pytest.mark.parametrize(("web", "named"), [
    ({"see_personal_data": ["qa", "boss"]}, "web.see_personal_data: unknown role 'boss'"),
    ({"session_minutes": 0}, "web.session_minutes"),
    ({"upload_max_mb": 100000}, "web.upload_max_mb"),
    ({"tls": "yes"}, "web.tls"),
    ({"theme": "dark"}, "web.theme: unknown setting"),
])
def test_a_bad_web_setting_is_named(web: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.").replace("(", r"\(")):
        settings_mod.from_mapping({"web": web})


def test_an_unknown_role_in_see_personal_data_lists_the_roles() -> None:
    with pytest.raises(SettingsError) as err:
        settings_mod.from_mapping({"web": {"see_personal_data": ["boss"]}})
    assert all(role in str(err.value) for role in vocab.ROLE)


def test_searching_loads_nothing_of_users_passwords_or_masks(cli: Cli, root: Path) -> None:
    """`archive search` starts light (test_startup.py): the users' modules and scrypt are not on its path."""
    import subprocess
    import sys

    code = ("import sys\nfrom archive.cli import main\n"
            f"try:\n    main(['--root', {str(root)!r}, 'search', '--json', '破损'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in sys.modules if m.startswith(('archive.accounts', 'archive.privacy', "
            "'archive.cli.users', 'archive.services.users', 'archive.store.access'))], file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
