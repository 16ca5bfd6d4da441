"""Connection settings and the one-line errors for a wrong URL, wrong credentials or an
unsupported server, checked against small fake servers (no Elasticsearch needed)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index import IndexURLError, open_index
from index.elasticsearch.client import ESOptions, make_client, parse_url


class FakeServer:
    """Answers every request with one status and JSON body, as Elasticsearch would."""

    def __init__(self, status: int, body: dict):
        outer = self
        self.requests: list[tuple[str, str | None]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests.append((self.path, self.headers.get("Authorization")))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    servers = []

    def start(status, body):
        servers.append(FakeServer(status, body))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def test_wrong_credentials_are_named(fake, monkeypatch):
    server = fake(401, {"error": {"type": "security_exception", "reason": "unable to authenticate"}, "status": 401})
    url = server.url.replace("http://", "http://elastic:wrong@")
    with pytest.raises(IndexURLError, match=r"rejected the credentials \(401\): check the user:password"):
        open_index(url)
    assert server.requests[0][1].startswith("Basic ")
    monkeypatch.setenv("NEWSMON_ES_API_KEY", "a2V5OnNlY3JldA==")
    with pytest.raises(IndexURLError, match="check NEWSMON_ES_API_KEY"):
        open_index(server.url)
    assert server.requests[-1][1] == "ApiKey a2V5OnNlY3JldA=="


def test_unsupported_server_version_is_refused(fake):
    server = fake(200, {"version": {"number": "7.17.9"}, "tagline": "You Know, for Search"})
    with pytest.raises(IndexURLError, match=r"Elasticsearch 7\.17\.9 at .* is not supported: newsmon needs 8\.x or 9\.x"):
        open_index(server.url)


@pytest.mark.parametrize("url, words", [
    ("http://:9200", "bad Elasticsearch index URL"),
    ("http://host:port", "port is not a number"),
    ("http://host:9200/Upper", "index prefix"),
])
def test_bad_urls(url, words):
    with pytest.raises(IndexURLError, match=words):
        open_index(url)


def test_url_forms_and_tls_verification_on_by_default(tmp_path, monkeypatch):
    conn = parse_url("https://user:p%40ss@es.example.com:9243/team-a")
    assert (conn.host, conn.prefix, conn.basic_auth) == ("https://es.example.com:9243", "team-a", ("user", "p@ss"))
    assert "p%40ss" not in conn.url and "***" in conn.url
    assert parse_url("http://localhost").host == "http://localhost:9200"
    assert parse_url("http://localhost:9200").prefix == "newsmon"
    ca = tmp_path / "ca.pem"
    ca.write_text("not really a certificate")
    monkeypatch.setenv("NEWSMON_ES_CA_CERTS", str(ca))
    client = make_client(parse_url("https://es.example.com:9243"), ESOptions(spool_dir=tmp_path))
    node = client.transport.node_pool.all()[0]
    assert node.config.verify_certs is True and node.config.ca_certs == str(ca)


class FakeBulk(BaseHTTPRequestHandler):
    """A ``_bulk`` endpoint that answers from a script: "503" fails the whole request,
    "429" refuses every item (too many requests), "ok" takes every item."""

    script: list[str] = []
    seen: list[int] = []

    def do_PUT(self):  # noqa: N802
        lines = self.rfile.read(int(self.headers["Content-Length"])).decode().splitlines()
        actions = [json.loads(line) for line in lines[::2]]
        self.seen.append(len(actions))
        step = self.script.pop(0) if self.script else "ok"
        if step == "503":
            body, status = {"error": {"type": "unavailable", "reason": "busy"}, "status": 503}, 503
        else:
            code = 429 if step == "429" else 201
            items = [{"index": {"_index": a["index"]["_index"], "_id": a["index"]["_id"], "status": code,
                                **({"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}
                                   if code == 429 else {})}} for a in actions]
            body, status = {"took": 1, "errors": code != 201, "items": items}, 200
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("script, requests", [
    (["503", "503", "ok"], [3, 3, 3]),        # whole request failing: retried with backoff
    (["429", "ok"], [3, 3]),                  # every item throttled: streaming_bulk retries them
])
def test_bulk_retries_with_backoff_on_429_and_5xx(script, requests):
    from elasticsearch import Elasticsearch
    from index.elasticsearch.bulk import send_actions
    FakeBulk.script, FakeBulk.seen = list(script), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBulk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Elasticsearch(f"http://127.0.0.1:{server.server_address[1]}", max_retries=0)
        actions = [{"_op_type": "index", "_index": "n-articles", "_id": str(i), "_source": {"i": i}} for i in range(3)]
        result = send_actions(client, actions, alias_of={}, chunk_docs=10, chunk_bytes=10**6, retries=3,
                              backoff=0.01)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.handled, result.delivered, result.rejected) == (3, 3, [])
    assert FakeBulk.seen == requests


def test_bulk_gives_up_after_the_retries_and_says_how_far_it_got():
    from elasticsearch import Elasticsearch
    from index.elasticsearch.bulk import send_actions
    FakeBulk.script, FakeBulk.seen = ["503"] * 10, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBulk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Elasticsearch(f"http://127.0.0.1:{server.server_address[1]}", max_retries=0)
        actions = [{"_op_type": "index", "_index": "n-articles", "_id": str(i), "_source": {}} for i in range(2)]
        result = send_actions(client, actions, alias_of={}, chunk_docs=10, chunk_bytes=10**6, retries=2,
                              backoff=0.01)
    finally:
        server.shutdown()
        server.server_close()
    assert result.handled == 0 and "503" in (result.error or "") and len(FakeBulk.seen) == 3
