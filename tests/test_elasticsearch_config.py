"""Connection settings and the one-line errors for a wrong URL, wrong credentials or an
unsupported server, checked against small fake servers (no Elasticsearch needed)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index import IndexURLError, open_index
from index.es_client import ESOptions, make_client, parse_url


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
