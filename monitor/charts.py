"""Volume over time as inline SVG: articles per day for a source or a watch, server-rendered.

The web pages run no script (the CSP forbids it), so the chart is markup: one bar
per day of the last ``DAYS`` days in ``NEWSMON_TZ``, ending today. A day with no
article keeps its place with a thin grey mark (a gap is something to see, not a
missing bar), and a day whose crawl runs all failed or were blocked gets a red or
orange mark above its bar, from the run history (``index.runs``). Colours are SVG
presentation attributes, which the CSP allows (it forbids inline ``style``).

Accessible: ``role="img"`` with ``<title>`` and ``<desc>`` (the totals in words),
a ``<title>`` per bar (``12月5日：5 篇``), axis labels in Chinese. The counting is
the index's (``IndexBackend.count_by_day``); this module only lays out the days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from markupsafe import Markup

from index.runs import BLOCKED, CRASHED, FAILED, OK, RUN_KIND, TIMEOUT
from monitor.clock import local, local_day, zone

DAYS = 30
WIDTH, HEIGHT = 660, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 40        # margins around the plot area
BAR_FILL, GAP_FILL = "#2b6cb0", "#c3c9d1"
MARK_FILL = {FAILED: "#c53030", BLOCKED: "#dd6b20"}
MARK_LABEL = {FAILED: "采集失败", BLOCKED: "被反爬拦截"}
_FAILED_STATUSES = (FAILED, CRASHED, TIMEOUT)
_RUN_SCAN_LIMIT = 5000       # runs read per site: 30 days at one run every 10 minutes, with room


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int
    run: str | None = None          # FAILED or BLOCKED when every run that day was; else None


def window(days: int = DAYS, today: date | None = None) -> tuple[date, date]:
    """The first and last day (inclusive) of the chart: ``days`` days ending today in ``NEWSMON_TZ``."""
    last = today or local_day()
    return last - timedelta(days=days - 1), last


def day_series(counts: dict[str, int], first: date, last: date,
               runs: dict[str, str] | None = None) -> list[DayCount]:
    """Every day from ``first`` to ``last``, with 0 where ``counts`` has none."""
    runs = runs or {}
    days = []
    day = first
    while day <= last:
        key = day.isoformat()
        days.append(DayCount(day, int(counts.get(key, 0)), runs.get(key)))
        day += timedelta(days=1)
    return days


def run_marks(state, site: str, first: date, last: date) -> dict[str, str]:
    """``{day: FAILED|BLOCKED}`` for the days (``NEWSMON_TZ``) on which the site ran and no
    run succeeded: blocked when a challenge stopped any of them, else failed."""
    seen: dict[str, set[str]] = {}
    for _key, doc in state.scan(RUN_KIND, f"{site}/", reverse=True, limit=_RUN_SCAN_LIMIT):
        moment = local(doc.get("started"))
        if moment is None:
            continue
        day = moment.date()
        if day < first:
            break                        # newest first: the rest is older still
        if day <= last:
            seen.setdefault(day.isoformat(), set()).add(doc.get("status") or "")
    marks = {}
    for day, statuses in seen.items():
        if OK in statuses:
            continue
        if BLOCKED in statuses:
            marks[day] = BLOCKED
        elif statuses & set(_FAILED_STATUSES):
            marks[day] = FAILED
    return marks


def _nice_top(peak: int) -> int:
    """The y axis' top: the peak rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= step * factor:
                return step * factor
        step *= 10


def _day_label(day: date) -> str:
    return f"{day.month}月{day.day}日"


def volume_svg(series: list[DayCount], subject: str, chart_id: str) -> Markup:
    """The chart as an inline ``<svg>`` element; ``subject`` names what is counted
    (``来源 sucheng-gov``, ``监测「激光」``), ``chart_id`` makes its ids unique on a page."""
    total = sum(d.count for d in series)
    peak = max((d.count for d in series), default=0)
    top = _nice_top(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(series), 1)
    base_y = TOP + plot_h
    zeros = sum(1 for d in series if d.count == 0)
    marked = [d for d in series if d.run]
    first, last = (series[0].day, series[-1].day) if series else (local_day(), local_day())
    title = f"{subject}：最近 {len(series)} 天每天的文章数"
    desc = (f"{_day_label(first)}至{_day_label(last)}（{zone()}）共 {total} 篇"
            + (f"，最多一天 {peak} 篇（{'、'.join(_day_label(d.day) for d in series if d.count == peak)}）" if peak else "")
            + f"，{zeros} 天为 0 篇"
            + (f"，{len(marked)} 天采集失败或被拦截" if marked else "") + "。")
    tid, did = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="volume-chart" id="{escape(chart_id)}" '
             f'role="img" aria-labelledby="{escape(tid)} {escape(did)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" data-total="{total}">',
             f'<title id="{escape(tid)}">{escape(title)}</title>',
             f'<desc id="{escape(did)}">{escape(desc)}</desc>']
    # y axis: 0, half, top, with grid lines
    for value in sorted({0, top // 2 if top >= 2 else 0, top}):
        y = base_y - plot_h * value / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#4a5568">{value}</text>')
    parts.append(f'<text x="12" y="{TOP + plot_h / 2:.1f}" font-size="12" fill="#2d3748" text-anchor="middle" '
                 f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})">篇数</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base_y}" y2="{base_y}" stroke="#4a5568" stroke-width="1"/>')
    for n, d in enumerate(series):
        x = LEFT + n * slot + slot * 0.15
        w = slot * 0.7
        label = f"{_day_label(d.day)}：{d.count} 篇" + (f"，{MARK_LABEL[d.run]}" if d.run else "")
        attrs = f'data-day="{d.day.isoformat()}" data-count="{d.count}"'
        if d.count:
            h = max(plot_h * d.count / top, 1.0)
            parts.append(f'<rect class="bar" {attrs} x="{x:.1f}" y="{base_y - h:.1f}" width="{w:.1f}" '
                         f'height="{h:.1f}" fill="{BAR_FILL}"><title>{escape(label)}</title></rect>')
        else:       # the gap stays visible: a thin grey mark on the axis
            parts.append(f'<rect class="gap" {attrs} x="{x:.1f}" y="{base_y - 2}" width="{w:.1f}" height="2" '
                         f'fill="{GAP_FILL}"><title>{escape(label)}</title></rect>')
        if d.run:
            parts.append(f'<rect class="run-{d.run}" data-day="{d.day.isoformat()}" data-run="{d.run}" '
                         f'x="{x:.1f}" y="{TOP - 14}" width="{w:.1f}" height="8" fill="{MARK_FILL[d.run]}">'
                         f'<title>{escape(_day_label(d.day) + "：" + MARK_LABEL[d.run])}</title></rect>')
        if n % 5 == 0 or n == len(series) - 1:
            parts.append(f'<text x="{x + w / 2:.1f}" y="{base_y + 15}" text-anchor="middle" font-size="11" '
                         f'fill="#4a5568">{d.day.month}/{d.day.day}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12" '
                 f'fill="#2d3748">日期（{escape(str(zone()))}）</text>')
    if marked:
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" font-size="11" fill="#4a5568">'
                     f'上方标记：红色 采集失败，橙色 被反爬拦截</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def source_chart(index, site: str, today: date | None = None, title: str | None = None) -> Markup:
    """A source's articles per day, with the days its crawls failed or were blocked;
    ``title``: the site's display name, when it has one."""
    first, last = window(today=today)
    counts = index.count_by_day(since=first.isoformat(), until=last.isoformat(), sites=[site])
    marks = run_marks(index.state, site, first, last)
    return volume_svg(day_series(counts, first, last, marks), f"来源 {title or site}", f"chart-source-{site}")


def watch_chart(index, watch, today: date | None = None) -> Markup:
    """A watch's matching articles per day, on its sites and regions."""
    first, last = window(today=today)
    counts = index.count_by_day(since=first.isoformat(), until=last.isoformat(), sites=watch.sites or None,
                                regions=watch.regions or None, query=watch.parsed)
    return volume_svg(day_series(counts, first, last), f"监测「{watch.name}」", f"chart-watch-{watch.name}")
