#!/usr/bin/env python3
"""A hostile government site on loopback: every fault a crawler meets, on purpose.

    python tests/fault_server.py [--host 127.0.0.2] [--lifetime SECONDS]

Prints one JSON line ``{"url": "http://127.0.0.2:PORT/", "closed_port": N}`` and
serves until stdin closes or ``--lifetime`` passes. The home page is a news list
(a TRS-style column) whose links each lead into one fault:

==========================  ===================================================
path                        what the server does
==========================  ===================================================
/xwdt/t2021071{0-4}_*.html  good articles (UTF-8, and GBK declared as utf-8,
                            and UTF-8 declared as gb2312: wrong charsets)
/xwdt/t20210720_1.html      slow loris: headers, then a byte every 0.5 s forever
/xwdt/t20210721_1.html      connection reset (RST) before any response
/xwdt/t20210722_1.html      huge: 300 MB streamed, chunked, no Content-Length
/xwdt/t20210722_2.html      huge: Content-Length says 200 MB
/xwdt/t20210723_{1,2,3}.html  gzip / deflate / br bombs (10 KB-1 MB -> 256+ MB)
/xwdt/t20210724_1.html      redirect loop (/loop/N -> /loop/N+1 forever)
/xwdt/t20210725_{1,2,3}.html  redirects to 169.254.169.254, 10.0.0.1, localhost
/xwdt/t20210726_1.html      truncated: Content-Length 40000, 4000 bytes sent
/xwdt/t20210727_1.html      429 with Retry-After: 1 twice, then the article
/xwdt/t20210728_1.html      503 three times (a burst), then the article
/xwdt/t20210729_1.html      500 always
/xwdt/t20210730_1.html      redirect to ftp://
/xwdt/index_N.html          infinite pagination (every page links to N+1)
/calendar/?date=YYYY-MM-DD  a calendar trap: every day links to the next/previous
/search?q=...               a search trap: every result page links to new queries
;jsessionid=...             session ids in URLs, the same article under
?page=1, /print/ ...        many URLs (print view, ?page=1, tracking params)
==========================  ===================================================

``GET /_hits`` returns ``{"hits": {target: n}, "times": {target: [unix times]}}``
so tests see what was fetched, and when.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ARTICLES = {   # path -> (title, date, paragraphs)
    "/xwdt/t20210710_1.html": ("宿城区召开激光产业园建设会办会", "2021-07-10", [
        "7月10日，宿城区召开激光产业园建设会办会，区委副书记、区长出席会议并讲话。",
        "会议听取了激光产业园规划建设、招商引资和项目推进情况汇报，现场协调解决了企业用地、用电等问题。",
        "会议要求，各部门要强化服务意识，倒排工期、挂图作战，确保重点项目早开工、早投产、早见效。"]),
    "/xwdt/t20210711_1.html": ("宿城区开展防汛应急演练", "2021-07-11", [
        "为切实提高防汛抢险应急处置能力，7月11日，宿城区在古黄河沿线开展防汛应急演练。",
        "演练模拟强降雨导致河道水位暴涨、堤防出现管涌险情，各抢险队伍迅速集结、科学处置。",
        "演练结束后，区防汛抗旱指挥部对演练情况进行了点评，并对下一步防汛工作作出部署。"]),
    "/xwdt/t20210712_1.html": ("宿城区举办2021年重点项目集中开工仪式", "2021-07-12", [
        "7月12日上午，宿城区举办2021年第三季度重点项目集中开工仪式，共有16个项目集中开工。",
        "本次集中开工项目总投资58.6亿元，涵盖智能制造、新材料、现代服务业等多个领域。",
        "区领导强调，要以项目建设的实际成效推动全区经济社会高质量发展。"]),
    "/xwdt/t20210713_1.html": ("宿城区召开秋粮生产工作推进会", "2021-07-13", [
        "7月13日，宿城区召开秋粮生产工作推进会，总结前阶段工作，部署下阶段任务。",
        "会议指出，要抓好水稻、玉米等秋粮作物田间管理，加强病虫害统防统治。",
        "各镇街要压实责任，强化技术指导，全力夺取秋粮丰收。"]),
    "/xwdt/t20210714_1.html": ("宿城区开展安全生产大检查", "2021-07-14", [
        "7月14日，宿城区安委会组织开展安全生产大检查，重点检查危化品、建筑施工和人员密集场所。",
        "检查组深入企业生产车间、仓库，详细查看安全设施设备运行和隐患排查整改情况。",
        "对检查中发现的问题，检查组当场反馈，要求企业限期整改到位，形成闭环管理。"]),
    # served after faults that end well (429 / 503 bursts)
    "/xwdt/t20210727_1.html": ("宿城区召开优化营商环境工作会议", "2021-07-27", [
        "7月27日，宿城区召开优化营商环境工作会议，通报全区营商环境评价情况。",
        "会议要求，要持续深化放管服改革，提升政务服务效能，打造一流营商环境。",
        "各部门要对标先进地区，找差距、补短板，切实增强企业获得感和满意度。"]),
    "/xwdt/t20210728_1.html": ("宿城区启动夏季消夏纳凉文化活动", "2021-07-28", [
        "7月28日晚，宿城区2021年夏季消夏纳凉文化活动在项王故里广场启动。",
        "活动期间，全区将开展文艺演出、电影放映、广场舞展演等各类文化活动120余场。",
        "丰富多彩的文化活动，为群众带来了一场场精彩纷呈的文化盛宴。"]),
}
GBK_AS_UTF8 = "/xwdt/t20210713_1.html"     # GBK bytes, header says utf-8
UTF8_AS_GB2312 = "/xwdt/t20210714_1.html"  # UTF-8 bytes, <meta> says gb2312
FAULTS = {
    "/xwdt/t20210720_1.html": "slow",
    "/xwdt/t20210721_1.html": "reset",
    "/xwdt/t20210722_1.html": "huge_stream",
    "/xwdt/t20210722_2.html": "huge_declared",
    "/xwdt/t20210723_1.html": "gzip_bomb",
    "/xwdt/t20210723_2.html": "deflate_bomb",
    "/xwdt/t20210723_3.html": "br_bomb",
    "/xwdt/t20210724_1.html": "redirect_loop",
    "/xwdt/t20210725_1.html": "redirect_metadata",
    "/xwdt/t20210725_2.html": "redirect_private",
    "/xwdt/t20210725_3.html": "redirect_localhost",
    "/xwdt/t20210726_1.html": "truncated",
    "/xwdt/t20210727_1.html": "429_then_ok",
    "/xwdt/t20210728_1.html": "503_burst_then_ok",
    "/xwdt/t20210729_1.html": "500_always",
    "/xwdt/t20210730_1.html": "redirect_ftp",
}
SAME_ARTICLE_ALIASES = (   # all the t20210710 article; a crawler should fetch it once
    "/xwdt/t20210710_1.html?page=1",
    "/xwdt/t20210710_1.html;jsessionid=8F2A9C1B7D3E4F5A6B7C8D9E0F1A2B3C",
    "/xwdt/t20210710_1.html?utm_source=weixin&from=timeline",
    "/xwdt/t20210710_1.html?PHPSESSID=0c1f7e9d2b3a4c5d6e7f8091a2b3c4d5",
    "/xwdt/t20210710_1.html#comments",
)
BOMB_BYTES = 256 * 1024 * 1024


def article_html(title: str, date: str, paragraphs: list[str], charset: str = "utf-8") -> str:
    body = "\n".join(f"<p style=\"text-indent:2em\">{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}">
<title>{title}_宿城区人民政府</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{date} 09:30">
<meta name="ContentSource" content="宿城区融媒体中心">
<script src="/js/jquery.min.js"></script><link rel="stylesheet" href="/css/main.css">
</head><body>
<div class="top"><div class="logo"><img src="/images/logo.png" alt="宿城区人民政府"></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/xwdt/index.html">新闻动态</a></li>
<li><a href="/calendar/?date=2021-07-10">活动日历</a></li><li><a href="/search?q=%E6%BF%80%E5%85%89">站内搜索</a></li></ul></div>
<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwdt/index.html">新闻动态</a></div>
<div class="article"><h1 class="title">{title}</h1>
<div class="info">发布时间：{date} 09:30 来源：宿城区融媒体中心 <a href="/print{'/xwdt/'}{date.replace('-', '')}.html">打印本页</a></div>
<div class="TRS_Editor">{body}</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div></div></div>
<div class="footer"><p>主办：宿迁市宿城区人民政府办公室</p><p>苏ICP备05006838号</p></div>
</body></html>"""


def list_html(n: int) -> str:
    """Column page n (0 = index.html): every fault, the aliases, and a 下一页 to page n+1."""
    links = [*ARTICLES, *FAULTS, *SAME_ARTICLE_ALIASES] if n == 0 else []
    items = "\n".join(f'<li><a href="{p}">宿城区新闻 {i}</a><span>2021-07-{10 + i % 20:02d}</span></li>'
                      for i, p in enumerate(links))
    nxt = f"/xwdt/index_{n + 1}.html"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>新闻动态_宿城区人民政府</title></head><body>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/calendar/?date=2021-07-10">活动日历</a></li>
<li><a href="/search?q=%E5%AE%BF%E5%9F%8E">搜索</a></li></ul>
<div class="list"><ul>{items}</ul></div>
<div class="page"><a href="{nxt}">下一页</a> <a href="{nxt};jsessionid=A1B2C3D4E5F6A7B8">下一页</a></div>
</body></html>"""


def _bomb(kind: str) -> bytes:
    if kind == "br":
        import brotli   # Scrapy's own dependency for br
        return brotli.compress(b"\0" * (64 * 1024 * 1024), quality=5)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31 if kind == "gzip" else 15)
    chunk = b"<p>" + b"\0" * (1024 * 1024 - 3)
    return b"".join(comp.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))) + comp.flush()


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address):
        super().__init__(address, Handler)
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.closed_port = 0
        self.bombs = {k: _bomb(k) for k in ("gzip", "deflate", "br")}

    def hit(self, path: str) -> int:
        with self.lock:
            self.hits[path] += 1
            self.times.setdefault(path, []).append(time.time())
            return self.hits[path]


class Handler(BaseHTTPRequestHandler):
    server_version = "nginx/1.12.2"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, *_args):
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
              headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        parts = urlsplit(self.path)
        path = parts.path.split(";", 1)[0]
        n = self.server.hit(parts.path + ("?" + parts.query if parts.query else ""))
        if path == "/_hits":
            report = {"hits": self.server.hits, "times": self.server.times}
            return self._send(200, json.dumps(report).encode(), "application/json")
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /admin/\n", "text/plain")
        if path in ("/", "/index.html", "/xwdt/index.html"):
            return self._send(200, list_html(0).encode())
        if path.startswith("/xwdt/index_"):
            return self._send(200, list_html(int(path[12:].split(".")[0] or 0)).encode())
        if path.startswith("/calendar/"):
            return self._calendar(parse_qs(parts.query).get("date", ["2021-07-10"])[0])
        if path == "/search":
            q = parse_qs(parts.query).get("q", [""])[0]
            links = "".join(f'<a href="/search?q={q}{i}&amp;p={n}">{q}{i}</a> ' for i in range(5))
            return self._send(200, f"<html><body><h1>搜索：{q}</h1>{links}</body></html>".encode())
        if path.startswith("/loop/"):
            return self._send(302, headers={"Location": f"/loop/{int(path[6:]) + 1}"})
        if path.startswith("/print/"):
            return self._serve_article("/xwdt/t20210710_1.html")
        fault = FAULTS.get(path)
        if fault:
            return getattr(self, "_" + fault)(path, n)
        if path in ARTICLES:
            return self._serve_article(path)
        return self._send(404, "<html><body><h1>404</h1><p>您访问的页面不存在</p></body></html>".encode())

    def _serve_article(self, path: str):
        title, date, paras = ARTICLES[path]
        if path == GBK_AS_UTF8:
            return self._send(200, article_html(title, date, paras, "utf-8").encode("gbk"), "text/html; charset=utf-8")
        if path == UTF8_AS_GB2312:
            return self._send(200, article_html(title, date, paras, "gb2312").encode("utf-8"), "text/html")
        return self._send(200, article_html(title, date, paras).encode("utf-8"))

    def _calendar(self, day: str):
        y, m, d = (int(x) for x in day.split("-"))
        t = time.mktime((y, m, d, 12, 0, 0, 0, 0, -1))
        prev, nxt = (time.strftime("%Y-%m-%d", time.localtime(t + s)) for s in (-86400, 86400))
        html = (f'<html><body><h1>活动日历 {day}</h1><a href="/calendar/?date={prev}">前一天</a> '
                f'<a href="/calendar/?date={nxt}">后一天</a></body></html>')
        return self._send(200, html.encode())

    # -- faults ------------------------------------------------------------------------
    def _slow(self, _path, _n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(2400):   # 20 minutes at most, one byte each 0.5 s
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def _reset(self, _path, _n):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _huge_stream(self, _path, _n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = ("<p>" + "宿城区新闻正文内容。" * 3000 + "</p>").encode()
        sent = 0
        try:
            while sent < 300 * 1024 * 1024:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        self.close_connection = True

    def _huge_declared(self, _path, _n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(200 * 1024 * 1024))
        self.end_headers()
        try:
            self.wfile.write(b"<html>" + b" " * 65536)
        except OSError:
            pass
        self.close_connection = True

    def _bomb_response(self, kind: str, encoding: str):
        self._send(200, self.server.bombs[kind], headers={"Content-Encoding": encoding})

    def _gzip_bomb(self, _path, _n):
        self._bomb_response("gzip", "gzip")

    def _deflate_bomb(self, _path, _n):
        self._bomb_response("deflate", "deflate")

    def _br_bomb(self, _path, _n):
        self._bomb_response("br", "br")

    def _redirect_loop(self, _path, _n):
        self._send(302, headers={"Location": "/loop/1"})

    def _redirect_metadata(self, _path, _n):
        self._send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    def _redirect_private(self, _path, _n):
        self._send(301, headers={"Location": "http://10.0.0.1/admin/"})

    def _redirect_localhost(self, _path, _n):
        port = self.server.server_address[1]
        self._send(302, headers={"Location": f"http://localhost:{port}/xwdt/t20210711_1.html"})

    def _redirect_ftp(self, _path, _n):
        self._send(302, headers={"Location": "ftp://127.0.0.2/pub/secret.html"})

    def _truncated(self, _path, _n):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", "40000")
        self.end_headers()
        self.wfile.write(article_html(*ARTICLES["/xwdt/t20210711_1.html"]).encode()[:4000])
        self.wfile.flush()
        self.close_connection = True

    def _429_then_ok(self, path, n):
        if n <= 2:
            return self._send(429, b"<html><body>Too Many Requests</body></html>", headers={"Retry-After": "1"})
        return self._serve_article(path)

    def _503_burst_then_ok(self, path, n):
        if n <= 2:   # RETRY_TIMES = 2: the third request gets through
            return self._send(503, b"<html><body>503 Service Temporarily Unavailable</body></html>")
        return self._serve_article(path)

    def _500_always(self, _path, _n):
        self._send(500, b"<html><body>500 Internal Server Error</body></html>")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.2")
    ap.add_argument("--lifetime", type=float, default=900)
    args = ap.parse_args(argv)
    server = FaultServer((args.host, 0))
    closed = socket.socket()
    closed.bind((args.host, 0))
    server.closed_port = closed.getsockname()[1]
    closed.close()   # nothing listens there: connection refused
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(json.dumps({"url": f"http://{args.host}:{server.server_address[1]}/",
                      "closed_port": server.closed_port}), flush=True)
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        if r and not os.read(0, 4096):
            break
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
