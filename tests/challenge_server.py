#!/usr/bin/env python3
"""Sites that fight back, on loopback: anti-bot challenges and a list filled by script.

    python tests/challenge_server.py [--host 127.0.0.1] [--delay MS] [--cookie-uses N] [--robots-challenged]
                                     [--lifetime SECONDS]

Prints one JSON line ``{"sites": {"ruishu": "http://127.0.0.1:PORT/", ...}}`` and
serves until stdin closes or ``--lifetime`` passes. Each site is its own origin
(port); the news texts are the fault server's (``tests/fault_server.py``).

=========  ================================================================
site       what it does
=========  ================================================================
ruishu     瑞数: without a valid cookie every page is HTTP 412 with a ``$_ts``
           script that computes the cookie from the page's nonce after
           ``--delay`` ms, sets it and reloads; a cookie works for
           ``--cookie-uses`` pages, then 412 again (a new one must be earned)
jsl        加速乐: HTTP 521, a script sets ``__jsl_clearance`` and reloads
script200  a 200 page that is a script and no text; it sets a cookie, reloads
blank200   a 200 script page whose script wipes the page blank and never lets
           anyone through ("challenge marker gone" is no pass)
waf        every page is a WAF's 403 (网站防火墙), for browsers too
xhrlist    a Hanweb column page: no article links in its HTML; a script fetches
           the list as JSON (XHR) and writes the first six of its eight items;
           the articles are plain pages; the page also tries to fetch a
           metadata address and another site (``/_canary``), which a crawler's
           browser must never let out
=========  ================================================================

``--robots-challenged``: robots.txt of the challenge sites is behind the challenge
too, and disallows one article (``ROBOTS_DISALLOWED``).

``GET /_hits`` (any site) returns ``{"hits": [{"site", "path", "status", "cookie",
"browser"}...]}``: every request, whether it carried a valid earned cookie, and
whether it came from the browser (Chromium sends ``Sec-Fetch-*`` headers; a plain
client that borrows its User-Agent does not).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import select
import sys
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from fault_server import ARTICLES   # the news texts (title, date, paragraphs)

SITES = ("ruishu", "jsl", "script200", "blank200", "waf", "xhrlist", "scripty", "xhrmany")
COLUMNS = 12       # column pages of scripty (scripts, none fills a list) and xhrmany (each filled by an XHR)
COOKIE = {"ruishu": "FSSBBIl1UgzbN7NT", "jsl": "__jsl_clearance", "script200": "waf_ck", "blank200": "never"}
TRS_PATHS = [p for p in ARTICLES][:6]
HANWEB = [(f"/art/2024/5/{10 + i}/art_1229_{3456780 + i}.html", *ARTICLES[p]) for i, p in enumerate(ARTICLES)]
HANWEB.append(("/art/2024/5/20/art_1229_3456790.html", "宿城区召开河长制工作推进会", "2024-05-20", [
    "5月20日，宿城区召开河长制工作推进会，通报上半年河湖管护情况，部署下阶段重点任务。",
    "会议要求，各级河长要履职尽责，常态化开展巡河护河，推动河湖面貌持续改善。",
    "区河长办将加强督查考核，对问题整改不力的单位进行通报。"]))
ROBOTS_DISALLOWED = TRS_PATHS[-1]   # with --robots-challenged: the rules a crawler must read to obey
SHOWN = 6          # items the xhrlist script writes into the page (of len(HANWEB) in its JSON)


def article(title: str, date: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{date} 09:30"></head><body>
<div class="nav"><a href="/">首页</a></div>
<div class="article"><h1>{title}</h1><div class="info">发布时间：{date} 09:30 来源：宿城区融媒体中心</div>
<div class="TRS_Editor">{body}</div></div>
<div class="footer">主办：宿迁市宿城区人民政府办公室 苏ICP备05006838号</div></body></html>"""


def home(paths: list[str]) -> str:
    items = "".join(f'<li><a href="{p}">{ARTICLES[p][0]}</a><span>{ARTICLES[p][1]}</span></li>' for p in paths)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻动态_宿城区人民政府</title></head>
<body><div class="nav"><a href="/">首页</a></div><h2>新闻动态</h2><ul class="list">{items}</ul>
<div class="footer">主办：宿迁市宿城区人民政府办公室</div></body></html>"""


def hanweb_column(other_site: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>工作动态_宿城区人民政府</title></head>
<body><div class="top"><a href="/col/col1229/index.html">工作动态</a> <a href="/about.html">走进宿城</a></div>
<div class="position">当前位置：首页 &gt; 工作动态</div>
<div class="main"><h2>工作动态</h2><div id="4321"><ul id="list"></ul></div></div>
<script>
var xhr = new XMLHttpRequest();
xhr.open("GET", "/module/web/jpage/dataproxy.jsp?col=1229&appid=1&pageNum=1&perpage=15");
xhr.onload = function () {{
  var data = JSON.parse(xhr.responseText).data, html = "";
  for (var i = 0; i < data.length && i < {SHOWN}; i++)
    html += '<li><a href="' + data[i].url + '" target="_blank">' + data[i].title + '</a><span>' + data[i].date + '</span></li>';
  document.getElementById("list").innerHTML = html;
}};
xhr.send();
fetch("http://169.254.169.254/latest/meta-data/").catch(function () {{}});   // must never leave the browser
fetch("{other_site}_canary").catch(function () {{}});                        // another site: out of scope
</script>
<div class="footer">主办：宿迁市宿城区人民政府办公室 版权所有 苏ICP备05006838号</div></body></html>"""


def scripty_column(col: int) -> str:
    """A column page with scripts that load data (a visit counter, a weather widget) but no
    list they fill: its text is plain, its empty menu no script names."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>栏目{col}</title>
<script src="/js/jquery.min.js"></script></head>
<body><div class="nav"><a href="/">首页</a><ul class="sub"></ul></div>
<div class="main"><h2>栏目{col}</h2><p>本栏目介绍宿城区基本情况，内容定期更新。</p></div>
<script>$.post("/system/resource/code/onlinecounter/onlinecounter.jsp", {{id: {col}}});</script>
<script>$.ajax({{url: "/weather.json", success: function (d) {{ $("#weather").text(d.t); }}}});</script>
<div class="footer">主办：宿迁市宿城区人民政府办公室 <span id="weather">晴</span></div></body></html>"""


def challenge_page(site: str, nonce: str, delay: int) -> str:
    name = COOKIE[site]
    if site == "ruishu":
        head = f'<meta id="9DhefwqGPrzGxEp9hPaoag" content="{nonce}"><script>var $_ts=window[\'$_ts\'];if(!$_ts)$_ts={{}};$_ts.nsd=84425;$_ts.cd="{nonce}";</script>'
        value = "$_ts.cd.split('').reverse().join('')"
    else:
        head = ""
        value = f"'{nonce}'.split('').reverse().join('')"
    if site == "blank200":
        action = "document.open();document.write('<html><body></body></html>');document.close();"
    else:
        action = f"document.cookie='{name}='+{value}+'; path=/';location.href=location.pathname+location.search;"
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\">{head}"
            f"<script>setTimeout(function(){{{action}}}, {delay});</script></head><body></body></html>")


class ChallengeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, site: str, shared: dict):
        super().__init__(address, Handler)
        self.site = site
        self.shared = shared


class Handler(BaseHTTPRequestHandler):
    server_version = "nginx"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: ChallengeServer

    def log_message(self, *_args):
        pass

    def _send(self, status: int, body: str | bytes, ctype: str = "text/html; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return status

    def do_GET(self):  # noqa: N802
        shared, site = self.server.shared, self.server.site
        parts = urlsplit(self.path)
        if parts.path == "/_hits":
            with shared["lock"]:
                body = json.dumps({"hits": shared["hits"]}, ensure_ascii=False)
            self._send(200, body, "application/json")
            return
        cookie_ok = self._cookie_ok()
        status = self._answer(site, parts.path, parts.query, cookie_ok)
        with shared["lock"]:
            shared["hits"].append({"site": site, "path": self.path, "status": status, "cookie": cookie_ok,
                                   "browser": "Sec-Fetch-Mode" in self.headers, "sent": self.headers.get("Cookie") or ""})

    def _cookie_ok(self) -> bool:
        """A cookie earned by running the challenge script, still within its uses."""
        shared, site = self.server.shared, self.server.site
        if site not in COOKIE:
            return False
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except Exception:  # noqa: BLE001 - a garbled cookie is no cookie
            return False
        value = jar[COOKIE[site]].value if COOKIE[site] in jar else ""
        with shared["lock"]:
            uses = shared["earned"].get((site, value))
            if uses is None or uses >= shared["cookie_uses"]:
                return False
            shared["earned"][(site, value)] = uses + 1
        return True

    def _answer(self, site: str, path: str, query: str, cookie_ok: bool) -> int:
        shared = self.server.shared
        if path == "/robots.txt" and not (shared.get("robots_challenged") and site in COOKIE and not cookie_ok):
            disallowed = f"Disallow: {ROBOTS_DISALLOWED}\n" if shared.get("robots_challenged") else ""
            return self._send(200, f"User-agent: *\nDisallow: /search/\n{disallowed}", "text/plain")
        if site == "waf":
            return self._send(403, "<html><head><meta charset=\"utf-8\"><title>403</title></head><body>"
                                   "<h1>网站防火墙</h1><p>您的请求带有不合法参数，已被网站管理员设置拦截！</p>"
                                   "<p>可能原因：您提交的内容包含危险的攻击请求。如何解决：检查提交内容；"
                                   "如网站托管，请联系空间提供商；普通网站访客，请联系网站管理员。</p></body></html>")
        if site in COOKIE and not cookie_ok:
            nonce = secrets.token_hex(8)
            with shared["lock"]:
                shared["earned"].setdefault((site, nonce[::-1]), 0)
            status = {"ruishu": 412, "jsl": 521}.get(site, 200)
            return self._send(status, challenge_page(site, nonce, shared["delay"]))
        if site == "xhrlist":
            return self._hanweb(path, query)
        if site in ("scripty", "xhrmany"):
            return self._columns(site, path)
        if path in ("/", "/index.html"):
            return self._send(200, home(TRS_PATHS))
        if path in TRS_PATHS:
            return self._send(200, article(*ARTICLES[path]))
        return self._send(404, "<html><body>404 Not Found</body></html>")

    def _hanweb(self, path: str, query: str) -> int:
        if path == "/col/col1229/index.html":
            return self._send(200, hanweb_column(self.server.shared["urls"]["ruishu"]))
        if path == "/module/web/jpage/dataproxy.jsp":
            data = [{"title": t, "url": p, "date": d} for p, t, d, _ in HANWEB]
            return self._send(200, json.dumps({"total": len(data), "data": data}, ensure_ascii=False),
                              "application/json; charset=utf-8")
        if path == "/":
            return self._send(200, article("宿城区人民政府", "2024-01-01", [
                '欢迎访问宿城区人民政府网站。<a href="/col/col1229/index.html">工作动态</a>']))
        if path == "/about.html":
            return self._send(200, article("走进宿城", "2024-01-01", ["宿城区位于江苏省北部，是宿迁市的主城区。" * 3]))
        for p, title, date, paragraphs in HANWEB:
            if p == path:
                return self._send(200, article(title, date, paragraphs))
        return self._send(404, "<html><body>404 Not Found</body></html>")


    def _columns(self, site: str, path: str) -> int:
        if path == "/":
            links = "".join(f'<li><a href="/col/col{n}/index.html">栏目{n}</a></li>' for n in range(COLUMNS))
            return self._send(200, article("宿城区人民政府", "2024-01-01", [f"欢迎访问。<ul>{links}</ul>"]))
        if path.startswith("/col/col") and path.endswith("/index.html"):
            col = int(path[len("/col/col"):-len("/index.html")])
            if site == "scripty":
                return self._send(200, scripty_column(col))
            page = hanweb_column(self.server.shared["urls"]["ruishu"]).replace("col=1229", f"col={col}")
            return self._send(200, page.split('fetch("http://169', 1)[0] + "</script></body></html>")
        if site == "xhrmany":
            return self._hanweb(path, "")      # the data proxy and the articles of xhrlist
        return self._send(404, "<html><body>404 Not Found</body></html>")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--delay", type=int, default=800, help="ms the challenge script waits before it reloads")
    ap.add_argument("--cookie-uses", type=int, default=5, help="pages one earned cookie opens")
    ap.add_argument("--robots-challenged", action="store_true",
                    help=f"robots.txt is behind the challenge too, and disallows {ROBOTS_DISALLOWED}")
    ap.add_argument("--lifetime", type=float, default=900)
    args = ap.parse_args(argv)
    shared = {"lock": threading.Lock(), "hits": [], "earned": {}, "delay": args.delay,
              "cookie_uses": args.cookie_uses, "robots_challenged": args.robots_challenged}
    servers = {site: ChallengeServer((args.host, 0), site, shared) for site in SITES}
    shared["urls"] = {site: f"http://{args.host}:{s.server_address[1]}/" for site, s in servers.items()}
    for server in servers.values():
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(json.dumps({"sites": shared["urls"]}), flush=True)
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sys.stdin], [], [], 0.5)
        if ready and not os.read(0, 4096):
            break
    for server in servers.values():
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
