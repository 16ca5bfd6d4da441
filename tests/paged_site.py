"""A big TRS-style county site, generated at test time for the fixture server.

    build_paged_site(root, "xinyi-gov", articles=320, per_page=8)

writes ``<root>/xinyi-gov/``: a home page, one news column ``/xwdt/index.html``,
``index_1.html`` ... paged by TRS's ``createPageHTML`` script (newest first),
``/xwdt/YYYYMM/tYYYYMMDD_NNNNNNN.html`` articles with 上一篇/下一篇 and related
links, about/contact pages and robots.txt, served by ``crawler/fixtures/server.py``
(``start_fixture_sites(root=root)``). The pages are rendered with the fixture
sites' own sucheng-gov (TRS WCM) templates by ``crawler/fixtures/build.py``;
the texts are ordinary county reports from the dedup benchmark's seeded corpus,
so they are distinct stories written the way county sites write.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from markupsafe import Markup

TEMPLATE_SITE = "sucheng-gov"        # crawler/fixtures/build.py's TRS WCM templates
FIRST_DOC_ID = 4100000
CORPUS_SIZE = 3000          # fixed: the corpus, and so each report, depends on it


def county_reports(n: int, seed: int = 16) -> list[dict]:
    """``n`` distinct ordinary reports (title, paragraphs), newest first, two a day. The
    oldest come first from the corpus and keep their dates and paths whatever ``n`` is,
    so a larger ``n`` is the same site with newer articles on top."""
    from benchmarks.dedup.corpus import generate
    reports = [a for a in generate(CORPUS_SIZE, seed) if a.origin and a.family == -1][:n]
    assert len(reports) == n, "the corpus ran out of reports"
    out = []
    for i, article in enumerate(reports):
        day = date(2023, 1, 1) + timedelta(days=i // 2)
        out.append({"title": article.title, "paragraphs": article.text.split("\n"),
                    "published": day.isoformat(), "source": "宿城区融媒体中心",
                    "path": f"/xwdt/{day:%Y%m}/t{day:%Y%m%d}_{FIRST_DOC_ID + i}.html"})
    return out[::-1]


def build_paged_site(root: Path, name: str, articles: int = 320, per_page: int = 8,
                     claimed_pages: int | None = None) -> dict:
    """Write the site; returns ``{"articles": [paths newest first], "lists": [list paths]}``.
    ``claimed_pages``: the page count the pager script and 尾页 give, when larger than the
    pages written (a stale count: TRS counts deleted and unpublished documents too)."""
    from crawler.fixtures import build as bs
    builder = bs.Builder()
    arts = county_reports(articles)
    for a in arts:
        builder.build_article(TEMPLATE_SITE, a, arts)
    pages = [arts[i:i + per_page] for i in range(0, len(arts), per_page)]
    lists = []

    def rows(chunk, relative):
        return [dict(path=a["path"], title=a["title"], published=a["published"], date_list=a["published"],
                     href="." + a["path"][len("/xwdt"):] if relative else a["path"]) for a in chunk]

    for n, chunk in enumerate(pages):
        path = "/xwdt/index.html" if n == 0 else f"/xwdt/index_{n}.html"
        builder.put(TEMPLATE_SITE, path, builder.render(TEMPLATE_SITE, "sucheng_list.j2", items=rows(chunk, True),
                                                        page=n, npages=claimed_pages or len(pages)))
        lists.append(path)
    builder.put(TEMPLATE_SITE, "index.html", builder.render(TEMPLATE_SITE, "sucheng_home.j2",
                                                            items=rows(arts[:6], False)))
    for path, (title, text) in (("/about.html", bs.ABOUT[TEMPLATE_SITE]), ("/contact.html", bs.CONTACT[TEMPLATE_SITE])):
        builder.put(TEMPLATE_SITE, path, builder.render(TEMPLATE_SITE, "sucheng_page.j2", page_title=title,
                                                        body=Markup(f"<p>{bs.esc(text)}</p>")))
    builder.put(TEMPLATE_SITE, "robots.txt", bs.ROBOTS[TEMPLATE_SITE].encode("ascii"))
    builder.put(TEMPLATE_SITE, "images/logo.png", bs.make_png())

    site_root = Path(root) / name
    for rel, data in builder.files[TEMPLATE_SITE].items():
        target = site_root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    cfg = dict(builder.site_cfg[TEMPLATE_SITE], name=name)
    (site_root / "_site.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"articles": [a["path"] for a in arts], "lists": lists}
