"""The daily digest: per recipient, per watch, the stories first seen in a window.

1. Stories first seen in the window come from the ``new_story`` records the
   alert stage writes at index time (key ``<first seen UTC>/<story_id>``), so a
   story is in the digest of the day the crawler found it, whatever its date.
2. Each watch is matched with ``story_matches`` over all the story's copies --
   the rule ``search`` and the alerts use -- newest first, each with title,
   site, date, a short excerpt with the hits marked, and its reach line.
3. Then the source-health section from ``monitor.health.source_status``.
4. HTML (Jinja2, autoescaped: every article field is escaped, spam pages carry
   markup) and plain text, as one multipart/alternative email per recipient,
   with a footer and ``List-Unsubscribe`` naming each watch.

5. A watch's matches that skipped their immediate alert for a recipient (the
   watch was snoozed, or the recipient's daily cap was used up; ``monitor.backlog``)
   are in that recipient's digest too -- in a section of their own for an
   immediate-only watch. A webhook has no digest: it gets those as one summary
   message a day (``monitor.digest_days.webhook_summaries``).

Once per recipient and local day (``monitor.digest_days``), the scheduler's run
and ``newsmon digest`` alike: a second run on the same day sends nothing
(``--force`` sends another). Each covers what was first seen since the
recipient's previous digest. Every time it shows is in ``NEWSMON_TZ``
(``monitor.clock``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, select_autoescape

from index.base import IndexBackend, story_dict
from index.query import hit_spans, make_snippet
from monitor.alerts import NEW_STORY_KIND, key_time, parse_key_time, utc_now
from monitor.backlog import held_between
from monitor.clock import show, zone_name
from monitor.delivery import DeliveryError, SMTPSettings, send_email
from monitor.digest_days import (DIGEST_KIND, STALE_SENDING, already_sent, claim_day,  # noqa: F401 - the digest API
                                 last_digest_until, webhook_summaries)
from monitor.health import RUN_STATUS_LABELS
from monitor.sitenames import site_titles, sync_titles
from monitor.text import reach_line, safe_href, when
from monitor.watches import Watch, WatchStore, in_scope, parsable

logger = logging.getLogger("newsmon.digest")

EXCERPT_CHARS = 110


class DigestConfigError(ValueError):
    """A ``digest:`` section that cannot be used."""


@dataclass(frozen=True)
class DigestSettings:
    """When the daily digest goes out: ``time`` (HH:MM) in ``timezone`` (default
    ``NEWSMON_TZ``, which is also the zone every time in it is shown in)."""

    time: str = "08:00"
    timezone: str = field(default_factory=zone_name)

    @classmethod
    def from_config(cls, section: dict | None, where: str = "digest") -> "DigestSettings":
        section = dict(section or {})
        unknown = set(section) - {"time", "timezone"}
        if unknown:
            raise DigestConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                                    "known fields: time, timezone")
        settings = cls(str(section.get("time", cls.time)), str(section.get("timezone") or zone_name()))
        try:
            settings.at()
            settings.zone()
        except DigestConfigError as exc:
            raise DigestConfigError(str(exc).replace("digest:", f"{where}:", 1)) from None
        return settings

    def at(self) -> time:
        try:
            return time.fromisoformat(self.time)
        except ValueError:
            raise DigestConfigError(f"digest: field 'time': {self.time!r} is not HH:MM (e.g. 08:00)") from None

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DigestConfigError(f"digest: field 'timezone': unknown time zone {self.timezone!r} "
                                    "(e.g. Asia/Shanghai)") from None

    def day_window(self, day: date) -> tuple[datetime, datetime]:
        """The local calendar day ``day`` as a UTC ``[since, until)`` window."""
        start = datetime.combine(day, time(0), self.zone())
        return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


# -- 1-3: what goes in --------------------------------------------------------------------------

@dataclass
class DigestStory:
    story: dict                          # search --json shape (title, url, site, published, copies, reach)
    first_seen: str
    excerpt: list[tuple[str, bool]]      # (text, is_hit) pieces of the snippet
    reach: str                           # "首发 X，N 家转载（…）"

    @property
    def excerpt_text(self) -> str:
        return "".join(f"【{t}】" if hit else t for t, hit in self.excerpt)


@dataclass
class DigestSection:
    watch: Watch
    stories: list[DigestStory]
    held: int = 0         # of them, matches that skipped their immediate alert (snoozed, daily cap)


@dataclass
class Digest:
    recipient: str
    label: str                           # the local date it is for
    since: datetime
    until: datetime
    timezone: str
    sections: list[DigestSection]
    health: list[dict] | None            # SiteStatus.to_dict() per site; None: not available
    titles: dict[str, str] = field(default_factory=dict)   # site -> display name (monitor.sitenames)
    generated: datetime = field(default_factory=utc_now)
    shown_zone: str = field(default_factory=zone_name)     # the zone its times are shown in

    @property
    def count(self) -> int:
        """Distinct stories (a story two watches share counts once)."""
        return len({s.story["story_id"] for section in self.sections for s in section.stories})

    @property
    def subject(self) -> str:
        return f"newsmon 每日摘要 {self.label}：{self.count} 条新报道（{len(self.sections)} 个监测）"

    @property
    def problem_sites(self) -> list[dict]:
        return [site for site in self.health or [] if site.get("health")]


def first_seen_stories(state, since: datetime, until: datetime) -> list[tuple[str, str]]:
    """``(first seen, story_id)`` of stories first seen in ``[since, until)``, one
    prefix scan per UTC day (keys start with the UTC timestamp)."""
    found: list[tuple[str, str]] = []
    day = since.astimezone(timezone.utc).date()
    last = until.astimezone(timezone.utc).date()
    while day <= last:
        for key, doc in state.scan(NEW_STORY_KIND, day.isoformat()):
            if since <= parse_key_time(key) < until:
                found.append((doc.get("first_seen", key[:20]), doc.get("story_id", key[21:])))
        day += timedelta(days=1)
    return found


def excerpt(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    snippet = make_snippet(text, terms, width=EXCERPT_CHARS)
    pieces, at = [], 0
    for start, end in hit_spans(snippet, terms):
        if start > at:
            pieces.append((snippet[at:start], False))
        pieces.append((snippet[start:end], True))
        at = end
    if at < len(snippet):
        pieces.append((snippet[at:], False))
    return pieces


def watch_stories(index: IndexBackend, watch: Watch, new: list[tuple[str, str]], cache: dict) -> list[DigestStory]:
    query = watch.parsed
    stories = []
    for seen, story_id in new:
        if story_id not in cache:
            cache[story_id] = index.story_copies(story_id)
        copies = cache[story_id]
        hit = next((c for c in copies if in_scope(watch, c) and query.matches(c.match_text)), None)
        if hit is None:
            continue
        story = story_dict(copies, make_snippet(hit.text, query.positive_terms))
        stories.append(DigestStory(story, seen, excerpt(hit.text, query.positive_terms), reach_line(story)))
    # Newest first, as search orders them: the story's (canonical) date, then first seen.
    return sorted(stories, key=_newest, reverse=True)


def source_health(index: IndexBackend, now: datetime | None = None) -> list[dict] | None:
    try:
        from monitor.health import source_status
    except ImportError:    # run history arrives with the scheduler; until then, no section
        return None
    try:
        return [site.to_dict() for site in source_status(index, now=now)]
    except Exception as exc:  # noqa: BLE001 - a digest without its health section beats no digest
        logger.warning("source health not available for the digest: %s", exc)
        return None


def held_by_recipient(held: list[dict]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Email recipient -> watch -> ``(held at, story_id)`` of matches held for the digest."""
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for doc in held:
        if doc["target"].startswith("mailto:"):
            watches = out.setdefault(doc["target"][len("mailto:"):], {})
            watches.setdefault(doc["watch"], []).append((doc["at"], doc["story"]["story_id"]))
    return out


def recipients(watches: list[Watch], to: str | None = None,
               held: dict[str, dict] | None = None) -> dict[str, list[Watch]]:
    """Recipient -> the digest watches naming them (and an immediate-only watch that
    held matches for them). ``to`` limits it to one address; an address no watch
    names gets every digest watch (a preview for an operator)."""
    by_recipient: dict[str, list[Watch]] = {}
    for watch in watches:
        for address in watch.emails:
            if watch.in_digest or watch.name in (held or {}).get(address, {}):
                by_recipient.setdefault(address, []).append(watch)
    if to is not None:
        return {to: by_recipient.get(to) or [w for w in watches if w.in_digest]}
    return by_recipient


def build_digests(index: IndexBackend, since: datetime, until: datetime, *, label: str,
                  settings: DigestSettings | None = None, to: str | None = None,
                  now: datetime | None = None) -> list[Digest]:
    settings = settings or DigestSettings()
    new = first_seen_stories(index.state, since, until)
    held = held_by_recipient(held_between(index.state, since, until))
    health = source_health(index, now or until)
    cache: dict = {}
    digests = []
    for recipient, watches in recipients(WatchStore(index).list(), to, held).items():
        sections = []
        for watch in parsable(watches):
            kept = list({sid: (at, sid) for at, sid in held.get(recipient, {}).get(watch.name, [])}.values())
            stories = watch_stories(index, watch, new, cache) if watch.in_digest else []
            listed = {s.story["story_id"] for s in stories}
            extra = watch_stories(index, watch, [k for k in kept if k[1] not in listed], cache)
            stories = sorted(stories + extra, key=_newest, reverse=True)
            sections.append(DigestSection(watch, stories, held=len(kept)))
        digests.append(Digest(recipient, label, since, until, settings.timezone, sections, health,
                              titles=site_titles(index.state)))
    return digests


def _newest(item: DigestStory) -> tuple:
    return (item.story.get("published") or item.first_seen[:10], item.first_seen, item.story["story_id"])


# -- 4: rendering and sending ----------------------------------------------------------------------

_ENV = Environment(loader=PackageLoader("monitor", "templates"),
                   autoescape=select_autoescape(["html", "j2"], default=True),
                   trim_blocks=True, lstrip_blocks=True)
_ENV.filters["when"] = when
_ENV.filters["local"] = show
_ENV.filters["link"] = safe_href
_ENV.globals["run_status"] = lambda status: RUN_STATUS_LABELS.get(status, status)
_TEXT_ENV = Environment(loader=PackageLoader("monitor", "templates"), autoescape=False,
                        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_TEXT_ENV.filters["when"] = when
_TEXT_ENV.filters["local"] = show


def render_html(digest: Digest) -> str:
    return _ENV.get_template("digest.html.j2").render(d=digest)


def render_text(digest: Digest) -> str:
    return _TEXT_ENV.get_template("digest.txt.j2").render(d=digest)


def digest_message(digest: Digest, sender: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["To"] = digest.recipient
    if sender:
        message["From"] = sender
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="newsmon")
    names = [section.watch.name for section in digest.sections]
    message["List-Id"] = "newsmon digest"
    if names:
        message["List-Unsubscribe"] = ", ".join(
            f"<mailto:{sender or 'newsmon'}?subject=unsubscribe%20{name}>" for name in names)
    message.set_content(render_text(digest))
    message.add_alternative(render_html(digest), subtype="html")
    return message


def send_digest(index: IndexBackend, digest: Digest, smtp: SMTPSettings | None = None,
                *, once: bool = False) -> bool:
    """Send and record it (``digest`` kind, ``<recipient>/<label>``). ``once``: only if
    no digest was recorded for that recipient and day (atomic); False if skipped."""
    key = f"{digest.recipient}/{digest.label}"
    # A digest for today sent at noon covers until noon: the afternoon's stories go in the next one.
    covered = min(digest.until, utc_now())
    doc = {"recipient": digest.recipient, "label": digest.label, "since": key_time(digest.since),
           "until": key_time(covered), "stories": digest.count,
           "watches": [s.watch.name for s in digest.sections], "sent_at": key_time(utc_now())}
    if once and not claim_day(index.state, key, doc):
        return False
    settings = smtp or SMTPSettings.from_env()
    try:
        send_email(digest_message(digest, settings.sender), settings)
    except DeliveryError:
        if once:    # let the next run try again
            index.state.delete(DIGEST_KIND, key)
        raise
    index.state.put(DIGEST_KIND, key, {**doc, "status": "sent"})
    return True


def run_daily_digest(index: IndexBackend, now: datetime | None = None,
                     settings: DigestSettings | None = None, smtp: SMTPSettings | None = None) -> list[str]:
    """The scheduler's job: each recipient gets one digest per local day, of what was
    first seen since their previous digest (24 hours for the first one). Returns
    the recipients sent to; a failed send is logged and retried by the next run."""
    settings = settings or DigestSettings()
    now = now or utc_now()
    label = now.astimezone(settings.zone()).date().isoformat()
    sent = []
    held = held_by_recipient(held_between(index.state, now - timedelta(days=7), now))
    for recipient in recipients(WatchStore(index).list(), held=held):
        since = last_digest_until(index.state, recipient) or now - timedelta(days=1)
        for digest in build_digests(index, since, now, label=label, settings=settings, to=recipient, now=now):
            try:
                if send_digest(index, digest, smtp, once=True):
                    sent.append(recipient)
                    logger.info("digest %s sent to %s: %d stories", label, recipient, digest.count)
            except DeliveryError as exc:
                logger.error("digest %s to %s not sent: %s", label, recipient, exc)
    for name in webhook_summaries(index, label, now):
        logger.info("digest %s: held matches queued for a webhook as %s", label, name)
    return sent


def daily_digest_job(index_url: str | None = None, digest: dict | None = None,
                     source: str = "digest", titles: dict[str, str] | None = None) -> list[str]:
    """The scheduler's digest job: the sites file's ``digest:`` settings (``digest``,
    read from ``source``; the scheduler passes them again whenever the file changes)
    and its sites' display names (``titles``), then ``run_daily_digest`` on a freshly
    opened index."""
    from index import open_index
    settings = DigestSettings.from_config(digest, source) if digest else DigestSettings()
    with open_index(index_url) as index:
        if titles is not None:
            sync_titles(index.state, titles, prune=False)
        return run_daily_digest(index, settings=settings)
