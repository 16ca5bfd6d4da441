"""Shared fixtures: the fixture mini-internet (a real HTTP server subprocess on
127.0.0.1, ports chosen by the OS) and one real crawl of it into a real index."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from browser import artifacts_dir, chromium_browser  # noqa: F401 - fixtures for browser tests

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "crawler" / "fixtures"      # the fixture mini-internet, shipped with newsmon
SHARED = REPO.parent / "shared"      # the seeds and real pages live beside the checkout


@pytest.fixture(scope="session")
def gold() -> dict:
    return json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def fixture_sites(tmp_path_factory):
    """The fixture mini-internet, with an access log so tests can see what was fetched.
    It lives as long as the session (closing its stdin stops it); the lifetime is only a
    backstop, longer than any suite run (the default 900 s ran out mid-suite)."""
    from crawler.fixtures import server as fixture_server
    log = tmp_path_factory.mktemp("fixture-server") / "access.log"
    with fixture_server.start_fixture_sites(access_log=log, lifetime=4 * 3600) as sites:
        yield sites


def newsmon_env(**extra) -> dict:
    env = dict(os.environ)
    env.update({"NEWSMON_ALLOW_HOSTS": "127.0.0.1", "NEWSMON_DOWNLOAD_DELAY": "0", "PYTHONIOENCODING": "utf-8"})
    env.update(extra)
    return env


def run_newsmon(*args, timeout: float = 300, **env) -> subprocess.CompletedProcess:
    """The real command, in its own process (Twisted's reactor runs once per process)."""
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", env=newsmon_env(**env), timeout=timeout, cwd=REPO)


@dataclass
class Crawl:
    index_url: str
    sites_file: Path
    proc: subprocess.CompletedProcess
    summary: dict
    export: list[dict]
    urls: dict[str, str]
    requests: list[tuple[str, str]]       # (site, path) the fixture server served during this crawl

    def url_of(self, site: str, path: str) -> str:
        return self.urls[site].rstrip("/") + path


def crawl_into(fixture_sites, directory: Path, *extra_args, index_url: str | None = None, **env) -> Crawl:
    sites_file = directory / "sites.yaml"
    fixture_sites.write_sites_file(sites_file)
    index_url = index_url or f"sqlite:///{directory}/newsmon.db"
    served_before = len(fixture_sites.requests())
    proc = run_newsmon("crawl", "--sites", sites_file, "--index", index_url, "--json", *extra_args, **env)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    summary = json.loads(proc.stdout)
    exported = run_newsmon("export", "--index", index_url, **env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    served = [(site, path) for site, _method, path, _status in fixture_sites.requests()[served_before:]]
    return Crawl(index_url, sites_file, proc, summary, lines, dict(fixture_sites.urls), served)


@pytest.fixture(scope="session")
def crawl(fixture_sites, tmp_path_factory) -> Crawl:
    """One full crawl of every fixture site (shared by the end-to-end tests)."""
    return crawl_into(fixture_sites, tmp_path_factory.mktemp("crawl"))


# -- pytest-xdist (make test runs -n 4 --dist loadfile --no-loadscope-reorder) -----------------
# A file's tests run on one worker, so its module fixtures (a crawl, a cluster, a server) are
# built once. The files that take minutes are handed out first, so the last file to start is
# never a long one. (Not loadgroup, which could spread a long file's independent tests: under
# pytest 9 xdist 3.8 no longer reads the groups, as it writes them into Item._nodeid.)
LONG_FIRST = ["test_workers.py", "test_workers_ops.py", "test_coverage_heals.py", "test_discovery_families.py",
              "test_attachments.py", "test_dependencies.py", "test_sites_fight_back.py",
              "test_killed_crawl_known_pages.py"]


def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):          # every worker sorts alike: the order is the queue's
        rank = {name: i for i, name in enumerate(LONG_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# -- Elasticsearch: one real node for the whole session ---------------------------------------
# Launched as soon as collection shows a test needs it, so the ~12 s boot overlaps the
# SQLite-only tests; the fixture then waits for it. A node that cannot start is an ERROR in
# every test that needs it, never a skip: CI must not pass without having run them.
# Under pytest-xdist (make test: -n 4) the controller starts that one node before the workers
# exist and every worker attaches to it (each test has its own index prefix, as in one
# process); the killable node is started by the worker that runs its test.

_es_nodes: dict = {}     # fixture name -> node launched at collection


def pytest_sessionstart(session):
    # Before xdist's own (trylast) sessionstart creates the workers.
    if session.config.pluginmanager.has_plugin("dsession"):     # the xdist controller
        session.config.pluginmanager.register(SharedElasticsearch(), "newsmon-shared-elasticsearch")


class SharedElasticsearch:
    """The xdist controller's side: the node starts with the session (its boot overlaps the
    workers' start and collection) and stops when the controller exits."""

    def __init__(self):
        from elasticsearch_node import start_node
        try:
            self.node, self.error = start_node(wait=False), ""
        except Exception as exc:  # noqa: BLE001 - reported by the workers' fixture: those tests error
            self.node, self.error = None, f"{type(exc).__name__}: {exc}"

    def pytest_configure_node(self, node):
        node.workerinput["newsmon_es_workdir"] = str(self.node.workdir) if self.node else ""
        node.workerinput["newsmon_es_error"] = self.error

    def pytest_unconfigure(self, config):
        if self.node:
            self.node.cleanup()


def pytest_collection_finish(session):
    if hasattr(session.config, "workerinput"):      # xdist worker: shared node, killable on demand
        return
    for name in ("elasticsearch_node", "killable_elasticsearch_node"):
        if any(name in getattr(item, "fixturenames", ()) for item in session.items):
            from elasticsearch_node import start_node
            try:
                _es_nodes[name] = start_node(wait=False)
            except Exception as exc:  # noqa: BLE001 - reported by the fixture: those tests error
                _es_nodes[name] = exc


def _launched_node(name: str):
    from elasticsearch_node import start_node
    node = _es_nodes.pop(name, None)
    if isinstance(node, Exception):
        raise node
    return node.wait_ready() if node is not None else start_node()


@pytest.fixture(scope="session")
def elasticsearch_node(pytestconfig):
    """The real single-node Elasticsearch (``tests/elasticsearch_node.py``), stopped at the end."""
    shared = getattr(pytestconfig, "workerinput", {})
    if "newsmon_es_workdir" in shared:
        from elasticsearch_node import ElasticsearchStartError, attach_node
        if shared["newsmon_es_error"]:
            raise ElasticsearchStartError(shared["newsmon_es_error"])
        yield attach_node(Path(shared["newsmon_es_workdir"]))       # the controller stops it
        return
    node = _launched_node("elasticsearch_node")
    yield node
    node.cleanup()


@pytest.fixture(scope="session")
def killable_elasticsearch_node():
    """A second node of its own, for the test that kills and restarts Elasticsearch."""
    node = _launched_node("killable_elasticsearch_node")
    yield node
    node.cleanup()


def es_index_url(node, name: str = "") -> str:
    """A fresh index prefix on the session's node, so tests never see each other's data."""
    import uuid
    return f"{node.url}/t-{name}{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def index_url(request, tmp_path, monkeypatch) -> str:
    """A fresh, empty index of each backend in turn: tests that take it run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/idx/newsmon.db"
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    return es_index_url(request.getfixturevalue("elasticsearch_node"))
