"""The cluster as the Elasticsearch backend sees it: reachable, or down for a while.

Once a request finds the server down (``mark_down``), nothing waits on it for
``retry_after`` seconds: the backend spools its writes and dedup's lookups get
``read``'s default (the backend then answers from its overlay). Search and export
need the server (``require``: one line naming the URL). Refreshes are lazy: a
search-type ``read`` refreshes first when something was sent since the last one.
"""
from __future__ import annotations

import time
from typing import Callable

from elastic_transport import TlsError

from index.elasticsearch.client import ESOptions, is_down, make_client, parse_url, server_version, unreachable
from index.elasticsearch.mapping import alias_name, ensure_indices
from index.errors import IndexURLError, missing_index


class ClusterLink:
    """The client, the index names under the URL's prefix, and whether the server is up.

    ``on_ready(empty)`` runs once, when the server is first reached (``empty``: the
    articles index held nothing); ``on_refresh`` after each refresh."""

    def __init__(self, url: str, options: ESOptions, *, create: bool,
                 on_ready: Callable[[bool], None], on_refresh: Callable[[], None]):
        self.create = create        # False: a reader; indices that do not exist are an error, not made
        self.conn = parse_url(url)
        self.options = options
        self.client = make_client(self.conn, options)
        self.articles = alias_name(self.conn.prefix, "articles")
        self.quarantine_index = alias_name(self.conn.prefix, "quarantine")
        self.alias_of: dict[str, str] = {}        # concrete index -> alias (bulk answers name the former)
        self.version: str | None = None
        self.dirty = False                        # something was sent since the last refresh
        self.ready = False
        self.last_error: Exception | None = None
        self._down_until = 0.0
        self._on_ready = on_ready
        self._on_refresh = on_refresh

    def connect(self) -> bool:
        """Check the server and create the indices; False (and spool mode) when unreachable."""
        if self.ready:
            return True
        if time.monotonic() < self._down_until:
            return False
        try:
            self.version = server_version(self.client, self.conn)
            if not self.create and not self.client.indices.exists_alias(name=self.articles):
                raise self._missing()
            ensure_indices(self.client, self.conn.prefix, replicas=self.options.replicas)
            for alias in (self.articles, self.quarantine_index):
                for concrete in self.client.indices.get_alias(name=alias):
                    self.alias_of[concrete] = alias
            self._on_ready(self.client.count(index=self.articles)["count"] == 0)
        except TlsError as exc:
            raise IndexURLError(f"TLS to {self.conn.url} failed ({exc.message}): for a private CA set "
                                "NEWSMON_ES_CA_CERTS=/path/ca.pem") from None
        except Exception as exc:  # noqa: BLE001 - sorted by is_down: refusals propagate
            if not is_down(exc):
                raise
            self.mark_down(exc)
            return False
        self.ready = True
        return True

    @property
    def up(self) -> bool:
        """Reached, and not marked down since: worth sending to."""
        return self.ready and time.monotonic() >= self._down_until

    def mark_down(self, exc: Exception) -> None:
        """Skip the server for ``retry_after`` seconds (writes spool, dedup reads the overlay)."""
        self.last_error = exc
        self._down_until = time.monotonic() + self.options.retry_after

    def read(self, fetch: Callable, default, search: bool = True):
        """A lookup dedup makes: the server's answer, or ``default`` while it is down.
        A search first refreshes if something was sent since (refreshes are lazy)."""
        if not self.connect():
            return default
        try:
            if search and self.dirty:
                self.client.indices.refresh(index=[self.articles, self.quarantine_index])
                self.dirty = False
                self._on_refresh()
            return fetch()
        except Exception as exc:  # noqa: BLE001
            if not is_down(exc):
                raise
            self.mark_down(exc)
            return default

    def refresh(self) -> None:
        """Make what was sent searchable now (when the server is there)."""
        if self.dirty:
            self.read(lambda: None, None)

    def require(self) -> None:
        """Search and export need the server: a one-line error when it is not there."""
        if not self.connect():
            raise unreachable(self.conn, self.last_error or ConnectionError("down"))

    def _missing(self) -> IndexURLError:
        """No newsmon index under this URL's prefix: say which prefixes the server has."""
        try:
            found = self.client.indices.get_alias(name="*-articles").body
            others = sorted({alias.removesuffix("-articles") for entry in found.values()
                             for alias in entry.get("aliases", {}) if alias.endswith("-articles")})
        except Exception:  # noqa: BLE001 - only a hint (none there answers 404)
            others = []
        shown = "、".join(others[:10]) + ("…" if len(others) > 10 else "")
        hint = f"（这台服务器上有的前缀：{shown}）" if others else ""
        return missing_index(self.conn.url, f"服务器上没有 {self.articles}{hint}")
