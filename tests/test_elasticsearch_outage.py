"""Nothing is lost when Elasticsearch is down: a real node killed in the middle of a
real crawl, restarted, and the spool replayed; plus the spool's rules one by one."""
from __future__ import annotations

import json
import logging
from collections import Counter

import pytest
from elasticsearch import Elasticsearch

from conftest import es_index_url, run_newsmon
from index import IndexURLError, open_index, parse_query
from index.elasticsearch.client import IndexUnavailable
from index.elasticsearch.spool import Spool
from tcp_proxy import TcpProxy
from test_index_contract import FLOOD, LASER, make_record

pytestmark = pytest.mark.elasticsearch


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def spool_lines(directory) -> list[dict]:
    return [json.loads(line) for path in directory.glob("*.jsonl") if "rejected" not in path.name
            for line in path.read_text(encoding="utf-8").splitlines()]


def test_kill_elasticsearch_mid_crawl_restart_and_every_article_is_indexed_once(
        fixture_sites, crawl, killable_elasticsearch_node, tmp_path):
    node = killable_elasticsearch_node
    proxy = TcpProxy(port_of(node.url))
    # The twelfth bulk request of the crawl never arrives: the node is SIGKILLed first.
    # (Each new story's claims go as a bulk of their own, ahead of the article batches of
    # NEWSMON_ES_BATCH_DOCS=4, so the second bulk would land before any article.)
    proxy.on_bulk(12, lambda: (node.kill(), proxy.down()))
    url = f"{proxy.url}/killed"
    env = {"NEWSMON_ES_SPOOL_DIR": str(tmp_path / "spool"), "NEWSMON_ES_BATCH_DOCS": "4",
           "NEWSMON_ES_RETRIES": "1", "NEWSMON_ES_BACKOFF": "0.05", "NEWSMON_ES_RETRY_AFTER": "0.5"}
    fixture_sites.write_sites_file(tmp_path / "sites.yaml")
    try:
        proc = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", url, "--json", **env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stdout, proc.stderr
        assert json.loads(proc.stdout)["totals"]["articles_indexed"] == len(crawl.export), proc.stderr[-6000:]
        assert "spooled" in proc.stderr and "Traceback" not in proc.stderr
        assert proxy.bulk_requests >= 2 and spool_lines(tmp_path / "spool")

        node.restart()
        direct = Elasticsearch(node.url)
        before = direct.count(index="killed-articles")["count"]
        assert 0 < before < len(crawl.export), "the kill did not land in the middle of the crawl"
        proxy.up(port_of(node.url))

        replay = run_newsmon("index", "replay", "--index", url, **env)
        assert replay.returncode == 0, replay.stderr
        assert "0 still spooled" in replay.stdout
        assert not spool_lines(tmp_path / "spool")
        exported = run_newsmon("export", "--index", url, **env)
        assert exported.returncode == 0, exported.stderr
    finally:
        proxy.close()
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    urls = Counter(line["url"] for line in lines)
    assert set(urls) == {line["url"] for line in crawl.export}
    assert set(urls.values()) == {1}, "an article was indexed twice"
    assert direct.count(index="killed-articles")["count"] == len(crawl.export)
    assert set(Counter(l["story_id"] for l in lines if l["canonical"]).values()) == {1}
    assert {l["story_id"] for l in lines} == {l["story_id"] for l in lines if l["canonical"]}
    print(f"\nkill/restart: {before} of {len(crawl.export)} articles indexed before the kill, "
          f"{replay.stdout.strip()}")


@pytest.fixture
def proxied(elasticsearch_node, tmp_path, monkeypatch):
    """An index URL through a proxy the test can cut, with its own spool dir."""
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("NEWSMON_ES_RETRIES", "1")
    monkeypatch.setenv("NEWSMON_ES_BACKOFF", "0.01")
    monkeypatch.setenv("NEWSMON_ES_RETRY_AFTER", "0")
    proxy = TcpProxy(port_of(elasticsearch_node.url))
    yield proxy, proxy.url + "/" + es_index_url(elasticsearch_node).rsplit("/", 1)[1]
    proxy.close()


def records():
    laser = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1.html", "sucheng", "激光产业园推进会", LASER,
                        "2024-07-12")
    repost = make_record("http://www.sqxww.cn/content_2.htm", "sqxww", "激光产业园推进会", "宿迁网讯：" + LASER,
                         "2024-07-13", story_id=laser.story_id, canonical=False)
    flood = make_record("http://www.sihong.gov.cn/t20240702_3.html", "sihong", "防汛隐患排查", FLOOD, "2024-07-02")
    return laser, repost, flood


def test_while_down_writes_spool_dedup_reads_the_buffer_and_search_fails_clearly(proxied, tmp_path):
    proxy, url = proxied
    open_index(url).close()                      # indices exist; then the server goes away
    proxy.down()
    index = open_index(url)                      # opening while down is not an error for writers
    laser, repost, flood = records()
    for record in (laser, repost, flood):
        assert index.upsert_article(record) is True
    index.flush()
    assert [r.id for r in index.find_by_text_hash(laser.text_hash)] == [laser.id]
    assert [r.id for r in index.story_copies(laser.story_id)] == [laser.id, repost.id]
    with pytest.raises(IndexUnavailable, match="cannot reach Elasticsearch at .* is it running"):
        index.search(parse_query("激光"))
    index.close()
    assert [e["_id"] for e in spool_lines(tmp_path / "spool")] == [laser.id, repost.id, flood.id]

    proxy.up()
    reopened = open_index(url)                   # the spool is replayed first thing
    assert reopened.replayed.delivered == 3 and reopened.replayed.remaining == 0
    assert not spool_lines(tmp_path / "spool")
    stories = reopened.search(parse_query("激光 OR 防汛"))
    assert [s["url"] for s in stories] == [laser.url, flood.url]
    assert [c["url"] for c in stories[0]["copies"]] == [laser.url, repost.url]
    reopened.close()


def test_spool_replays_in_order_and_a_refused_document_is_logged_and_set_aside(proxied, tmp_path, caplog):
    proxy, url = proxied
    laser, _, _ = records()
    index = open_index(url)
    index.upsert_article(laser)
    index.flush()
    spool = index.spool
    first = {"_op_type": "index", "_index": index.articles, "_id": laser.id, "_source": _doc(laser, "第一版")}
    second = {"_op_type": "index", "_index": index.articles, "_id": laser.id, "_source": _doc(laser, "第二版")}
    bad = {"_op_type": "index", "_index": index.articles, "_id": "x" * 40, "_source": {"bogus": 1}}
    spool.append([first, bad, second])
    caplog.set_level(logging.WARNING, logger="newsmon.index")
    result = index.replay()
    assert (result.delivered, result.rejected, result.remaining) == (2, 1, 0)
    assert index.get_article(laser.id).title == "第二版"          # replayed in order: the last write wins
    assert "strict_dynamic_mapping_exception" in caplog.text and "x" * 40 in caplog.text
    assert [r["_id"] for r in spool.rejected()] == ["x" * 40]
    assert "strict_dynamic_mapping_exception" in spool.rejected()[0]["reason"]
    index.close()


def _doc(record, title):
    from index.elasticsearch.mapping import article_doc
    record.title = title
    return article_doc(record)


def test_replay_cli_while_down_is_a_one_line_error(proxied):
    proxy, url = proxied
    proxy.down()
    proc = run_newsmon("index", "replay", "--index", url)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: cannot reach Elasticsearch") and len(proc.stderr.splitlines()) == 1


def test_spool_survives_a_torn_last_line(tmp_path):
    spool = Spool(tmp_path / "s.jsonl")
    spool.append([{"_id": "a"}, {"_id": "b"}])
    with open(spool.path, "a") as out:
        out.write('{"_id": "c", "_sou')             # crash mid-write, before fsync returned
    assert [e["_id"] for e in spool.read()] == ["a", "b"]
    assert spool.drain(lambda entries: (1, [])) == (1, 0, 1)
    assert [e["_id"] for e in spool.read()] == ["b"]


def test_dedup_sees_unflushed_records_without_a_refresh(elasticsearch_node, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSMON_ES_BATCH_DOCS", "1000")
    index = open_index(es_index_url(elasticsearch_node))
    laser, repost, _ = records()
    laser.lsh_bands = ["b00:aa", "b01:bb"]
    index.upsert_article(laser)
    index.flush()
    repost.lsh_bands = ["b01:bb"]
    index.upsert_article(repost)                 # buffered, not sent
    assert len(index.overlay) == 1
    assert {r.id for r in index.find_by_lsh_bands(["b01:bb"])} == {laser.id, repost.id}
    assert [r.id for r in index.story_copies(laser.story_id)] == [laser.id, repost.id]
    assert index.get_article(repost.id) == repost
    index.close()


def test_open_index_errors_are_one_line(elasticsearch_node, fixture_sites, tmp_path, monkeypatch):
    plain = elasticsearch_node.url.replace("http://", "https://user:secret@")
    with pytest.raises(IndexURLError, match="TLS to https://user:\\*\\*\\*@127.0.0.1"):
        open_index(plain)
    with pytest.raises(IndexURLError, match="does not answer like Elasticsearch"):
        open_index(next(iter(fixture_sites.urls.values())))
    monkeypatch.setenv("NEWSMON_ES_CA_CERTS", str(tmp_path / "missing.pem"))
    with pytest.raises(IndexURLError, match="NEWSMON_ES_CA_CERTS"):
        open_index("https://127.0.0.1:9200")


def test_mapping_upgrade_reindexes_into_a_new_version_behind_the_alias(elasticsearch_node, tmp_path, monkeypatch):
    from index.elasticsearch.mapping import MAPPING_VERSION as v, ensure_indices
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path))
    url = es_index_url(elasticsearch_node)
    prefix = url.rsplit("/", 1)[1]
    index = open_index(url)
    for record in records():
        index.upsert_article(record)
    before = index.search(parse_query("激光 OR 防汛"))
    index.close()
    client = Elasticsearch(elasticsearch_node.url)
    ensure_indices(client, prefix, version=v + 1)      # what a newsmon with the next mapping does at open
    assert list(client.indices.get_alias(name=f"{prefix}-articles")) == [f"{prefix}-articles-v{v + 1}"]
    assert not client.indices.exists(index=f"{prefix}-articles-v{v}")
    assert client.count(index=f"{prefix}-articles")["count"] == 3
    # the search fields (not kept in _source) were rebuilt, so search still works
    assert client.count(index=f"{prefix}-articles",
                        query={"match_phrase": {"search_text": "激 光 产 业 园"}})["count"] == 2
    with pytest.raises(IndexURLError, match=f"mapping v{v + 1}; this newsmon knows v{v}: upgrade newsmon"):
        open_index(url)
    monkeypatch.setattr("index.elasticsearch.mapping.MAPPING_VERSION", v + 2)
    upgraded = open_index(url)                          # a newer newsmon upgrades at open
    assert list(client.indices.get_alias(name=f"{prefix}-quarantine")) == [f"{prefix}-quarantine-v{v + 2}"]
    assert upgraded.search(parse_query("激光 OR 防汛")) == before
    upgraded.close()


def test_flush_makes_an_earlier_unrefreshed_batch_searchable(elasticsearch_node, tmp_path, monkeypatch):
    """A full batch is sent without a refresh (bulk loads pay one refresh, at the end);
    ``flush()`` must then refresh even with nothing left to send."""
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSMON_ES_BATCH_DOCS", "2")
    url = es_index_url(elasticsearch_node)
    index = open_index(url)
    laser, repost, _ = records()
    index.upsert_article(laser)
    index.upsert_article(repost)             # the batch is full: sent, not refreshed
    assert len(index.overlay) == 0
    index.flush()
    other = Elasticsearch(elasticsearch_node.url)
    assert other.count(index=url.rsplit("/", 1)[1] + "-articles")["count"] == 2
    index.close()
