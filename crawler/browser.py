"""A real browser for the sites that need one: Debian's ``chromium`` driven by Playwright.

Only ``crawler.ladder`` uses it, and only for a site that plain fetching cannot
read (a challenge, a list filled by script) or that says ``render: browser``:
Playwright and Chromium start on the first page that needs them, so a crawl of
ordinary sites starts neither. ``Browser.render(...)`` opens one page of a site:

1. every request the page makes is vetted first (``page.route``): network safety
   (``netsafety.addresses``: scheme, metadata hosts, the resolved addresses) and the
   site's scope (``crawler.scope``) -- a forbidden or out-of-scope request is
   aborted and counted; images, media and fonts are not fetched at all. Chromium
   resolves no name itself (``--host-resolver-rules``): every connection goes
   through the site's ``netsafety.proxy.PinningProxy`` to the address vetted for
   that host (the crawl's own vetted answer when it has one, ``pin``), so a name
   that rebinds to a private address after the check is never connected to;
2. it waits, patiently (``timeout``), through the challenge script's reload, until
   the page shows real text (``crawler.challenge.has_real_text``, positive evidence
   only: a failed challenge leaves a blank page) and the network is quiet;
3. it keeps the JSON/XML answers the page's scripts loaded (a list filled by
   script), and the cookies the browser earned, for plain requests to reuse.

One page at a time per site (its own browser context, so cookies stay per site).
The Scrapy reactor is Twisted's asyncio reactor, so Playwright's async API runs
on the crawl's own event loop.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.challenge import LABELS, REAL_TEXT_CHARS, challenge_kind, is_challenge_marker
from netsafety.addresses import AllowList, UnsafeURLError, check_target, parse_ip, resolve, vetted_addresses
from netsafety.proxy import PinningProxy
from crawler.scope import Scope

logger = logging.getLogger("newsmon.browser")

CHROMIUM = "/usr/bin/chromium"
_SKIPPED_TYPES = frozenset({"image", "media", "font"})
_CAPTURED_TYPES = ("json", "xml", "javascript", "text/plain")
_MAX_CAPTURE = 2 * 1024 * 1024      # bytes kept per page from script-loaded answers
_TEXT_JS = "() => document.body ? document.body.innerText : ''"
# Chromium's own resolver answers nothing (every name goes to the pinning proxy, an IP
# literal); WebRTC may not open UDP around the proxy.
# Chromium's background traffic (component updates, autofill, safe browsing, pings)
# is switched off: a crawl's browser talks to the site and nothing else.
_LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                "--disable-default-apps", "--no-first-run", "--no-pings", "--metrics-recording-only",
                "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate"]


def _hosts_admitted(scope: Scope | None):
    """The hosts of the site's scope (its start origins and allowed prefixes), or None (any)."""
    if scope is None:
        return None
    hosts = {host for _scheme, host, _port in scope.origins} | {urlsplit(p).hostname for p in scope.prefixes}
    return (hosts - {None, ""}).__contains__


class RenderError(Exception):
    """The page never showed real text within the time allowed (``reason`` says why)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.reason = reason


@dataclass
class Rendered:
    url: str                  # where the page ended (after the challenge's reloads)
    status: int
    html: str                 # the rendered DOM
    cookies: list[dict]       # every cookie of the site's context
    user_agent: str
    captured: list[tuple[str, str]] = field(default_factory=list)   # (url, text) JSON/XML the scripts loaded
    refused: list[tuple[str, str]] = field(default_factory=list)    # (url, why) requests not let out
    seconds: float = 0.0
    text: str = ""            # the page's visible text (a robots.txt: its lines)


class Browser:
    """One Chromium for the crawl, started on first use; one context per site."""

    def __init__(self, executable: str = CHROMIUM, allow: AllowList | None = None, timeout: float = 60.0):
        self.executable = executable
        self.allow = allow or AllowList()
        self.timeout = timeout
        self.launches = 0
        self._playwright = None
        self._browser = None
        self._starting: asyncio.Lock | None = None
        self._contexts: dict[str, object] = {}
        self._proxies: dict[str, PinningProxy] = {}
        self.pins: dict[tuple[str, bool], str] = {}      # (host, allow_private) -> the vetted address
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def started(self) -> bool:
        return self._browser is not None

    async def _ensure(self):
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._browser is None:
                from playwright.async_api import async_playwright
                if not os.path.exists(self.executable):
                    raise RenderError("-", f"no Chromium at {self.executable} (apt-get install chromium, "
                                           "or set NEWSMON_CHROMIUM)")
                self._playwright = await async_playwright().start()
                # --no-sandbox: crawls run as root in containers, where the sandbox refuses to start.
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.executable, headless=True, args=_LAUNCH_ARGS)
                self.launches += 1
                logger.info("started Chromium (%s) for the sites that need a browser", self.executable)
        return self._browser

    async def render(self, site: str, url: str, scope: Scope | None, allow_private: bool = False,
                     min_chars: int = REAL_TEXT_CHARS) -> Rendered:
        """Open ``url`` as a browser would and wait for real text (``min_chars`` visible
        characters; a robots.txt may be short); raises ``RenderError``."""
        lock = self._locks.setdefault(site, asyncio.Lock())
        async with lock:                       # one page at a time per site
            browser = await self._ensure()
            context = self._contexts.get(site)
            if context is None:
                proxy = self._proxies[site] = PinningProxy(lambda host, port: self.pin(host, port, allow_private),
                                                           admits=_hosts_admitted(scope))
                context = self._contexts[site] = await browser.new_context(
                    java_script_enabled=True, locale="zh-CN", timezone_id="Asia/Shanghai",
                    proxy={"server": await proxy.start()})
            proxy = self._proxies[site]
            seen = len(proxy.refused)
            page = await context.new_page()
            try:
                rendered = await self._render(page, context, url, scope, allow_private, min_chars)
            finally:
                await page.close()
            rendered.refused.extend(proxy.refused[seen:])
            return rendered

    async def pin(self, host: str, port: int, allow_private: bool = False) -> str:
        """The one address the browser may connect to for ``host``: the crawl's own vetted
        answer if it has one (``SafeResolver``'s cache), else one lookup, every answer
        checked; kept for the crawl. Raises ``UnsafeURLError``."""
        key = (host, allow_private)
        if key in self.pins:
            return self.pins[key]
        url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
        check_target(url, self.allow, allow_private)
        if parse_ip(host) is not None:
            return host
        address = _crawl_vetted(host)
        if address is None:
            loop = asyncio.get_running_loop()
            if allow_private or self.allow.allows(host):
                try:
                    infos = await loop.run_in_executor(None, resolve, host, port)
                except OSError as exc:
                    raise UnsafeURLError(url, f"DNS lookup failed: {exc}") from None
            else:
                infos = await loop.run_in_executor(None, vetted_addresses, url, host, port, self.allow)
            address = infos[0][4][0]
        self.pins[key] = address
        return address

    async def _render(self, page, context, url: str, scope: Scope | None, allow_private: bool,
                      min_chars: int) -> Rendered:
        started = time.monotonic()
        refused: list[tuple[str, str]] = []
        captured: list[tuple[str, str]] = []
        pending: set[asyncio.Task] = set()
        last = {"status": 0}     # the main frame's latest document (after the challenge's reloads)

        async def vet(route, request):
            why = await self._refusal(request.url, scope, allow_private, request.resource_type,
                                      request.is_navigation_request())
            if why:
                refused.append((request.url, why))
                await route.abort("blockedbyclient")
            else:
                await route.continue_()

        async def keep(response):
            kind = (response.headers.get("content-type") or "").lower()
            if response.request.resource_type in ("xhr", "fetch") and any(t in kind for t in _CAPTURED_TYPES):
                try:
                    body = await response.body()
                except Exception:  # noqa: BLE001 - the page went on without it
                    return
                captured.append((response.url, body[:_MAX_CAPTURE].decode("utf-8", "replace")))

        def on_response(response):
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                last["status"] = response.status
            task = asyncio.ensure_future(keep(response))
            pending.add(task)
            task.add_done_callback(pending.discard)

        await page.route("**/*", vet)
        page.on("response", on_response)
        deadline = started + self.timeout
        status = 0
        try:
            answer = await page.goto(url, wait_until="load", timeout=self.timeout * 1000)
            status = answer.status if answer is not None else 0
        except Exception as exc:  # noqa: BLE001 - a reload by the challenge script interrupts goto
            if "interrupted" not in str(exc) and "destroyed" not in str(exc) and "ERR_ABORTED" not in str(exc):
                raise RenderError(url, f"browser could not open the page: {_first_line(exc)}") from None
        text = await self._wait_for_text(page, deadline, min_chars)
        if text is None:
            raise RenderError(url, f"no real text after {self.timeout:.0f}s in the browser "
                                   "(the challenge was not passed, or the page is empty)")
        try:      # let script-loaded lists arrive
            await page.wait_for_load_state("networkidle", timeout=max(1000, min(10.0, deadline - time.monotonic()) * 1000))
        except Exception:  # noqa: BLE001 - a page that keeps polling: take it as it is
            pass
        if pending:
            await asyncio.wait(list(pending), timeout=5)
        html = await page.content()
        kind = challenge_kind(last["status"] or status, {"content-type": "text/html"}, html.encode("utf-8"))
        if kind is not None:     # a WAF's or captcha's own text is no pass
            raise RenderError(url, f"still {LABELS[kind]} in the browser (HTTP {last['status'] or status})")
        agent = await page.evaluate("() => navigator.userAgent")
        cookies = await context.cookies()
        return Rendered(url=page.url, status=last["status"] or status or 200, html=html, cookies=cookies, user_agent=agent,
                        captured=captured, refused=refused, seconds=time.monotonic() - started, text=text)

    async def _wait_for_text(self, page, deadline: float, min_chars: int) -> str | None:
        """The page's visible text once it is real (positive evidence), or None at the deadline."""
        while time.monotonic() < deadline:
            try:
                text = await page.evaluate(_TEXT_JS)
            except Exception:  # noqa: BLE001 - the challenge script is reloading the page
                text = ""
            if len("".join((text or "").split())) >= min_chars and not is_challenge_marker(text):
                return text
            await asyncio.sleep(0.25)
        return None

    async def _refusal(self, url: str, scope: Scope | None, allow_private: bool, resource_type: str,
                       navigation: bool) -> str | None:
        """Why the page may not make this request, or None."""
        if url.startswith(("data:", "blob:", "about:")):
            return None
        if resource_type in _SKIPPED_TYPES:
            return "not needed (images, media and fonts are not fetched)"
        if scope is not None and not scope.allows(url):
            return "outside the site" + (" (navigation)" if navigation else "")
        try:
            host = check_target(url, self.allow, allow_private)
            parts = urlsplit(url)
            await self.pin(host, parts.port or (443 if parts.scheme == "https" else 80), allow_private)
        except UnsafeURLError as exc:
            return exc.reason
        return None

    async def close(self) -> None:
        for context in list(self._contexts.values()):
            try:
                await context.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self._contexts.clear()
        for proxy in self._proxies.values():
            await proxy.close()
        self._proxies.clear()
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None


def _crawl_vetted(host: str) -> str | None:
    """The address the crawl's ``SafeResolver`` vetted and cached for ``host``, if any
    (so the browser and plain fetches use one answer: one lookup, one check)."""
    from scrapy.resolver import dnscache
    from crawler.resolver import installed_policy
    if installed_policy() is None:
        return None
    return dnscache.get(host)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
