"""Story claims: the first writer of a dedup key owns it, across processes and machines.

Dedup looks for an article's copies in what the index shows, and a copy another
crawl process sent a moment ago is not searchable yet (or still in that process's
buffer), so two processes storing copies of one story at once would each start it.
Before an article starts a story, its keys (LSH band keys, and its exact-text key)
are claimed in the ``claims`` index with ``op_type=create``: a create is decided on
the primary shard by id, in real time, whatever was refreshed, so exactly one writer
gets each key and every later one gets 409. A loser reads the owners' claims with a
real-time ``mget`` (``ClaimSet``): each claim carries its article's dedup fields and,
once its writer has decided, its story. ``pipelines/stories/clustering.py`` verifies
and joins.

The claims are sent at once, not through the bulk buffer or the spool: a claim must
be on the server before the article's story is decided. With the server down
nothing is claimed and dedup sees what it sees today (the overlay).
"""
from __future__ import annotations

import logging
import time
import uuid

from elasticsearch import ApiError, Elasticsearch

from index.base import ArticleRecord

logger = logging.getLogger("newsmon.index")

CLAIM_WAIT = 10.0          # seconds a loser waits for an owner's decision (normally milliseconds)
_POLL = 0.05
_OPENING = 300             # of the text: choose_origin reads a copy's opening for its lead-in
_FIELDS = ("id", "url", "site", "region", "source", "published", "fetched_at", "norm_title", "norm_text",
           "text_hash")
CLAIMS_MAPPING = {"dynamic": False, "properties": {"owner": {"type": "keyword"}}}


def _article_claim(record: ArticleRecord, keys: list[str], writer: str) -> dict:
    source = {name: getattr(record, name) for name in _FIELDS}
    return {**source, "owner": record.id, "writer": writer, "keys": keys, "text": record.text[:_OPENING],
            "story_id": ""}


def owner_record(claim: dict) -> ArticleRecord:
    """An owner's article as its claim gives it (``lsh_bands``: the keys it claimed;
    ``story_id``: "" until decided)."""
    values = {name: claim.get(name) for name in _FIELDS}
    values.update({name: values[name] or "" for name in ("url", "site", "norm_title", "norm_text", "text_hash",
                                                         "fetched_at")})
    return ArticleRecord(**values, canonical_url="", title="", text=claim.get("text") or "",
                         lsh_bands=list(claim.get("keys") or []), story_id=claim.get("story_id") or "")


class StoryClaims:
    def __init__(self, client: Elasticsearch, index: str):
        self.client, self.index = client, index
        self.writer = uuid.uuid4().hex       # this backend: its own claims are not news to it

    def claim(self, record: ArticleRecord, keys: list[str]) -> tuple[list[ArticleRecord], set[str]]:
        """Create the record's claims. Returns the other writers' articles owning keys it
        did not get (each with the keys it claimed), and the keys it won."""
        operations: list[dict] = [{"index": {"_index": self.index, "_id": "a:" + record.id}},
                                  _article_claim(record, keys, self.writer)]
        for key in keys:
            operations += [{"create": {"_index": self.index, "_id": "k:" + key}}, {"owner": record.id}]
        items = self.client.bulk(operations=operations)["items"][1:]
        won, lost = set(), []
        for key, item in zip(keys, items):
            result = item["create"]
            if result.get("status") == 409:
                lost.append(key)
            elif "error" not in result:     # (a key the server refused, 429 say, is neither)
                won.add(key)
        if not lost:
            return [], won
        owner_of = {d["_id"][2:]: d["_source"]["owner"] for d in self.client.mget(
            index=self.index, ids=["k:" + k for k in lost])["docs"] if d.get("found")}
        # A key this very page claimed before is its own, not lost: the page stored again, or a
        # try killed after claiming and before its article reached the index (its run redone).
        won |= {key for key, owner in owner_of.items() if owner == record.id}
        owners = sorted(set(owner_of.values()) - {record.id})
        if not owners:
            return [], won
        claims = [d["_source"] for d in self.client.mget(index=self.index, ids=["a:" + o for o in owners])
                  ["docs"] if d.get("found")]
        return [owner_record(c) for c in claims if c.get("writer") != self.writer], won

    def decide(self, article_id: str, story_id: str) -> None:
        """The record's story is decided: losers waiting on it may join."""
        self.client.update(index=self.index, id="a:" + article_id, doc={"story_id": story_id})

    def story_of(self, article_id: str) -> str | None:
        """The owner's story, once its writer decided (None: not within ``CLAIM_WAIT``)."""
        deadline = time.monotonic() + CLAIM_WAIT
        while True:
            found = self.client.get(index=self.index, id="a:" + article_id, source_includes=["story_id"])
            story = found["_source"].get("story_id")
            if story or time.monotonic() > deadline:
                return story or None
            time.sleep(_POLL)


class ClaimingIndex:
    """The backend's side of claims (``ElasticsearchIndex`` mixes it in): while the
    server is down nothing is claimed (None) and nothing waits."""

    claims: StoryClaims

    def claim_story_keys(self, record: ArticleRecord, keys: list[str]):
        """``(other writers' owners, keys won)``, or None when nothing could be claimed."""
        with self._lock:
            try:
                return self.link.read(lambda: self.claims.claim(record, keys), None, search=False)
            except ApiError as exc:     # refused (a read-only index, say): dedup as without claims
                logger.warning("could not claim the dedup keys of %s: %s", record.url, exc)
                return None

    def decide_story_claim(self, article_id: str, story_id: str) -> None:
        try:
            self.link.read(lambda: self.claims.decide(article_id, story_id), None, search=False)
        except ApiError as exc:     # losers waiting on it start their own stories after CLAIM_WAIT
            logger.warning("could not record the story of %s's claims: %s", article_id, exc)

    def claimed_story(self, article_id: str) -> str | None:
        try:
            return self.link.read(lambda: self.claims.story_of(article_id), None, search=False)
        except ApiError as exc:
            logger.warning("could not read the claims of %s: %s", article_id, exc)
            return None
