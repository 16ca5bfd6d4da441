"""An Atom feed per watch, fetched by feed readers with a secret token instead of a login.

The feed holds the watch's newest matching stories (``FEED_ENTRIES``, from the last
``FEED_DAYS`` days, the search's date order: newest first), each once, with its
original link, a snippet and who carried it. Times carry ``NEWSMON_TZ``'s offset.

The token lives in the index's state store (kind ``watch_feed``, keyed by watch
name), made on first use and replaced by ``rotate_token``; it is bound to the
watch's creation time, so a watch removed and added again under the same name
does not revive an old feed URL. ``token_matches`` compares in constant time.

Readers poll every few minutes, so a feed has a validator: ``WatchFeed.etag``
hashes what the entries say (ids, titles, copies, times) and the watch itself,
and ``last_modified`` is the newest fetch among the entries; a reader holding
the same answer gets a 304 without the XML being built or sent.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from lxml import etree

from index.base import order_copies
from index.query import make_snippet
from monitor.clock import local, parse, show, utc_now, zone
from monitor.text import reach_line, safe_href
from monitor.watches import Watch

FEED_KIND = "watch_feed"
FEED_ENTRIES = 50
FEED_DAYS = 30
ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# -- the token ---------------------------------------------------------------------------------

def feed_token(state, watch: Watch) -> str:
    """The watch's feed token, made now if it has none (or only one from an earlier watch of that name)."""
    doc = state.get(FEED_KIND, watch.name)
    if doc and doc.get("watch_created") == watch.created and doc.get("token"):
        return doc["token"]
    return rotate_token(state, watch)


def rotate_token(state, watch: Watch) -> str:
    """A new token: the old feed URL answers 404 from now on."""
    token = secrets.token_urlsafe(24)
    state.put(FEED_KIND, watch.name, {"token": token, "watch_created": watch.created,
                                      "made": utc_now().isoformat(timespec="seconds")})
    return token


def token_matches(state, watch: Watch, token: str | None) -> bool:
    doc = state.get(FEED_KIND, watch.name)
    if not token or not doc or doc.get("watch_created") != watch.created or not doc.get("token"):
        return False
    return hmac.compare_digest(str(doc["token"]).encode(), token.encode("utf-8", "replace"))


# -- the entries -------------------------------------------------------------------------------

@dataclass
class FeedEntry:
    story_id: str
    title: str
    url: str
    site: str
    summary: str
    published: datetime       # aware
    fetched: datetime | None  # newest fetch among the story's copies


@dataclass
class WatchFeed:
    watch: Watch
    entries: list[FeedEntry]

    @property
    def updated(self) -> datetime:
        times = [e.published for e in self.entries] + [_moment(self.watch.created) or _EPOCH]
        return max(times)

    @property
    def last_modified(self) -> datetime:
        """When what the feed says last changed, as far as the index can tell: the newest
        fetch among its stories, or the watch's creation. In UTC: an HTTP date is GMT, and
        a fetch is stored with the crawler's offset (+08:00), which made the feed a 500
        whenever an entry was fetched after the watch was made."""
        times = [e.fetched for e in self.entries if e.fetched] + [_moment(self.watch.created) or _EPOCH]
        return max(times).astimezone(timezone.utc).replace(microsecond=0)

    @property
    def etag(self) -> str:
        watch = {k: v for k, v in self.watch.to_dict().items() if k in ("name", "query", "sites", "regions")}
        digest = hashlib.sha256(json.dumps(watch, ensure_ascii=False, sort_keys=True).encode())
        for e in self.entries:
            digest.update(json.dumps([e.story_id, e.title, e.url, e.summary, e.published.isoformat()],
                                     ensure_ascii=False).encode())
        return '"' + digest.hexdigest()[:32] + '"'


_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def watch_feed(index, watch: Watch, now: datetime | None = None, entries: int = FEED_ENTRIES) -> WatchFeed:
    """The watch's newest matching stories. ``index`` answers ``match_stories`` and
    ``story_copies`` (an ``IndexBackend``, or the web's cached view of one)."""
    now = now or utc_now()
    since = (now.astimezone(zone()) - timedelta(days=FEED_DAYS)).date().isoformat()
    matches = index.match_stories(watch.parsed, sites=watch.sites or None, regions=watch.regions or None,
                                  since=since, until=None)
    terms = watch.parsed.positive_terms
    found = []
    for match in matches[:entries]:
        copies = order_copies(index.story_copies(match.story_id))
        if not copies:                # removed since it matched
            continue
        head = copies[0]
        matched = next((c for c in copies if c.id == match.article_id), head)
        story = {"site": head.site, "url": head.url,
                 "copies": [{"site": c.site, "url": c.url} for c in copies]}
        fetched = [m for m in (_moment(c.fetched_at) for c in copies) if m]
        found.append(FeedEntry(
            story_id=head.story_id, title=head.title, url=head.url, site=head.site,
            summary=f"{reach_line(story)}。{make_snippet(matched.text, terms)}",
            published=_moment(head.published) or _moment(head.fetched_at) or _EPOCH,
            fetched=max(fetched) if fetched else None))
    return WatchFeed(watch=watch, entries=found)


def _moment(value: str | None) -> datetime | None:
    """A stored time as an aware moment; a date alone is its midnight in ``NEWSMON_TZ``."""
    moment = parse(value)
    if isinstance(moment, datetime):
        return moment
    if isinstance(moment, date):
        return datetime.combine(moment, time.min, tzinfo=zone())
    return None


# -- the XML -----------------------------------------------------------------------------------

def atom_xml(feed: WatchFeed, *, self_url: str, page_url: str) -> bytes:
    """The feed as Atom 1.0 (RFC 4287), in Chinese, times with ``NEWSMON_TZ``'s offset."""
    watch = feed.watch
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
    _add(root, "id", f"tag:newsmon,2026:watch:{watch.name}")
    _add(root, "title", f"监测「{watch.name}」：{watch.query}")
    scope = "、".join(watch.sites + watch.regions) or "全部来源"
    _add(root, "subtitle", f"最近 {FEED_DAYS} 天内符合查询的最新 {FEED_ENTRIES} 条报道（范围：{scope}；"
                           f"时间为 {zone()}）")
    _add(root, "updated", _stamp(feed.updated))
    _link(root, self_url, "self", "application/atom+xml")
    _link(root, page_url, "alternate", "text/html")
    author = etree.SubElement(root, f"{{{ATOM}}}author")
    _add(author, "name", "newsmon")
    _add(root, "generator", "newsmon")
    for entry in feed.entries:
        node = etree.SubElement(root, f"{{{ATOM}}}entry")
        _add(node, "id", f"tag:newsmon,2026:story:{entry.story_id}")
        _add(node, "title", entry.title or "（无标题）")
        _link(node, safe_href(entry.url), "alternate", "text/html")
        _add(node, "published", _stamp(entry.published))
        _add(node, "updated", _stamp(entry.published))
        by = etree.SubElement(node, f"{{{ATOM}}}author")
        _add(by, "name", entry.site)
        category = etree.SubElement(node, f"{{{ATOM}}}category")
        category.set("term", entry.site)
        _add(node, "summary", f"{show(entry.published)} {entry.summary}")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _add(parent, name: str, text: str):
    node = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    node.text = _NOT_XML.sub("", text)
    return node


def _link(parent, href: str, rel: str, media_type: str) -> None:
    node = etree.SubElement(parent, f"{{{ATOM}}}link")
    node.set("rel", rel)
    node.set("type", media_type)
    node.set("href", href)


def _stamp(moment: datetime) -> str:
    """RFC 3339 with the team's offset: ``2026-12-06T12:17:00+08:00``."""
    return local(moment).isoformat(timespec="seconds")
