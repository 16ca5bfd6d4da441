"""One crawl process serving many sites, for tests/test_multisite_process.py.

    python tests/multisite_batch.py SITES_FILE INDEX_URL LIMITS_JSON [RAISING_SITE]

Runs ``crawler.sitebatch.run_site_batch`` on every site of the sites file (time
limits in seconds by site name; 300 for the others) and prints the results as
JSON. ``RAISING_SITE``'s pages make a pipeline raise (``PageBombPipeline``, put
first in the real pipeline chain): a site whose pages break newsmon's code.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class PageBombPipeline:
    """Raises on every page of the site named by ``TEST_RAISING_SITE``, as a bug would."""

    def __init__(self, site: str):
        self.site = site

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("TEST_RAISING_SITE") or "")

    def process_item(self, item):
        if item.site == self.site:
            raise ValueError(f"cannot handle page {item.url}")
        return item


def main(argv: list[str]) -> int:
    from crawler import settings as project
    from crawler.logsetup import configure_logging
    from crawler.sitebatch import SiteRun, run_site_batch
    from crawler.sites import load_sites

    sites_file, index_url, limits = argv[0], argv[1], json.loads(argv[2])
    raising = argv[3] if len(argv) > 3 else ""
    configure_logging(quiet=True)
    jobs = [SiteRun(site, time_limit=float(limits.get(site.name, 300))) for site in load_sites(sites_file).sites]
    pipelines = {**project.ITEM_PIPELINES, "multisite_batch.PageBombPipeline": 50}
    results = run_site_batch(jobs, index_url, {"ITEM_PIPELINES": pipelines, "TEST_RAISING_SITE": raising})
    print(json.dumps([{"site": r.site, "status": r.status, "doc": r.doc} for r in results], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
