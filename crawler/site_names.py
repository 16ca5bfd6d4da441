"""Learns the name each site gives itself from its start page (extension).

A site whose sites-file entry has no ``title:`` is shown by this name (宿迁市宿城区人民政府
rather than ``sucheng-gov``): ``monitor.sitenames.own_name`` reads it from the first start
page answered with HTML, and ``spider_closed`` keeps it in the index's state store. An
operator's ``title:`` still wins wherever names are shown. ``NEWSMON_SITE_NAMES_ENABLED=False``
turns it off.
"""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse

from monitor.sitenames import learn_name, own_name
from pipelines.extraction.decode import decode_html

logger = logging.getLogger("newsmon.crawl")


class SiteNames:
    def __init__(self, state_of):
        self.state_of = state_of          # () -> StateStore, opened on first use
        self.names: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSMON_SITE_NAMES_ENABLED", True):
            raise NotConfigured("NEWSMON_SITE_NAMES_ENABLED is off")

        def state():
            from pipelines.stages import shared_index
            return shared_index(crawler).state
        ext = cls(state)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def response_received(self, response, request, spider=None, **_kw):
        site = request.meta.get("site")
        if (site is None or site in self.names or request.meta.get("depth_in_site") != 0
                or not isinstance(response, TextResponse) or response.status != 200):
            return
        try:
            page = decode_html(response.body, {k.decode("latin-1").lower(): b",".join(v).decode("latin-1")
                                               for k, v in response.headers.items()})
        except Exception:  # noqa: BLE001 - an undecodable start page gives no name; the crawl goes on
            return
        name = own_name(page.text)
        if name:
            self.names[site] = name

    def spider_closed(self, spider=None, **_kw):
        for site, name in self.names.items():
            try:
                learn_name(self.state_of(), site, name)
            except Exception as exc:  # noqa: BLE001 - the next run learns it again
                logger.warning("[%s] the site's own name %r not saved (%s)", site, name, exc)
