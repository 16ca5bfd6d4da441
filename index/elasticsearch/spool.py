"""A durable, append-only, on-disk queue of bulk actions Elasticsearch has not taken.

One JSON line per action, in the order they were written; ``append`` fsyncs
before it returns, so a spooled article survives a crash of the crawler, the
machine or Elasticsearch. Replaying (``drain``) offers the lines in order and
removes exactly the ones that were delivered, rewriting the file
atomically (temp file + rename), so a replay interrupted half way resends
only what was not confirmed (ids are idempotent: resending is harmless).

Actions Elasticsearch refused for good (a mapping error, say) must not block
the queue forever: ``drain`` moves them to ``<name>.rejected.jsonl`` with the
reason, for a person to look at.

Every operation holds an exclusive ``flock`` on ``<name>.lock``, so a crawl and a
``newsmon index replay`` running at the same time never interleave lines.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


class Spool:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rejected_path = self.path.with_suffix(".rejected.jsonl")
        self._lock_path = self.path.with_suffix(".lock")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @staticmethod
    def _append_lines(path: Path, entries: list[dict]) -> None:
        data = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in entries)
        with open(path, "a", encoding="utf-8") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def append(self, entries: list[dict]) -> None:
        """Durably add ``entries`` at the tail (one write, one fsync)."""
        if entries:
            with self._locked():
                self._append_lines(self.path, entries)

    def read(self) -> list[dict]:
        """Every spooled entry, oldest first. A torn last line (crash mid-write,
        before the fsync returned) was never acknowledged and is skipped."""
        with self._locked():
            return self._read_unlocked()

    def _read_unlocked(self) -> list[dict]:
        if not self.path.exists():
            return []
        entries = []
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return entries

    def __len__(self) -> int:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0
        return len(self.read())

    def drain(self, deliver: Callable[[list[dict]], tuple[int, list[dict]]]) -> tuple[int, int, int]:
        """Offer every entry, oldest first, to ``deliver(entries) -> (handled, rejected)``:
        the first ``handled`` entries were delivered or refused for good (those are in
        ``rejected``, each with its ``reason``) and leave the spool. The lock is held
        throughout, so two replays never send or drop the same entries.
        Returns (delivered, rejected, still spooled)."""
        with self._locked():
            entries = self._read_unlocked()
            if not entries:
                return 0, 0, 0
            handled, rejected = deliver(entries)
            if rejected:
                self._append_lines(self.rejected_path, rejected)
            if handled:
                self._rewrite(entries[handled:])
            return handled - len(rejected), len(rejected), len(entries) - handled

    def _rewrite(self, remaining: list[dict]) -> None:
        if not remaining:
            self.path.unlink(missing_ok=True)
            return
        staging = self.path.with_suffix(".tmp")
        staging.unlink(missing_ok=True)
        self._append_lines(staging, remaining)
        os.replace(staging, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)            # the rename itself must survive a crash
        finally:
            os.close(directory)

    def has_entries(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def reject(self, entries: list[dict]) -> None:
        """Keep actions refused for good (each with its ``reason``) for a person to look at."""
        if entries:
            with self._locked():
                self._append_lines(self.rejected_path, entries)

    def rejected(self) -> list[dict]:
        if not self.rejected_path.exists():
            return []
        with open(self.rejected_path, encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
