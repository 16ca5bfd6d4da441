"""``newsmon serve``: the web UI and JSON API (``monitor/web``) under uvicorn."""
from __future__ import annotations

import os
import socket

import click

from crawler.commands.common import DEFAULT_SITES, open_for_command


def _bare(host: str) -> str:
    """``[::1]`` -> ``::1``: the address as bound (brackets belong in URLs only)."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def url_host(host: str) -> str:
    """The host part of a URL: an IPv6 address in brackets, once (``::1`` and ``[::1]`` -> ``[::1]``)."""
    host = _bare(host)
    return f"[{host}]" if ":" in host else host


def _bind(host: str, port: int) -> socket.socket:
    """Bind first, so ``--port 0`` can print the port the OS chose before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that
    # say TCP, and without it every keep-alive request waited ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {url_host(host)}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs NEWSMON_WEB_TOKEN or NEWSMON_WEB_USER/PASSWORD.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0 = any free port.")
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL (sqlite:///… or http://host:9200).")
@click.option("--cache-seconds", default=30.0, show_default=True, type=click.FloatRange(0),
              help="Reuse a search's matching stories this long (paging, sorting, shared links); 0 = never.")
@click.option("--readers", default=2, show_default=True, type=click.IntRange(1, 32),
              help="Searches served at once (one index connection each); the rest queue in order.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A public name this server is reached by (repeatable; also NEWSMON_ALLOWED_HOSTS=a,b). "
                   "Loopback names and the --host address are always allowed; any other Host gets 421.")
@click.option("--behind-proxy", is_flag=True, default=False,
              help="Trust X-Forwarded-Proto/-For from a reverse proxy (also NEWSMON_TRUST_PROXY=1): "
                   "https there makes the session cookie Secure.")
@click.option("--access-log/--no-access-log", default=False, help="Log every request to stderr.")
@click.option("--sites", "sites_file", default=DEFAULT_SITES, show_default=True,
              help="Sites file the Sources page and /api/sites manage (the scheduler's; created by the first site added).")
def serve(host, port, index_url, cache_seconds, readers, allowed_hosts, behind_proxy, access_log, sites_file):
    """Serve the search web UI and the JSON API (/api/, OpenAPI at /api/openapi.json).

    Pages: search (/), story (/story/ID), watches, sources. Listening on anything
    but loopback requires a login: NEWSMON_WEB_TOKEN=<token>, or NEWSMON_WEB_USER and
    NEWSMON_WEB_PASSWORD, in the environment.

    Only loopback names, the --host address and --allowed-host names are answered
    (a guard against DNS rebinding); writes must come from this site's own pages.

    Example: newsmon serve --port 8080 --index sqlite:///data/newsmon.db
    """
    import uvicorn

    from index import DEFAULT_INDEX_URL, INDEX_ENV, IndexURLError
    from crawler.site_registry import SitesFileRegistry
    from monitor.web.app import create_app
    from monitor.web.auth import AccessConfigError, Credentials, check_bind
    from monitor.web.guard import HostPolicy

    host = _bare(host)
    index_url = index_url or os.environ.get(INDEX_ENV) or DEFAULT_INDEX_URL
    open_for_command(index_url, read_only=True).close()    # a missing index: one line, none created
    hosts = HostPolicy.build(bound=host, extra=allowed_hosts)
    try:
        credentials = Credentials.from_env()
        check_bind(host, credentials)
        app = create_app(index_url, credentials=credentials, cache_seconds=cache_seconds, readers=readers,
                         hosts=hosts, trust_proxy=True if behind_proxy else None,
                         sites=SitesFileRegistry(sites_file))
    except (AccessConfigError, IndexURLError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        articles = app.state.web.index.count_articles()
    except IndexURLError as exc:          # e.g. Elasticsearch is not reachable
        raise click.ClickException(str(exc)) from None
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = url_host(host)
    click.echo(f"newsmon web UI on http://{shown_host}:{bound_port}/  (index {index_url}, {articles} articles)")
    click.echo(f"access: {credentials.describe()}")
    click.echo(f"允许的主机名: {hosts.describe()}")
    click.echo(f"JSON API: http://{shown_host}:{bound_port}/api/search?q=…  "
               f"(OpenAPI: /api/openapi.json); Ctrl-C stops", nl=True)
    config = uvicorn.Config(app, log_level="warning", access_log=access_log, lifespan="on",
                            server_header=False, proxy_headers=False)
    uvicorn.Server(config).run(sockets=[sock])
