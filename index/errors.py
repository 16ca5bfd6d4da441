"""Storage failures, said the way a monitoring team reads them: one line, in Chinese.

A full disk, a read-only mount, a damaged file or a write lock held too long is
not a bug in newsmon, so it must not reach the user as a ``sqlite3`` traceback:
the backends raise ``StorageError`` (``StorageBusy`` for the lock), the CLI
prints its message, the web answers 503, and a crawl stops and is recorded as
failed. Whatever was committed before the failure stays; a backend rolls back
only its unfinished batch.
"""
from __future__ import annotations

import errno
import functools
import os
import sqlite3
from pathlib import Path

# Primary SQLite result codes (the low byte of the extended code).
_SQLITE_REASONS = {
    3: "read_only",     # SQLITE_PERM
    5: "busy",          # SQLITE_BUSY
    6: "busy",          # SQLITE_LOCKED
    8: "read_only",     # SQLITE_READONLY
    10: "io",           # SQLITE_IOERR
    11: "corrupt",      # SQLITE_CORRUPT
    13: "disk_full",    # SQLITE_FULL
    14: "cannot_open",  # SQLITE_CANTOPEN
    15: "io",           # SQLITE_PROTOCOL
    26: "corrupt",      # SQLITE_NOTADB
}
_OS_REASONS = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EROFS: "read_only",
               errno.EACCES: "read_only", errno.EPERM: "read_only"}
_NEARLY_FULL = 64 * 1024    # bytes free below which an I/O error is taken for a full disk


class IndexURLError(ValueError):
    """An ``--index`` / ``NEWSMON_INDEX`` value that names no usable backend."""


class IndexMissing(IndexURLError):
    """A command that only reads named an index that does not exist (``create=False``):
    it says so rather than creating an empty one and answering "no match"."""


def missing_index(url: str, where: str) -> IndexMissing:
    return IndexMissing(f"没有找到索引 {url}：{where}。请检查 --index 或 NEWSMON_INDEX，"
                        "或先运行 newsmon crawl 建立索引")


class StorageError(RuntimeError):
    """The index cannot store (or read) what it was asked to; ``reason`` is one of
    ``disk_full``, ``read_only``, ``busy``, ``io``, ``corrupt``, ``cannot_open``."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class StorageBusy(StorageError):
    """Another process held the write lock past every retry: worth trying again soon."""

    retry_after = 5     # seconds, for HTTP ``Retry-After``


def describe(reason: str, where: str, detail: str = "") -> StorageError:
    """The error for ``reason`` at ``where`` (a file), with its one-line message."""
    tail = f"（{detail}）" if detail and reason in ("io", "corrupt", "cannot_open") else ""
    message = {
        "disk_full": f"索引存储失败：磁盘空间已满（{where}）。已提交的数据不受影响，释放空间后重新运行即可",
        "read_only": f"索引存储失败：{where} 所在位置只读，无法写入（请检查挂载方式或文件权限）",
        "busy": f"索引正忙：另一个进程长时间占用 {where} 的写锁，请稍后重试",
        "io": f"索引读写出错：{where}{tail}",
        "corrupt": f"索引文件已损坏或不是 newsmon 索引：{where}{tail}",
        "cannot_open": f"无法打开索引：{where}{tail}",
    }[reason]
    return (StorageBusy if reason == "busy" else StorageError)(reason, message)


def _filesystem(path: str) -> os.statvfs_result | None:
    place = Path(path)
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        return os.statvfs(place)
    except OSError:
        return None


def _refine(reason: str, path: str) -> str:
    """SQLite says "unable to open" or "I/O error" for a read-only mount or a full disk
    it only met while creating its -shm/-wal files: ask the filesystem which it was."""
    if reason not in ("cannot_open", "io"):
        return reason
    fs = _filesystem(path)
    if fs is None:
        return reason
    if fs.f_flag & os.ST_RDONLY or not os.access(Path(path).parent, os.W_OK):
        return "read_only"
    if fs.f_bavail * fs.f_frsize < _NEARLY_FULL:
        return "disk_full"
    return reason


def sqlite_error(exc: sqlite3.Error, path: str) -> StorageError | None:
    """``exc`` as a ``StorageError``, or None when it is not about storage (a bug)."""
    reason = _SQLITE_REASONS.get((getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF)
    if reason is None:
        return None
    return describe(_refine(reason, path), path, str(exc))


def os_error(exc: OSError, path: str | os.PathLike) -> StorageError:
    reason = _OS_REASONS.get(exc.errno or 0, "io")
    return describe(_refine(reason, str(path)), str(path), exc.strerror or str(exc))


def guarded(method):
    """Method decorator for a class with ``_storage_failed(exc) -> StorageError | None``:
    a storage failure leaves the method as ``StorageError``; other errors as they are."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            error = self._storage_failed(exc)
            if error is None:
                raise
            raise error from exc
    return call
