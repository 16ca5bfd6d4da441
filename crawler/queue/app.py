"""The Celery app: Redis broker from ``NEWSMON_BROKER``, late acknowledgement, one task
prefetched per slot, and a visibility timeout above the crawl time limit (``settings.py``)."""
from __future__ import annotations

from functools import lru_cache

from crawler.queue import broker_url
from crawler.queue.settings import (ALERTS_TASK, CRAWL_TASK, DIGEST_TASK, QUEUE_NAME, QueueConfigError,
                                    restore_interval, visibility_timeout)


@lru_cache(maxsize=None)
def get_app(url: str | None = None):
    """The Celery app for ``url`` (default ``NEWSMON_BROKER``), with newsmon's tasks registered."""
    from celery import Celery

    from crawler.queue import tasks

    url = url or broker_url()
    if not url:
        raise QueueConfigError("未设置 NEWSMON_BROKER（如 redis://127.0.0.1:6379/0）")
    if not url.startswith(("redis://", "rediss://")):
        raise QueueConfigError(f"NEWSMON_BROKER={url!r} 无效：应为 redis://主机:端口/库号")
    app = Celery("newsmon", broker=url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE_NAME,
        task_acks_late=True,                  # a task leaves the queue only when its run is done
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,         # a busy worker holds no second task another could run
        task_ignore_result=True,              # the run history in the index is the result
        task_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout(),
            "unacked_restore_interval": restore_interval(),
            "unacked_restore_throttle": 1,    # sweep on every interval, not every tenth
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
    app.task(name=CRAWL_TASK, bind=True)(tasks.crawl_site_task)
    app.task(name=ALERTS_TASK, bind=True)(tasks.deliver_alerts_task)
    app.task(name=DIGEST_TASK, bind=True)(tasks.daily_digest_task)
    return app
