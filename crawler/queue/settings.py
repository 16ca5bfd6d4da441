"""Multi-machine settings, shared by the scheduler's side and the workers' side.

Settings (environment, the same on the scheduler's and every worker's machine):
``NEWSMON_BROKER`` (``redis://host:6379/0``), ``NEWSMON_QUEUE_VISIBILITY_TIMEOUT``
(seconds an unacknowledged task stays with its worker before the broker hands it
to another; default 3900 = the default crawl limit 3600 + 300), and
``NEWSMON_QUEUE_RESTORE_INTERVAL`` (seconds between the workers' sweeps for such
tasks; default 10).
"""
from __future__ import annotations

import os

from index import IndexURLError

from crawler.queue import broker_url

QUEUE_NAME = "newsmon"
CRAWL_TASK = "newsmon.crawl_site"
ALERTS_TASK = "newsmon.deliver_alerts"
DIGEST_TASK = "newsmon.daily_digest"
DEFAULT_VISIBILITY = 3900.0
RUN_MARGIN = 60.0       # at most this many seconds of the visibility timeout go to a hard stop and the record


class QueueConfigError(IndexURLError):
    """A setting that makes multi-machine mode unusable (one line, in Chinese)."""


def _seconds(name: str, default: float) -> float:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise QueueConfigError(f"{name}={raw!r} 无效：应为正数（秒）")
    return value


def visibility_timeout() -> float:
    return _seconds("NEWSMON_QUEUE_VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY)


def run_margin() -> float:
    """Seconds a crawl keeps free below the visibility timeout, for its hard stop and run record."""
    return min(RUN_MARGIN, visibility_timeout() * 0.25)


def crawl_limit(requested: float) -> float:
    """The time limit a worker gives a crawl: as asked, but always ending (hard stop and
    run record included) before the broker would hand the task to another worker."""
    return min(requested, visibility_timeout() - run_margin())


def check_shared_index(index_url: str | None) -> None:
    """With a broker, every machine must write one shared index (Elasticsearch)."""
    if not broker_url():
        return
    url = index_url or os.environ.get("NEWSMON_INDEX") or "sqlite:///data/newsmon.db"
    if not url.startswith(("http://", "https://")):
        raise QueueConfigError(f"已设置 NEWSMON_BROKER（多机运行），索引必须是共享的 Elasticsearch（http://…），"
                               f"不能用本机的 {url.split('://')[0]} 索引 {url}")


def restore_interval() -> float:
    return _seconds("NEWSMON_QUEUE_RESTORE_INTERVAL", 10.0)
