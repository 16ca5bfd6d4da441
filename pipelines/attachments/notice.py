"""The article with its attachments: texts joined to the page's, and a "见附件" page
that has no text of its own indexed on its attachments.

``extract_page`` is what the crawl's extract stage calls instead of ``extract_article``
when a page came with attachments:

1. ``extract_article`` as for any page; each attachment with text is added after the
   page's text as a line ``附件：<name>`` then its paragraphs, so search (both
   backends), watches, snippets and story pages read it as the article's text, and
   two notices whose pages both say only "详见附件" are not one story;
2. a page refused only for having no article text of its own (``no_body``: "详见附件"
   and the attachment links) becomes an article when an attachment has text: its
   title and date from the page (meta tags, headline, date line), its text the
   attachments'. Every other refusal (binary, spam, too large) stands, and so does
   ``no_body`` when no attachment gave text.
"""
from __future__ import annotations

from collections.abc import Mapping

from pipelines.article import Article, ExtractionError, ExtractOptions
from pipelines.attachments.model import Attachment
from pipelines.extract import extract_article, parse_html
from pipelines.extraction.dates import find_published
from pipelines.extraction.decode import DecodedPage, decode_html
from pipelines.extraction.htmltext import element_paragraphs
from pipelines.extraction.pagemeta import meta_value, read_meta
from pipelines.extraction.titles import find_title, page_title

HEADING = "附件："


def extract_page(body: bytes, url: str, headers: Mapping | None, options: ExtractOptions | None,
                 attachments: list[Attachment], extract=extract_article,
                 decoded: DecodedPage | None = None) -> Article:
    attachments = [a for a in attachments if isinstance(a, Attachment)]   # read ones (AttachmentPipeline)
    readable = [a for a in attachments if a.has_text]
    try:
        article = extract(body, url, headers, options, decoded=decoded)      # 1.
    except ExtractionError as refused:
        if refused.reason != "no_body" or not readable:
            raise
        article = notice_article(body, url, headers, options, decoded)     # 2.
        article.removed.append("text_from_attachments")
    article.attachments = list(attachments)
    article.text = with_attachment_texts(article.text, readable)
    return article


def with_attachment_texts(text: str, attachments: list[Attachment]) -> str:
    parts = [text] if text.strip() else []
    for attachment in attachments:
        parts.append(f"{HEADING}{attachment.name or attachment.url.rsplit('/', 1)[-1]}")
        parts.append(attachment.text.strip())
    return "\n".join(parts)


def notice_article(body: bytes, url: str, headers: Mapping | None,
                   options: ExtractOptions | None, decoded: DecodedPage | None = None) -> Article:
    """Title, date and source of a page whose text is elsewhere (no body of its own)."""
    options = options or ExtractOptions()
    page = decoded or decode_html(body, headers, override=options.encoding, max_bytes=options.max_bytes)
    tree = parse_html(page.text)
    meta = read_meta(tree)
    for el in list(tree.iter("script", "style", "noscript", "template")):
        el.drop_tree()
    title = find_title(tree, meta, options, page_title(tree))
    lines = element_paragraphs(tree)
    return Article(
        url=url, title=title, text="", published=find_published(tree, url, meta, title=title, lines=lines),
        source=meta_value(meta, "ContentSource", "source", "来源"),
        author=meta_value(meta, "Author", "author") or None,
        site_name=meta_value(meta, "SiteName", "og:site_name"),
        column=meta_value(meta, "ColumnName", "lanmu"), encoding=page.encoding)
