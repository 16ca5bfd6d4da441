"""How deep the task queue is (issue 23): what ``newsmon status`` and the Sources page show.

With ``NEWSMON_BROKER`` set, site runs wait as Celery tasks on a Redis broker.
kombu keeps a queue's waiting tasks in Redis lists (the queue's name, plus one
list per priority step) and the tasks workers took but have not finished in the
``unacked`` hash, so two cheap reads give "queued" and "running". Reads use short
timeouts: a broker that is down makes this say "无法读取", never hang or crash a page.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

BROKER_ENV = "NEWSMON_BROKER"
QUEUE_NAME = "newsmon"            # the Celery queue (crawler/queue/settings.py uses this one)
PRIORITY_SEP = "\x06\x16"         # kombu's separator between a queue's name and its priority step
PRIORITY_STEPS = (0, 3, 6, 9)     # kombu's default steps; step 0 is the bare queue name
UNACKED_KEY = "unacked"           # kombu: tasks delivered to a worker, not yet acknowledged
READ_TIMEOUT = 2.0                # seconds: a status page waits no longer for a broker


def configured_broker() -> str | None:
    return (os.environ.get(BROKER_ENV) or "").strip() or None


def safe_url(url: str | None) -> str:
    """The broker URL without its password, for logs and pages."""
    if not url:
        return "-"
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()


def queue_keys(name: str = QUEUE_NAME) -> list[str]:
    """The Redis lists holding ``name``'s waiting tasks, one per priority step."""
    return [name if step == 0 else f"{name}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


@dataclass
class QueueDepth:
    broker: str                   # without its password
    queued: int | None = None     # waiting for a worker
    running: int | None = None    # taken by a worker, not finished
    error: str | None = None      # why it could not be read, in Chinese
    detail: str | None = None     # the client library's own words, for the operator's command line

    def to_dict(self) -> dict:
        return {"broker": self.broker, "queued": self.queued, "running": self.running, "error": self.error,
                "detail": self.detail}

    def text(self) -> str:
        if self.error:
            return f"任务队列 {self.broker}：无法读取（{self.error}：{self.detail}）"
        return f"任务队列 {self.broker}：排队 {self.queued} 个任务，运行中 {self.running} 个"


def queue_depth(url: str | None = None) -> QueueDepth | None:
    """The queue's depth, or None when no broker is configured (everything runs on one machine)."""
    url = url or configured_broker()
    if not url:
        return None
    depth = QueueDepth(broker=safe_url(url))
    try:
        import redis
        client = redis.Redis.from_url(url, socket_timeout=READ_TIMEOUT, socket_connect_timeout=READ_TIMEOUT)
        try:
            with client.pipeline(transaction=False) as pipe:
                for key in queue_keys():
                    pipe.llen(key)
                pipe.hlen(UNACKED_KEY)
                *lengths, running = pipe.execute()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - a status page reports any broker failure as one line
        depth.error, depth.detail = _reason(exc), str(exc) or type(exc).__name__
        return depth
    depth.queued, depth.running = sum(lengths), running
    return depth


def _reason(exc: Exception) -> str:
    import redis
    if isinstance(exc, redis.AuthenticationError):
        return "密码不对，认证失败"
    if isinstance(exc, redis.TimeoutError):
        return f"{READ_TIMEOUT:g} 秒内没有应答"
    if isinstance(exc, redis.ConnectionError):
        return "连接不上"
    return "读取出错"
