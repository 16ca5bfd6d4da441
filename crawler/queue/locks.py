"""Redis locks that lapse when their holder dies, and marks for work that is done.

A lock is ``SET key owner NX PX ttl``, renewed every third of its ttl by a thread
while the holder lives, and deleted only by its owner (compare-and-delete in one
Lua call). A worker killed with SIGKILL stops renewing, so its site is free again
within ``NEWSMON_SITE_LOCK_TTL`` seconds (default 60), well before the broker hands
its task to another worker.
"""
from __future__ import annotations

import json
import logging
import os
import threading

logger = logging.getLogger("newsmon.worker")

KEY_PREFIX = "newsmon:"
DONE_TTL = 8 * 86400        # a finished run's mark outlives any late second delivery of it

RENEW_SCRIPT = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0"""
RELEASE_SCRIPT = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0"""


def redis_client(url: str):
    import redis
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, decode_responses=True)


def lock_ttl() -> float:
    raw = (os.environ.get("NEWSMON_SITE_LOCK_TTL") or "60").strip()
    try:
        return max(1.0, float(raw))
    except ValueError:
        return 60.0


class RedisLock:
    """One named lock held by ``owner`` (e.g. ``run_id@worker``) while renewed."""

    def __init__(self, client, name: str, owner: str, ttl: float | None = None, on_lost=None):
        self.client = client
        self.on_lost = on_lost          # called once if another holder took the lock
        self.key = KEY_PREFIX + "lock:" + name
        self.owner = owner
        self.ttl_ms = int((ttl or lock_ttl()) * 1000)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms):
            return False
        self._thread = threading.Thread(target=self._renew, name=f"lock {self.key}", daemon=True)
        self._thread.start()
        return True

    def holder(self) -> str | None:
        return self.client.get(self.key)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if self.client.eval(RENEW_SCRIPT, 1, self.key, self.owner, self.ttl_ms):
                    continue
                if self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms):
                    continue        # Redis lost it (restarted), no one else took it: ours again
                logger.error("锁 %s 已被 %s 持有（Redis 重启或锁过期后被取走）", self.key, self.holder())
                self.lost.set()
                if self.on_lost:
                    self.on_lost()
                return
            except Exception as exc:  # noqa: BLE001 - Redis away for a moment: try again next time
                logger.warning("锁 %s 续期失败：%s", self.key, exc)

    def release(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        try:
            self.client.eval(RELEASE_SCRIPT, 1, self.key, self.owner)
        except Exception as exc:  # noqa: BLE001 - it lapses by itself within its ttl
            logger.warning("锁 %s 释放失败（将在 %.0f 秒内自行过期）：%s", self.key, self.ttl_ms / 1000, exc)


def is_done(client, name: str) -> str | None:
    """Who finished ``name`` (a run id, a digest day), or None."""
    return client.get(KEY_PREFIX + "done:" + name)


def mark_done(client, name: str, by: str) -> None:
    client.set(KEY_PREFIX + "done:" + name, by, ex=DONE_TTL)


def note_try(client, run_id: str, by: str, at: str) -> list[dict]:
    """Record that ``by`` starts a try at run ``run_id`` (at ``at``); the earlier tries,
    oldest first. A try that finished marked the run done, so an earlier one listed
    here died (its worker killed, say) or lost its lock."""
    key = KEY_PREFIX + "tries:" + run_id
    pipe = client.pipeline()
    pipe.lrange(key, 0, -1)
    pipe.rpush(key, json.dumps({"worker": by, "started": at}))
    pipe.expire(key, DONE_TTL)
    earlier, _length, _expiry = pipe.execute()
    return [json.loads(entry) for entry in earlier]
