"""The Starlette application of one archive root (`archive serve`, the tests' ASGI client, bench/web.py)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from archive.web import permissions, routing, views
from archive.web.guards import BodyLimit, SecurityHeaders
from archive.web.state import Web


def create_app(root: str | Path) -> Starlette:
    """Opens the archive (its settings say the session length, the login limits and the upload cap)."""
    permissions.check_table()
    routing.loaded()
    web = Web.open(Path(root))
    limit = web.reader().settings.web_upload_max_mb * 1024 * 1024
    app = Starlette(routes=[*routing.ROUTES, Mount("/static", StaticFiles(directory=views.STATIC), name="static")],
                    middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, limit=limit)])
    app.state.web = web
    return app
