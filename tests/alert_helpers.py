"""Watches for tests about delivery, not about pacing.

The fixture sites' news is from 2016-2021, so for a watch added today every match
is backfill: one summary message per watch (``monitor.alert_policy``; the tests of
that are ``test_alert_flood.py``). Tests of the one-alert-per-story machinery
(copies, re-crawls, retries, leases, lanes) use a watch that has been running
since before that news was published: created long ago, with a window reaching
back over it, and crawls with no per-crawl burst cap (``NO_BURST``)."""
from __future__ import annotations

from conftest import run_newsmon
from monitor.alert_policy import MAX_WINDOW_HOURS

LONG_AGO = "2000-01-01T00:00:00+00:00"
NO_BURST = {"NEWSMON_ALERT_BURST": "0"}


def add_archive_watch(index_url: str, name: str, *args, **env):
    """``newsmon watch add NAME ARGS --window-hours MAX``, then dated back to 2000."""
    from index import open_index
    from monitor.watches import WatchStore

    proc = run_newsmon("watch", "add", name, *args, "--window-hours", MAX_WINDOW_HOURS, "--index", index_url,
                       **env)
    assert proc.returncode == 0, proc.stderr
    index = open_index(index_url)
    try:
        store = WatchStore(index)
        watch = store.get(name)
        watch.created = LONG_AGO
        store.replace(watch)
    finally:
        index.close()
    return proc
