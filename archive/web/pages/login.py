"""Logging in and out. A failed login says the same whatever was wrong (unknown login, wrong password, disabled
account), is counted per login and per address, and lands in the access register like a successful one."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from archive.web.routing import PUBLIC, Ctx, page


def _next(ctx: Ctx) -> str:
    """Only a path on this site: an absolute or scheme-relative address would make the form an open redirect."""
    target = ctx.field("next") or ctx.request.query_params.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@page("/login", PUBLIC)
def login_form(ctx: Ctx) -> Response:
    return ctx.page("login.html", title="登录", next=_next(ctx), login="", error="")


@page("/login", PUBLIC, methods=("POST",))
def login(ctx: Ctx) -> Response:
    from archive.services.users import authenticate

    name, password = ctx.field("login").strip(), ctx.field("password")
    wait = ctx.web.limiter.attempt(name, ctx.address)
    if wait > 0:
        ctx.log("login-failed", detail=f"{name}: 尝试次数过多,已暂停")
        error = f"登录失败次数过多,请 {int(wait // 60) + 1} 分钟后再试"
        return _refused(ctx, name, error, 429)
    user = authenticate(ctx.web.layout, name, password)
    if user is None:
        ctx.log("login-failed", detail=name[:64])
        return _refused(ctx, name, "用户名或密码错误", 401)
    ctx.web.limiter.succeeded(name, ctx.address)
    # A new token at login: a session id planted before login is worth nothing after it.
    ctx.web.sessions.drop(ctx.session.token)
    ctx.session = ctx.web.sessions.new(user.login)
    ctx.user = user
    ctx.log("login")
    if ctx.wants_json:
        return JSONResponse({"user": user.public(), "csrf": ctx.session.csrf})
    return ctx.redirect(_next(ctx))


def _refused(ctx: Ctx, name: str, error: str, status: int) -> Response:
    if ctx.wants_json:
        return JSONResponse({"error": error}, status_code=status)
    return ctx.page("login.html", status, title="登录", next=_next(ctx), login=name, error=error)


@page("/logout", PUBLIC, methods=("POST",))
def logout(ctx: Ctx) -> Response:
    if ctx.user is not None:
        ctx.log("logout")
    ctx.web.sessions.drop(ctx.session.token)
    ctx.session = ctx.web.sessions.new()
    return ctx.redirect("/login", "已退出登录")
