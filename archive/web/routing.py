"""Every route is declared with the one action it needs; the wrapper here does, in this order, what no page may
forget: find the session, end it if its user was disabled, refuse a role without the action (403, nothing
changed), check the CSRF token of every POST, run the page in a worker thread, and turn the archive's typed
errors into a page (or JSON) with one line, never a traceback."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from archive import vocab
from archive.errors import ArchiveError, NotFound, StorageError
from archive.web import permissions, views
from archive.web.guards import BodyTooLarge
from archive.web.sessions import COOKIE, Session

if TYPE_CHECKING:
    from archive.accounts.users import User
    from archive.services.archive import Archive
    from archive.web.state import Web

log = logging.getLogger("archive.web")
PUBLIC = "public"  # the action of pages anyone may open (the login form)


@dataclass
class Ctx:
    """One request as a page sees it."""

    request: Request
    web: Web
    session: Session
    user: User | None
    form: FormData | None = None
    new_cookie: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "-"

    @property
    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("accept", "")

    @property
    def arc(self) -> Archive:
        return self.web.reader()

    def writer(self) -> Archive:
        """The archive opened for a change, acting as the logged-in person (the CLI's --actor rules hold)."""
        from archive.services.archive import Archive

        assert self.user is not None
        return Archive.open(self.web.root, self.user.name, write=True)

    def may(self, action: str) -> bool:
        return self.user is not None and permissions.allowed(self.user.role, action)

    @property
    def sees_personal_data(self) -> bool:
        return self.user is not None and self.user.role in self.arc.settings.web_see_personal_data

    def log(self, action: str, *, number: str | None = None, path: str | None = None, query: str | None = None,
            detail: str | None = None) -> None:
        """The access register (查阅登记) entry, written before the response; if it cannot be written the
        request is refused (StorageError → 503), so nothing is ever shown unregistered."""
        from archive.store import txn

        user = self.user
        txn.record_access(self.web.layout, login=user.login if user else "-", name=user.name if user else "-",
                          role=user.role if user else "-", address=self.address, action=action, number=number,
                          path=path, query=query, detail=detail)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("title", "")
        body = views.render(template, {"ctx": self, "user": self.user, "csrf": self.session.csrf,
                                       "flash": self.take_flash(), **values})
        return HTMLResponse(body, status_code=status, headers=self.headers)

    def answer(self, data: Any, template: str, status: int = 200, **values: Any) -> Response:
        """The same answer as the CLI's --json for a program (Accept: application/json), the page for people."""
        if self.wants_json:
            return JSONResponse(json.loads(json.dumps(data, ensure_ascii=False, default=str)),
                                status_code=status, headers=self.headers)
        return self.page(template, status, data=data, **values)

    def redirect(self, to: str, flash: str | None = None) -> RedirectResponse:
        if flash:
            self.session.flash.append(flash)
        return RedirectResponse(to, status_code=303, headers=self.headers)

    def take_flash(self) -> list[str]:
        out, self.session.flash = self.session.flash, []
        return out


Handler = Callable[[Ctx], Response]
ROUTES: list[Route] = []
# path, method → action: the role matrix test walks this table, so a route cannot escape it.
ACTION_OF: dict[tuple[str, str], str] = {}


def page(path: str, action: str, methods: Iterable[str] = ("GET",)) -> Callable[[Handler], Handler]:
    if action != PUBLIC and action not in permissions.ACTIONS:
        raise AssertionError(f"{path}: unknown action {action!r}")
    methods = tuple(methods)

    def register(fn: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            return await _serve(request, fn, action)

        ROUTES.append(Route(path, endpoint, methods=list(methods), name=fn.__name__))
        for method in methods:
            ACTION_OF[(path, method)] = action
        return fn

    return register


def _error(ctx: Ctx, status: int, message: str) -> Response:
    if ctx.wants_json:
        return JSONResponse({"error": message}, status_code=status, headers=ctx.headers)
    return ctx.page("error.html", status, message=message, title="出错了")


def _status_of(exc: ArchiveError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, StorageError):
        return 503
    return 400


async def _serve(request: Request, fn: Handler, action: str) -> Response:
    web: Web = request.app.state.web
    session = web.sessions.get(request.cookies.get(COOKIE))
    ctx = Ctx(request, web, session or web.sessions.new(), None, new_cookie=session is None)
    try:
        response = await _checked(ctx, fn, action)
    except ArchiveError as exc:
        response = _error(ctx, _status_of(exc), str(exc))
    except BodyTooLarge:
        raise  # a body past the cap, found while reading the form: guards.BodyLimit answers 413, not a defect
    except Exception:  # a defect: the user gets one line, the operator the traceback on the server's stderr
        log.exception("%s %s", request.method, request.url.path)
        response = _error(ctx, 500, "服务器内部错误,请求未完成;请联系系统管理员查看服务日志")
    finally:
        if ctx.form is not None:
            await ctx.form.close()
    if ctx.new_cookie or ctx.session.token != request.cookies.get(COOKIE):
        secure = web.reader().settings.web_tls
        response.set_cookie(COOKIE, ctx.session.token, httponly=True, samesite="strict", secure=secure, path="/")
    return response


async def _checked(ctx: Ctx, fn: Handler, action: str) -> Response:
    request, web = ctx.request, ctx.web
    if ctx.session.login is not None:
        user = await run_in_threadpool(web.user, ctx.session.login)
        if user is None or not user.active:
            web.sessions.end_user(ctx.session.login)
            ctx.session = web.sessions.new()
            ctx.new_cookie = True
            ctx.session.flash.append("您的账号已停用或不存在,会话已结束;请联系系统管理员")
        else:
            ctx.user = user
    if action != PUBLIC:
        if ctx.user is None:
            if ctx.wants_json:
                return JSONResponse({"error": "未登录"}, status_code=401)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if not permissions.allowed(ctx.user.role, action):
            return _error(ctx, 403, f"无权限:{vocab.ROLE.get(ctx.user.role, ctx.user.role)}不能"
                                    f"{permissions.ACTIONS[action]}")
    if request.method == "POST":
        ctx.form = await request.form(max_files=20, max_fields=500)
        given = request.headers.get("x-csrf-token") or ctx.field("csrf")
        if not ctx.session.csrf_ok(given):
            return _error(ctx, 403, "表单校验失败(CSRF 令牌无效或已过期),未做任何更改;请刷新页面后重试")
    return await run_in_threadpool(fn, ctx)


def loaded() -> None:
    """Import every page module (archive/web/pages/*.py), so ROUTES holds them all; app.py and the role-matrix
    test call this, and a new page module is served, and checked by that test, without being listed anywhere."""
    import importlib
    import pkgutil

    from archive.web import pages

    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        importlib.import_module(f"archive.web.pages.{info.name}")


def stderr_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
