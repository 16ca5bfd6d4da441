"""Story clustering: repeated and syndicated copies of one article become one story.

Plain functions and one class, no Scrapy import; the Scrapy pipeline is a thin
adapter around ``StoryClusterer.store`` (assign to a story, then store, as one
operation). All dedup state (text hashes, MinHash
LSH band keys, story ids) lives in the index backend, so it survives restarts,
works across processes and scales with the index (design.md, "Scale beyond one
machine"); the clusterer keeps only a bounded cache of shingle sets.

``assign`` tries, in order:
1. same canonical URL already stored -> the stored page's story (a re-crawl
   changes nothing; an edited page keeps its story and gets new dedup keys);
2. same dedup-normalized text (sha1) -> that story;
3. near duplicate: MinHash LSH band keys (``pipelines/stories/minhash.py``: whole text and
   lead) find candidates in the backend within ``window_days``; each is verified
   by exact Jaccard or containment of the character shingles, and rejected when
   the two texts state different facts (``pipelines/stories/similarity.py``);
4. otherwise a new story.

The story's canonical copy is its origin (``choose_origin``), recomputed from all
copies whenever one joins, and the story's id is its origin's (``story_key``): so
neither depends on crawl order, and a crawl resumed after a kill, or run again,
gives every story the id an uninterrupted crawl gives it. When a later-crawled
copy turns out to be the origin, the story takes that copy's id
(``StoryAssignment.renamed_from`` names the former one); a former id still finds
the story (the backends look up the copy it was made from), and the crawl
carries the story's sent-alert marks over (``monitor/story_moves.py``).
"""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, timedelta
from typing import Literal
from urllib.parse import urlsplit

from index.base import ArticleRecord, IndexBackend, story_key
from index.identity import canonical_url
from pipelines.stories.claiming import claim_keys, owner_to_join
from pipelines.stories.minhash import band_keys, shingle_hashes
from index.normalize import dedup_codepoints, dedup_form, normalize_text
from pipelines.stories.similarity import TextFeatures, similarity

# -- text identity (exact copies) -----------------------------------------------------


def text_hash(text: str) -> str:
    """sha1 of the dedup form: equal hashes = the same words, whatever the script,
    width, punctuation or line breaks."""
    return normalized_text_hash(normalize_text(text))


def normalized_text_hash(norm_text: str) -> str:
    """``text_hash`` of text already normalized (``ArticleRecord.norm_text``)."""
    return hashlib.sha1(dedup_form(norm_text).encode("utf-8")).hexdigest()


# -- origin ----------------------------------------------------------------------------

# A wire-style opening such as "宿迁网讯：" or "本报讯（记者 张三）：" names whoever
# relayed the text; of two same-day copies we prefer the one without it.
_LEAD_IN = re.compile(r"^\s*\S{0,12}?讯\s*(?:[（(][^）)]{0,30}[）)])?\s*[：:]")
_REGION_UNIT = re.compile(r"[\u4e00-\u9fff]{2,}?(?:自治州|自治县|新区|省|市|州|盟|县|区|旗|镇|乡|街道)")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def site_names(record: ArticleRecord) -> frozenset[str]:
    """How a 来源 line may name this copy's site: its site id, its host, and the
    last unit of its region ("江苏省宿迁市宿城区" -> "宿城区")."""
    return _site_names(record.site, _netloc(record.url), record.region or "")


@lru_cache(maxsize=16384)     # a story's copies are asked again at every join
def _netloc(url: str) -> str:
    return urlsplit(url.strip()).netloc


@lru_cache(maxsize=8192)      # a few hundred sites: every join asks for every copy's names
def _site_names(site: str, netloc: str, region: str) -> frozenset[str]:
    names = {site.casefold()}
    host = canonical_url(f"http://{netloc}/").split("/", 1)[0].split(":", 1)[0]
    names.add(host.removeprefix("www."))
    units = _REGION_UNIT.findall(normalize_text(region))
    if units:
        names.add(units[-1])
    return frozenset(n for n in names if len(n) >= 2)


@lru_cache(maxsize=8192)      # 来源 lines repeat: they name a few hundred sites
def _normalized_source(source: str) -> str:
    return normalize_text(source)


def credited(record: ArticleRecord, copies: list[ArticleRecord]) -> bool:
    """True if another copy's 来源 (``source``) names ``record``'s site."""
    names = site_names(record)
    for other in copies:
        if other.id == record.id or not other.source or other.site == record.site:
            continue
        source = _normalized_source(other.source)
        if any(name in source for name in names):
            return True
    return False


def _first_day(copy: ArticleRecord) -> str:
    """The day a copy appeared: published, else fetched (``YYYY-MM-DD``, or "")."""
    return (copy.published or copy.fetched_at or "")[:10]


def choose_origin(copies: list[ArticleRecord]) -> ArticleRecord:
    """The story's origin, from all its copies at once (so crawl order does not matter):
    1. the earliest publication day (the fetch day for an undated page);
    2. among those, a copy whose site another copy's 来源 line names;
    3. the earliest time of day, when every remaining copy gives one;
    4. a copy without a relay lead-in ("宿迁网讯："), then the first fetched (by day: within
       one day fetch order is crawl order, which must not decide), then the id."""
    first_day = min(_first_day(c) for c in copies)
    pool = [c for c in copies if _first_day(c) == first_day]
    if len(pool) == 1:      # the usual case: the rules below only break ties
        return pool[0]
    named = [c for c in pool if credited(c, copies)]
    pool = named or pool
    if all(len(c.published or "") > 10 for c in pool):
        first_time = min(c.published[11:16] for c in pool)
        pool = [c for c in pool if c.published[11:16] == first_time]
    return min(pool, key=lambda c: (bool(_LEAD_IN.match(c.text)), (c.fetched_at or "")[:10], c.id))


def origin_stays(origin: ArticleRecord, record: ArticleRecord) -> bool:
    """True when ``record`` joining the story whose origin is ``origin`` cannot
    change what ``choose_origin`` picks, so the other copies need not be read
    (most reposts, ~45% of articles on the benchmark corpus): it is dated after
    the origin's day, so it is not among the first day's copies, and its 来源
    line, if any, names the origin's site, so no other first-day copy becomes
    the credited one."""
    if not _first_day(origin) or _first_day(record) <= _first_day(origin):
        return False
    if not record.source:
        return True
    source = _normalized_source(record.source)
    return any(name in source for name in site_names(origin))


# -- clustering ------------------------------------------------------------------------

MIN_NEAR_DUP_CHARS = 50          # shorter texts match only exactly
CLEAR_DUPLICATE = 0.9            # a candidate this similar is the story: stop verifying others
CANDIDATES = 10                  # near-duplicate candidates verified per article, best ranked first
MIN_SHARED_PAST_FIRST = 2        # band keys a candidate other than the best must share to be read
Match = Literal["url", "exact", "near"]


@dataclass
class StoryAssignment:
    story_id: str
    new_story: bool
    duplicate_of: str | None      # id of the stored copy this record matched
    match: Match | None
    canonical_id: str             # the story's canonical copy after this assignment
    similarity: float | None = None   # near matches: max(Jaccard, containment)
    renamed_from: str | None = None   # the story's id before its origin changed to another copy
    # renamed_from, while the alert marks sent under it are not carried over yet (the state
    # store was not there: Elasticsearch down): the alert stage carries them before matching
    marks_to_carry: str | None = None
    stored_new: bool | None = None    # after ``store``: the page was not in the index before


class StoryClusterer:
    """Puts each article record into a story and stores it: ``store(record)``.

    ``store`` is ``assign`` then ``backend.upsert_article(record)``, one operation,
    because the two must not come apart: the next record's lookups need this one
    stored, and when this record became the story's canonical copy ``assign`` has
    already cleared the flag on the other copies (``set_story``), so until the
    upsert the story has none. ``assign`` alone fills ``record.story_id``,
    ``record.canonical`` and ``record.lsh_bands`` (a re-crawl also gets its stored
    ``fetched_at`` back) and writes nothing about the record itself: for callers
    that only ask where a record would go.
    """

    def __init__(self, backend: IndexBackend, *, window_days: int = 30, threshold: float = 0.5,
                 containment: float = 0.8, cache_size: int = 32768,
                 candidates: int = CANDIDATES):
        self.backend = backend
        self.window = timedelta(days=window_days)
        self.threshold, self.containment = threshold, containment
        self.candidates = candidates
        # Features of recently seen texts, keyed by text_hash: candidates recur
        # (one original is the candidate of each of its reposts, which come up to
        # days later: at 2,000 articles a day 4,096 entries missed most of them;
        # 32,768 instead of 16,384 cut dedup time ~3% at 1M articles, fewer
        # candidates' texts read and shingled again, for ~70 MB). Bounded (~4.2 KB
        # an entry), and only an accelerator: everything is recomputed from the
        # stored text on a miss.
        self._cache: OrderedDict[tuple[str, str], TextFeatures] = OrderedDict()
        self._cache_size = cache_size

    def features(self, record: ArticleRecord, *, with_hashes: bool = False) -> TextFeatures:
        """The record's text features, cached. Only ``with_hashes`` keeps the shingle
        hashes in text order (half the size): the record's own band keys need them."""
        key = (record.text_hash, record.norm_title)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        found = TextFeatures.of(dedup_codepoints(record.norm_text), record.norm_text,
                                record.norm_title)
        if not with_hashes:
            found.hashes = None
        self._cache[key] = found
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    def _candidate_features(self, other: ArticleRecord) -> TextFeatures:
        """Features of a candidate read with ``full_text=False``: usually cached (it
        was seen when stored, or as another repost's candidate); otherwise from
        its stored text."""
        if not other.norm_text and (other.text_hash, other.norm_title) not in self._cache:
            other = self.backend.get_article(other.id) or other
        return self.features(other)

    def lsh_bands(self, record: ArticleRecord, found: TextFeatures | None = None) -> list[str]:
        """The record's band keys; ``found``: its ``features(with_hashes=True)``, when
        the caller has them already."""
        found = found or self.features(record, with_hashes=True)
        if found.length < MIN_NEAR_DUP_CHARS:
            return []
        hashes = found.hashes
        if hashes is None:       # the same text was seen before
            hashes = shingle_hashes(dedup_codepoints(record.norm_text))
        found.hashes = None      # what stays cached needs only the set
        return band_keys(hashes, found.shingles)

    # -- layers --------------------------------------------------------------------

    def _exact_match(self, record: ArticleRecord, dedup_len: int) -> ArticleRecord | None:
        for other in self.backend.find_by_text_hash(record.text_hash):
            if other.id == record.id or not other.story_id:
                continue
            # Short identical bodies ("详见附件") are shared by unrelated notices:
            # they count only when the titles agree too.
            if dedup_len >= MIN_NEAR_DUP_CHARS or (
                    dedup_form(other.norm_title) == dedup_form(record.norm_title)):
                return other
        return None

    def _near_match(self, record: ArticleRecord, mine: TextFeatures) -> tuple[ArticleRecord, float] | None:
        day = _day(record.published) or _day(record.fetched_at)
        since = (day - self.window).isoformat() if day else None
        # The backend ranks by shared band keys: the likely copies come first, and
        # a clear duplicate ends the search (a story's copies are all candidates
        # of its next one). The best candidate is verified whatever it shares; the
        # next ones only when they share MIN_SHARED_PAST_FIRST keys (one key in
        # common is a stock phrase far more often than a copy: on the 30k
        # benchmark corpus 35,453 such reads found 23 copies) and only the best
        # ``candidates`` of them. A backend that looks up in process memory reads
        # the best candidate alone first (usually a clear duplicate), and the
        # others with a second lookup only when it was not.
        best: tuple[ArticleRecord, float] | None = None
        wanted: set[str] | None = None      # the record's keys, once a candidate past the first needs them
        seen: set[str] = set()
        pages = ((1, 1), (self.candidates, MIN_SHARED_PAST_FIRST)) if self.backend.local_lsh_lookups \
            else ((self.candidates, 1),)
        for limit, min_shared in pages:
            found = self.backend.find_by_lsh_bands(record.lsh_bands, since=since, limit=limit,
                                                   min_shared=min_shared, full_text=False)
            for rank, other in enumerate(found):
                if other.id in seen:
                    continue
                seen.add(other.id)
                if other.id == record.id or not other.story_id:
                    continue
                if rank > 0 and min_shared < MIN_SHARED_PAST_FIRST:   # else the backend counted
                    wanted = wanted or set(record.lsh_bands)
                    if len(wanted.intersection(other.lsh_bands)) < MIN_SHARED_PAST_FIRST:
                        continue
                other_day = _day(other.published) or _day(other.fetched_at)
                if day and other_day and abs(other_day - day) > self.window:
                    continue
                score = similarity(mine, self._candidate_features(other), threshold=self.threshold,
                                   containment=self.containment)
                if score is not None and (best is None or score > best[1]):
                    best = (other, score)
                    if score >= CLEAR_DUPLICATE:
                        return best
            if len(found) < limit:
                break      # there are no more
        return best

    # -- assignment -------------------------------------------------------------------

    def store(self, record: ArticleRecord) -> StoryAssignment:
        """Put ``record`` into its story and store it; ``stored_new``: the index did
        not have this page before."""
        if hasattr(self.backend, "begin_story_unit"):     # SQLite: the write lock, other processes' copies seen
            self.backend.begin_story_unit()
        assignment = self.assign(record)
        if assignment.new_story and hasattr(self.backend, "claim_story_keys"):
            assignment = self._claimed(record, assignment)
        assignment.stored_new = self.backend.upsert_article(record)
        return assignment

    def _claimed(self, record: ArticleRecord, own: StoryAssignment) -> StoryAssignment:
        """Before a record starts a story it claims its keys (a key's first writer owns it:
        ``pipelines/stories/claiming.py``); a copy another process is storing at this
        moment owns some, and the record joins that copy's story instead."""
        mine = self.features(record)
        claimed = self.backend.claim_story_keys(record, claim_keys(record, short := mine.length < MIN_NEAR_DUP_CHARS))
        if claimed is None:          # the server is down: what dedup saw decides
            return own
        verified = {o.id: (o, m) for o in claimed[0] if (m := self._verify_owner(record, mine, o, short))}
        owner = owner_to_join(record, [o for o, _ in verified.values()], claimed[1], choose_origin)
        story = self.backend.claimed_story(owner.id) if owner is not None else None
        self.backend.decide_story_claim(record.id, story or record.story_id)
        if story is None:
            return own
        record.story_id, record.canonical = story, False
        how, score = verified[owner.id][1]
        return StoryAssignment(story, False, owner.id, how, owner.id, score)

    def _verify_owner(self, record: ArticleRecord, mine: TextFeatures, owner: ArticleRecord,
                      short: bool) -> tuple[Match, float] | None:
        """Whether a claim's owner is a copy of ``record``, by ``assign``'s rules."""
        if owner.text_hash == record.text_hash and (
                not short or dedup_form(owner.norm_title) == dedup_form(record.norm_title)):
            return "exact", 1.0
        day, other_day = (_day(r.published) or _day(r.fetched_at) for r in (record, owner))
        if short or (day and other_day and abs(other_day - day) > self.window):
            return None
        score = similarity(mine, self.features(owner), threshold=self.threshold, containment=self.containment)
        return None if score is None else ("near", score)

    def assign(self, record: ArticleRecord) -> StoryAssignment:
        """Put ``record`` into a story (see the module docstring), without storing it."""
        if not record.text_hash:
            record.text_hash = normalized_text_hash(record.norm_text)
        stored = self.backend.get_article(record.id)
        if stored is not None and stored.story_id:
            return self._recrawl(record, stored)

        mine = self.features(record, with_hashes=True)
        record.lsh_bands = self.lsh_bands(record, mine)
        exact = self._exact_match(record, mine.length)
        if exact is not None:
            return self._join(record, exact, "exact", 1.0)
        if record.lsh_bands:
            near = self._near_match(record, mine)
            if near is not None:
                return self._join(record, near[0], "near", near[1])

        record.story_id = story_key(record.id)
        record.canonical = True
        return StoryAssignment(record.story_id, True, None, None, record.id)

    def _recrawl(self, record: ArticleRecord, stored: ArticleRecord) -> StoryAssignment:
        """Same page again: keep its story, canonical flag, first-seen URL spelling
        and first fetch time, so upserting it changes nothing unless the site
        edited the page."""
        record.story_id, record.canonical = stored.story_id, stored.canonical
        record.url, record.fetched_at = stored.url, stored.fetched_at
        if (record.text_hash, record.title, record.published) == (
                stored.text_hash, stored.title, stored.published):
            record.lsh_bands = stored.lsh_bands
        else:   # the site edited the page: its dedup keys follow the new text
            record.lsh_bands = self.lsh_bands(record)
        canonical = next((c.id for c in self.backend.story_copies(stored.story_id, full_text=False)
                          if c.canonical),
                         stored.id)
        return StoryAssignment(stored.story_id, False, stored.id, "url", canonical)

    def _join(self, record: ArticleRecord, match: ArticleRecord, how: Match,
              similarity_: float) -> StoryAssignment:
        story_id = match.story_id
        if match.canonical and origin_stays(match, record):
            record.story_id, record.canonical = story_id, False
            return StoryAssignment(story_id, False, match.id, how, match.id, similarity_)
        # the openings are enough: choose_origin reads a text only for its lead-in
        copies = [c for c in self.backend.story_copies(story_id, full_text=False)
                  if c.id != record.id] or [match]
        origin = choose_origin(copies + [record])
        record.canonical = origin is record
        current = next((c.id for c in copies if c.canonical), None)
        new_id = story_id
        if origin.id != current:   # a later-crawled copy turned out to be the origin: the story is its
            new_id = story_key(origin.id)
            self.backend.set_story([c.id for c in copies] + [record.id], new_id, origin.id)
        record.story_id = new_id
        return StoryAssignment(new_id, False, match.id, how, origin.id, similarity_,
                               renamed_from=story_id if new_id != story_id else None)
