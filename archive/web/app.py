"""The Starlette application of one archive root (`archive serve`, the tests' ASGI client, bench/web.py)."""

from __future__ import annotations

import socket
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from archive.errors import StateError
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


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before `archive serve` says where it serves: a port another program holds, or
    an address this machine does not have, is one line (exit 2), not a server that announces itself and dies."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise StateError(f"--host {host}: cannot listen there ({exc.strerror or exc})") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise StateError(f"--port {port}: {host}:{port} cannot be used ({exc.strerror or exc}); another program "
                         "may hold it: choose another --port") from None
    return sock
