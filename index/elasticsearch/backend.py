"""The Elasticsearch backend: the SQLite backend's behaviour, on a cluster.

Writes are buffered (``Overlay``) and sent with ``streaming_bulk`` when a batch
is full and at ``flush()``. Reads that dedup makes per article (by id, text hash,
LSH band, story) ask the server and then the overlay, so records written earlier
in the same crawl are seen without a refresh per article; the server is
refreshed lazily, before the first search after a batch was sent.

Nothing is lost when the server is down or refuses a batch: whatever was not
confirmed goes to the on-disk ``Spool`` in order, the crawl goes on (dedup then
sees only the overlay), and the spool is replayed first thing when the server is
back: at the next open, the next flush, or ``newsmon index replay``.

Whether the server is up is ``link.py``'s; searching is ``search.py`` and
``match.py``; the story fields that span copies are kept right by
``story_fields.py`` at every flush and replay.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import asdict
from typing import Callable, Iterator

from elasticsearch import NotFoundError

from index.base import ArticleRecord, ClosesOnExit, Quarantined, founder_prefix, order_copies
from index.elasticsearch import dedup as band_keys
from index.elasticsearch import match
from index.elasticsearch.claims import ClaimingIndex, StoryClaims
from index.elasticsearch.bulk import send_actions
from index.elasticsearch.client import ESOptions, ReplayResult, is_down as _is_down, short_reason
from index.elasticsearch.day_counts import DayCounts
from index.elasticsearch.link import ClusterLink
from index.elasticsearch.mapping import alias_name, article_doc, record_from_doc, sort_date
from index.elasticsearch.overlay import Overlay
from index.elasticsearch.own_writes import OwnWrites, RecentReads
from index.elasticsearch.search import all_docs, iter_hits, search_stories
from index.elasticsearch.spool import Spool
from index.elasticsearch.state import ElasticsearchState
from index.elasticsearch.story_fields import StoryFields
from index.errors import os_error
from index.query import Query

logger = logging.getLogger("newsmon.index")

_UNANSWERED = object()     # a read the server did not answer
_UNREFRESHED_MAX = 50_000   # a bulk load refreshes this often, bounding what StoryFields holds


class ElasticsearchIndex(DayCounts, ClosesOnExit, ClaimingIndex):
    """``IndexBackend`` over an Elasticsearch cluster (see the module docstring)."""

    local_lsh_lookups = False

    def __init__(self, url: str, options: ESOptions | None = None, create: bool = True):
        self.options = options or ESOptions.from_env()
        self.own_writes = OwnWrites()           # the only writer of an index empty at open: no lookups
        self.link = ClusterLink(url, self.options, create=create, on_ready=self.own_writes.opened,
                                on_refresh=lambda: self.stories.refreshed())
        self.conn, self.client = self.link.conn, self.link.client
        self.articles, self.quarantine_index = self.link.articles, self.link.quarantine_index
        self.state = ElasticsearchState(self.client, alias_name(self.conn.prefix, "state"), self.require)
        self.spool = Spool(self.options.spool_dir / f"{self.conn.spool_name}.jsonl")
        self.overlay = Overlay()
        self.stories = StoryFields(self.client, self.articles)
        self.claims = StoryClaims(self.client, alias_name(self.conn.prefix, "claims"))
        self._quarantine: dict[str, dict] = {}      # pending quarantine docs by id
        self._on_durable: list[Callable[[], None]] = []   # commit_unit callbacks, run at the next flush
        self.reads = RecentReads()                  # id -> exists, from recent reads and writes
        self.replayed = ReplayResult(0, 0, 0, str(self.spool.path))   # totals since open
        self._closed = False
        self._lock = threading.RLock()
        with self._lock:
            try:
                connected = self.link.connect()
            except BaseException:
                self.client.close()
                raise
            if connected and self.spool.has_entries():
                self.replay()
            elif self.spool.has_entries():
                self._load_spool_into_overlay()

    def require(self) -> None:
        """Search and export need the server: a one-line error when it is not there."""
        self.link.require()

    def _docs(self, query: dict) -> list[dict]:
        return all_docs(self.client, self.articles, query)

    # -- writing -----------------------------------------------------------------------

    def _exists(self, article_id: str) -> bool | None:     # None: the server did not answer
        if article_id in self.overlay:
            return True
        known = self.reads.get(article_id, self.own_writes.exists(article_id))
        if known is not None:
            return known
        return self.link.read(lambda: bool(self.client.exists(index=self.articles, id=article_id).body), None,
                              search=False)

    def _put(self, doc: dict) -> None:
        old = self.overlay.get(doc["id"])
        if old is not None and old["story_id"] != doc["story_id"]:
            self.stories.touched.add(old["story_id"])
        self.overlay.put(doc)
        self.reads.answered(doc["id"], True)
        self.own_writes.wrote(doc["id"])
        if len(self.overlay) - len(self.overlay.spooled) >= self.options.batch_docs:
            self._flush(refresh=False)

    def upsert_article(self, record: ArticleRecord) -> bool:
        with self._lock:
            existed = self._exists(record.id)
            if existed is not False:    # (unknown: counted new, its story looked up as an update's)
                self.stories.replaced.add(record.id)
            self._put(article_doc(record))
            return not existed

    def set_story(self, article_ids: list[str], story_id: str, canonical_id: str) -> None:
        with self._lock:
            members = {r.id: r for r in self.story_copies(story_id)}
            for article_id in article_ids:
                if article_id not in members:
                    record = self.get_article(article_id)
                    if record is not None:
                        self.stories.touched.add(record.story_id)
                        members[article_id] = record
            self.stories.renaming({r.story_id for r in members.values()}, story_id)
            for record in members.values():
                record.story_id, record.canonical = story_id, record.id == canonical_id
                self._put(article_doc(record))

    def record_quarantine(self, item: Quarantined) -> None:
        with self._lock:
            self._quarantine[hashlib.sha1(item.url.encode("utf-8")).hexdigest()] = asdict(item)

    def _actions(self, docs: list[dict], quarantine: dict[str, dict]) -> list[dict]:
        return ([{"_op_type": "index", "_index": self.articles, "_id": d["id"], "_source": d} for d in docs]
                + [{"_op_type": "index", "_index": self.quarantine_index, "_id": qid, "_source": q}
                   for qid, q in quarantine.items()])

    def _send(self, actions: list[dict], keep_rejected: bool = True):
        # chunk_docs above the batch size: a batch and the copies it re-sends go as one request.
        result = send_actions(self.client, actions, alias_of=self.link.alias_of, chunk_docs=2 * self.options.batch_docs,
                              chunk_bytes=self.options.batch_bytes, retries=self.options.retries,
                              backoff=self.options.backoff)
        for action, reason in result.rejected:
            logger.warning("Elasticsearch rejected %s %s: %s (kept in %s)", action["_id"],
                           (action.get("_source") or {}).get("url", ""), reason, self.spool.rejected_path)
        if keep_rejected:     # (a replay hands them to Spool.drain, which holds the spool lock)
            self.spool.reject([{**action, "reason": reason} for action, reason in result.rejected])
        if result.handled < len(actions):
            self.link.mark_down(ConnectionError(result.error or "bulk not confirmed"))
        return result

    def _spool_actions(self, actions: list[dict]) -> None:
        try:
            self.spool.append(actions)
        except OSError as exc:       # the spool's own disk is full or read-only: not durable
            raise os_error(exc, self.spool.path) from exc
        self.overlay.spooled.update(a["_id"] for a in actions if a["_index"] == self.articles)
        logger.warning("Elasticsearch at %s not available (%s): spooled %d actions to %s, replayed "
                       "when it is back", self.conn.url, short_reason(self.link.last_error or ConnectionError()),
                       len(actions), self.spool.path)

    def flush(self) -> None:
        """Send everything buffered (after the spool, to keep the order) and refresh;
        whatever the server does not confirm is spooled durably."""
        self._flush(refresh=True)

    def commit_unit(self, on_durable: Callable[[], None] | None = None) -> None:
        """Batches stay (a bulk request per page would cost the cluster a segment each):
        ``on_durable`` runs once the batch holding this page is confirmed or spooled
        (at the next flush: a full batch may have gone inside ``upsert_article``; a
        callback whose batch could be neither sent nor spooled waits for a flush that is)."""
        if on_durable is not None:
            with self._lock:
                self._on_durable.append(on_durable)

    def _flush(self, refresh: bool) -> None:
        with self._lock:
            durable, self._on_durable = self._on_durable, []
            try:
                self._send_pending(refresh)
            except BaseException:
                # Not sent nor spooled (a refusal, the spool's disk): the pages stay pending
                # and so do their callbacks, for the flush that makes them durable.
                self._on_durable[:0] = durable
                raise
        for callback in durable:
            callback()

    def _send_pending(self, refresh: bool) -> None:
        with self._lock:
            docs, quarantine = list(self.overlay.pending()), dict(self._quarantine)
            self._quarantine.clear()
            try:
                self._send_docs(docs, quarantine, refresh)
            except BaseException:
                for qid, q in quarantine.items():   # (what was spooled or sent stays so: re-sent whole)
                    self._quarantine.setdefault(qid, q)
                raise

    def _send_docs(self, docs: list[dict], quarantine: dict[str, dict], refresh: bool) -> None:
        with self._lock:
            recheck = self.stories.recheck_due and self.link.up and not self.spool.has_entries()
            if not docs and not quarantine and not recheck:     # (a recheck: StoryFields' waiting stories)
                if self.spool.has_entries() and self.link.connect():
                    self.replay()
                if refresh:
                    self.link.refresh()      # what an earlier batch sent becomes searchable now
                return
            if not self.link.connect() or (self.spool.has_entries() and self.replay().remaining):
                self._spool_actions(self._actions(docs, quarantine))
                return
            try:
                updates = self.stories.fixes(docs)
            except Exception as exc:  # noqa: BLE001
                if not _is_down(exc):
                    raise
                self.link.mark_down(exc)
                updates = []
            actions = self._actions(docs, quarantine) + updates
            result = self._send(actions) if self.link.up else None
            handled = result.handled if result else 0
            sent = [a["_source"] for a in actions[:handled] if a["_index"] == self.articles]
            self.stories.sent(sent, confirmed=handled == len(actions))
            self.overlay.discard([d["id"] for d in sent])
            self.link.dirty = self.link.dirty or handled > 0
            if handled < len(actions):
                self._spool_actions(actions[handled:])
            if refresh or len(self.stories) >= _UNREFRESHED_MAX:
                self.link.refresh()

    def replay(self) -> ReplayResult:
        """Send the spool, oldest first; what is delivered leaves it. Returns the
        totals since this index was opened (opening already replays)."""
        with self._lock:
            self.link.require()

            def deliver(entries: list[dict]) -> tuple[int, list[dict]]:
                docs = [e["_source"] for e in entries       # (a malformed entry is left to the server)
                        if e.get("_op_type") == "index" and e.get("_index") == self.articles
                        and {"id", "story_id", "canonical", "sort_date"} <= set(e.get("_source") or ())]
                actions = entries + self.stories.fixes(docs, every_story=True)
                result = self._send(actions, keep_rejected=False)
                self.stories.sent([], confirmed=result.handled == len(actions))
                handled = min(result.handled, len(entries))
                rejected = [{**a, "reason": r} for a, r in result.rejected if a in entries[:handled]]
                return handled, rejected

            try:
                delivered, rejected, remaining = self.spool.drain(deliver)
            except Exception as exc:  # noqa: BLE001
                if not _is_down(exc):
                    raise
                self.link.mark_down(exc)
                delivered, rejected, remaining = 0, 0, len(self.spool.read())
            if delivered:
                self.link.dirty = True
                logger.warning("replayed %d spooled actions into %s (%d rejected, %d still spooled)",
                               delivered, self.conn.url, rejected, remaining)
                self.link.refresh()
            if not remaining:
                self.overlay.discard(list(self.overlay.spooled))
            self.replayed.delivered += delivered
            self.replayed.rejected += rejected
            self.replayed.remaining = remaining
            return self.replayed

    def _load_spool_into_overlay(self) -> None:
        """Server down at open: dedup still sees what earlier runs spooled."""
        for entry in self.spool.read():
            if entry.get("_op_type") == "index" and entry.get("_index") == self.articles:
                self.overlay.put(entry["_source"])
                self.overlay.spooled.add(entry["_id"])

    def close(self) -> None:
        """Flush (or spool) and close, the connections even if the flush raises; twice is harmless."""
        with self._lock:
            if not self._closed:
                self._closed = True
                with self.client:          # closed on the way out, whatever the flush does
                    self.flush()

    # -- reading articles ------------------------------------------------------------

    def _newest(self, stored: list[dict], buffered: list[dict]) -> dict[str, dict]:
        """Stored documents by id, the overlay's newer versions over them."""
        self.own_writes.saw(stored)     # another worker's: set_story must read its copies by id
        return {**{d["id"]: d for d in stored if d["id"] not in self.overlay}, **{d["id"]: d for d in buffered}}

    def _merged(self, stored: list[dict], buffered: list[dict]) -> list[ArticleRecord]:
        return [record_from_doc(d) for d in self._newest(stored, buffered).values()]

    def get_article(self, article_id: str) -> ArticleRecord | None:
        with self._lock:
            doc = self.overlay.get(article_id)
            if doc is not None:
                return record_from_doc(doc)
            if self.own_writes.exists(article_id) is False:
                return None              # the only writer of an index empty at open (no round trip)

            def fetch():
                try:
                    return record_from_doc(self.client.get(index=self.articles, id=article_id)["_source"])
                except NotFoundError:
                    return None
            record = self.link.read(fetch, _UNANSWERED, search=False)     # GET by id is real-time
            if record is _UNANSWERED:       # (not remembered: upsert_article asks again)
                return None
            self.reads.answered(article_id, record is not None)
            return record

    def find_by_text_hash(self, text_hash: str) -> list[ArticleRecord]:
        with self._lock:
            stored = self.link.read(lambda: self._docs({"term": {"text_hash": text_hash}}), [])
            found = self._merged(stored, self.overlay.with_hash(text_hash))
        return sorted(found, key=lambda r: (sort_date(r), r.id))

    def find_by_lsh_bands(self, bands: list[str], since: str | None = None,
                          limit: int | None = None, min_shared: int = 1,
                          full_text: bool = True) -> list[ArticleRecord]:
        bands = list(dict.fromkeys(bands))      # (whole documents whatever full_text says)
        if not bands or (limit is not None and limit <= 0):
            return []
        with self._lock:
            # The overlay's newer versions replace stored ones, so ask for enough
            # stored documents that ``limit`` remain after dropping replaced ones.
            size = None if limit is None else limit + len(self.overlay)
            stored = self.link.read(lambda: band_keys.stored_candidates(
                self.client, self.articles, bands, since, size, min_shared), [])
            wanted = set(bands)
            buffered = [d for d in self.overlay.with_bands(bands) if (not since or d["day"] >= since[:10])
                        and len(wanted.intersection(d["lsh_bands"])) >= min_shared]
            docs = self._newest(stored, buffered).values()
            return [record_from_doc(d) for d in band_keys.rank(list(docs), bands, limit)]

    def story_copies(self, story_id: str, *, full_text: bool = True) -> list[ArticleRecord]:
        with self._lock:       # full_text=False: the whole documents anyway
            stored = self.link.read(lambda: self._docs({"term": {"story_id": story_id}}), [])
            copies = self._merged(stored, self.overlay.in_story(story_id))
            prefix = None if copies else founder_prefix(story_id)
            if prefix:         # a former id: the story is where the copy it names is now
                named = [d for d in self.overlay.docs.values() if d["id"].startswith(prefix)] or self.link.read(
                    lambda: self._docs({"prefix": {"id": prefix}}), [])
                moved = next((d["story_id"] for d in named if d.get("story_id") not in ("", story_id)), None)
                if moved:
                    return self.story_copies(moved)
            return order_copies(copies)

    def quarantined(self) -> list[Quarantined]:
        self.flush()
        self.require()
        order = [{"fetched_at": "asc"}, {"url": "asc"}]
        return [Quarantined(**h["_source"])
                for h in iter_hits(self.client, self.quarantine_index, {"match_all": {}}, order, True)]

    def count_articles(self) -> int:
        self.flush()
        self.require()
        return self.client.count(index=self.articles)["count"]

    # -- search and export --------------------------------------------------------------

    def search(self, query: Query, *, sites: list[str] | None = None, since: str | None = None,
               until: str | None = None, limit: int | None = 20) -> list[dict]:
        """Stories newest first, each once, exactly as ``SQLiteIndex.search`` returns them."""
        self.flush()
        self.require()
        return search_stories(self.client, self.articles, query, sites=sites, since=since, until=until,
                              limit=limit)

    def match_stories(self, query: Query, *, sites: list[str] | None = None, regions: list[str] | None = None,
                      since: str | None = None, until: str | None = None, limit: int | None = None,
                      scores: bool = True) -> list:
        """Every matching story in search order, for a search page (``index/elasticsearch/match.py``)."""
        self.flush()
        self.require()
        return match.match_stories(self.client, self.articles, query, sites=sites, regions=regions,
                                   since=since, until=until, limit=limit, scores=scores)

    def site_regions(self) -> dict[str, str | None]:
        self.flush()
        self.require()
        return match.site_regions(self.client, self.articles)

    def export(self) -> Iterator[dict]:
        """Export lines ordered by site, then URL (then id), like the SQLite backend."""
        self.flush()
        self.require()
        order = [{"site": "asc"}, {"url": "asc"}, {"id": "asc"}]
        for hit in iter_hits(self.client, self.articles, {"match_all": {}}, order, True, page=500):
            yield record_from_doc(hit["_source"]).export_dict()
