"""bytes + url + headers + options -> Article: decode, parse once, choose the body, clean.

1. decode the bytes (pipelines.extraction.decode: one precedence chain), parse once (lxml)
2. government meta tags (ArticleTitle, PubDate, ContentSource, SiteName, ColumnName, Author…);
   the headline itself is pipelines.extraction.titles.find_title
3. site selectors from the sites file (options.title/body/date_selector): the operator's word
4. body candidates on the one tree (pipelines.extraction.candidates): known CMS containers,
   a text/link-density scorer, trafilatura, readability-lxml; pipelines.extraction.select
   scores them (prose, link lines, agreement between methods, title overlap) and picks one.
   A CMS container is one candidate among the others, not an override.
5. clean: pipelines.extraction.clean.CLEANING_RULES, in order, after selection; the lines of the
   site footer (pipelines.extraction.evidence.footer_lines: a block named a footer that
   speaks footer vocabulary) never count for a candidate nor stay in the body
6. refusal only on positive evidence (pipelines.extraction.evidence): no text but boilerplate
   (the reason names a video player when there is one), or a list of links (list page). A
   body of data-table rows (a timetable) is an article even without a sentence, and so is
   a short page the crawl vouches for (options.evidence: its URL's article shape,
   confirmed by the page's date)
7. spam from structure: junk tags, hidden link farms, keyword-list lines and titles, link
   farms; never from words inside the article's sentences (a 扫黄打非 report is an article)

Before 4, the tree loses spam injections (junk tags, hidden link farms), ruby pinyin,
related/link-list boxes, a forum thread's replies and a post's comment section
(pipelines.extraction.clean_tree); each of these removers acts on evidence (a hidden block that a
script reveals and that holds prose is un-hidden, a clock widget is a short date line, a
related box inside the article keeps the paragraphs after it, replies are posts after the
first by the forum's message ids or header lines). From 2 on, one selector index and one
text map (pipelines.extraction.htmltext.TextMap) of the final tree serve title, candidates and dates.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import lxml.html
from lxml import etree

from pipelines.extraction import spam
from pipelines.article import Article, ExtractionError, ExtractOptions
from pipelines.extraction.clean import clean_paragraphs, strip_pinyin_annotations
from pipelines.extraction.clean_tree import (
    drop_comment_sections, drop_forum_replies, drop_link_list_boxes, drop_related_boxes, strip_ruby_annotations,
)
from pipelines.extraction.dates import date_from_scripts, find_published, parse_date, remove_clock_widgets
from pipelines.extraction.decode import DecodedPage, decode_html
from pipelines.extraction.evidence import (
    anchor_names_title, container_text_chars, footer_lines, looks_like_list_page, media_player, own_lines, prose_chars, table_body_chars,
    vouched_short_article, without_footer,
)
from pipelines.extraction.select import choose_body
from pipelines.extraction.htmltext import TextMap, element_paragraphs
from pipelines.extraction.pagemeta import SelectorIndex, meta_value, read_meta, select, select_text, selector_index
from pipelines.extraction.titles import find_title, page_title as read_page_title

MIN_BODY_CHARS = 40
MIN_TABLE_CHARS = 100   # of rows of a data table, for a body without prose
# Real pages stay under ~3,500 elements (largest in tests/pages and ../shared/realpages);
# a 10 MB page of 400,000 tiny elements kept the extractors busy for minutes, blocking
# the crawl, so a tree this large is refused before any extractor runs.
MAX_ELEMENTS = 30_000
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# Characters libxml2's HTML parser lets into the tree but lxml refuses to set as
# text (ValueError on the next .tail/.text assignment, e.g. in drop_tree): C0
# controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF. Found by fuzzing.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOISE_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "object", "embed")


def _html_parser() -> etree.HTMLParser:
    """lxml.html's parser picks each element's class with a Python callback (forms, inputs…),
    paid on every element proxy (a million calls on the dev set, ~10% of extraction); one C
    lookup giving every element ``HtmlElement`` (text_content, drop_tree) is all we use."""
    parser = etree.HTMLParser()
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
    return parser


_PARSER = _html_parser()
_COUNT_NODES = etree.XPath("count(//*|//comment()|//processing-instruction())")   # no element objects


def extract_article(body: bytes, url: str, headers: Mapping | None = None,
                    options: ExtractOptions | None = None, decoded: DecodedPage | None = None) -> Article:
    """``decoded``: the page as the crawl already decoded it (the spider does, to read its links)."""
    options = options or ExtractOptions()
    # 1. decode (unless the crawl did)
    page = decoded or decode_html(body, headers, override=options.encoding, max_bytes=options.max_bytes)
    tree = parse_html(page.text)
    elements = int(_COUNT_NODES(tree))
    if elements > MAX_ELEMENTS:
        raise ExtractionError("too_many_elements", f"{elements} elements on {url}, limit {MAX_ELEMENTS}: "
                              "not an article page")
    meta = read_meta(tree)
    removed: list[str] = []
    spam_reasons = spam.remove_junk_tags(tree) + spam.remove_hidden_blocks(tree)
    if strip_ruby_annotations(tree):
        removed.append("strip_ruby_annotations")
    page_title = read_page_title(tree)
    if drop_related_boxes(tree):
        removed.append("drop_related_boxes")
    if drop_link_list_boxes(tree):
        removed.append("drop_link_list_boxes")
    if drop_forum_replies(tree):
        removed.append("drop_forum_replies")
    if drop_comment_sections(tree):
        removed.append("drop_comment_sections")
    remove_clock_widgets(tree)   # needs the scripts, so before they go
    script_date = date_from_scripts(tree)
    player = media_player(tree)    # a video player's script or <embed> goes with the noise
    for el in list(tree.iter(*_NOISE_TAGS)):
        el.drop_tree()
    # Comments are never text, but trafilatura prints IE conditional comments
    # ("[if !IE]>|xGv00|…<![endif]", qq.com) as if they were; drop them, keep their tails.
    etree.strip_elements(tree, etree.Comment, with_tail=False)

    # The tree is final from here on: one selector index and one text map serve the title,
    # the body candidates and the page's lines (dates, 来源).
    index, tmap = selector_index(tree), TextMap(tree)
    footer = footer_lines(tree, tmap, index)   # never a body, whichever candidate holds them

    # 2. government meta / 3. site selector / headline in the page
    title = find_title(tree, meta, options, page_title, index, tmap)
    title = strip_pinyin_annotations([title])[0]

    # 3.–6. the body paragraphs, and which stage found them
    paragraphs, stage = find_body_paragraphs(tree, url, options, title, index, tmap, footer)

    # 7. clean
    paragraphs = without_footer(clean_paragraphs(paragraphs, title, removed), footer)
    # 8. spam: lines injected into a good page go; a spam article is flagged
    paragraphs, line_reasons = spam.drop_spam_lines(paragraphs)
    spam_reasons += line_reasons
    published = None
    if options.date_selector:
        published = parse_date(" ".join(select_text(tree, options.date_selector)))
    page_lines = tmap.paragraphs(tree)   # once: dates and 来源 both read it
    published = published or find_published(tree, url, meta, title=title, lines=page_lines,
                                             script_date=script_date)
    # A body is prose, or a data table of text (a timetable, a list of names): refusal
    # needs evidence, and a table of unlinked text is evidence of an article, not against.
    if (prose_chars(paragraphs) < MIN_BODY_CHARS and table_body_chars(tree, tmap, paragraphs) < MIN_TABLE_CHARS
            and not (stage == "container" and container_text_chars(tree, paragraphs) >= MIN_BODY_CHARS)):
        # Short: an article still when the crawl's evidence for it holds (a notice, an
        # attachment, image or video page), indexed with its title and the text it has.
        if looks_like_list_page(tree, paragraphs) or not vouched_short_article(
                options.evidence, title, published is not None):
            raise _no_body_error(tree, url, page_title, player)
        paragraphs = own_lines(tree, paragraphs)
    text = "\n".join(paragraphs)
    verdict = spam.article_spam_reasons(title, text)
    if spam.is_spam_line(page_title) and not verdict and title != page_title:
        spam_reasons.append("spam_page_title")
    # A page the crawl's link named by its title: only links to pages make it a list.
    named = (bool(options.evidence) and bool(options.evidence.shape)
             and anchor_names_title(options.evidence.anchor, title))
    if looks_like_list_page(tree, paragraphs, pages_only=named):
        if verdict or spam.is_spam_line(page_title):
            verdict = verdict + ["link_farm"]     # a spam link farm: quarantined, with its reason
        else:
            # Refused on positive evidence only (design.md): a missing date or container is not.
            raise ExtractionError("no_body", f"no article on {url}: a list of links, not an article")
    return Article(
        url=url, title=title, text=text, published=published,
        source=meta_value(meta, "ContentSource", "source", "来源") or source_from_lines(page_lines),
        author=meta_value(meta, "Author", "author") or None,
        site_name=meta_value(meta, "SiteName", "og:site_name"),
        column=meta_value(meta, "ColumnName", "lanmu"),
        encoding=page.encoding, spam=bool(verdict), spam_reasons=verdict + spam_reasons,
        removed=removed,
    )


# libxml2 stops descending at 256 levels and drops what is deeper.
_PARSER_MAX_DEPTH = 255


def _no_body_error(tree: etree._Element, url: str, page_title: str, player: bool = False) -> ExtractionError:
    """Say *why* there is no article: too deep to parse, only spam, a video page, or just no text."""
    if _depth(tree) >= _PARSER_MAX_DEPTH:
        return ExtractionError("too_deep", f"tags nested over {_PARSER_MAX_DEPTH} levels deep on {url}; "
                                           "the HTML parser stops there, so the text below is lost")
    words = spam.spam_score(page_title + " " + " ".join(element_paragraphs(tree)))
    if spam.is_spam_line(page_title) or words >= 10:
        return ExtractionError("spam_cloud", f"only spam keywords on {url} ({words} spam words), no article")
    if player:   # still "no_body": a page whose text is elsewhere (attachments) may be rescued
        return ExtractionError("no_body", f"no article text on {url}: a video page (a player, no text)")
    return ExtractionError("no_body", f"no article text on {url} (list, navigation or empty page)")


def _depth(tree: etree._Element) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:   # iterative: a recursive walk would hit Python's recursion limit first
        el, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((child, d + 1) for child in el)
    return deepest


def parse_html(text: str) -> etree._Element:
    text = _NOT_XML_CHARS.sub("", _XML_DECL.sub("", text, count=1))
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError("no_body", f"unparseable HTML: {exc}") from exc
    # Some CMS templates emit a second <html> after the first; libxml2 keeps it as a
    # sibling of the root, where no query from the root finds it. Fold it into <body>.
    extra = [el for el in root.itersiblings() if isinstance(el.tag, str)]
    if extra:
        body = root.find("body")
        if body is None:
            body = etree.SubElement(root, "body")
        for el in extra:
            holder = el.find("body")
            for child in list(holder if holder is not None else el):
                if child.tag != "head":
                    body.append(child)
    return root


# ------------------------------------------------------------------ body
def find_body_paragraphs(tree: etree._Element, url: str, options: ExtractOptions, title: str,
                         index: SelectorIndex | None = None, tmap: TextMap | None = None,
                         footer: set[str] | None = None) -> tuple[list[str], str]:
    """Paragraphs of the article body and the method that found them."""
    # 3. site selector: the operator's own word for this site
    if options.body_selector:
        found = [p for el in select(tree, options.body_selector) for p in element_paragraphs(el)]
        if found:
            return found, "site_selector"
    # 4.–6. candidates (CMS containers, density, trafilatura, readability), one selector
    best = choose_body(tree, url, title, tmap=tmap, index=index, footer=footer)
    if best is None:
        return [], "none"
    return best.paragraphs, best.method


def source_from_lines(lines: list[str]) -> str | None:
    """来源：XX from the meta line under the title, when no ContentSource meta exists."""
    for line in lines[:80]:
        m = re.search(r"(?:来源|來源|信息来源|文章来源)\s*[:：]\s*([^\s|：:]{2,30})", line)
        if m and len(line) < 100:
            return re.sub(r"(?:\d{4}[-/年].*|作者.*|发布.*|發布.*|时间.*)$", "", m.group(1)) or None
    return None
