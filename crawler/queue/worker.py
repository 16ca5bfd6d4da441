"""``newsmon worker``: take site runs, alert deliveries and digests from the queue.

Checks first, each failure one line in Chinese and exit 2: a broker is set and
answers, the index is the shared Elasticsearch and answers. Then Celery's worker
runs with a thread per crawl slot (each crawl is a process of its own anyway),
late acknowledgement and one task prefetched per slot (``app.py``); each task thread
hands its site run to the worker's crawl pool, ``--crawls`` runs at once over
``ceil(crawls / sites-per-process)`` long-lived crawl processes, as the scheduler does.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from crawler.crawlpool import DEFAULT_RECYCLE_AFTER, DEFAULT_SITES_PER_PROCESS
from crawler.queue import broker_url

logger = logging.getLogger("newsmon.worker")


def check_ready(index_url: str | None) -> str | None:
    """Why this machine cannot work for the queue (one line), or None."""
    from crawler.queue.app import get_app
    from crawler.queue.settings import QueueConfigError, check_shared_index
    from crawler.queue.dispatch import safe_url
    from crawler.queue.locks import redis_client
    from index import IndexURLError, StorageError, open_index

    url = broker_url()
    if not url:
        return "未设置 NEWSMON_BROKER：worker 需要任务队列，如 NEWSMON_BROKER=redis://127.0.0.1:6379/0"
    try:
        check_shared_index(index_url)
        get_app(url)
    except QueueConfigError as exc:
        return str(exc)
    try:
        redis_client(url).ping()
    except Exception as exc:  # noqa: BLE001 - whatever redis-py raises, the user gets one line
        return f"无法连接任务队列 {safe_url(url)}：{exc}"
    try:
        open_index(index_url).close()
    except (IndexURLError, StorageError) as exc:
        return f"无法打开索引：{exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    from crawler.logsetup import configure_logging

    parser = argparse.ArgumentParser(prog="newsmon worker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=os.environ.get("NEWSMON_INDEX"),
                        help="the shared Elasticsearch index URL (default NEWSMON_INDEX)")
    parser.add_argument("--crawls", type=int, default=int(os.environ.get("NEWSMON_WORKER_CRAWLS") or 1),
                        help="crawls this worker runs at once (default NEWSMON_WORKER_CRAWLS, else 1)")
    parser.add_argument("--sites-per-process", type=int, default=int(os.environ.get("NEWSMON_WORKER_SITES_PER_PROCESS")
                                                                      or DEFAULT_SITES_PER_PROCESS),
                        help="site crawls one crawl process serves at once (default NEWSMON_WORKER_SITES_PER_PROCESS, "
                             f"else {DEFAULT_SITES_PER_PROCESS}, as the scheduler)")
    parser.add_argument("--name", default=os.environ.get("NEWSMON_WORKER_NAME") or f"newsmon@{socket.gethostname()}",
                        help="this worker's name in logs and locks (default newsmon@HOST)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show Celery's own logs")
    args = parser.parse_args(argv)
    configure_logging(args.verbose, datefmt="%Y-%m-%d %H:%M:%S")
    if args.crawls < 1:
        parser.error("--crawls must be at least 1")
    if args.sites_per_process < 1:
        parser.error("--sites-per-process must be at least 1")
    problem = check_ready(args.index)
    if problem:
        print(f"错误：{problem}", file=sys.stderr)
        return 2
    if args.index:
        os.environ["NEWSMON_INDEX"] = args.index     # the crawl processes inherit it
    os.environ["NEWSMON_WORKER_NAME"] = args.name    # and record it in their runs: which worker ran what
    from crawler.queue.tasks import CRAWLS           # (its processes start with this environment, kept for good)
    CRAWLS.configure(-(-args.crawls // args.sites_per_process), min(args.sites_per_process, args.crawls),
                     DEFAULT_RECYCLE_AFTER)
    from celery.signals import worker_ready

    from crawler.queue.app import get_app
    from crawler.queue.settings import QUEUE_NAME
    from crawler.queue.dispatch import safe_url

    worker_ready.connect(lambda **_: logger.info("worker %s 就绪：任务队列 %s，每次至多 %d 个抓取（%d 个抓取进程）",
                                                 args.name, safe_url(broker_url()), args.crawls, CRAWLS.processes),
                         weak=False)
    from crawler.queue.watch import BrokerWatch
    BrokerWatch(broker_url(), f"worker {args.name}", logger).start()     # outages said in Chinese
    get_app().worker_main(["worker", "--pool=threads", f"--concurrency={args.crawls}", f"--hostname={args.name}",
                           "-Q", QUEUE_NAME, "--loglevel=" + ("DEBUG" if args.verbose else "INFO"),
                           "--without-gossip", "--without-mingle", "--without-heartbeat"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
