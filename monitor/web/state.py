"""What every request reaches through ``request.app.state.web``: the index, a few
readers for searches, the credentials, the templates and the login bookkeeping.

Views read it duck-typed from the request; ``app.py`` builds it once per app.
"""
from __future__ import annotations

import logging
import queue
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import jinja2
from starlette.templating import Jinja2Templates

from index import open_index
from index.base import IndexBackend
from index.errors import StorageError
from monitor.clock import show
from monitor.health import RUN_STATUS_LABELS
from monitor.text import reach_line, safe_href
from monitor.watches import WatchStore
from monitor.web.auth import Credentials
from monitor.web.cache import CachedMatches
from monitor.web.highlight import highlight
from monitor.sitenames import own_names, site_titles, sync_titles
from monitor.web.registry import SiteRegistry, SiteRegistryError, display_names
from monitor.web.sessions import SessionRegistry
from monitor.web.throttle import LoginThrottle

HERE = Path(__file__).resolve().parent
logger = logging.getLogger("newsmon.web")
SITES_TTL = 60.0          # seconds the site/region filter lists are reused


class Readers:
    """A few open indexes for searches. A request holds one for its whole search, and
    requests queue for them first come, first served: sharing one connection made
    every concurrent search wait for all the others (each takes the index's lock
    once per story), so all of them finished together, at the end. A request whose
    search another one computed reads its page's stories from ``quick``, indexes of
    its own: queued behind the searches, that read of a few rows waited for several
    whole searches (under 20 clients at 1M articles, most of such a request's time)."""

    def __init__(self, index_url: str | None, size: int, quick_size: int = 1):
        self._all = [open_index(index_url) for _ in range(size + quick_size)]
        self._free: queue.Queue[IndexBackend] = queue.Queue()
        self._quick: queue.Queue[IndexBackend] = queue.Queue()
        for n, index in enumerate(self._all):
            (self._free if n < size else self._quick).put(index)

    @contextmanager
    def __call__(self) -> Iterator[IndexBackend]:
        with self._taken(self._free) as index:
            yield index

    @contextmanager
    def quick(self) -> Iterator[IndexBackend]:
        """An index for a short read (a page's stories), never one a search holds."""
        with self._taken(self._quick) as index:
            yield index

    @staticmethod
    @contextmanager
    def _taken(pool: queue.Queue) -> Iterator[IndexBackend]:
        index = pool.get()
        try:
            yield index
        finally:
            pool.put(index)

    def close(self) -> None:
        for index in self._all:
            index.close()


@dataclass
class WebState:
    """What every request uses: the index, the credentials, the templates."""

    index: IndexBackend
    index_url: str
    credentials: Credentials
    templates: Jinja2Templates
    matches: CachedMatches
    readers: Readers
    sessions: SessionRegistry
    throttle: LoginThrottle
    registry: SiteRegistry | None = None      # the sites file, when the serve command gave one
    _sites: tuple[float, dict[str, str | None]] = field(default=(0.0, {}))

    def site_regions(self) -> dict[str, str | None]:
        """Sites and their regions for the filters, re-read at most every ``SITES_TTL`` s."""
        stamp, sites = self._sites
        if time.monotonic() - stamp > SITES_TTL:
            sites = self.index.site_regions()
            self._sites = (time.monotonic(), sites)
        return sites

    def site_titles(self) -> dict[str, str]:
        """Site name -> display name (the sites file's ``title:``); read per request, so an
        edit shows at once (the file is small and the registry re-reads it). Without a
        registry, the names the index holds (``monitor.sitenames``). A site without a title
        shows the name the crawl learned it gives itself."""
        if self.registry is None:
            return site_titles(self.index.state)
        return {**own_names(self.index.state), **display_names(self.registry)}

    def sites_changed(self) -> None:
        """Store the registry's display names in the index, where digests and
        ``newsmon status`` read them (at start and after each change made here)."""
        if self.registry is not None:
            try:
                titles = {entry.name: entry.title for entry in self.registry.list()}
            except SiteRegistryError:      # a file broken by hand: keep what the index has
                return
            try:
                sync_titles(self.index.state, titles)
            except StorageError as exc:      # a read-only or full index: the pages still show titles
                logger.warning("site display names not stored in the index: %s", exc)

    def watch_store(self) -> WatchStore:
        return WatchStore(self.index)

    def close(self) -> None:
        self.readers.close()
        self.index.close()


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["highlight"] = highlight
    env.filters["when"] = lambda value: show(value, "—")        # NEWSMON_TZ, to the minute
    env.filters["link"] = safe_href
    env.globals["reach_line"] = reach_line
    env.globals["run_status"] = lambda status: RUN_STATUS_LABELS.get(status, status)
    return Jinja2Templates(env=env)
