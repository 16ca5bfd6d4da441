"""Processes that store into one index at once, as crawl workers do, and what the index
holds after them (``test_story_race``, ``test_concurrent_clustering``)."""
from __future__ import annotations

from index import open_index


def stored_by_processes(context, index_url: str, target, worker_args: list[tuple], timeout: float) -> list[dict]:
    """Run ``target(*args)`` in a process of ``context`` for each of ``worker_args``, all at
    once; each must exit 0 within ``timeout`` seconds. Returns the index's export lines."""
    workers = [context.Process(target=target, args=args) for args in worker_args]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout)
    for worker in workers:
        if worker.is_alive():       # (stuck: fail, and leave no process behind)
            worker.kill()
            worker.join()
    assert [w.exitcode for w in workers] == [0] * len(workers)
    with open_index(index_url) as index:
        return list(index.export())
