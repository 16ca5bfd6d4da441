"""Story clustering: repeated and syndicated copies of one article become one story.

Plain functions and one class, no Scrapy import; the Scrapy pipeline is a thin
adapter around ``StoryClusterer.assign``. All dedup state (text hashes, MinHash
LSH band keys, story ids) lives in the index backend, so it survives restarts and
scales with the index (design.md, "Scale beyond one machine").

``assign`` tries, in order:
1. same canonical URL already stored -> the stored page's story (a re-crawl
   changes nothing; an edited page keeps its story and gets new dedup keys);
2. same dedup-normalized text (sha1) -> that story;
3. near duplicate: MinHash LSH band keys find candidates in the backend, verified
   by exact Jaccard of character shingles or by containment, within ``window_days``;
4. otherwise a new story, whose id comes from its first-seen copy and never changes.
"""
from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from datasketch import MinHash

from index.base import ArticleRecord, IndexBackend
from pipelines.normalize import normalize_for_dedup

# -- canonical URLs ----------------------------------------------------------------

# Query parameters that say how a reader arrived, not which page it is.
TRACKING_PARAMS = frozenset({
    "spm", "from", "source", "share", "isappinstalled", "scene", "clicktime", "enterid",
    "share_token", "sharer_shareinfo", "sharer_shareinfo_first", "wxshare_count",
    "fbclid", "gclid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "ref", "ref_src",
})
TRACKING_PREFIXES = ("utm_",)
DIRECTORY_INDEX_PAGES = ("index.html", "index.htm", "index.shtml", "default.html",
                         "default.htm", "index.jsp", "index.php")
_DEFAULT_PORTS = {"80", "443"}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def canonical_url(url: str) -> str:
    """Scheme-less key for "the same page": ``host[:port]/path?sorted-params``.

    http and https copies of a page are one page, so the key has no scheme."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")   # 政府.cn and its punycode are one host
    except UnicodeError:
        pass
    netloc = host.lower()
    if parts.port is not None and str(parts.port) not in _DEFAULT_PORTS:
        netloc += f":{parts.port}"
    # Re-quote after unquoting so %E5%AE%BF and 宿 give the same key.
    path = quote(unquote(parts.path or "/"), safe=_PATH_SAFE)
    for page in DIRECTORY_INDEX_PAGES:
        if path.lower().endswith("/" + page):
            path = path[: -len(page)]
            break
    path = path.rstrip("/")
    params = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES))
    query = urlencode(params)
    return netloc + path + (f"?{query}" if query else "")


def article_id(canonical: str) -> str:
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    """sha1 of the dedup form: equal hashes = the same words, whatever the script,
    width, punctuation or line breaks."""
    return hashlib.sha1(normalize_for_dedup(text).encode("utf-8")).hexdigest()


# -- clustering ------------------------------------------------------------------------

# A wire-style opening such as "宿迁网讯：" or "本报讯（记者 张三）：" names whoever
# relayed the text; of two same-day copies we prefer the one without it.
_LEAD_IN = re.compile(r"^\s*\S{0,12}?讯\s*(?:[（(][^）)]{0,30}[）)])?\s*[：:]")
MIN_NEAR_DUP_CHARS = 50          # shorter texts match only exactly
MIN_CONTAINMENT_SHINGLES = 100   # containment on a tiny text would match any quote of it
Match = Literal["url", "exact", "near"]


@dataclass
class StoryAssignment:
    story_id: str
    new_story: bool
    duplicate_of: str | None      # id of the stored copy this record matched
    match: Match | None
    canonical_id: str             # the story's canonical copy after this assignment
    similarity: float | None = None   # near matches: max(Jaccard, containment)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def _earlier(a: ArticleRecord, b: ArticleRecord) -> bool:
    """True if copy ``a`` should be canonical rather than ``b``: earlier publication
    (time compared only when both pages give one), then earlier fetch, then the copy
    without a relay lead-in."""
    pa, pb = a.published or a.fetched_at or "", b.published or b.fetched_at or ""
    if pa[:10] != pb[:10]:
        return pa[:10] < pb[:10]
    if len(pa) > 10 and len(pb) > 10 and pa[11:16] != pb[11:16]:
        return pa[11:16] < pb[11:16]
    if (a.fetched_at or "") != (b.fetched_at or ""):
        return (a.fetched_at or "") < (b.fetched_at or "")
    return not _LEAD_IN.match(a.text) and bool(_LEAD_IN.match(b.text))


class StoryClusterer:
    """Assigns each article record to a story; the caller stores the record.

    ``assign(record)`` fills ``record.story_id``, ``record.canonical`` and
    ``record.lsh_bands`` (a re-crawl also gets its stored ``fetched_at`` back) and
    writes nothing about the record itself. **The caller must
    ``backend.upsert_article(record)`` right after**, before assigning the next
    record: the next record's lookups need this one stored, and when this record
    became the story's canonical copy ``assign`` has already cleared the flag on
    the other copies (``set_story``), so until the upsert the story has none.
    """

    def __init__(self, backend: IndexBackend, *, window_days: int = 30, num_perm: int = 128,
                 bands: int = 32, shingle: int = 5, threshold: float = 0.5,
                 containment: float = 0.8, cache_size: int = 4096):
        if num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
        self.backend = backend
        self.window = timedelta(days=window_days)
        self.num_perm, self.bands, self.rows = num_perm, bands, num_perm // bands
        self.shingle, self.threshold, self.containment = shingle, threshold, containment
        # Shingle sets of recently seen texts, keyed by text_hash: candidates recur.
        self._shingle_cache: OrderedDict[str, tuple[int, frozenset[str]]] = OrderedDict()
        self._cache_size = cache_size

    # -- features ----------------------------------------------------------------

    def _features(self, record: ArticleRecord) -> tuple[int, frozenset[str]]:
        """(length of the dedup form, its character shingles), cached by text hash."""
        cached = self._shingle_cache.get(record.text_hash)
        if cached is not None:
            self._shingle_cache.move_to_end(record.text_hash)
            return cached
        text = normalize_for_dedup(record.norm_text)   # cheap: norm_text is already folded
        k = self.shingle
        features = (len(text), frozenset(text[i:i + k] for i in range(max(1, len(text) - k + 1))))
        self._shingle_cache[record.text_hash] = features
        if len(self._shingle_cache) > self._cache_size:
            self._shingle_cache.popitem(last=False)
        return features

    def lsh_bands(self, shingles: frozenset[str]) -> list[str]:
        """Band keys ``"b07:<16 hex>"``: two texts share one with probability
        1-(1-J^rows)^bands (about 0.87 at Jaccard 0.5 with 128 perms / 32 bands).
        datasketch hashes ~1,500 shingles in ~1 ms, fast enough to keep."""
        minhash = MinHash(num_perm=self.num_perm, seed=1)
        minhash.update_batch([s.encode("utf-8") for s in sorted(shingles)])
        values = minhash.hashvalues.astype("<u8")
        return [f"b{b:02d}:" + hashlib.sha1(
                    values[b * self.rows:(b + 1) * self.rows].tobytes()).hexdigest()[:16]
                for b in range(self.bands)]

    def _similarity(self, a: frozenset[str], b: frozenset[str]) -> float | None:
        """max(Jaccard, containment) if either passes its threshold, else None."""
        common = len(a & b)
        jaccard = common / len(a | b)
        smaller = min(len(a), len(b))
        contained = common / smaller if smaller >= MIN_CONTAINMENT_SHINGLES else 0.0
        if jaccard >= self.threshold or contained >= self.containment:
            return max(jaccard, contained)
        return None

    # -- layers --------------------------------------------------------------------

    def _exact_match(self, record: ArticleRecord, dedup_len: int) -> ArticleRecord | None:
        for other in self.backend.find_by_text_hash(record.text_hash):
            if other.id == record.id or not other.story_id:
                continue
            # Short identical bodies ("详见附件") are shared by unrelated notices:
            # they count only when the titles agree too.
            if dedup_len >= MIN_NEAR_DUP_CHARS or (
                    normalize_for_dedup(other.norm_title) == normalize_for_dedup(record.norm_title)):
                return other
        return None

    def _near_match(self, record: ArticleRecord,
                    shingles: frozenset[str]) -> tuple[ArticleRecord, float] | None:
        day = _day(record.published) or _day(record.fetched_at)
        since = (day - self.window).isoformat() if day else None
        best: tuple[ArticleRecord, float] | None = None
        for other in self.backend.find_by_lsh_bands(record.lsh_bands, since=since):
            other_day = _day(other.published) or _day(other.fetched_at)
            if other.id == record.id or not other.story_id:
                continue
            if day and other_day and abs(other_day - day) > self.window:
                continue
            score = self._similarity(shingles, self._features(other)[1])
            if score is not None and (best is None or score > best[1]):
                best = (other, score)
        return best

    # -- assignment -------------------------------------------------------------------

    def assign(self, record: ArticleRecord) -> StoryAssignment:
        """Put ``record`` into a story (see the module docstring); the caller upserts it."""
        if not record.text_hash:
            record.text_hash = text_hash(record.norm_text)
        stored = self.backend.get_article(record.id)
        if stored is not None and stored.story_id:
            return self._recrawl(record, stored)

        dedup_len, shingles = self._features(record)
        long_enough = dedup_len >= MIN_NEAR_DUP_CHARS
        record.lsh_bands = self.lsh_bands(shingles) if long_enough else []

        exact = self._exact_match(record, dedup_len)
        if exact is not None:
            return self._join(record, exact, "exact", 1.0)
        if long_enough:
            near = self._near_match(record, shingles)
            if near is not None:
                return self._join(record, near[0], "near", near[1])

        record.story_id = "s-" + record.id[:16]
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
            dedup_len, shingles = self._features(record)
            record.lsh_bands = self.lsh_bands(shingles) if dedup_len >= MIN_NEAR_DUP_CHARS else []
        canonical = next((c.id for c in self.backend.story_copies(stored.story_id) if c.canonical),
                         stored.id)
        return StoryAssignment(stored.story_id, False, stored.id, "url", canonical)

    def _join(self, record: ArticleRecord, match: ArticleRecord, how: Match,
              similarity: float) -> StoryAssignment:
        story_id = match.story_id
        copies = self.backend.story_copies(story_id)
        current = next((c for c in copies if c.canonical), copies[0] if copies else match)
        record.story_id = story_id
        record.canonical = _earlier(record, current)
        canonical_id = current.id
        if record.canonical:   # a later-crawled copy turned out to be the earliest
            canonical_id = record.id
            self.backend.set_story([c.id for c in copies] + [record.id], story_id, record.id)
        return StoryAssignment(story_id, False, match.id, how, canonical_id, similarity)
