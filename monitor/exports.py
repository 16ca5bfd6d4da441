"""A search as a spreadsheet: CSV (UTF-8 with BOM) and XLSX (openpyxl), one row per story.

The rows are the search's stories in its order (``index.story_search``: date or
relevance), read a batch at a time, so neither format holds the whole result:
CSV goes out line by line, XLSX is written by openpyxl's write-only workbook to a
spooled temporary file and sent from there. At most ``MAX_ROWS`` stories; a
longer result ends with a note row saying how many matched and how to get the rest.

Every text cell comes from crawled pages, so it is untrusted: a cell that starts
with ``=``, ``+``, ``-``, ``@`` (or a tab/carriage return) would be run as a
formula by Excel or WPS (``=HYPERLINK(...)`` sending the sheet elsewhere). CSV
cells get a leading apostrophe (OWASP's advice: Excel shows the text, runs
nothing); XLSX cells are typed as strings, which a spreadsheet never evaluates.
Excel on Chinese Windows reads a CSV without a BOM as GBK, hence the BOM.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Iterator

from index.base import IndexBackend, order_copies
from index.query import Query, make_snippet
from index.story_search import StoryMatch, order_matches
from monitor.clock import local, parse, show, utc_now, zone

MAX_ROWS = 5000           # stories per export: a bigger one is a sign the filters are missing
MAX_ROWS_ENV = "NEWSMON_EXPORT_MAX_ROWS"
BATCH = 100               # stories read from the index at a time
COLUMNS = ("标题", "来源", "地区", "发布时间", "链接", "同一报道条数", "转载站点数", "其他来源", "摘要", "报道编号")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (so XLSX) cannot hold; crawled titles do carry them now and then.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WIDTHS = (48, 16, 20, 17, 50, 12, 10, 24, 60, 20)   # XLSX column widths, in characters


@dataclass
class ExportRequest:
    """What to export: a parsed query and the search's filters and order."""

    query: Query
    q: str = ""
    sites: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    sort: str = "date"


@dataclass
class StoryRow:
    """One story as a row; ``published`` stays a time (XLSX writes it as a date cell)."""

    title: str
    site: str
    region: str
    published: datetime | date | None
    published_text: str          # as the page gave it, when it is no time at all
    url: str
    copies: int
    sites: int
    other_sites: str
    snippet: str
    story_id: str

    def cells(self) -> list:
        shown = show(self.published) if self.published else self.published_text
        return [self.title, self.site, self.region, shown, self.url, self.copies, self.sites,
                self.other_sites, self.snippet, self.story_id]


@dataclass
class Export:
    """An export about to be written: the rows (read lazily) and how many matched."""

    request: ExportRequest
    total: int
    matches: list[StoryMatch]
    index: IndexBackend

    @property
    def truncated(self) -> bool:
        return self.total > len(self.matches)

    def note(self) -> str | None:
        if not self.truncated:
            return None
        shown = len(self.matches)
        return (f"注：共有 {self.total} 条报道符合条件，只导出了前 {shown} 条（每次导出上限 {shown} 条，"
                f"可用 {MAX_ROWS_ENV} 调整）。请缩小时间范围或加上站点、地区条件后分批导出。")

    def rows(self) -> Iterator[StoryRow]:
        terms = self.request.query.positive_terms
        for start in range(0, len(self.matches), BATCH):
            for match in self.matches[start:start + BATCH]:
                copies = order_copies(self.index.story_copies(match.story_id))
                if copies:                    # removed since it matched: left out
                    yield story_row(copies, match, terms)


def max_rows() -> int:
    """The row cap: ``NEWSMON_EXPORT_MAX_ROWS`` (a whole number >= 1), else ``MAX_ROWS``."""
    try:
        return max(1, int(os.environ.get(MAX_ROWS_ENV) or MAX_ROWS))
    except ValueError:
        return MAX_ROWS


def plan_export(index: IndexBackend, request: ExportRequest, cap: int | None = None) -> Export:
    """Which stories an export holds: the search's matches in its order, the first ``cap``."""
    matches = index.match_stories(request.query, sites=request.sites or None, regions=request.regions or None,
                                  since=request.since, until=request.until)
    ordered = order_matches(matches, request.sort)
    return Export(request=request, total=len(ordered), matches=ordered[:cap or max_rows()], index=index)


def story_row(copies: list, match: StoryMatch, terms: list[str]) -> StoryRow:
    head = copies[0]
    matched = next((c for c in copies if c.id == match.article_id), head)
    sites = list(dict.fromkeys(c.site for c in copies))
    published = parse(head.published)
    return StoryRow(title=head.title, site=head.site, region=head.region or "", published=published,
                    published_text=head.published or "", url=head.url, copies=len(copies), sites=len(sites),
                    other_sites="、".join(s for s in sites if s != head.site),
                    snippet=make_snippet(matched.text, terms).replace("\n", " "), story_id=head.story_id)


def neutralise(value):
    """A text cell a spreadsheet will show, never run: a formula-looking start gets an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def filename(request: ExportRequest, fmt: str) -> str:
    """``newsmon-激光产业园-20261206-1217.csv``: the query (its first 30 characters, no
    path or quote characters) and the export time in ``NEWSMON_TZ``."""
    words = re.sub(r"[\\/:*?\"<>|\s'`]+", "_", request.q).strip("_")[:30] or "search"
    return f"newsmon-{words}-{utc_now().astimezone(zone()):%Y%m%d-%H%M}.{fmt}"


# -- CSV ---------------------------------------------------------------------------------------

def csv_chunks(export: Export) -> Iterator[bytes]:
    """The CSV, a few rows per chunk: BOM and header first, the note row last (if cut short)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")   # Excel's own line ends
    writer.writerow(COLUMNS)
    yield b"\xef\xbb\xbf" + _drain(buffer)
    for n, row in enumerate(export.rows(), 1):
        writer.writerow([neutralise(cell) for cell in row.cells()])
        if n % BATCH == 0:
            yield _drain(buffer)
    note = export.note()
    if note:
        writer.writerow([note])
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


# -- XLSX --------------------------------------------------------------------------------------

def write_xlsx(export: Export, out: IO[bytes]) -> None:
    """The workbook: sheet 报道 (header, one row per story, the note row when cut short) and
    sheet 说明 (the query, filters, time of export, counts). Write-only: rows go to disk as written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("报道")
    for n, width in enumerate(_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, name, WriteOnlyCell, font=bold) for name in COLUMNS])
    for row in export.rows():
        cells = [_cell(sheet, value, WriteOnlyCell) for value in row.cells()]
        when = _spreadsheet_time(row.published)
        if when is not None:
            cells[3] = WriteOnlyCell(sheet, value=when)
            cells[3].number_format = "yyyy-mm-dd hh:mm" if isinstance(when, datetime) else "yyyy-mm-dd"
        if row.url.startswith(("http://", "https://")):
            cells[4].hyperlink = row.url
        sheet.append(cells)
    note = export.note()
    if note:
        sheet.append([_cell(sheet, note, WriteOnlyCell, font=bold)])
    about = book.create_sheet("说明")
    request = export.request
    for label, value in (("查询", request.q), ("站点", "、".join(request.sites) or "全部"),
                         ("地区", "、".join(request.regions) or "全部"), ("起始日期", request.since or "不限"),
                         ("截止日期", request.until or "不限"), ("排序", "相关度" if request.sort == "relevance" else "发布时间"),
                         ("导出时间", show(utc_now())), ("时区", str(zone())),
                         ("符合条件的报道", export.total), ("导出的报道", len(export.matches)),
                         ("说明", note or "全部导出")):
        about.append([_cell(about, label, WriteOnlyCell, font=bold), _cell(about, value, WriteOnlyCell)])
    book.save(out)


def xlsx_file(export: Export) -> IO[bytes]:
    """The workbook in a temporary file (in memory up to 8 MiB, then on disk), rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    write_xlsx(export, out)
    out.seek(0)
    return out


def _cell(sheet, value, cell_type, font=None):
    """A write-only cell; text is typed as a string, so ``=…`` stays text and is never a formula."""
    if isinstance(value, str):
        cell = cell_type(sheet, value=None)
        cell.value = _NOT_XML.sub("", value)
        cell.data_type = "s"
    else:
        cell = cell_type(sheet, value=value)
    if font is not None:
        cell.font = font
    return cell


def _spreadsheet_time(value: datetime | date | None) -> datetime | date | None:
    """Spreadsheets hold no time zones: the moment as a wall-clock time in ``NEWSMON_TZ``."""
    if isinstance(value, datetime):
        return local(value).replace(tzinfo=None)
    return value
