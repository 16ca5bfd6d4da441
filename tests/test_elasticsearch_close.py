"""Closing an Elasticsearch index whose last flush fails still closes its connections.

A crawl process serves thousands of site runs and opens the index for each run's
record; a close that raised before closing the client left a keep-alive connection
(and its socket) open per failure, for the life of the process.
"""
from __future__ import annotations

import time

import pytest
from elasticsearch import Elasticsearch

from conftest import es_index_url
from index import StorageError, open_index
from tcp_proxy import TcpProxy
from test_elasticsearch_outage import port_of, records

pytestmark = pytest.mark.elasticsearch

ESTABLISHED = "01"          # the state column of /proc/net/tcp


def connections_to(port: int) -> int:
    """Open (ESTABLISHED) TCP connections to 127.0.0.1:``port`` on this machine."""
    count = 0
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == port and fields[3] == ESTABLISHED:
                count += 1
    return count


def test_a_close_whose_flush_fails_still_closes_the_connections(elasticsearch_node, tmp_path, monkeypatch):
    not_a_dir = tmp_path / "spool-disk"
    not_a_dir.write_text("a file where the spool directory should be", encoding="utf-8")
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(not_a_dir / "spool"))     # the spool cannot be written
    monkeypatch.setenv("NEWSMON_ES_RETRIES", "0")
    proxy = TcpProxy(port_of(elasticsearch_node.url))
    try:
        url = proxy.url + "/" + es_index_url(elasticsearch_node, "close").rsplit("/", 1)[1]
        index = open_index(url)
        laser, _, _ = records()
        index.upsert_article(laser)                  # buffered
        assert connections_to(proxy.port) >= 1       # the client's keep-alive connection
        # The cluster stops taking writes (what its flood-stage disk watermark does), and the
        # local spool cannot take them either: the final flush can neither send nor spool.
        direct = Elasticsearch(elasticsearch_node.url)
        prefix = url.rsplit("/", 1)[1]
        direct.indices.put_settings(index=f"{prefix}-articles", settings={"index.blocks.read_only_allow_delete": True})
        try:
            with pytest.raises(StorageError):
                index.close()
        finally:
            direct.indices.put_settings(index=f"{prefix}-articles",
                                        settings={"index.blocks.read_only_allow_delete": None})
            direct.close()
        deadline = time.monotonic() + 10
        while connections_to(proxy.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert connections_to(proxy.port) == 0
        index.close()                                # closing again is harmless
    finally:
        proxy.close()
