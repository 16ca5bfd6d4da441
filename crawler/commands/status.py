"""``newsmon status``: run history and source health per site (registered in crawler/cli.py)."""
from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help='Print {"sites": [...]} as JSON.')
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL.")
@click.option("--site", "site_names", multiple=True, help="Only this site (repeatable).")
@click.option("--failing-after", default=3, show_default=True, type=click.IntRange(1, 1000),
              help="Flag a site after this many failed runs in a row.")
def status(as_json, index_url, site_names, failing_after):
    """Per site: runs, last run, last new article, failure streak and health flags.

    Flags: failing (N failed runs in a row), silent (no new articles for much
    longer than usual), degraded (extraction suddenly worse: empty/short bodies
    or missing dates), blocked (被反爬验证拦截: the last run met an anti-bot
    challenge and got no article page), backfill (补采中: the last run did not reach the end of
    the site's lists; the next runs page on until one does).

    With NEWSMON_BROKER set (several machines) it also shows which worker ran
    each site's last run and how many tasks wait in the queue (无法读取 when
    the broker cannot be read).

    Example: newsmon status --index sqlite:///data/newsmon.db
    """
    from crawler.commands.common import open_for_command
    from index import IndexURLError
    from monitor.health import HealthConfig, source_status
    from monitor.task_queue import queue_depth
    with open_for_command(index_url, read_only=True) as index:
        try:
            statuses = source_status(index, list(site_names) or None,
                                     config=HealthConfig(failing_after=failing_after))
        except IndexURLError as exc:
            raise click.ClickException(str(exc)) from None
    depth = queue_depth()        # None without a broker; never raises
    if as_json:
        out = {"sites": [s.to_dict() for s in statuses]}
        if depth is not None:
            out["queue"] = depth.to_dict()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(format_status(statuses))
        if depth is not None:
            click.echo(depth.text())


def format_status(statuses) -> str:
    if not statuses:
        return "No runs recorded yet: run `newsmon crawl` or `newsmon schedule` first."
    names = {s.name: f"{s.title}（{s.name}）" if s.title else s.name for s in statuses}   # the slug stays: commands take it
    width = max(_width(name) for name in names.values())
    head = f"{'site':<{width}}  {'runs':>5}  {'last run':<27}  {'last new article':<16}  {'fails':>5}  health"
    lines = [head]
    for s in statuses:
        last = s.last_run
        last_text = f"{_local(last['started'])} {last['status']}" if last else "never"
        if last and last["status"] == "ok":
            last_text += f" +{last['articles_new']}"
        flags = ", ".join(flag.kind for flag in s.health) or "ok"
        lines.append(f"{names[s.name]}{' ' * (width - _width(names[s.name]))}  {s.runs:>5}  {last_text:<27}  "
                     f"{_local(s.last_new_article) if s.last_new_article else 'never':<16}  "
                     f"{s.failure_streak:>5}  {flags}")
    for s in statuses:
        for flag in s.health:
            lines.append(f"  {s.name}: {flag.kind} since {_local(flag.since)}: {flag.message}")
    for s in statuses:      # the fetch ladder's rung (crawler/ladder.py), when it is not plain HTTP
        if s.fetch_rung != "plain":
            lines.append(f"  {s.name}: 抓取方式 fetched with: {s.fetch_rung}（真实浏览器 Chromium）")
        if s.fetch_rung_memory:     # remembered for the next runs (index/fetch_rungs.py)
            lines.append(f"  {s.name}: {rung_memory_text(s.fetch_rung_memory)}")
    for s in statuses:      # several machines: the worker that ran the last run
        if s.last_run and s.last_run.get("worker"):
            lines.append(f"  {s.name}: 最近一次运行的采集节点 worker: {s.last_run['worker']}")
    for s in statuses:      # what discovery learned the site's articles by (issue 18)
        if s.article_shapes:
            lines.append(f"  {s.name}: 文章网址形态 article URL shapes: {', '.join(s.article_shapes[:5])}"
                         + (f" (+{len(s.article_shapes) - 5})" if len(s.article_shapes) > 5 else ""))
    return "\n".join(lines)


def rung_memory_text(memory: dict) -> str:
    """The remembered rung in Chinese, times in the team's zone."""
    from index.runs import CHALLENGE_LABELS
    kind = CHALLENGE_LABELS.get(memory.get("kind", ""), memory.get("kind", ""))
    return (f"自 {_local(memory['since'])} 起遇到反爬验证（{kind}，最近一次 {_local(memory['seen'])}），"
            f"之后的抓取首个页面直接用真实浏览器打开，直到 {_local(memory['until'])}；此前不再遇到验证则恢复普通请求")


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: CJK characters take two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _local(iso: str) -> str:
    """A stored UTC time shown in NEWSMON_TZ (not the server's zone), to the minute."""
    from monitor.clock import show
    return show(iso)
