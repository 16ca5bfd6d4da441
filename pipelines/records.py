"""Article -> ArticleRecord: the normalize stage.

The normalized forms (``normalize_text``) are computed here once per page and
stored, so dedup, search and watches never normalize the same text again.
"""
from __future__ import annotations

from index.base import ArticleRecord
from pipelines.article import Article
from index.identity import article_id, canonical_url
from pipelines.stories.clustering import normalized_text_hash
from index.normalize import normalize_text


def build_record(article: Article, *, site: str, fetched_at: str, region: str | None = None) -> ArticleRecord:
    curl = canonical_url(article.url)
    norm_text = normalize_text(article.text)   # once: hash, dedup and search all read it
    return ArticleRecord(
        id=article_id(curl), url=article.url, canonical_url=curl, site=site,
        title=article.title, text=article.text,
        norm_title=normalize_text(article.title), norm_text=norm_text,
        text_hash=normalized_text_hash(norm_text), published=article.published, fetched_at=fetched_at,
        region=region, source=article.source, author=article.author, column=article.column,
        attachments=[a.export_dict() for a in article.attachments])
