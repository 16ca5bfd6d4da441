"""Article URL shapes learned per site (issue 18), kept for the next run.

One ``crawl_shapes`` document per site in ``backend.state`` (key: the site)::

    {"site": "...", "updated": "<UTC ISO>",
     "article_shapes": [{"shape": "/d/{n}.html", "pages": 11, "votes": 11}, ...]}

``shape`` is ``crawler.shapes.url_shape`` of the site's article URLs (digits ``{n}``,
dates ``{yyyy}``/``{yyyymm}``/``{yyyymmdd}``, hex ``{hex}``); ``pages`` how many
pages of that shape the run that wrote it read as articles, ``votes`` how many
links list blocks held. Written by the crawl (``crawler/shape_memory.py``), read
by the next crawl and by ``newsmon status`` and the web Sources page.
"""
from __future__ import annotations

from datetime import datetime, timezone

SHAPES_KIND = "crawl_shapes"
MAX_SHAPES = 50        # a site with more article families than this is learning noise


def read_shapes(state, site: str) -> dict:
    """The site's document, ``{}`` before any run learned a shape."""
    return state.get(SHAPES_KIND, site) or {}


def article_shapes(state, site: str) -> list[str]:
    return [item["shape"] for item in read_shapes(state, site).get("article_shapes", [])
            if isinstance(item, dict) and isinstance(item.get("shape"), str)]


def write_shapes(state, site: str, learned: list[dict], keep: list[dict] = ()) -> dict:
    """Keep what this run confirmed, then what earlier runs confirmed and this one did
    not contradict (``keep``): a run that did not page a column forgets nothing."""
    items, seen = [], set()
    for item in list(learned) + list(keep):
        if item.get("shape") and item["shape"] not in seen:
            seen.add(item["shape"])
            items.append({"shape": item["shape"], "pages": int(item.get("pages", 0)),
                          "votes": int(item.get("votes", 0))})
    doc = {"site": site, "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "article_shapes": items[:MAX_SHAPES]}
    state.put(SHAPES_KIND, site, doc)
    return doc
