"""Pick the article body among the candidates (``pipelines.extraction.candidates``).

Each candidate's lines are cleaned first (``pipelines.extraction.clean.clean_paragraphs``), so
boilerplate a rule removes anyway never counts for or against it. Then one score:

    score = supported prose + 0.1 * unsupported prose + 0.5 * supported other lines
            - 0.5 * unsupported other lines - 1.0 * linked + title bonus
    (prose of a CMS container counts 1.15 times: a prior, not an override)

* ``prose``   – characters in lines that read as sentences (punctuated, >= 10 characters);
* ``other``   – characters in the remaining lines (menus, labels, headlines of other pages);
* ``linked``  – characters in lines that are the text of a link on the page (a list page,
  a related-news box, a sidebar teaser);
* supported – a prose line at least half of whose character bigrams a candidate of another
  method also found (agreement between extractors: a copyright bar, a disclaimer or a
  hot-news list matched by a generic class is found by nobody else);
* title bonus – the headline's bigrams found in the text's first lines (position and
  overlap with the title: the article talks about its headline, a sidebar does not).

Cheap first: when the first CMS container and the density scorer agree (one's text is
mostly the other's, and the container is not a fragment of the dense block), the
container is taken without running the libraries. Otherwise trafilatura joins, and
readability-lxml too unless trafilatura agrees with a DOM candidate; the best score wins.
All of them read the one parsed tree (copies of it), never the page again.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from pipelines.extraction.clean import clean_paragraphs, comparison_key
from pipelines.extraction.evidence import page_link_texts, without_footer
from pipelines.extraction.htmltext import TextMap
from pipelines.extraction.pagemeta import SelectorIndex
from pipelines.extraction.candidates import (
    Candidate, container_candidates, density_candidate, readability_candidate, trafilatura_candidate,
)

_SENTENCE_PUNCT = re.compile(r"[。，；！？、,;!?]")
_WS = re.compile(r"\s+")


def _key(text: str) -> str:
    return _WS.sub("", text)


def _grams(k: str) -> set[str]:
    return set(map(str.__add__, k, k[1:]))   # the character bigrams of k


def bigrams(lines: list[str]) -> set[str]:
    out: set[str] = set()
    for line in lines:
        out |= _grams(_key(line))
    return out


_CJK = re.compile(r"[\u3400-\u9fff]")


def is_prose(line: str) -> bool:
    """A sentence: punctuated, or (blogs and forums write without commas) a long run of
    Chinese text."""
    if len(line) < 10 or line.count("|") >= 3:   # a layout table's row of cells, as trafilatura prints it
        return False
    return bool(_SENTENCE_PUNCT.search(line)) or (len(line) >= 16 and len(_CJK.findall(line)) >= 0.6 * len(line))


def _title_bonus(lines: list[str], title: str) -> float:
    tb = bigrams([title])
    if not tb:
        return 0.0
    head = bigrams(lines[:5])
    return 60.0 * len(tb & head) / len(tb)


UNSUPPORTED = 0.1     # weight of a prose line no other method found
CONTAINER_PRIOR = 1.15


def score(cand: Candidate, cleaned: list[str], others: set[str] | None, links: set[str], title: str) -> float:
    """``others``: bigrams found by the other methods' candidates (None: no other method)."""
    prose = other = linked = 0.0
    for line in cleaned:
        k = _key(line)
        if k in links:
            linked += len(line)
            continue
        grams = _grams(k)
        found = len(grams & others) if others is not None else len(grams)
        supported = found >= 0.5 * len(grams)
        if is_prose(line):
            # a supported line counts the characters the others confirm (a gallery's
            # "1/10" counter before the text does not), an unsupported one a tenth
            prose += found + 1 if supported else len(line) * UNSUPPORTED
        elif supported:
            prose += 0.5 * found     # a list item or a heading the other methods found too
        else:
            other += len(line)
    if cand.method == "container":
        prose *= CONTAINER_PRIOR
    return prose - 0.5 * other - 1.0 * linked + _title_bonus(cleaned, title)


def _overlap(a: list[str], b: list[str]) -> tuple[float, float]:
    """(share of a's bigrams in b, share of b's bigrams in a)."""
    ba, bb = bigrams(a), bigrams(b)
    if not ba or not bb:
        return 0.0, 0.0
    common = len(ba & bb)
    return common / len(ba), common / len(bb)


def _prose_chars(lines: list[str]) -> int:
    return sum(len(ln) for ln in lines if is_prose(ln))


DOMINANT_SHARE = 0.85   # of the page's prose in the dense block: nothing else to choose from
DOMINANT_LINKS = 0.1    # at most this share of the dense block's text is link text


def _dominant(dense: Candidate, tree: etree._Element, tmap: TextMap) -> float | None:
    """The share of the page's prose that the dense block holds, when it is nearly all of it
    in a block of few links (the libraries could only re-cut that same block), else None."""
    body = next(tree.iter("body"), tree)
    page = _prose_chars(tmap.paragraphs(body))
    share = _prose_chars(dense.paragraphs) / page if page else 0.0
    el = dense.element
    if el.tag in ("body", "html"):   # the dense "block" is the whole page: nothing was isolated
        return None
    if share >= DOMINANT_SHARE and tmap.link_text_length(el) <= DOMINANT_LINKS * tmap.text_length(el):
        return share
    return None


HEADLINE_GAP = 80   # non-space characters (date, source, share bar) between headline and body


def _follows_headline(dense: Candidate, title: str, tmap: TextMap) -> int | None:
    """How many non-space characters separate the page's headline from the dense block that
    follows it (its meta line), when it is at most ``HEADLINE_GAP``: the block right under
    the headline is the article's (position, the selector's structural prior), else None."""
    el, key = dense.element, _key(title)[:12]
    if el is None or el.tag in ("body", "html") or not tmap.reached(el) or len(key) < 4:
        return None
    before = _key(tmap.text[:tmap.span(el)[0]])
    at = before.rfind(key)
    if at < 0:
        return None
    gap = len(before) - at - len(_key(title))
    return gap if gap <= HEADLINE_GAP else None


def _headline_scope(el: etree._Element, title: str, tmap: TextMap) -> etree._Element | None:
    """The smallest ancestor of ``el`` that also holds the headline's last showing before it."""
    start = tmap.span(el)[0]
    at = tmap.text.rfind(" ".join(title.split())[:12], 0, start)
    if at < 0:
        return None
    for anc in el.iterancestors():
        if anc.tag in ("body", "html") or not tmap.reached(anc):
            return None
        if tmap.span(anc)[0] <= at:
            return anc
    return None


def _all_footer(cand: Candidate, footer: set[str]) -> bool:
    return bool(footer) and all(comparison_key(p) in footer for p in cand.paragraphs)


def choose_body(tree: etree._Element, url: str, title: str,
                trace: Callable[[str], None] | None = None, tmap: TextMap | None = None,
                index: SelectorIndex | None = None, footer: set[str] | None = None) -> Candidate | None:
    """The best candidate (its ``paragraphs`` are not yet cleaned), or None when nothing holds
    text. ``tmap``/``index``: the page's text map and selector index, when the caller has them;
    ``footer``: the footer's lines (``evidence.footer_lines``), which never count for a candidate."""
    tmap = tmap or TextMap(tree)   # one walk: every block's lines and lengths
    footer = footer or set()
    containers = [c for c in container_candidates(tree, tmap=tmap, index=index) if not _all_footer(c, footer)]
    dense = density_candidate(tree, tmap)
    if dense is not None and _all_footer(dense, footer):
        dense = None
    if containers and dense is not None:
        first = containers[0]
        in_dense, dense_in = _overlap(first.paragraphs, dense.paragraphs)
        if (max(in_dense, dense_in) >= 0.8 and min(in_dense, dense_in) >= 0.5
                and _prose_chars(first.paragraphs) >= 0.6 * _prose_chars(dense.paragraphs)):
            if trace:
                trace(f"fast path: {first.name} agrees with density ({in_dense:.2f}/{dense_in:.2f})")
            return first
    if not containers and dense is not None and (share := _dominant(dense, tree, tmap)) is not None:
        if trace:
            trace(f"fast path: density holds {share:.2f} of the page's prose")
        return dense
    scope = None
    if not containers and dense is not None and _follows_headline(dense, title, tmap) is not None:
        scope = _headline_scope(dense.element, title, tmap)
        if trace and scope is not None:
            trace(f"trafilatura on <{scope.tag} {dict(scope.attrib)}> only: the dense block is under the headline")
    cands = list(containers)
    if dense is not None:
        cands.append(dense)
    if (traf := trafilatura_candidate(tree, url, scope)) is not None:
        cands.append(traf)
    # readability-lxml is asked only when trafilatura agrees with no DOM candidate: two
    # methods that already agree leave nothing for a third to arbitrate
    agreed = traf is not None and any(min(_overlap(c.paragraphs, traf.paragraphs)) >= 0.8 for c in cands[:-1])
    # trafilatura on the headline's scope prints the headline and meta line too: that it holds
    # the dense block is the agreement (it did not look elsewhere on the page)
    agreed = agreed or (scope is not None and traf is not None and _overlap(dense.paragraphs, traf.paragraphs)[0] >= 0.8)
    if not agreed and (read := readability_candidate(tree, url)) is not None:
        cands.append(read)
    if not cands:
        return None
    links = page_link_texts(tree)
    cleaned = [without_footer(clean_paragraphs(c.paragraphs, title), footer) for c in cands]
    if not any(cleaned):   # nothing but boilerplate (a video page's footer): no body
        return None
    grams = [bigrams(lines) for lines in cleaned]
    # A candidate without 40 characters of prose only wins when no candidate has them: a
    # link farm's or a list page's lines must reach the list-page and spam checks.
    eligible = [_prose_chars(lines) >= 40 for lines in cleaned]
    best, best_score = None, float("-inf")
    for i, c in enumerate(cands):
        if any(eligible) and not eligible[i]:
            continue
        theirs = [g for j, g in enumerate(grams) if cands[j].method != c.method and g]
        s = score(c, cleaned[i], set().union(*theirs) if theirs else None, links, title)
        if trace:
            trace(f"{c.name}: {s:.0f} ({_prose_chars(cleaned[i])} prose chars)")
        if s > best_score:
            best, best_score = c, s
    return best
