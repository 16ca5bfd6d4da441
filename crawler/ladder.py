"""The fetch ladder: plain HTTP first, a real browser for the sites that need one.

``FetchLadder`` (a downloader middleware, next to the download) looks at every
response of a site with ``crawler.challenge.challenge_kind``:

1. An ordinary response passes untouched (a crawl of ordinary sites never starts
   Playwright or Chromium).
2. A challenge (瑞数 412, 加速乐 521, a script-only 200 page, a WAF 403, a
   captcha) never reaches the spider as a page. It is counted
   ``challenges/<kind>``; if the site may use a browser (``render`` is not
   ``plain`` and ``NEWSMON_BROWSER`` is not ``0``) the site moves up a rung and the
   page is opened in Chromium (``crawler.browser``), which waits through the
   challenge's reload for real text. Otherwise -- or when the browser does not get
   through either -- the page is counted ``blocked/<kind>`` and dropped
   (``Challenged``), and the run is recorded ``blocked`` (``index.runs``).
3. The cookies the browser earned go with the site's later plain requests (with
   the browser's User-Agent, which they are bound to), until a plain request is
   challenged again: then they are dropped and the browser earns new ones.
4. ``render: browser`` sites, and list pages whose links only appear after
   scripts run (the spider asks with ``meta["render"] = "browser"``), are opened
   in the browser: links come from the rendered DOM and from the JSON/XML answers
   the page's scripts loaded (added to the page as a list of links).
5. Lists filled by script are bounded per site and run: at most
   ``NEWSMON_BROWSER_MAX_PAGES`` renders and ``NEWSMON_BROWSER_BUDGET_SECONDS`` of
   browser time (failed renders count too; the last render may overrun by up to one
   ``NEWSMON_BROWSER_TIMEOUT``). Then the site stays on plain fetching for the rest of
   the run (``browser/budget_exhausted``, logged in Chinese); a page that asked for the
   browser is fetched plainly. Challenges and ``render: browser`` sites are not bounded.

6. The rung is remembered between runs (``index/fetch_rungs.py``, in the index's state
   store): a site whose plain fetches met a challenge opens its first page of the next
   runs in the browser (``browser/remembered``) instead of being challenged first, for
   ``NEWSMON_LADDER_MEMORY_DAYS`` (7; 0 turns the memory off) after the last challenge
   seen. A site that stops challenging is not seen challenged again, so the memory lapses
   and it goes back to plain fetches.

7. robots.txt goes up the same ladder (Scrapy's request for it names no site: the site
   is found by its start origin). A challenged robots.txt is read in the browser (the
   rules it was shown, ``robots/browser``), which also earns the cookies the first page
   then uses; if it cannot be read (no browser, or the browser does not get through)
   the run record says ``robots/unreadable`` and the crawl goes on as for a site
   without rules -- the pages themselves are then challenged the same way.

Counts per site: ``browser/pages``, ``browser/seconds``, ``browser/cookie_reuse``,
``browser/cookies_expired``, ``browser/refused`` (requests of the page that network
safety or scope stopped). Which rung a site ended on is in its run record.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.defer import deferred_from_coro

from crawler.browser import CHROMIUM, Browser, RenderError
from crawler.challenge import LABELS, REAL_TEXT_CHARS, challenge_kind
from crawler.links import origin_of
from netsafety.addresses import AllowList
from crawler.script_lists import links_block
from netsafety.counters import count
from index.fetch_rungs import remember_rung, remembered_rung

logger = logging.getLogger("newsmon.crawl")

PLAIN, BROWSER = "plain", "browser"


class Challenged(IgnoreRequest):
    """A page that answered with an anti-bot challenge (counted ``blocked/<kind>``)."""

    def __init__(self, kind: str, url: str):
        super().__init__(f"anti-bot challenge ({kind}): {url}")
        self.kind = kind


class RenderFailed(IgnoreRequest):
    """A page the browser opened but that never showed real text."""


class FetchLadder:
    def __init__(self, stats, browser: Browser | None, max_pages: int = 10, budget_seconds: float = 60.0,
                 state_of=None, memory_days: float = 7.0):
        self.stats = stats
        self.state_of = state_of              # () -> StateStore for the remembered rungs, or None
        self.memory_days = memory_days
        self.remembered: dict[str, str] = {}  # site -> the challenge kind a past run met
        self.challenged: dict[str, str] = {}  # site -> the challenge kind this run met
        self.max_pages = max_pages            # script-list renders per site and run
        self.budget_seconds = budget_seconds  # browser time for script lists per site and run
        self.script_renders: dict[str, int] = {}
        self.script_seconds: dict[str, float] = {}
        self.exhausted: set[str] = set()
        self.script_locks: dict[str, asyncio.Lock] = {}
        self.browser = browser            # None: browsers are off (NEWSMON_BROWSER=0)
        self.modes: dict[str, str] = {}   # site -> render: auto | plain | browser
        self.private: dict[str, bool] = {}  # site -> allow_private (robots.txt requests carry no meta)
        self.scopes: dict = {}
        self.rung: dict[str, str] = {}
        self.cookies: dict[str, tuple[str, str]] = {}   # site -> (Cookie header, User-Agent)
        self.earning: dict[str, asyncio.Lock] = {}      # one challenge answered at a time per site

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSMON_LADDER_ENABLED", True):
            raise NotConfigured("the fetch ladder is off (NEWSMON_LADDER_ENABLED)")
        browser = None
        if settings.getbool("NEWSMON_BROWSER_ENABLED", True):
            browser = Browser(settings.get("NEWSMON_CHROMIUM") or os.environ.get("NEWSMON_CHROMIUM") or CHROMIUM,
                              AllowList.parse(settings.get("NEWSMON_ALLOW_HOSTS")),
                              settings.getfloat("NEWSMON_BROWSER_TIMEOUT", 60.0))
        def state():
            from pipelines.stages import shared_index
            return shared_index(crawler).state
        ladder = cls(crawler.stats, browser, settings.getint("NEWSMON_BROWSER_MAX_PAGES", 10),
                     settings.getfloat("NEWSMON_BROWSER_BUDGET_SECONDS", 60.0), state,
                     settings.getfloat("NEWSMON_LADDER_MEMORY_DAYS", 7.0))
        crawler.signals.connect(ladder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ladder.spider_closed, signal=signals.spider_closed)
        return ladder

    def spider_opened(self, spider):
        sites = getattr(spider, "sites", {}) or {}
        self.modes = {name: getattr(site, "render", "auto") for name, site in sites.items()}
        self.private = {name: bool(getattr(site, "allow_private", False)) for name, site in sites.items()}
        self.scopes = dict(getattr(spider, "scopes", {}) or {})
        self.rung = {name: BROWSER if mode == BROWSER else PLAIN for name, mode in self.modes.items()}
        if self.state_of is None or self.memory_days <= 0:
            return
        for name, mode in self.modes.items():
            if mode != "auto" or not self.may_climb(name):
                continue
            try:
                doc = remembered_rung(self.state_of(), name)
            except Exception as exc:  # noqa: BLE001 - without it the site starts plain, as on a first run
                logger.warning("[%s] remembered fetch rung unreadable (%s): starting with plain fetches", name, exc)
                continue
            if doc:
                self.remembered[name] = doc.get("kind") or "script_page"
                logger.info("[%s] 上次抓取遇到反爬验证（%s）：本次首个页面直接用真实浏览器打开", name,
                            LABELS.get(self.remembered[name], self.remembered[name]))

    def spider_closed(self, spider):
        if self.state_of is not None and self.memory_days > 0:
            for name, kind in self.challenged.items():
                if self.modes.get(name) == "auto":
                    try:
                        remember_rung(self.state_of(), name, kind, days=self.memory_days)
                    except Exception as exc:  # noqa: BLE001 - the next run meets the challenge and climbs again
                        logger.warning("[%s] fetch rung not remembered (%s)", name, exc)
        if self.browser is not None and self.browser.started:
            return deferred_from_coro(self.browser.close())
        return None

    def may_climb(self, site: str) -> bool:
        return self.browser is not None and self.modes.get(site, "auto") != PLAIN

    async def process_request(self, request):
        site = self._site_of(request)
        if site not in self.modes:
            return None
        wants = request.meta.get("render") == BROWSER or (
            self.modes[site] == BROWSER and request.meta.get("kind") != "article")
        if wants and self.may_climb(site):
            if self.modes[site] == BROWSER:
                return await self._render(request, site, None)
            rendered = await self._script_list(request, site)   # a list filled by script: bounded
            if rendered is not None:
                return rendered
        # a remembered rung opens the first page in the browser (robots.txt is asked plainly:
        # most challenged sites serve it openly, and a challenged one climbs below)
        if site in self.remembered and site not in self.cookies and self.may_climb(site) \
                and not request.meta.get("robots_of"):
            async with self.earning.setdefault(site, asyncio.Lock()):
                if site not in self.cookies:      # nobody earned cookies while this one waited
                    count(self.stats, "browser/remembered", site)
                    return await self._render(request, site, self.remembered[site])
        earned = self.cookies.get(site)
        if earned:
            request.headers["Cookie"], request.headers["User-Agent"] = earned
            request.meta["earned_cookies"] = True
            count(self.stats, "browser/cookie_reuse", site)
        return None

    async def process_response(self, request, response):
        site = self._site_of(request)
        if site not in self.modes or "browser" in response.flags:
            return response
        headers = {"content-type": (response.headers.get(b"Content-Type") or b"").decode("latin-1")}
        kind = challenge_kind(response.status, headers, response.body)
        if kind is None:
            return response
        count(self.stats, f"challenges/{kind}", site)
        self.challenged.setdefault(site, kind)
        sent = request.headers.get("Cookie")
        if not self.may_climb(site):
            if request.meta.get("robots_of"):
                return self._robots_unreadable(site, kind, request.url, "no browser to answer the challenge")
            return self._blocked(site, kind, request.url)
        async with self.earning.setdefault(site, asyncio.Lock()):
            earned = self.cookies.get(site)
            if request.meta.pop("earned_cookies", False) and earned and sent != earned[0].encode():
                # newer cookies came while this request was out: try them before the browser
                return request.replace(dont_filter=True, headers={**request.headers, "Cookie": earned[0]})
            if sent and earned and sent == earned[0].encode():
                self.cookies.pop(site, None)
                count(self.stats, "browser/cookies_expired", site)
                logger.info("[%s] the cookies the browser earned stopped working (%s): back to the browser",
                            site, LABELS[kind])
            if self.rung.get(site) != BROWSER:
                self.rung[site] = BROWSER
                logger.warning("[%s] %s at %s: moving up to a real browser", site, LABELS[kind], request.url)
            return await self._render(request, site, kind)

    async def _script_list(self, request, site: str):
        """Render a list filled by script within the site's budget, else fetch it plainly."""
        async with self.script_locks.setdefault(site, asyncio.Lock()):   # budget checks in order
            if site not in self.exhausted and (self.script_renders.get(site, 0) >= self.max_pages
                                               or self.script_seconds.get(site, 0.0) >= self.budget_seconds):
                self.exhausted.add(site)
                count(self.stats, "browser/budget_exhausted", site)
                logger.warning("[%s] 脚本列表的浏览器预算已用完（%d 页，%.0f 秒）：本次抓取其余页面只用普通请求",
                               site, self.script_renders.get(site, 0), self.script_seconds.get(site, 0.0))
            if site in self.exhausted:
                request.meta["browser_budget_exhausted"] = True    # the spider reads it plainly
                return None
            self.script_renders[site] = self.script_renders.get(site, 0) + 1
            started = time.monotonic()
            try:
                return await self._render(request, site, None)
            finally:
                self.script_seconds[site] = self.script_seconds.get(site, 0.0) + time.monotonic() - started

    def _blocked(self, site: str, kind: str, url: str):
        count(self.stats, f"blocked/{kind}", site)
        logger.warning("[%s] blocked by an anti-bot challenge (%s): %s", site, LABELS[kind], url)
        raise Challenged(kind, url)

    def _site_of(self, request) -> str | None:
        """The request's site; Scrapy's robots.txt request carries none, so it is the
        site whose start origin it is on (kept as ``robots_of``: read through the ladder too)."""
        site = request.meta.get("site")
        if site is not None or not request.meta.get("dont_obey_robotstxt"):
            return site
        if request.meta.get("robots_of"):
            return request.meta["robots_of"]
        if not request.url.endswith("/robots.txt"):
            return None
        origin = origin_of(request.url)
        site = next((name for name, scope in self.scopes.items() if origin in scope.origins), None)
        if site is not None:
            request.meta["robots_of"] = site
        return site

    def _robots_unreadable(self, site: str, kind: str, url: str, why: str):
        """A challenged robots.txt that could not be read: the run record says so
        (``robots/unreadable``); Scrapy then treats the host as having no rules."""
        count(self.stats, "robots/unreadable", site)
        logger.warning("[%s] robots.txt 无法读取（%s，%s）：本次抓取按无 robots 规则处理，已记入运行记录：%s",
                       site, LABELS.get(kind, kind), why, url)
        raise IgnoreRequest(f"robots.txt behind an anti-bot challenge ({kind}): {url}")

    async def _render(self, request, site: str, challenged: str | None):
        robots = bool(request.meta.get("robots_of"))
        try:
            rendered = await self.browser.render(site, request.url, self.scopes.get(site),
                                                 bool(request.meta.get("allow_private") or self.private.get(site)),
                                                 min_chars=1 if robots else REAL_TEXT_CHARS)
        except RenderError as exc:
            if robots:
                return self._robots_unreadable(site, challenged or "script_page", request.url, exc.reason)
            if challenged:
                logger.warning("[%s] the browser did not get through either: %s", site, exc)
                return self._blocked(site, challenged, request.url)
            count(self.stats, "errors/browser_no_text", site)
            raise RenderFailed(str(exc)) from None
        self.rung[site] = BROWSER
        if self.browser.launches and not self.stats.get_value("newsmon/browser/launches"):
            count(self.stats, "browser/launches")        # Chromium started in this crawl
        count(self.stats, "browser/pages", site)
        count(self.stats, "browser/milliseconds", site, int(rendered.seconds * 1000))
        for url, why in rendered.refused:
            count(self.stats, "browser/refused", site)
            logger.info("[%s] browser request not sent: %s (%s)", site, url, why)
        header = "; ".join(f"{c['name']}={c['value']}" for c in rendered.cookies
                           if _cookie_for(c, request.url))
        if header:
            self.cookies[site] = (header, rendered.user_agent)
        html = rendered.html
        if request.meta.get("kind") != "article" and rendered.captured:
            block = links_block(rendered.captured, rendered.url, html)
            if block:
                count(self.stats, "browser/script_list_links", site, block.count("<a "))
                html = html.replace("</body>", block + "</body>", 1) if "</body>" in html else html + block
        request.meta["rendered"] = BROWSER
        logger.info("[%s] opened in the browser in %.1fs: %s", site, rendered.seconds, rendered.url)
        if robots:     # the rules as the browser was shown them (Chromium shows text/plain as text)
            count(self.stats, "robots/browser", site)
            return TextResponse(url=rendered.url, status=rendered.status, body=rendered.text.encode("utf-8"),
                                encoding="utf-8", headers={"Content-Type": "text/plain; charset=utf-8"},
                                request=request, flags=["browser"])
        return HtmlResponse(url=rendered.url, status=200, body=html.encode("utf-8"), encoding="utf-8",
                            headers={"Content-Type": "text/html; charset=utf-8"}, request=request,
                            flags=["browser"])


def _cookie_for(cookie: dict, url: str) -> bool:
    from urllib.parse import urlsplit
    host = (urlsplit(url).hostname or "").lower()
    domain = (cookie.get("domain") or "").lstrip(".").lower()
    return not domain or host == domain or host.endswith("." + domain)
