"""Elasticsearch index layout: names, the explicit mapping, record <-> document.

Four indices per prefix (articles, quarantine, operational state, story claims), each a versioned concrete index behind an alias
(``newsmon-articles`` -> ``newsmon-articles-v1``), created on first use. A new
mapping version is rolled out by copying every document into the new concrete
index and moving the alias in one atomic call (``upgrade_index``).

The test build has no analysis-common plugin, so there is no CJK bigram
analyzer: the search fields use the standard analyzer on the normalized text
written as one token per character, punctuation and spaces included
(``spaced``: ``index/exact_tokens.py``, the form SQLite's FTS indexes too), so a
``match_phrase`` of a query term finds exactly the documents containing the
term as a substring: ``46`` finds ``46.5``, ``ai`` finds ``mail``, and
``项目为王`` does not find ``项目，为王``.
"""
from __future__ import annotations

import base64
import logging
from dataclasses import fields

from elasticsearch import Elasticsearch, helpers

from index.errors import IndexURLError
from index.exact_tokens import exact_tokens
from index.base import ArticleRecord
from index.elasticsearch.claims import CLAIMS_MAPPING
from index.elasticsearch.state import STATE_MAPPING
from index.story_search import LEAD_WINDOW

logger = logging.getLogger("newsmon.index")

MAPPING_VERSION = 4     # v2: attachments (kept in _source, not indexed: their text is in text);
                        # v3: search fields of exact tokens (rebuilt from norm_* on upgrade);
                        # v4: lead, what relevance reads (rebuilt from norm_text on upgrade)
DEFAULT_PREFIX = "newsmon"

_KEYWORD = {"type": "keyword"}
_DISPLAY = {"type": "text", "index": False}          # kept for display and verification only
_SEARCH = {"type": "text", "analyzer": "standard", "norms": False}
_SEARCH_FIELDS = ("search_title", "search_text")
# The body's lead (norm_text[:LEAD_WINDOW], UTF-8, base64 as binary fields take it): read
# beside each matching copy's keys (docvalue_fields) to score it (``match.py``), where
# _source would mean reading the whole texts. Binary doc values are read in place; a
# keyword's come from a compressed terms block per hit (3.4 s against 0.6 s of node CPU
# for 项目's 62,640 hits at 100k articles). Not searched.
_LEAD = {"type": "binary", "doc_values": True}

ARTICLE_MAPPING = {
    "dynamic": "strict",
    # search_* and lead are derived from norm_*: not kept in _source (half the size), rebuilt on upgrade.
    "_source": {"excludes": [*_SEARCH_FIELDS, "lead"]},
    "properties": {
        "id": _KEYWORD, "url": _KEYWORD, "canonical_url": _KEYWORD, "site": _KEYWORD,
        "region": _KEYWORD, "source": _KEYWORD, "author": _KEYWORD, "column": _KEYWORD,
        "title": _DISPLAY, "text": _DISPLAY, "norm_title": _DISPLAY, "norm_text": _DISPLAY,
        "search_title": _SEARCH, "search_text": _SEARCH, "lead": _LEAD,
        "text_hash": _KEYWORD, "lsh_bands": _KEYWORD, "story_id": _KEYWORD,
        "canonical": {"type": "boolean"},
        "attachments": {"type": "object", "enabled": False},   # [{name,url,type,size,sha256,status}]
        # Dates as the crawler wrote them, compared as strings exactly like the SQLite
        # backend does (keyword sort = UTF-8 byte order = SQLite's BINARY collation).
        "published": _KEYWORD, "fetched_at": _KEYWORD,
        "sort_date": _KEYWORD,       # published, else fetched_at
        "day": _KEYWORD,             # sort_date[:10]: --since/--until and the dedup window
        "story_date": _KEYWORD,      # the story's canonical copy's sort_date: orders stories
        # A real date for people and dashboards (range queries, histograms).
        "published_date": {"type": "date", "format": "strict_date_optional_time||yyyy-MM-dd",
                           "ignore_malformed": True},
    },
}

QUARANTINE_MAPPING = {
    "dynamic": "strict",
    "properties": {"url": _KEYWORD, "site": _KEYWORD, "reason": {"type": "text"},
                   "title": _DISPLAY, "fetched_at": _KEYWORD},
}

KINDS = {"articles": ARTICLE_MAPPING, "quarantine": QUARANTINE_MAPPING, "state": STATE_MAPPING,
         "claims": CLAIMS_MAPPING}
INDEX_SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}
_RECORD_FIELDS = tuple(f.name for f in fields(ArticleRecord))


def alias_name(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def concrete_name(prefix: str, kind: str, version: int) -> str:
    return f"{prefix}-{kind}-v{version}"


def spaced(norm: str) -> str:
    """Normalized text as the search fields index it: one token per character."""
    return exact_tokens(norm)


def sort_date(record: ArticleRecord) -> str:
    return record.published or record.fetched_at or ""


def article_doc(record: ArticleRecord, story_date: str | None = None) -> dict:
    """The stored document: every record field as is, plus derived search/sort fields."""
    doc = {name: getattr(record, name) for name in _RECORD_FIELDS}
    doc["lsh_bands"] = list(record.lsh_bands)
    when = sort_date(record)
    doc.update(search_title=spaced(record.norm_title), search_text=spaced(record.norm_text),
               lead=base64.b64encode(record.norm_text[:LEAD_WINDOW].encode()).decode(),
               sort_date=when, day=when[:10], story_date=story_date or when,
               published_date=(record.published or None))
    return doc


def record_from_doc(source: dict) -> ArticleRecord:
    values = {name: source.get(name) for name in _RECORD_FIELDS}
    values["lsh_bands"] = list(values["lsh_bands"] or [])
    values["attachments"] = list(values["attachments"] or [])
    values["canonical"] = bool(values["canonical"])
    values["story_id"] = values["story_id"] or ""
    values["fetched_at"] = values["fetched_at"] or ""
    return ArticleRecord(**values)


def rebuild_doc(source: dict) -> dict:
    """A document for the current mapping from an older stored ``_source``."""
    return article_doc(record_from_doc(source), source.get("story_date"))


STORY_FIELDS = ["id", "url", "story_id", "canonical", "sort_date", "story_date", "fetched_at"]


def fix_story_fields(docs: list[dict], stored: list[dict]) -> dict[str, dict]:
    """Keep the story fields that span copies right, just before ``docs`` are sent.
    ``stored`` are the other copies of their stories already written (``STORY_FIELDS``
    only). Sets the fields on ``docs``; returns ``{id: changed fields}`` for the stored
    copies that must be re-sent.

    - ``story_date``: every copy carries its story's canonical date, which orders
      stories.
    - one canonical copy per story: documents written while the server was down were
      clustered without the stored copies, so a story can come back with two; the
      earliest (date, fetch time, URL) keeps the flag."""
    latest = {d["id"]: d for d in docs}
    members: dict[str, list[dict]] = {}
    for doc in stored + list(latest.values()):
        members.setdefault(doc["story_id"], []).append(doc)
    demoted, canonical_date = set(), {}
    for story_id, copies in members.items():
        canonical = [d for d in copies if d["canonical"]]
        if len(canonical) > 1:
            keep = min(canonical, key=lambda d: (d["sort_date"], d["fetched_at"] or "", d["url"]))
            for doc in canonical:
                if doc is not keep:
                    doc["canonical"] = False
                    demoted.add(doc["id"])
            logger.warning("story %s came back with %d canonical copies (written while Elasticsearch "
                           "was down); kept %s", story_id, len(canonical), keep["url"])
            canonical = [keep]
        if canonical:
            canonical_date[story_id] = canonical[0]["sort_date"]
    for doc in docs:
        doc["story_date"] = canonical_date.get(doc["story_id"]) or doc["sort_date"]
    changes = {}
    for doc in stored:
        want = canonical_date.get(doc["story_id"]) or doc["sort_date"]
        if want != doc["story_date"] or doc["id"] in demoted:
            changes[doc["id"]] = {"story_date": want, "canonical": doc["canonical"]}
    return changes


def _mapping_version(client: Elasticsearch, index: str) -> int:
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    return int(mapping.get("_meta", {}).get("newsmon_mapping_version", 0))


def _create(client: Elasticsearch, prefix: str, kind: str, version: int, alias: bool, replicas: int = 0) -> str:
    name = concrete_name(prefix, kind, version)
    body = {**KINDS[kind], "_meta": {"newsmon_mapping_version": version}}
    client.options(ignore_status=400).indices.create(
        index=name, settings={**INDEX_SETTINGS, "number_of_replicas": replicas}, mappings=body,
        aliases={alias_name(prefix, kind): {}} if alias else None)
    return name


def ensure_indices(client: Elasticsearch, prefix: str, version: int | None = None, replicas: int = 0) -> None:
    """Create the aliases on first use (``replicas``: ``NEWSMON_ES_REPLICAS``); upgrade an
    older mapping version by reindexing; refuse an index written by a newer newsmon."""
    version = version or MAPPING_VERSION
    for kind in KINDS:
        alias = alias_name(prefix, kind)
        if not client.indices.exists_alias(name=alias):
            # ignore_status=400: another process may create it at the same moment.
            _create(client, prefix, kind, version, alias=True, replicas=replicas)
            continue
        current = next(iter(client.indices.get_alias(name=alias)))
        found = _mapping_version(client, current)
        if found > version:
            raise IndexURLError(f"{alias} has newsmon mapping v{found}; this newsmon knows v{version}: "
                                "upgrade newsmon")
        if found < version:
            upgrade_index(client, prefix, kind, version, replicas)


def upgrade_index(client: Elasticsearch, prefix: str, kind: str, version: int, replicas: int = 0) -> int:
    """Copy the alias's documents into a fresh ``-v<version>`` index with the current
    mapping, then move the alias there atomically and drop the old index. Returns
    the number of documents copied.

    The test build has no reindex module (no ``_reindex`` API), so the copy is
    ``helpers.scan`` + ``streaming_bulk`` on the client, which also lets us rebuild
    the derived fields that ``_source`` does not keep."""
    alias = alias_name(prefix, kind)
    old = next(iter(client.indices.get_alias(name=alias)))
    new = _create(client, prefix, kind, version, alias=False, replicas=replicas)
    rebuild = rebuild_doc if kind == "articles" else dict
    actions = ({"_index": new, "_id": hit["_id"], "_source": rebuild(hit["_source"])}
               for hit in helpers.scan(client, index=old, query={"query": {"match_all": {}}}))
    copied = 0
    for ok, item in helpers.streaming_bulk(client, actions, chunk_size=500, max_retries=3,
                                           raise_on_error=False):
        if not ok:
            raise RuntimeError(f"upgrading {alias} to v{version}: {item}")
        copied += 1
    client.indices.refresh(index=new)
    client.indices.update_aliases(actions=[{"remove": {"index": old, "alias": alias}},
                                           {"add": {"index": new, "alias": alias}}])
    client.indices.delete(index=old)
    logger.warning("upgraded %s from %s to %s (%d documents)", alias, old, new, copied)
    return copied
