"""``newsmon extract``: the crawl's decode+extract+clean path on files or URLs."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from crawler.fetch import FetchError, fetch_url
from crawler.netsafety import UnsafeURLError
from pipelines.article import ExtractionError, ExtractOptions
from pipelines.extract import extract_article


def extract_one(item: str, page_url: str | None = None, encoding: str | None = None) -> dict:
    """One input (path or URL) -> the article dict, or ``{"error": ...}``; never raises."""
    try:
        if item.startswith(("http://", "https://")):
            page = fetch_url(item)
            body, url, headers = page.body, page.url, page.headers
        else:
            path = Path(item)
            body = path.read_bytes()
            url, headers = page_url or path.resolve().as_uri(), {}
        article = extract_article(body, url, headers, ExtractOptions(encoding=encoding))
    except ExtractionError as exc:
        return {"error": f"{exc.reason}: {exc.message}"}
    except (FetchError, UnsafeURLError) as exc:
        return {"error": f"fetch: {exc}"}
    except OSError as exc:
        return {"error": f"read: {exc.strerror or exc}: {item}"}
    except Exception as exc:  # noqa: BLE001 - one bad page must not stop a batch
        return {"error": f"crash: {type(exc).__name__}: {exc}"}
    return article.to_dict()


def extract_inputs(items: list[str], page_url: str | None = None,
                   encoding: str | None = None) -> Iterator[tuple[str, dict]]:
    for item in items:
        yield item, extract_one(item, page_url if len(items) == 1 else None, encoding)
