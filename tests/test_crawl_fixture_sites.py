"""End to end: a real crawl of the fixture mini-internet into a real SQLite index,
checked against the gold. This is what `make demo` shows a newcomer."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from pipelines.extraction.quality import char_f1
from conftest import crawl_into, run_newsmon

NOISE_MARKERS = ("(kāi)", "(chǎn)", "免责声明", "免責聲明", "转载请注明出处", "轉載請注明出處", "网友点评",
                 "網友點評", "+关注", "+關注", "亚洲第一网址", "在线观看", "主办：", "主辦:", "承办",
                 "承辦", "分享到", "打印本页", "打印本頁", "ICP备", "<delect", "相关推荐", "相關推薦")


def gold_by_url(crawl, gold):
    return {crawl.url_of(a["site"], a["path"]): a for a in gold["articles"]}


def exported_by_url(crawl):
    return {line["url"]: line for line in crawl.export}


def test_export_lines_follow_the_contract(crawl):
    assert crawl.export, "nothing was indexed"
    for line in crawl.export:
        assert set(line) == {"id", "url", "site", "title", "published", "text", "story_id", "canonical",
                             "attachments"}   # attachments: added by issue 20 item 4
        assert all(set(a) >= {"name", "url", "type", "size", "sha256"} for a in line["attachments"])


def test_every_gold_article_is_indexed_and_no_other_page(crawl, gold):
    expected = set(gold_by_url(crawl, gold))
    indexed = set(exported_by_url(crawl))
    assert not expected - indexed, f"gold articles not indexed: {sorted(expected - indexed)}"
    assert not indexed - expected, f"non-article pages indexed: {sorted(indexed - expected)}"


def test_body_title_and_date_quality(crawl, gold):
    golds, got = gold_by_url(crawl, gold), exported_by_url(crawl)
    f1s, titles, dates, report = [], 0, 0, []
    for url, want in golds.items():
        line = got.get(url)
        if line is None:
            f1s.append(0.0)
            report.append(f"missing {url}")
            continue
        f1 = char_f1(line["text"], want["text"])
        f1s.append(f1)
        titles += line["title"] == want["title"]
        dates += (line["published"] or "")[:10] == want["published"]
        if f1 < 0.97 or line["title"] != want["title"] or (line["published"] or "")[:10] != want["published"]:
            report.append(f"{url}: f1={f1:.3f} title={line['title']!r} date={line['published']}")
    n = len(golds)
    mean_f1 = sum(f1s) / n
    assert mean_f1 >= 0.97, f"mean body F1 {mean_f1:.4f}\n" + "\n".join(report)
    assert titles / n >= 0.95, f"titles exact {titles}/{n}\n" + "\n".join(report)
    assert dates / n >= 0.95, f"dates right {dates}/{n}\n" + "\n".join(report)


def test_no_seed_noise_reaches_the_index(crawl):
    for line in crawl.export:
        blob = line["title"] + "\n" + line["text"]
        found = [m for m in NOISE_MARKERS if m in blob]
        assert not found, f"{line['url']} still carries {found}"


def test_a_gbk_page_is_decoded_once_per_crawl(crawl, gold):
    """pingqiao-gov serves GB2312-declared pages: the spider decodes each one (to read its
    links) and extraction reads that decoding, so the decoder's count for the site equals
    the pages fetched, article pages included."""
    counts = crawl.summary["sites"]["pingqiao-gov"]
    articles = sum(g["site"] == "pingqiao-gov" for g in gold["articles"])
    decoded = {key: n for key, n in counts.items() if key.startswith("decoded/")}
    assert counts["article_pages_fetched"] >= articles > 0, counts
    assert decoded == {"decoded/gb18030": counts["pages_fetched"]}, counts


def test_spam_page_is_quarantined_not_indexed(crawl, gold):
    from index import open_index
    urls = {crawl.url_of(q["site"], q["path"]) for q in gold["quarantined"]}
    assert urls, "the fixture has no spam page"
    assert not urls & set(exported_by_url(crawl))
    index = open_index(crawl.index_url)
    try:
        quarantined = {q.url: q for q in index.quarantined()}
    finally:
        index.close()
    for url in urls:
        assert url in quarantined, f"{url} was not recorded in quarantine"
        assert quarantined[url].reason
    assert crawl.summary["totals"].get("spam_quarantined", 0) == len(urls)


def test_spam_injected_page_keeps_its_article_without_the_spam(crawl, gold):
    got = exported_by_url(crawl)
    pingqiao = [a for a in gold["articles"] if a["site"] == "pingqiao-gov" and "舜宇光學" in a["text"]]
    assert pingqiao, "the fixture lost seed 004's article"
    line = got[crawl.url_of("pingqiao-gov", pingqiao[0]["path"])]
    assert "舜宇光學" in line["text"] and "亚洲第一" not in line["title"] + line["text"]


def test_syndicated_copies_share_one_story_with_one_canonical(crawl, gold):
    got = exported_by_url(crawl)
    story_ids: dict[str, set[str]] = defaultdict(set)
    for url, want in gold_by_url(crawl, gold).items():
        story_ids[want["story"]].add(got[url]["story_id"])
    split = {k: v for k, v in story_ids.items() if len(v) != 1}
    assert not split, f"gold stories split over several story_ids: {split}"
    owners = defaultdict(set)
    for story, ids in story_ids.items():
        owners[next(iter(ids))].add(story)
    merged = {k: v for k, v in owners.items() if len(v) > 1}
    assert not merged, f"distinct gold stories merged into one: {merged}"
    canon = defaultdict(int)
    for line in crawl.export:
        canon[line["story_id"]] += line["canonical"]
    assert set(canon.values()) == {1}


def test_search_shows_each_story_once_with_its_copies(crawl, gold):
    stories = defaultdict(list)
    for a in gold["articles"]:
        stories[a["story"]].append(a)
    multi = [copies for copies in stories.values() if len({c["site"] for c in copies}) > 1]
    assert len(multi) >= 3
    copies = multi[0]
    title_words = copies[0]["title"][:6]
    proc = run_newsmon("search", f'"{title_words}"', "--json", "--index", crawl.index_url)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    ids = [h["story_id"] for h in hits]
    assert len(ids) == len(set(ids)), "a story was listed twice"
    expected_urls = {crawl.url_of(c["site"], c["path"]) for c in copies}
    match = [h for h in hits if {c["url"] for c in h["copies"]} == expected_urls]
    assert match, f"no hit lists exactly the copies {expected_urls}: {hits}"


@pytest.mark.parametrize("query, script_in_gold", [("激光产业园", "traditional"), ("綿陽", "traditional")])
def test_simplified_and_traditional_queries_find_each_other(crawl, gold, query, script_in_gold):
    from index.normalize import normalize_text, to_simplified
    variants = {query, to_simplified(query)}
    import opencc
    variants.add(opencc.OpenCC("s2t").convert(query))
    results = []
    for variant in sorted(variants):
        proc = run_newsmon("search", variant, "--json", "--index", crawl.index_url)
        assert proc.returncode == 0, proc.stderr
        results.append({h["story_id"] for h in json.loads(proc.stdout)})
    assert results[0], f"{query} found nothing"
    assert all(r == results[0] for r in results), f"scripts disagree: {results}"
    wanted = {a["story"] for a in gold["articles"]
              if normalize_text(query) in normalize_text(a["title"] + a["text"])}
    assert len(results[0]) == len(wanted)


def test_bad_inputs_are_logged_with_url_and_reason_and_the_crawl_goes_on(crawl, gold):
    log = crawl.proc.stderr
    assert gold["bad"], "the fixture has no bad pages"
    for bad in gold["bad"]:
        url = crawl.url_of(bad["site"], bad["path"])
        lines = [l for l in log.splitlines() if url in l]
        assert lines, f"{bad['kind']} page {url} is not in the crawl log"
    errors = {k for k in crawl.summary["totals"] if k.startswith("errors/")}
    assert "errors/http_404" in errors
    assert crawl.summary["finish_reason"] == "finished"


def test_recrawl_changes_nothing(crawl, fixture_sites, tmp_path):
    """Crawling the same sites again into the same index keeps ids, stories and canonicals."""
    import shutil
    from pathlib import Path
    db = Path(crawl.index_url[len("sqlite:///"):])
    shutil.copy(db, tmp_path / "newsmon.db")
    again = crawl_into(fixture_sites, tmp_path)
    assert again.summary["totals"].get("articles_new", 0) == 0
    key = lambda lines: sorted((l["url"], l["story_id"], l["canonical"], l["text"]) for l in lines)  # noqa: E731
    assert key(again.export) == key(crawl.export)


def test_crawl_is_polite_and_skips_what_monitoring_never_needs(crawl, gold):
    """robots.txt read first and obeyed; no images, styles, about/contact pages; every
    article fetched once, and each PDF an article links to once, as its attachment."""
    from collections import Counter
    assert crawl.requests, "the access log is empty"
    fetched = Counter(crawl.requests)
    for site in crawl.urls:
        assert fetched[(site, "/robots.txt")] >= 1
    for blocked in gold["robots_disallowed"]:
        assert (blocked["site"], blocked["path"]) not in fetched
    assert not [p for _, p in fetched if p.startswith("/module/")], "pingqiao's robots.txt disallows /module/"
    for page in gold["non_articles"]:
        if page["kind"] in ("about", "contact"):
            assert (page["site"], page["path"]) not in fetched, page
    assert not [p for _, p in fetched if p.lower().split("?")[0].endswith((".png", ".jpg", ".css"))]
    # (until issue 20 item 4 no PDF was fetched; now an article's attachments are, once each)
    assert all(n == 1 for (_site, p), n in fetched.items() if p.lower().endswith(".pdf"))
    for article in gold["articles"]:
        assert fetched[(article["site"], article["path"])] == 1, article["path"]


def test_site_overrides_from_the_sites_file_are_honoured(fixture_sites, gold, tmp_path):
    """article_url_pattern narrows what counts as an article; max_pages caps the run."""
    import yaml
    base = fixture_sites.urls["sucheng-gov"]
    sites = {"sites": [{"name": "sucheng-gov", "start_urls": [base], "allow_private": True,
                        "article_url_pattern": r"/xwdt/2021\d\d/t2021\d+_\d+\.html$"},
                       {"name": "laser-industry", "start_urls": [fixture_sites.urls["laser-industry"]],
                        "max_pages": 3}]}
    (tmp_path / "sites.yaml").write_text(yaml.safe_dump(sites, allow_unicode=True), encoding="utf-8")
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    proc = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", index_url, "--json",
                       NEWSMON_ALLOW_HOSTS="127.0.0.1")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    lines = [json.loads(l) for l in run_newsmon("export", "--index", index_url).stdout.splitlines()]
    sucheng = {l["url"] for l in lines if l["site"] == "sucheng-gov"}
    expected = {base.rstrip("/") + a["path"] for a in gold["articles"]
                if a["site"] == "sucheng-gov" and a["path"].startswith("/xwdt/2021")}
    assert sucheng == expected
    assert summary["sites"]["laser-industry"]["pages_fetched"] <= 3
    assert "page budget of 3 reached" in proc.stderr


def test_dead_and_private_sites_are_recorded_and_the_crawl_goes_on(fixture_sites, tmp_path):
    import socket
    import yaml
    with socket.socket() as s:            # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    sites = {"sites": [
        {"name": "dead-site", "start_urls": [f"http://127.0.0.1:{dead_port}/"]},
        {"name": "intranet", "start_urls": ["http://10.20.30.40/"]},
        {"name": "mianyang-news", "start_urls": [fixture_sites.urls["mianyang-news"]]}]}
    (tmp_path / "sites.yaml").write_text(yaml.safe_dump(sites), encoding="utf-8")
    proc = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", f"sqlite:///{tmp_path}/n.db",
                       "--json", NEWSMON_ALLOW_HOSTS="127.0.0.1")
    # The crawl goes on past them, and its exit status says two sites got nothing (issue 21).
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert sorted(summary["failed_sites"]) == ["dead-site", "intranet"]
    per_site = summary["sites"]
    assert per_site["dead-site"]["errors/connection_refused"] == 1
    assert per_site["intranet"]["errors/unsafe_url"] == 1
    assert "10.20.30.40 resolves to non-public address" in proc.stderr
    assert per_site["mianyang-news"]["articles_indexed"] >= 9
    assert "Traceback" not in proc.stderr
