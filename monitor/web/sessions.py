"""Logged-in sessions the server knows of, so that logging out ends one for real.

The session cookie is signed, not stored: on its own, a copy taken before logout
would keep working until it expires. So a login also records a random session
id in the index's state store (``kind = web_session``, keyed by the id's SHA-256,
so the store never holds a usable cookie value), logout deletes it, and a cookie
whose id is not recorded is treated as logged out. The store outlives restarts,
so with ``NEWSMON_WEB_SECRET`` set sessions survive a restart and logouts do too.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time

from index.state import StateStore

KIND = "web_session"
SESSION_ID = "sid"            # the session cookie's field holding the id


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionRegistry:
    """Live session ids: a memory copy in front of the state store (a request asks
    the store only for an id this process has not seen)."""

    def __init__(self, state: StateStore, max_age: float):
        self.state = state
        self.max_age = max_age
        self._live: dict[str, float] = {}          # key -> expiry (epoch seconds)
        self._lock = threading.Lock()

    def start(self, user: str) -> str:
        sid = secrets.token_urlsafe(32)
        expires = time.time() + self.max_age
        self._forget_expired()
        self.state.put(KIND, _key(sid), {"user": user, "expires": expires})
        with self._lock:
            self._live[_key(sid)] = expires
        return sid

    def known(self, sid: str | None) -> bool | None:
        """From memory: True/False, or None when only the store can tell (``alive``)."""
        if not isinstance(sid, str) or not sid:
            return False
        with self._lock:
            expires = self._live.get(_key(sid))
        return None if expires is None else expires > time.time()

    def alive(self, sid: str | None) -> bool:
        known = self.known(sid)
        if known is not None:
            return known
        doc = self.state.get(KIND, _key(sid))
        if not doc or float(doc.get("expires") or 0) <= time.time():
            return False
        with self._lock:
            self._live[_key(sid)] = float(doc["expires"])
        return True

    def end(self, sid: str | None) -> None:
        if not isinstance(sid, str) or not sid:
            return
        with self._lock:
            self._live.pop(_key(sid), None)
        self.state.delete(KIND, _key(sid))

    def _forget_expired(self) -> None:
        now = time.time()
        with self._lock:
            for key in [k for k, expires in self._live.items() if expires <= now]:
                del self._live[key]
        for key, doc in self.state.scan(KIND):
            if float(doc.get("expires") or 0) <= now:
                self.state.delete(KIND, key)
