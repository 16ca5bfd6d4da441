"""Messages that are not one story: a watch's summary and a source's health change.

* A **summary** stands for many matches in one message: a first crawl's backfill
  (articles older than the watch's window or than the watch), a crawl's burst past
  the per-crawl cap, or -- for a webhook, which has no digest -- the day's matches
  held back by a snooze or the daily cap. It gives the counts and the newest
  ``TOP`` stories, never one message each.
* A **source** notice says a site turned failing or blocked, or recovered
  (``monitor.source_alerts``), once per change.

Both go through the same outbox as story alerts (at least once, stable ids); this
module only says what they say: the text (also a webhook robot's text), the
email and the JSON payload. Times are in ``NEWSMON_TZ`` (``monitor.clock``).
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from monitor.alert_policy import REASONS
from monitor.clock import show, zone_name
from monitor.health import HEALTH_LABELS

TOP = 10              # stories listed in a summary


def summary_doc(kind: str, stories: list[tuple[dict, str]], window_hours: int | None = None) -> dict:
    """The stored summary: ``kind`` (``backfill`` | ``digest``), counts by reason,
    and the newest ``TOP`` stories. ``stories``: (story dict, reason) pairs."""
    reasons: dict[str, int] = {}
    for _story, reason in stories:
        reasons[reason] = reasons.get(reason, 0) + 1
    newest = sorted((s for s, _r in stories), key=lambda s: (s.get("published") or "", s.get("story_id")),
                    reverse=True)
    return {"kind": kind, "total": len(stories), "reasons": reasons, "window_hours": window_hours,
            "stories": [{k: s.get(k) for k in ("story_id", "title", "url", "site", "published")}
                        for s in newest[:TOP]]}


def summary_subject(watch_name: str, summary: dict) -> str:
    what = "补录" if summary["kind"] == "backfill" else "今日转入摘要"
    return f"[newsmon] {watch_name}: {what} {summary['total']} 条匹配报道（汇总，不逐条提醒）"


def summary_text(watch_name: str, query: str, summary: dict) -> str:
    total = summary["total"]
    if summary["kind"] == "backfill":
        head = (f"newsmon 监测汇总 · {watch_name}（{query}）\n"
                f"本次抓取有 {total} 条匹配报道不逐条提醒，汇总如下：")
    else:
        head = (f"newsmon 监测汇总 · {watch_name}（{query}）\n"
                f"今天有 {total} 条匹配报道没有逐条提醒，汇总如下：")
    lines = [head]
    for reason, n in sorted(summary["reasons"].items(), key=lambda item: -item[1]):
        label = REASONS.get(reason, reason)
        if reason == "old" and summary.get("window_hours"):
            label += f"（{summary['window_hours']} 小时）"
        lines.append(f"  · {label}：{n} 条")
    shown = summary["stories"]
    lines.append(f"最新 {len(shown)} 条：" if total > len(shown) else "全部：")
    for n, story in enumerate(shown, 1):
        lines.append(f"{n:>2}. {show(story.get('published'), '----------')}  {story.get('title')}\n"
                     f"    {story.get('site')}  {story.get('url')}")
    if total > len(shown):
        lines.append(f"其余 {total - len(shown)} 条：newsmon watch test {watch_name} --days N，或见每日摘要。")
    lines.append(f"（时间为 {zone_name()} 时间）")
    return "\n".join(lines)


def _source_name(source: dict) -> str:
    """The display name and the site's name, which ``newsmon status --site`` takes."""
    title = source.get("title")
    return f"{title}（{source['site']}）" if title and title != source["site"] else source["site"]


def source_subject(source: dict) -> str:
    if source["state"] == "recovered":
        return f"[newsmon] 来源恢复：{_source_name(source)}"
    return f"[newsmon] 来源异常：{_source_name(source)}（{HEALTH_LABELS.get(source['state'], source['state'])}）"


def source_text(source: dict) -> str:
    site, state = source["site"], source["state"]
    if state == "recovered":
        head = f"newsmon 来源恢复 · {_source_name(source)}\n该来源最近一次运行已恢复正常（{show(source.get('at'))}）。"
    else:
        word = "被反爬拦截" if state == "blocked" else "连续抓取失败"
        head = f"newsmon 来源异常 · {_source_name(source)}：{word}（自 {show(source.get('since'))} 起）"
    lines = [head]
    if source.get("message"):
        lines.append(source["message"])
    lines.append(f"查看：newsmon status --site {site}（时间为 {zone_name()} 时间）")
    return "\n".join(lines)


def recipient_footer(watch: str, to: str) -> str:
    """Why this came and how to stop it, in words a recipient can act on (they may have no
    shell on the server: the web UI, or whoever runs newsmon)."""
    return (f"你收到这封邮件，是因为 newsmon 的监测「{watch}」列有 {to}。\n"
            f"不想再收到：请在 newsmon 网页的「监测」页暂停或删除「{watch}」，或请管理员处理。\n")


def notice_email(subject: str, text: str, to: str, sender: str | None, key: str, *,
                 watch: str | None = None) -> EmailMessage:
    """A plain-text notice with the same headers as a story alert (stable Message-ID)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = to
    if sender:
        message["From"] = sender
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender or "")[1].rpartition("@")[2]
    message["Message-ID"] = f"<notice.{key}@{domain or 'newsmon'}>"
    footer = "\n\n-- \n"
    if watch:
        message["List-Id"] = f"newsmon watch {watch}"
        message["X-Newsmon-Watch"] = watch
        message["List-Unsubscribe"] = f"<mailto:{sender or 'newsmon'}?subject=unsubscribe%20{watch}>"
        footer += recipient_footer(watch, to)
    else:
        message["List-Id"] = "newsmon ops"
        footer += "你收到这封邮件，是因为你是 newsmon 的运维联系人（NEWSMON_OPS_EMAIL）或某个监测的收件人。\n"
    message.set_content(text + footer)
    return message
