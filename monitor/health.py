"""Source health: is each site really being watched, or did it go quiet or break?

Read from the run history every crawl writes (``index/runs.py``). A site is
flagged when

* ``failing``: its last N runs failed in a row (default 3): unreachable, no page
  answered, crashed or timed out; or it is scheduled but has not run for 3
  periods (the scheduler is not running);
* ``silent``: no new article for much longer than its usual gap between new
  articles (3x the median gap, or 7 days while the gap is not known yet);
* ``degraded``: extraction suddenly got worse: the share of article pages with
  an empty or very short body, or with no date, jumped against the site's own
  history (a template change, an anti-bot page, a JS-only front end);
* ``blocked``: its last run met an anti-bot challenge (瑞数 412, 加速乐 521, a
  script-only page, a WAF 403, a captcha) and got no article page: not failing,
  not silent, not empty (``crawler/challenge.py``; the message is in Chinese, the
  time in ``NEWSMON_TZ``);
* ``backfill``: the site's last run did not reach the end of its lists (killed,
  page budget, time limit, fetch errors; ``index/coverage.py``), so coverage is
  partial until a later run pages down to what an earlier run completed.

``source_status`` is the one entry point: ``newsmon status``, the digest and
alerts (which list sources that went silent or broke) and the web UI call it.
``SiteStatus.to_dict()`` is design.md's ``newsmon status --json`` entry:
``{"name","runs","last_run","last_new_article","failure_streak","health":[...]}``
with ``last_run`` = ``{"started","ended","status","pages_fetched","articles_new",
"errors","blocked","worker"}`` (or null; ``worker``: the ``newsmon worker`` that ran it, null
for this machine's scheduler) and each health flag ``{"kind","message","since"}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from statistics import median

from index.runs import CHALLENGE_LABELS as LABELS
from index.runs import BLOCKED, NOT_RUN, OK, SITE_KIND, STOPPED, known_sites, recent_runs
from index.coverage import backfilling, frontier_sites, read_frontier
from index.site_shapes import article_shapes
from index.fetch_rungs import remembered_rung
from monitor.sitenames import site_titles


# What the flags and run statuses are called where people read them (web, digest, status).
HEALTH_LABELS = {"failing": "连续失败", "blocked": "被拦截", "silent": "久无新文章", "degraded": "提取变差",
                 "backfill": "补采中"}
RUN_STATUS_LABELS = {"ok": "成功", "failed": "失败", "stopped": "已停止", "timeout": "超时", "crashed": "崩溃",
                     "blocked": "被拦截", "missed": "错过", "skipped": "跳过"}


@dataclass(frozen=True)
class HealthConfig:
    failing_after: int = 3               # failed runs in a row before a site is "failing"
    silent_factor: float = 3.0           # silent after this many usual gaps without a new article
    silent_default: timedelta = timedelta(days=7)   # until 3 runs with new articles give a usual gap
    silent_min_runs: int = 2             # successful runs since the last new article, at least
    degraded_jump: float = 0.3           # share of bad pages up by this much vs the site's usual
    degraded_floor: float = 0.4          # and at least this share of the run's pages
    degraded_min_pages: int = 3          # a run with fewer extracted pages says nothing
    history: int = 50                    # runs read per site
    overdue_periods: float = 3.0         # scheduled, but no run for this many periods: failing
    overdue_slack: timedelta = timedelta(seconds=60)
    # a run on a covered site that began this recently may still be going: no backfill flag yet
    # (longer than the scheduler's default time limit of 1 h and its grace)
    running_grace: timedelta = timedelta(hours=2)


@dataclass
class HealthFlag:
    kind: str        # "failing" | "blocked" | "silent" | "degraded" | "backfill"
    message: str     # one plain sentence
    since: str       # ISO UTC: when the condition started

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "since": self.since,
                "label": HEALTH_LABELS.get(self.kind, self.kind)}


@dataclass
class SiteStatus:
    name: str
    runs: int = 0
    last_run: dict | None = None
    last_new_article: str | None = None
    failure_streak: int = 0
    health: list[HealthFlag] = field(default_factory=list)
    # the URL shapes discovery learned the site's articles by (index/site_shapes.py), most used first
    article_shapes: list[str] = field(default_factory=list)
    # how its pages are fetched (crawler/ladder.py): "plain" HTTP or a real "browser"
    fetch_rung: str = "plain"
    # the rung remembered for the next runs (index/fetch_rungs.py): kind, since, seen, until; None when plain
    fetch_rung_memory: dict | None = None
    title: str = ""          # the display name (the sites file's title:), else the name

    @property
    def display_name(self) -> str:
        return self.title or self.name

    def to_dict(self) -> dict:
        return {"name": self.name, "runs": self.runs, "last_run": self.last_run,
                "last_new_article": self.last_new_article, "failure_streak": self.failure_streak,
                "health": [flag.to_dict() for flag in self.health], "article_shapes": self.article_shapes,
                "fetch_rung": self.fetch_rung, "fetch_rung_memory": self.fetch_rung_memory,
                "title": self.display_name}


def source_status(index, site_names: list[str] | None = None, now: datetime | None = None, *,
                  config: HealthConfig | None = None) -> list[SiteStatus]:
    """Status and health flags per site (``site_names``, else every site with history), in name order."""
    config = config or HealthConfig()
    now = now or datetime.now(timezone.utc)
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    state = index.state
    names = list(site_names) if site_names is not None else sorted(
        set(known_sites(state)) | set(frontier_sites(state)))   # a first run killed left no run record
    titles = site_titles(state)
    statuses = [site_status(state, name, now, config) for name in names]
    for status in statuses:
        status.title = titles.get(status.name, "")
    return statuses


def site_status(state, name: str, now: datetime, config: HealthConfig) -> SiteStatus:
    totals = state.get(SITE_KIND, name) or {}
    docs = recent_runs(state, name, limit=config.history)      # newest first, skipped/missed too
    runs = [r for r in docs if r["status"] not in NOT_RUN]
    status = SiteStatus(name=name, runs=totals.get("runs", len(runs)),
                        last_new_article=totals.get("last_new_article"))
    if runs:
        last = runs[0]
        status.last_run = {"started": last["started"], "ended": last.get("ended"), "status": last["status"],
                           "pages_fetched": last.get("pages_fetched", 0),
                           "articles_new": last.get("articles_new", 0), "errors": last.get("errors", {}),
                           "blocked": last.get("blocked", {}), "worker": last.get("worker")}
    failed = _failure_streak(runs)
    status.failure_streak = len(failed)
    if len(failed) >= config.failing_after:
        status.health.append(_failing_flag(failed))
    blocked = _blocked_flag(runs)
    if blocked:
        status.health.append(blocked)
    status.fetch_rung = totals.get("rung") or (runs[0].get("rung") if runs else None) or "plain"
    status.fetch_rung_memory = remembered_rung(state, name, now)
    overdue = None if totals.get("retired") else _overdue_flag(docs, now, config)
    if overdue:
        status.health.append(overdue)
    silent = _silent_flag(runs, status.last_new_article, now, config)
    if silent:
        status.health.append(silent)
    status.health.extend(_degraded_flags(runs, config))
    # A failing or blocked site cannot make backfill progress: that flag says why already.
    backfill = (None if any(f.kind in ("failing", "blocked") for f in status.health)
                else _backfill_flag(read_frontier(state, name), now, config))
    if backfill:
        status.health.append(backfill)
    status.article_shapes = article_shapes(state, name)
    return status


def _backfill_flag(frontier: dict, now: datetime, config: HealthConfig) -> HealthFlag | None:
    """For the monitoring team, in Chinese, times in Beijing time. A site covered before
    is not flagged while its run may still be going; one never covered is."""
    if not backfilling(frontier):
        return None
    if (frontier.get("running") and frontier.get("complete_run") and frontier.get("run")
            and now - _time(frontier["run"]) < config.running_grace):
        return None
    done = (f"最近一次完整覆盖：{_beijing(frontier['completed_at'])}" if frontier.get("completed_at")
            else "此前还没有运行完整翻完过列表")
    return HealthFlag("backfill",
                      f"补采中…：上次运行没有翻完列表（{frontier.get('reason') or '原因未记录'}），"
                      f"后续运行会越过已知文章继续翻页，直到此前完整覆盖的深度；{done}。",
                      frontier.get("since") or frontier.get("run") or "")


def _beijing(text: str) -> str:
    """In NEWSMON_TZ (Beijing time by default), to the minute, as every time shown."""
    from monitor.clock import show
    return show(_time(text))


def _failure_streak(runs: list[dict]) -> list[dict]:
    """The failed runs since the last good one, newest first (a run stopped with the
    scheduler, or missed by it, says nothing about the site)."""
    streak = []
    for run in runs:
        if run["status"] in (STOPPED, BLOCKED):    # blocked is its own flag, not a failure
            continue
        if run["status"] == OK:
            break
        streak.append(run)
    return streak


def _failing_flag(failed: list[dict]) -> HealthFlag:
    last = failed[0]
    why = "，".join(f"{kind} {n} 次" for kind, n in sorted(last.get("errors", {}).items())) or last.get("message") or ""
    message = (f"最近 {len(failed)} 次运行连续失败（最近一次：{RUN_STATUS_LABELS.get(last['status'], last['status'])}"
               + (f"；{why}" if why else "") + "）。")
    return HealthFlag("failing", message, failed[-1]["started"])


def _blocked_flag(runs: list[dict]) -> HealthFlag | None:
    """The last run was blocked by an anti-bot challenge: since the first of those runs in a row."""
    from monitor.clock import show
    streak = []
    for run in runs:
        if run["status"] == STOPPED:
            continue
        if run["status"] != BLOCKED:
            break
        streak.append(run)
    if not streak:
        return None
    kinds = "、".join(LABELS.get(kind, kind) for kind in streak[0].get("blocked") or {}) or "反爬验证"
    since = streak[-1]["started"]
    return HealthFlag("blocked", f"被反爬验证拦截，自 {show(since)} 起（{kinds}；连续 {len(streak)} 次运行未取得文章，"
                                 "不是“没有新文章”）。", since)


def _overdue_flag(docs: list[dict], now: datetime, config: HealthConfig) -> HealthFlag | None:
    """A scheduled site with no run (not even a skipped one) for several periods: the
    scheduler is not running, so an empty day would mean nothing."""
    period = next((d["period_s"] for d in docs if d.get("trigger") == "scheduled" and d.get("period_s")), None)
    if not period:
        return None
    quiet = now - _time(docs[0]["started"])
    if quiet <= timedelta(seconds=period * config.overdue_periods) + config.overdue_slack:
        return None
    return HealthFlag("failing", f"已 {_span(quiet)}没有运行，而它应每 {_span(timedelta(seconds=period))}采集一次："
                                 "调度器（newsmon schedule）是否在运行？",
                      docs[0]["started"])


def _silent_flag(runs: list[dict], last_new: str | None, now: datetime, config: HealthConfig) -> HealthFlag | None:
    if not last_new:
        return None
    quiet_runs = [r for r in runs if r["status"] == OK and r["started"] > last_new]
    if len(quiet_runs) < config.silent_min_runs:
        return None      # not crawled enough since: a crawl problem, not a quiet source
    productive = sorted(r["started"] for r in runs if r["status"] == OK and r.get("articles_new"))
    gaps = [(_time(b) - _time(a)).total_seconds() for a, b in zip(productive, productive[1:])]
    usual = timedelta(seconds=median(gaps)) if len(gaps) >= 2 else None
    limit = usual * config.silent_factor if usual else config.silent_default
    quiet_for = now - _time(last_new)
    if quiet_for <= limit:
        return None
    usual_text = f"它通常每 {_span(usual)}就有新文章" if usual else "还不知道它通常多久更新一次"
    return HealthFlag("silent", f"已 {_span(quiet_for)}没有新文章（期间运行 {len(quiet_runs)} 次）；{usual_text}。",
                      last_new)


_MEASURES = (
    ("body", ("empty_body", "short_body"), "正文为空或过短"),
    ("date", ("no_date",), "没有发布日期"),
)


def _degraded_flags(runs: list[dict], config: HealthConfig) -> list[HealthFlag]:
    measured = [r for r in runs if r["status"] == OK
                and r.get("quality", {}).get("articles", 0) >= config.degraded_min_pages]
    flags = []
    for _name, keys, what in _MEASURES:
        shares = [sum(r["quality"].get(k, 0) for k in keys) / r["quality"]["articles"] for r in measured]
        streak = _degraded_streak(shares, config)
        if streak:
            last = measured[0]["quality"]
            bad = sum(last.get(k, 0) for k in keys)
            usual = median(shares[streak:streak + 10])
            flags.append(HealthFlag(
                "degraded",
                f"提取质量下降：最近一次运行的 {last['articles']} 个文章页中有 {bad} 个{what}"
                f"（通常占 {usual:.0%}）；网站模板可能改了。",
                measured[streak - 1]["started"]))
    return flags


def _degraded_streak(shares: list[float], config: HealthConfig) -> int:
    """How many of the newest measurements (newest first) are degraded against the ones before."""
    best = 0
    for k in range(1, len(shares)):
        base = median(shares[k:k + 10])
        if all(s - base >= config.degraded_jump and s >= config.degraded_floor for s in shares[:k]):
            best = k       # the longest such streak: its base is the site's usual
    return best


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _span(delta: timedelta | None) -> str:
    seconds = int(delta.total_seconds()) if delta else 0
    for unit, size in ((" 天", 86400), (" 小时", 3600), (" 分钟", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0 ", " ")
    return f"{seconds} 秒"
