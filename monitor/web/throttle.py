"""Login attempts per client address and per user name, with exponential backoff.

Without a limit, 300 wrong passwords took 13 s. Now the first ``FREE`` failures
of an address or a name are evaluated as before; each failure after that locks
the key for ``BASE`` s, doubling per failure up to ``CAP``. A locked key gets 429
with ``Retry-After`` and its password is not even compared, and a refused attempt
does not lengthen the lock (a user who retries is not punished further). Success
clears both keys; a key with no failure for ``FORGET`` s starts over.

The trade-off: whoever knows the user name can keep that user locked out for up
to ``CAP`` at a time. Kept in memory: a restart forgets the counts.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

FREE = 5
BASE = 1.0
CAP = 900.0
FORGET = 3600.0
MAX_KEYS = 10_000          # addresses and names remembered; the oldest are dropped first


@dataclass
class _Failures:
    count: int
    last: float
    until: float = 0.0


def keys(ip: str, user: str | None) -> tuple[str, ...]:
    """The throttle keys of one attempt: its client address and the name it tried."""
    return (f"ip:{ip}",) + ((f"user:{user.strip().casefold()}",) if user else ())


class LoginThrottle:
    def __init__(self, *, free: int = FREE, base: float = BASE, cap: float = CAP,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, *names: str) -> int:
        """Whole seconds until all of ``names`` may try again; 0 = now."""
        now = self.clock()
        with self._lock:
            waits = [entry.until - now for entry in map(self._failures.get, names) if entry]
        return math.ceil(max([0.0, *waits]))

    def failed(self, *names: str) -> None:
        now = self.clock()
        with self._lock:
            for name in names:
                entry = self._failures.pop(name, None)
                if entry is None or now - entry.last > FORGET:
                    entry = _Failures(0, now)
                entry.count, entry.last = entry.count + 1, now
                if entry.count >= self.free:
                    entry.until = now + min(self.cap, self.base * 2 ** (entry.count - self.free))
                self._failures[name] = entry          # most recent last, so eviction drops the stalest
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, *names: str) -> None:
        with self._lock:
            for name in names:
                self._failures.pop(name, None)
