"""The crawl's decode+extract+clean path on files or URLs (``newsmon extract``).

Batches run in one process (imports, compiled selectors and OpenCC tables are
paid once), and every input gives one result dict, an error never stops them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Union

from netsafety.fetch import FetchError, fetch_url
from netsafety.addresses import UnsafeURLError
from pipelines.article import ExtractionError, ExtractOptions
from pipelines.extract import extract_article
from pipelines.requirements import MissingExtractor, raise_missing

# A path or URL, or (path, page URL) from a ``--from-list`` line "PATH<TAB>URL".
Item = Union[str, tuple[str, str]]


def extract_one(item: str, page_url: str | None = None, encoding: str | None = None) -> dict:
    """One input (path or URL) -> the article dict, or ``{"error": ...}``; raises only
    ``MissingExtractor`` (then every page would fail or come out worse)."""
    try:
        if item.startswith(("http://", "https://")):
            page = fetch_url(item)
            body, url, headers = page.body, page.url, page.headers
        else:
            path = Path(item)
            body = path.read_bytes()
            url, headers = page_url or path.resolve().as_uri(), {}
        article = _extract(body, url, headers, ExtractOptions(encoding=encoding))
    except MissingExtractor:
        raise   # no page's problem: the command stops with it (one line), never "crash" per page
    except ExtractionError as exc:
        return {"error": f"{exc.reason}: {exc.message}"}
    except (FetchError, UnsafeURLError) as exc:
        return {"error": f"fetch: {exc}"}
    except OSError as exc:
        return {"error": f"read: {exc.strerror or exc}: {item}"}
    except RecursionError:
        return {"error": "too_deep: the page nests tags too deeply to read"}
    except Exception as exc:  # noqa: BLE001 - one bad page must not stop a batch
        return {"error": f"crash: {type(exc).__name__}: {exc}"}
    return article.to_dict()


def _extract(body: bytes, url: str, headers, options: ExtractOptions):
    try:
        return extract_article(body, url, headers, options)
    except ImportError as exc:   # an extractor imported lazily: MissingExtractor, naming the package
        raise_missing(exc)


def extract_inputs(items: list[Item], page_url: str | None = None,
                   encoding: str | None = None) -> Iterator[tuple[str, dict]]:
    """(path, result) per input, in order. ``page_url`` applies to a single input only."""
    for item in items:
        path, url = item if isinstance(item, tuple) else (item, page_url if len(items) == 1 else None)
        yield path, extract_one(path, url, encoding)
