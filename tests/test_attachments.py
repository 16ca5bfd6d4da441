"""Attachments (issue 20, item 4): the PDF, DOC/DOCX, WPS, XLS/XLSX and OFD files notices link to are
fetched with the page, read in a worker process under limits, and searched with the article.

Files are real: made by reportlab, python-docx and openpyxl at test time, and the OLE
Word/Excel files in tests/fixtures/attachments/ made once with LibreOffice. The crawl
tests crawl a generated notices site (tests/fixtures/attachment_site.py) over real HTTP on
loopback into both backends.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))

import attachment_files as files  # noqa: E402
from conftest import run_newsmon  # noqa: E402
from pipelines.attachments import AttachmentFile, AttachmentLimits  # noqa: E402
from pipelines.attachments.extract import extract_attachment  # noqa: E402
from pipelines.attachments.runner import AttachmentWorkers  # noqa: E402

# A two-page notice: the phrase above is cut into two TextCode runs and wraps to the next line.
OFD_PAGES = [["宿城区人民政府办公室关于做好2024年汛期防汛抗旱工作的通知",
              "各乡镇人民政府、街道办事处，区各有关部门：为切实做好今年汛期防汛抗旱工作，确保人民群众生命财产安全，现将有关事项通知如下。",
              "一、压实防汛责任。各地要严格落实以行政首长负责制为核心的防汛责任制，骆马湖沿线堤防实行分段包干巡查。"],
             ["二、加强值班值守。汛期实行24小时领导带班和专人值班制度，遇有险情须在30分钟内报告区防汛抗旱指挥部办公室。",
              "宿城区人民政府办公室", "2024年5月18日"]]
LINES = ["关于2024年度宿城区激光产业园项目招标的公示", "一、项目名称：激光产业园标准厂房建设工程，预算金额1234.56万元。"]


@pytest.mark.parametrize("name, make, phrase", [
    ("tender.pdf", lambda: files.pdf(LINES), "激光产业园标准厂房建设工程"),
    ("tender-cid.pdf", lambda: files.pdf(LINES, cid_font=True), "激光产业园标准厂房建设工程"),
    ("list.docx", lambda: files.docx(LINES, [["序号", "单位"], ["1", "宿城区住建局"]]), "宿城区住建局"),
    ("list.xlsx", lambda: files.xlsx([["序号", "企业"], [1, "绿源生态农业合作社"]]), "绿源生态农业合作社"),
    ("plan.doc", lambda: files.shipped("notice.doc"), "青年路小区共计1280户"),
    ("notice.wps", lambda: files.shipped("notice.wps"), "丘陵山区小型收割机"),
    ("list.xls", lambda: files.shipped("list.xls"), "宿城区丰收农机服务队"),
    ("notice.ofd", lambda: files.ofd(OFD_PAGES), "骆马湖沿线堤防实行分段包干巡查"),
])
def test_each_kind_of_attachment_gives_its_text(name, make, phrase):
    body = make()
    got = extract_attachment(body, url=f"http://www.example.gov.cn/P0{name}", name=name)
    assert got.status == "ok", got
    assert phrase in got.text
    assert got.type == name.rsplit(".", 1)[1] and got.size == len(body) and len(got.sha256) == 64


@pytest.mark.parametrize("name, make, reason", [
    ("bomb.docx", lambda: files.zip_bomb_docx(), "zip_bomb"),
    ("secret.pdf", lambda: files.encrypted_pdf(LINES), "encrypted"),
    ("cut.pdf", lambda: files.truncated_pdf(LINES), "broken"),
    ("table.xls", lambda: files.html_as_xls([["日期", "值班人"]]), "type_mismatch"),
    ("scan.pdf", files.jpeg_as_pdf, "type_mismatch"),
    ("empty.docx", lambda: b"", "empty"),
    ("parts.ofd", lambda: files.zip_bomb_ofd(), "zip_bomb"),
    ("huge.ofd", lambda: files.zip_bomb_ofd(members=0, unpacked=128 * 1024 * 1024), "zip_bomb"),
])
def test_hostile_files_give_a_reason_and_no_text(name, make, reason):
    body = make()
    started = time.perf_counter()
    got = extract_attachment(body, url=f"http://www.example.gov.cn/{name}", name=name)
    assert (got.status, got.text) == (reason, "")
    print(f"{name}: refused in {time.perf_counter() - started:.2f}s")   # the bound is the limits, not a clock


def test_a_long_pdf_is_read_up_to_the_page_limit():
    got = extract_attachment(files.pdf(LINES, pages=5), url="http://x.gov.cn/a.pdf",
                             limits=AttachmentLimits(max_pages=2))
    assert got.status == "truncated"
    assert "第 2 页" in got.text and "第 3 页" not in got.text


def test_an_ofd_reads_as_its_paragraphs_in_page_order_up_to_the_page_limit():
    """Runs laid out by position (the file lists them bottom to top, lines cut in pieces):
    one paragraph each, page numbers dropped; past ``max_pages`` the rest is not read."""
    body = files.ofd(OFD_PAGES)
    got = extract_attachment(body, url="http://www.sc.gov.cn/P020240518.ofd", name="防汛通知.ofd")
    assert got.text.split("\n") == [p for page in OFD_PAGES for p in page]
    cut = extract_attachment(body, url="http://www.sc.gov.cn/P020240518.ofd", limits=AttachmentLimits(max_pages=1))
    assert cut.status == "truncated" and cut.text.split("\n") == OFD_PAGES[0]


def test_a_file_over_its_time_limit_is_cut_off_and_the_next_file_is_read():
    workers = AttachmentWorkers(AttachmentLimits(timeout=0.05))
    try:
        slow, measured = workers.extract(AttachmentFile(url="http://x.gov.cn/long.pdf", name="long.pdf",
                                                        body=files.pdf(LINES * 10, pages=50)))
        assert slow.status == "timeout" and measured["seconds"] == 0.05
        # The worker that took over reads the next file; with room to do it even on a loaded
        # machine (0.05 s is too short for any file when four test workers share two cores).
        workers.limits = dataclasses.replace(workers.limits, timeout=60)
        fine, _ = workers.extract(AttachmentFile(url="http://x.gov.cn/a.docx", name="a.docx",
                                                 body=files.docx(["宿城区住建局通知"])))
        assert fine.status == "ok" and "宿城区住建局通知" in fine.text
    finally:
        workers.close()


def test_attachment_links_are_found_by_path_or_anchor_text():
    from crawler.attachments import attachment_links
    html = """<div><a href="/a/P0201.pdf">招标公示</a> <a href="down.jsp?id=7">实施方案.docx</a>
              <a href="/a/P0201.pdf#page=2">again</a> <a href="/list.html">列表</a>
              <a href="mailto:x@y.cn">x.pdf</a> <a href="/img/1.jpg">图</a></div>"""
    assert attachment_links(html, "http://www.sc.gov.cn/tzgg/t1.html") == [
        ("http://www.sc.gov.cn/a/P0201.pdf", "招标公示"),
        ("http://www.sc.gov.cn/tzgg/down.jsp?id=7", "实施方案.docx")]
    assert attachment_links("<p>没有附件</p>", "http://www.sc.gov.cn/") == []


# -- a real crawl of a notices site, into both backends -----------------------------------------

@pytest.fixture(scope="module")
def notices_site(tmp_path_factory):
    from attachment_site import build_attachment_site
    from crawler.fixtures import server as fixture_server
    root = tmp_path_factory.mktemp("notices")
    gold = build_attachment_site(root / "sites")
    with fixture_server.start_fixture_sites(root=root / "sites", access_log=root / "access.log") as sites:
        yield sites, gold


def test_attachments_are_searchable_and_hostile_files_are_recorded(notices_site, index_url, tmp_path):
    sites, gold = notices_site
    sites.write_sites_file(tmp_path / "sites.yaml")
    crawl = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", index_url, "--json")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    totals = json.loads(crawl.stdout)["totals"]
    notices = gold["notices"]
    # Every notice is indexed, the "详见附件" one too, on its attachment's text.
    exported = run_newsmon("export", "--index", index_url)
    assert exported.returncode == 0, exported.stderr
    lines = {json.loads(l)["url"]: json.loads(l) for l in exported.stdout.splitlines()}
    by_path = {n["path"]: lines.get(sites.url_of(gold["site"], n["path"])) for n in notices}
    assert all(by_path.values()), [p for p, line in by_path.items() if line is None]
    only_attachment = next(n for n in notices if n.get("attachment_only"))
    assert only_attachment["phrases"]["pdf"] in by_path[only_attachment["path"]]["text"]
    # Each attachment's own phrase finds its notice, and nothing else.
    for notice in notices:
        for kind, phrase in notice.get("phrases", {}).items():
            found = run_newsmon("search", f'"{phrase}"', "--json", "--index", index_url)
            assert found.returncode == 0, found.stderr
            urls = [s["url"] for s in json.loads(found.stdout)]
            assert urls == [sites.url_of(gold["site"], notice["path"])], (kind, phrase, urls)
    # The export lists each page's attachments; a hostile file has its reason, and is counted.
    for notice in notices:
        listed = by_path[notice["path"]]["attachments"]
        assert [a["url"] for a in listed] == [sites.url_of(gold["site"], f) for f in notice["files"]][:5]
        for item in listed:
            assert set(item) >= {"name", "url", "type", "size", "sha256"}
            want = notice.get("reasons", {}).get(item["url"].rsplit("/", 1)[1], "ok")
            assert item["status"] == want, item
            if want == "ok":
                assert item["size"] > 0 and len(item["sha256"]) == 64
    for reason in ("zip_bomb", "encrypted", "broken", "http_404", "type_mismatch", "too_large"):
        assert totals.get(f"attachments/{reason}", 0) >= 1, (reason, totals)
    assert totals["attachments/over_cap"] == 2
    # The story page lists a notice's attachments with their names and links.
    from monitor.web.app import create_app
    from monitor.web.auth import Credentials
    from starlette.testclient import TestClient
    from web_server import LOOPBACK
    with_files = by_path[notices[0]["path"]]
    assert with_files["attachments"]
    with TestClient(create_app(index_url, credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get(f"/story/{with_files['story_id']}?copy={with_files['id']}")
    assert page.status_code == 200
    listed_html = page.text.split('id="attachments"', 1)[1]
    for item in with_files["attachments"]:
        assert item["url"] in listed_html
    assert totals["attachments/ok"] == 13
    # Files past the per-article cap are never fetched; the too-large one is cut off unread.
    served = [target for _s, _m, target, _code in sites.requests()]
    assert not any(t.endswith(("P020240517315.docx", "P020240517316.docx")) for t in served)
