#!/usr/bin/env python3
"""The peer: the crawler a user would otherwise write. One bare Scrapy process, a
spider that follows every in-site link, a trafilatura item pipeline, JSON lines out.

    python benchmarks/capacity/peer.py SITES_FILE OUT.jsonl [--delay 0.25] [--minutes M]

Same politeness as newsmon's defaults: robots.txt obeyed, 2 requests at once and
a 0.25 s delay (randomized 0.5x..1.5x) per host. Stops when every site is done,
or after ``--minutes``. Prints ``{"pages", "articles", "seconds"}`` as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from urllib.parse import urlsplit

import scrapy
import trafilatura
import yaml
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor


class SitesSpider(scrapy.Spider):
    name = "peer"

    def __init__(self, start_urls: list[str], **kw):
        super().__init__(**kw)
        self.start_urls = start_urls
        self.links = LinkExtractor()

    def parse(self, response):
        yield {"url": response.url, "html": response.text}
        host = urlsplit(response.url).netloc
        for link in self.links.extract_links(response):
            if urlsplit(link.url).netloc == host:
                yield response.follow(link.url, callback=self.parse)


class TrafilaturaPipeline:
    def open_spider(self, spider=None):
        self.out = open(self.path, "w", encoding="utf-8")
        self.pages = self.articles = 0

    @classmethod
    def from_crawler(cls, crawler):
        pipe = cls()
        pipe.path = crawler.settings.get("PEER_OUT")
        crawler.peer_pipeline = pipe
        return pipe

    def process_item(self, item, spider=None):
        self.pages += 1
        text = trafilatura.extract(item["html"], url=item["url"], with_metadata=False)
        if text:
            self.articles += 1
            self.out.write(json.dumps({"url": item["url"], "text": text}, ensure_ascii=False) + "\n")
        return {"url": item["url"]}

    def close_spider(self, spider=None):
        self.out.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sites_file")
    ap.add_argument("out")
    ap.add_argument("--delay", type=float, default=0.25)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=200)
    args = ap.parse_args(argv)
    sites = yaml.safe_load(open(args.sites_file, encoding="utf-8"))["sites"]
    process = CrawlerProcess({
        "ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": args.delay, "DOWNLOAD_DELAY_JITTER": 0.5,
        "CONCURRENT_REQUESTS": args.concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "COOKIES_ENABLED": False, "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
        "CLOSESPIDER_TIMEOUT": args.minutes * 60, "PEER_OUT": args.out,
        "ITEM_PIPELINES": {TrafilaturaPipeline: 100}, "USER_AGENT": "peer-bench/1.0",
    })
    crawler = process.create_crawler(SitesSpider)
    started = time.monotonic()
    process.crawl(crawler, start_urls=[s["start_urls"][0] for s in sites])
    process.start()
    pipe = crawler.peer_pipeline
    print(json.dumps({"pages": pipe.pages, "articles": pipe.articles,
                      "seconds": round(time.monotonic() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
