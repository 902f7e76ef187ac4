"""`archive serve`: the web page of the archive at the root, for the people who do not use a terminal."""

from __future__ import annotations

import click

from archive.cli.app import main
from archive.cli.common import archive_command, say
from archive.errors import StateError
from archive.services.archive import Archive

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@archive_command(main, json_output=False)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs a TLS proxy in front ([web] tls = true).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
def serve(arc: Archive, host: str, port: int) -> None:
    """Serve the archive as a web page (roles, masked personal data, the access register)."""
    import uvicorn

    from archive.web.app import create_app, listen

    if arc.settings_bytes is None:
        raise StateError(f"{arc.layout.root}: not an archive (no archive.toml); run `archive init` there first, "
                         "or give --root")
    app = create_app(arc.layout.root)
    sock = listen(host, port)
    if host not in LOOPBACK and not arc.settings.web_tls:
        click.echo(f"archive: warning: serving on {host} without TLS: passwords and records cross the network "
                   "in clear; put a TLS proxy in front and set [web] tls = true", err=True)
    say(f"archive: serving {arc.layout.root} at http://{host}:{port}/ (Ctrl-C stops)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", server_header=False, access_log=False))
    server.run(sockets=[sock])
