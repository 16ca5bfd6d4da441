"""The operational state store (``backend.state``) behaves the same on both backends:
what the scheduler's run history, watches and sent-alert marks rely on."""
from __future__ import annotations

import multiprocessing

import pytest

from index import open_index
from index.state import StateError, StateStore


@pytest.fixture
def backend(index_url):
    index = open_index(index_url)
    yield index
    index.close()


def test_every_backend_has_a_state_store(backend):
    assert isinstance(backend.state, StateStore)


def test_put_get_replace_delete(backend):
    state = backend.state
    assert state.get("watch", "激光产业园") is None
    state.put("watch", "激光产业园", {"query": '"产业园" OR 激光 -招聘', "emails": ["a@example.org"]})
    assert state.get("watch", "激光产业园") == {"query": '"产业园" OR 激光 -招聘', "emails": ["a@example.org"]}
    state.put("watch", "激光产业园", {"query": "激光"})
    assert state.get("watch", "激光产业园") == {"query": "激光"}
    assert state.delete("watch", "激光产业园") is True
    assert state.delete("watch", "激光产业园") is False
    assert state.get("watch", "激光产业园") is None


def test_add_inserts_once_and_never_overwrites(backend):
    state = backend.state
    assert state.add("alert", "laser/s-0001", {"sent": "2026-11-23T08:00:00+00:00"}) is True
    assert state.add("alert", "laser/s-0001", {"sent": "later"}) is False
    assert state.get("alert", "laser/s-0001") == {"sent": "2026-11-23T08:00:00+00:00"}
    # Same key, other kind: a different entry.
    assert state.add("digest", "laser/s-0001", {}) is True


def test_scan_by_prefix_in_key_order_with_reverse_and_limit(backend):
    state = backend.state
    runs = {
        "pingqiao-gov/2026-11-22T23:30:00+00:00/r3": {"status": "ok", "pages": 12},
        "sucheng-gov/2026-11-22T22:00:00+00:00/r1": {"status": "failed", "pages": 0},
        "sucheng-gov/2026-11-22T22:30:00+00:00/r2": {"status": "ok", "pages": 40},
        "sucheng-gov/2026-11-23T00:00:00+00:00/r4": {"status": "ok", "pages": 38},
        "sucheng-gov2/2026-11-22T21:00:00+00:00/r0": {"status": "ok", "pages": 1},
    }
    for key, doc in runs.items():
        state.put("run", key, doc)
    state.put("watch", "sucheng-gov/not-a-run", {})

    keys = [k for k, _ in state.scan("run", "sucheng-gov/")]
    assert keys == ["sucheng-gov/2026-11-22T22:00:00+00:00/r1", "sucheng-gov/2026-11-22T22:30:00+00:00/r2",
                    "sucheng-gov/2026-11-23T00:00:00+00:00/r4"]
    latest = state.scan("run", "sucheng-gov/", reverse=True, limit=1)
    assert latest == [("sucheng-gov/2026-11-23T00:00:00+00:00/r4", {"status": "ok", "pages": 38})]
    assert [k for k, _ in state.scan("run")] == sorted(runs)
    assert state.scan("run", "nosuch/") == []
    assert state.scan("run", limit=0) == []


def test_scan_pages_past_one_search_page(backend):
    state = backend.state
    for n in range(1003):
        state.put("new_story", f"2026-11-22T{n // 60:02d}:{n % 60:02d}:00/s{n:05d}", {"n": n})
    found = state.scan("new_story")
    assert len(found) == 1003
    assert [doc["n"] for _, doc in found] == list(range(1003))
    assert [doc["n"] for _, doc in state.scan("new_story", reverse=True, limit=1001)][:3] == [1002, 1001, 1000]


def test_state_survives_reopening(index_url):
    index = open_index(index_url)
    index.state.put("run", "sucheng-gov/2026-11-23T00:00:00+00:00/r1", {"status": "ok"})
    index.close()
    index = open_index(index_url)
    try:
        assert index.state.get("run", "sucheng-gov/2026-11-23T00:00:00+00:00/r1") == {"status": "ok"}
    finally:
        index.close()


def test_bad_entries_are_refused_with_a_message(backend):
    with pytest.raises(StateError, match="key"):
        backend.state.put("run", "", {})
    with pytest.raises(StateError, match="longer than 500"):
        backend.state.put("run", "x" * 501, {})
    with pytest.raises(StateError, match="not JSON"):
        backend.state.put("run", "k", {"when": object()})


def _claim(index_url: str, key: str, results) -> None:
    index = open_index(index_url)
    try:
        results.put(index.state.add("alert", key, {"by": multiprocessing.current_process().name}))
    finally:
        index.close()


def test_add_is_atomic_across_processes(index_url):
    """Two crawls indexing the same story at once: exactly one may send the alert."""
    open_index(index_url).close()          # create the database / indices first
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    workers = [ctx.Process(target=_claim, args=(index_url, "laser/s-race", results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    claimed = sorted(results.get(timeout=5) for _ in workers)
    assert claimed == [False, False, False, True]
