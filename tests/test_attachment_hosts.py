"""Attachments on the organisation's own file server (issue 20): a notice on
``www.sc.gov.cn`` links files on ``file.sc.gov.cn`` (same registrable domain: fetched and
searchable), on an unrelated host and a look-alike (never fetched), on a host of the same
domain that points inside (refused by network safety), and one that redirects away.

Three real servers on loopback: 127.0.0.1 the site, 127.0.0.2 its file server, 127.0.0.3
the unrelated host; the names reach them through the fake resolver (``tests/fake_dns.py``).
"""
from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import attachment_files as files  # noqa: E402
from attachment_site import _PAGE, _PROSE  # noqa: E402
from conftest import run_newsmon  # noqa: E402
from fake_dns import subprocess_env  # noqa: E402

DNS = {"www.sc.gov.cn": [["127.0.0.1"]], "file.sc.gov.cn": [["127.0.0.2"]],
       "intranet.sc.gov.cn": [["10.20.30.40"]],
       "files.example.com": [["127.0.0.3"]], "sc.gov.cn.evil-cdn.com": [["127.0.0.3"]]}
ALLOW = {"NEWSMON_ALLOW_HOSTS": "127.0.0.1,127.0.0.2,127.0.0.3"}
ON_FILE_SERVER = "桥头社区雨污分流改造工程中标候选人"
ON_UNRELATED = "不相关主机上的附件内容"
NOTICE = "/tzgg/202405/t20240520_5002001.html"


class Host(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: str, routes: dict):
        super().__init__((address, 0), _Handler)
        self.routes, self.seen = routes, []
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):
        pass

    def do_GET(self):  # noqa: N802
        self.server.seen.append(self.path)
        answer = self.server.routes.get(self.path)
        if answer is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif answer[0] == "redirect":            # ("redirect", location)
            self.send_response(302)
            self.send_header("Location", answer[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            ctype, body = answer
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture(scope="module")
def hosts():
    site, file_server, unrelated = Host("127.0.0.1", {}), Host("127.0.0.2", {}), Host("127.0.0.3", {})
    p, q, r = (h.server_address[1] for h in (site, file_server, unrelated))
    links = [(f"http://file.sc.gov.cn:{q}/fj/202405/P020240520401.pdf", "中标候选人公示.pdf"),
             (f"http://files.example.com:{r}/P020240520402.docx", "报名表.docx"),
             (f"http://sc.gov.cn.evil-cdn.com:{r}/P020240520403.docx", "附件下载.docx"),
             (f"http://intranet.sc.gov.cn:{q}/fj/P020240520404.pdf", "内部文件.pdf"),
             (f"http://file.sc.gov.cn:{q}/fj/moved/P020240520405.pdf", "更正公告.pdf")]
    fj = "".join(f'<p>附件{i + 1}：<a href="{href}">{name}</a></p>' for i, (href, name) in enumerate(links))
    title = "关于桥头社区雨污分流改造工程招标结果的公示"
    page = _PAGE.format(title=title, date="2024-05-20", body=_PROSE.format(topic="雨污分流改造"), links=fj)
    html = "text/html; charset=utf-8"
    site.routes.update({
        "/": (html, f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告_宿城区人民政府</title></head>'
                    f'<body><div class="list"><ul><li><a href="{NOTICE}">{title}</a></li></ul></div></body></html>'
                    .encode()),
        NOTICE: (html, page.encode())})
    pdf = files.pdf([f"{ON_FILE_SERVER}：宿迁市政工程有限公司，投标报价865.2万元。", "公示期三个工作日。"])
    file_server.routes.update({
        "/fj/202405/P020240520401.pdf": ("application/octet-stream", pdf),
        "/fj/moved/P020240520405.pdf": ("redirect", f"http://files.example.com:{r}/P020240520402.docx")})
    other = files.docx([ON_UNRELATED])
    unrelated.routes.update({"/P020240520402.docx": ("application/octet-stream", other),
                             "/P020240520403.docx": ("application/octet-stream", other)})
    yield p, (site, file_server, unrelated), links
    for h in (site, file_server, unrelated):
        h.shutdown()


def test_attachments_come_from_the_organisations_hosts_only(hosts, tmp_path):
    port, (site, file_server, unrelated), links = hosts
    (tmp_path / "sites.yaml").write_text(
        f"sites:\n  - name: sc-gov\n    start_urls: ['http://www.sc.gov.cn:{port}/']\n    download_delay: 0\n",
        encoding="utf-8")
    index = f"sqlite:///{tmp_path}/newsmon.db"
    crawl = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", index, "--json", timeout=300,
                        **ALLOW, **subprocess_env(DNS))
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    (notice,) = [json.loads(x) for x in run_newsmon("export", "--index", index).stdout.splitlines() if x.strip()]
    status = {a["url"]: a["status"] for a in notice["attachments"]}
    assert status == {links[0][0]: "ok", links[1][0]: "offsite", links[2][0]: "offsite",
                      links[3][0]: "unsafe_url", links[4][0]: "offsite"}, status
    found = json.loads(run_newsmon("search", f'"{ON_FILE_SERVER}"', "--json", "--index", index).stdout)
    assert [s["url"] for s in found] == [f"http://www.sc.gov.cn:{port}{NOTICE}"]
    assert json.loads(run_newsmon("search", f'"{ON_UNRELATED}"', "--json", "--index", index).stdout) == []
    assert unrelated.seen == []     # neither the link nor the file server's redirect reached it
    assert "/fj/202405/P020240520401.pdf" in file_server.seen
