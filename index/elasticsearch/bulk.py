"""Sending bulk actions: ``streaming_bulk``, retries with backoff, an exact account
of what Elasticsearch took.

``send_actions`` returns how many *leading* actions are done (indexed, or refused
for good and reported), so the caller can spool exactly the rest, in order.
Three kinds of failure:

- an item answered 429 is retried by ``streaming_bulk`` itself, with backoff;
- a whole request failing (connection refused/reset, timeout, 429/5xx) is retried
  with doubling backoff; whatever is still not confirmed after ``retries``
  attempts is left for the spool;
- an item refused with another 4xx (a mapping error, say) will fail the same way
  every time: it is reported with its reason and counted as done, so it never
  blocks the queue.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

logger = logging.getLogger("newsmon.index")


@dataclass
class BulkResult:
    handled: int                                      # leading actions that are done
    delivered: int = 0
    rejected: list[tuple[dict, str]] = field(default_factory=list)   # (action, reason)
    error: str | None = None                          # why the rest was not delivered


def _key(action: dict) -> tuple[str, str]:
    return action["_index"], action["_id"]


def _response_key(item: dict, alias_of: dict[str, str]) -> tuple[str, str]:
    (info,) = item.values()
    return alias_of.get(info.get("_index", ""), info.get("_index", "")), info.get("_id", "")


def _segments(actions: list[dict]) -> list[tuple[int, int]]:
    """Split into runs whose (index, id) keys are unique, so every response item maps
    back to one position (a replayed spool may update one document twice)."""
    bounds, start, seen = [], 0, set()
    for position, action in enumerate(actions):
        if _key(action) in seen:
            bounds.append((start, position))
            start, seen = position, set()
        seen.add(_key(action))
    bounds.append((start, len(actions)))
    return bounds


def _reason(info: dict) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        return f"{info.get('status')} {error.get('type')}: {error.get('reason')}"
    return f"{info.get('status')} {error}"


def _transient(status: int) -> bool:
    return status == 429 or status >= 500


def send_actions(client: Elasticsearch, actions: list[dict], *, alias_of: dict[str, str],
                 chunk_docs: int, chunk_bytes: int, retries: int, backoff: float) -> BulkResult:
    """Send ``actions`` (``_op_type``/``_index``/``_id`` dicts) in order.

    ``alias_of`` maps concrete index names (what bulk responses name) back to the
    aliases the actions target."""
    result = BulkResult(handled=0)
    for start, end in _segments(actions):
        done = _send_segment(client, actions[start:end], alias_of, chunk_docs, chunk_bytes,
                             retries, backoff, result)
        result.handled = start + done
        if done < end - start:
            break
    return result


def _send_segment(client, segment, alias_of, chunk_docs, chunk_bytes, retries, backoff,
                  result: BulkResult) -> int:
    position = {_key(a): i for i, a in enumerate(segment)}
    finished = [False] * len(segment)
    attempt = 0
    while True:
        todo = [a for a, done in zip(segment, finished) if not done]
        transient_item = None
        try:
            for ok, item in helpers.streaming_bulk(
                    client, todo, chunk_size=chunk_docs, max_chunk_bytes=chunk_bytes,
                    raise_on_error=False, raise_on_exception=True, max_retries=retries,
                    initial_backoff=backoff, max_backoff=backoff * 8, yield_ok=True):
                (info,) = item.values()
                index = position.get(_response_key(item, alias_of))
                if index is None:
                    continue
                if ok:
                    result.delivered += 1
                    finished[index] = True
                elif _transient(int(info.get("status", 500))):
                    transient_item = _reason(info)
                else:
                    result.rejected.append((segment[index], _reason(info)))
                    finished[index] = True
            if transient_item is None:
                break
            result.error = transient_item
        except (TransportError, ApiError) as exc:
            status = getattr(getattr(exc, "meta", None), "status", None)
            if isinstance(exc, ApiError) and status is not None and not _transient(status):
                result.error = f"{status} {exc.message}"
                break            # e.g. 400 on the whole request: retrying cannot help
            result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        if attempt >= retries:
            break
        time.sleep(backoff * (2 ** attempt))
        attempt += 1
    done = 0
    while done < len(finished) and finished[done]:
        done += 1
    return done
