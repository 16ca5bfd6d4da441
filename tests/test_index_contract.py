"""One contract every index backend passes (design.md: "Both backends must return
the same stories for the same query"). Add Elasticsearch as a second ``backend``
param; nothing below may check which backend it has."""
from __future__ import annotations

import opencc
import pytest

from index import IndexURLError, open_index
from index.base import ArticleRecord, IndexBackend, Quarantined, story_key
from index.query import parse_query
from index.story_search import search_page
from index.identity import article_id, canonical_url
from pipelines.stories.clustering import text_hash
from index.normalize import normalize_text

EXPORT_KEYS = {"id", "url", "site", "title", "published", "text", "story_id", "canonical",
               "attachments"}   # (issue 20 item 4: the files the page links to, added compatibly)
STORY_KEYS = {"story_id", "title", "url", "site", "published", "snippet", "copies", "reach"}

LASER = (
    "7月12日上午，宿城区召开激光产业园建设推进会，听取园区基础设施建设、项目招引和企业服务等方面"
    "工作汇报，研究部署下一阶段重点任务。区委副书记、区长王建国出席会议并讲话。\n"
    "会议指出，激光产业园是全区打造先进制造业集群的重要载体。今年以来，园区累计签约项目12个，"
    "总投资达46.5亿元，其中超10亿元项目3个，标准厂房新开工面积18万平方米，产业集聚效应初步显现。\n"
    "会议强调，要坚持项目为王，紧盯激光器、光学元件、激光装备等细分领域，开展精准招商、产业链招商，"
    "力争年内再引进一批强链补链项目。要加快推进道路、供水、污水处理等配套工程建设，确保9月底前全面完工。"
)
FLOOD = (
    "入汛以来，泗洪县严格落实防汛责任制，对全县23座小型水库、136公里河道堤防开展拉网式隐患排查，"
    "共发现并整改隐患点位47处。\n"
    "县防汛抗旱指挥部要求，各乡镇要严格执行24小时值班和领导带班制度，备足防汛物资，"
    "一旦发生险情，确保第一时间报告、第一时间处置。\n"
    "目前，全县已储备编织袋12万条、救生衣3000件，组建防汛抢险队伍38支、1900余人。"
)
AI_PARK = (
    "近日，沭阳县ＡＩ视觉检测产业项目正式签约落户经济开发区，项目总投资8亿元，"
    "主要生产工业视觉检测设备和智能传感器。\n"
    "项目建成后，预计年产值可达12亿元，新增就业岗位600个，将进一步补强全县智能制造产业链条。"
)
T2S = opencc.OpenCC("s2t")


def make_record(url, site, title, text, published, *, story_id=None, canonical=True,
                fetched_at="2024-07-20T08:00:00+00:00") -> ArticleRecord:
    key = canonical_url(url)
    return ArticleRecord(
        id=article_id(key), url=url, canonical_url=key, site=site, title=title, text=text,
        norm_title=normalize_text(title), norm_text=normalize_text(text), text_hash=text_hash(text),
        published=published, fetched_at=fetched_at, canonical=canonical,
        story_id=story_id or "s-" + article_id(key)[:16])


@pytest.fixture
def backend(index_url) -> IndexBackend:
    with open_index(index_url) as index:
        yield index


@pytest.fixture
def corpus(backend):
    """Three stories: laser park (original + traditional-script repost + later repost),
    flood control, an AI project with full-width letters."""
    laser = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html",
                        "suqian-sucheng", "宿城区召开激光产业园建设推进会", LASER, "2024-07-12")
    laser_tw = make_record("https://news.example.com.tw/a/20240713/88123.htm", "tw-news",
                           T2S.convert("宿城区召开激光产业园建设推进会"), T2S.convert(LASER),
                           "2024-07-13", story_id=laser.story_id, canonical=False)
    laser_repost = make_record("http://www.sqxww.cn/content_88123.htm", "suqian-news",
                               "宿城区召开激光产业园建设推进会", "宿迁网讯：" + LASER,
                               "2024-07-14T09:30", story_id=laser.story_id, canonical=False)
    flood = make_record("http://www.sihong.gov.cn/t20240702_4123456.html", "sihong",
                        "泗洪县全面排查防汛隐患", FLOOD, "2024-07-02")
    ai = make_record("http://www.shuyang.gov.cn/content_99001.htm", "shuyang",
                     "ＡＩ视觉检测产业项目签约落户沭阳", AI_PARK, "2024-07-08")
    records = [laser_repost, flood, laser, ai, laser_tw]
    for record in records:
        assert backend.upsert_article(record) is True
    backend.flush()
    return {"laser": laser, "laser_tw": laser_tw, "laser_repost": laser_repost,
            "flood": flood, "ai": ai}


def search(backend, text, **filters):
    return backend.search(parse_query(text), **filters)


def test_backend_implements_protocol(backend):
    assert isinstance(backend, IndexBackend)


def test_upsert_roundtrip_and_replace(backend):
    record = make_record("http://www.sihong.gov.cn/t20240702_4123456.html", "sihong",
                         "泗洪县全面排查防汛隐患", FLOOD, "2024-07-02")
    record.lsh_bands = ["b00:aaaa", "b01:bbbb"]
    record.region, record.source, record.author, record.column = "江苏省宿迁市泗洪县", "泗洪县水务局", "张三", "部门动态"
    assert backend.upsert_article(record) is True
    assert backend.get_article(record.id) == record
    record.text = FLOOD.replace("47处", "52处")
    record.norm_text = record.norm_text.replace("47处", "52处")
    assert backend.upsert_article(record) is False
    backend.flush()
    assert backend.count_articles() == 1
    assert backend.get_article(record.id).text == record.text
    assert search(backend, "52处") and not search(backend, "47处")   # FTS kept in sync
    assert backend.get_article("0" * 40) is None


def test_commit_unit_calls_back_once_the_page_is_durable(index_url, backend):
    """What a crawl counts is what the index holds (issue 16): ``on_durable`` runs once,
    by the commit (SQLite) or at the batch's flush (Elasticsearch), and what it
    vouched for is there for another connection."""
    stored = []
    records = [make_record(f"http://www.sihong.gov.cn/t2024070{n}_41234{n}.html", "sihong",
                           f"泗洪县防汛 {n}", FLOOD + f"（{n}）", f"2024-07-0{n}") for n in (1, 2)]
    for record in records:
        backend.upsert_article(record)
        backend.commit_unit(lambda record=record: stored.append(record.id))
    backend.flush()
    backend.commit_unit()                    # nothing new: nothing called twice
    backend.flush()
    assert stored == [r.id for r in records]
    with open_index(index_url) as other:
        assert [other.get_article(r.id) for r in records] == records


def test_with_block_keeps_what_it_wrote_when_it_fails(index_url):
    """``with open_index(url) as index:`` closes the index (making its writes durable)
    however the block ends, so a command that fails halfway loses nothing it stored."""
    record = make_record("http://www.sihong.gov.cn/t20240702_4123456.html", "sihong",
                         "泗洪县全面排查防汛隐患", FLOOD, "2024-07-02")
    with pytest.raises(RuntimeError, match="导出中断"):
        with open_index(index_url) as index:
            index.upsert_article(record)
            raise RuntimeError("导出中断")
    index.close()                            # closing again is harmless
    with open_index(index_url) as reopened:
        assert reopened.get_article(record.id) == record
        assert [s["story_id"] for s in search(reopened, "防汛隐患")] == [record.story_id]


def test_index_survives_reopen(index_url, corpus, backend):
    backend.close()
    with open_index(index_url) as reopened:
        assert reopened.count_articles() == 5
        assert [s["story_id"] for s in search(reopened, "激光产业园")] == [corpus["laser"].story_id]


def test_simplified_query_finds_traditional_page_and_back(backend, corpus):
    tw_only = make_record("https://news.example.com.tw/a/20240601/1.htm", "tw-news",
                          "臺灣光電展", "本屆光電展聚焦激光產業園區合作，兩岸業者交流熱絡。" * 3, "2024-06-01")
    backend.upsert_article(tw_only)
    assert tw_only.story_id in [s["story_id"] for s in search(backend, "激光产业园区")]
    assert tw_only.story_id in [s["story_id"] for s in search(backend, "激光產業園區")]


def test_fullwidth_and_case_fold(backend, corpus):
    for text in ("ai视觉", "AI", "ＡＩ视觉检测"):
        assert [s["story_id"] for s in search(backend, text)] == [corpus["ai"].story_id], text


def test_each_story_once_with_all_copies_canonical_first(backend, corpus):
    stories = search(backend, "激光产业园")
    assert len(stories) == 1
    story = stories[0]
    assert set(story) == STORY_KEYS
    laser = corpus["laser"]
    assert (story["story_id"], story["url"], story["site"], story["published"], story["title"]) == (
        laser.story_id, laser.url, "suqian-sucheng", "2024-07-12", laser.title)
    assert [c["url"] for c in story["copies"]] == [
        laser.url, corpus["laser_tw"].url, corpus["laser_repost"].url]
    assert set(story["copies"][0]) == {"url", "site", "published"}
    assert story["reach"] == len({c["site"] for c in story["copies"]})   # distinct sites
    assert "激光产业园" in story["snippet"]


def test_newest_story_first_and_limit(backend, corpus):
    stories = search(backend, "项目 OR 防汛")
    assert [s["story_id"] for s in stories] == [
        corpus["laser"].story_id, corpus["ai"].story_id, corpus["flood"].story_id]
    assert [s["story_id"] for s in search(backend, "项目 OR 防汛", limit=2)] == [
        corpus["laser"].story_id, corpus["ai"].story_id]


def test_and_or_not_phrase(backend, corpus):
    ids = lambda text: [s["story_id"] for s in search(backend, text)]  # noqa: E731
    assert ids("激光 王建国") == [corpus["laser"].story_id]
    assert ids("激光 防汛") == []
    assert ids("水库 OR 传感器") == [corpus["ai"].story_id, corpus["flood"].story_id]
    assert ids("项目 -激光") == [corpus["ai"].story_id]
    assert ids('"准招商、产业链"') == [corpus["laser"].story_id]


@pytest.mark.parametrize("text, expected", [
    ("(水库 OR 传感器) 项目", ["ai"]),
    ("激光 AND 王建国", ["laser"]),
    ("水库 or 传感器", ["ai", "flood"]),
    ("水库 | 传感器", ["ai", "flood"]),
    ("(激光 OR ai) 项目", ["laser", "ai"]),           # a Latin term in the group: substring filter
    ("(项目 -激光) OR 水库", ["ai", "flood"]),         # an exclusion distributed into an OR
    ("项目 -(激光 王建国)", ["ai"]),
    ("项目 -(激光 防汛)", ["laser", "ai"]),
    ("（激光 or 水库）NOT 王建国", ["flood"]),          # as a Chinese input method types it
    ("((激光 OR 水库) (王建国 OR 泗洪)) AND NOT 宿城区", ["flood"]),
])
def test_parentheses_and_operators_in_any_case(backend, corpus, text, expected):
    """The same stories, in the same order, from ``search`` and from a search page
    (which verifies every candidate from the positions SQLite finds, not the text)."""
    ids = [corpus[name].story_id for name in expected]
    assert [s["story_id"] for s in search(backend, text)] == ids
    page = search_page(backend, parse_query(text), limit=20)
    assert (page.total, [s["story_id"] for s in page.stories]) == (len(ids), ids)


def test_the_largest_expansion_runs(backend, corpus):
    """Parentheses expanded to the bound (256 term occurrences: 64 clauses of 4): no backend error."""
    groups = ["(激光 王建国 推进会 宿城区)", "(泗洪 防汛 水库 隐患)", "(无一 无二)", "(无三 无四)"]
    query = parse_query(" OR ".join(groups))
    assert sum(len(getattr(c, "alternatives", (c,))) for c in query.root.clauses) == 4 * 4 * 2 * 2 * 4
    assert [s["story_id"] for s in backend.search(query)] == [corpus["laser"].story_id, corpus["flood"].story_id]


def test_fts_phrase_across_punctuation_is_not_a_match(backend, corpus):
    # "链招商" exists; "招商产业" only exists with "、" in between (精准招商、产业链).
    assert search(backend, "招商产业") == []
    assert search(backend, "激光 -招商产业")   # and an exclusion must not drop it either


def test_site_and_date_filters_apply_to_copies(backend, corpus):
    laser_id = corpus["laser"].story_id
    assert [s["story_id"] for s in search(backend, "激光", sites=["tw-news"])] == [laser_id]
    assert search(backend, "激光", sites=["sihong"]) == []
    assert [s["story_id"] for s in search(backend, "项目 OR 防汛", since="2024-07-13")] == [laser_id]
    assert [s["story_id"] for s in search(backend, "项目 OR 防汛", until="2024-07-08")] == [
        corpus["ai"].story_id, corpus["flood"].story_id]
    day = search(backend, "项目 OR 防汛", since="2024-07-14", until="2024-07-14")
    assert [s["story_id"] for s in day] == [laser_id]   # datetime published counts by its day
    assert len(day[0]["copies"]) == 3                    # copies are never filtered


def test_snippet_is_original_script_of_the_matching_copy(backend, corpus):
    assert "激光产业园建设推进会" in search(backend, "激光產業園")[0]["snippet"]   # canonical
    tw = search(backend, "激光产业园", sites=["tw-news"])[0]
    assert "激光產業園建設推進會" in tw["snippet"]    # only the tw-news copy passed the filter
    assert tw["url"] == corpus["laser"].url        # yet the story shows its canonical copy


def test_export_lines_contract(backend, corpus):
    lines = list(backend.export())
    assert len(lines) == 5
    assert all(set(line) == EXPORT_KEYS for line in lines)
    assert [(l["site"], l["url"]) for l in lines] == sorted((l["site"], l["url"]) for l in lines)
    per_story: dict[str, int] = {}
    for line in lines:
        per_story[line["story_id"]] = per_story.get(line["story_id"], 0) + line["canonical"]
        assert isinstance(line["canonical"], bool)
    assert per_story == {corpus[k].story_id: 1 for k in ("laser", "flood", "ai")}


def test_story_copies_and_set_story(backend, corpus):
    laser, repost = corpus["laser"], corpus["laser_repost"]
    assert [c.id for c in backend.story_copies(laser.story_id)][0] == laser.id
    backend.set_story([laser.id, repost.id, corpus["laser_tw"].id], laser.story_id, repost.id)
    copies = backend.story_copies(laser.story_id)
    assert copies[0].id == repost.id and [c.canonical for c in copies] == [True, False, False]
    # moving an article into another story: its former story id finds it there
    backend.set_story([corpus["ai"].id], laser.story_id, repost.id)
    assert len(backend.story_copies(laser.story_id)) == 4
    assert {c.story_id for c in backend.story_copies(corpus["ai"].story_id)} == {laser.story_id}
    assert backend.story_copies(story_key("f" * 40)) == []


def test_a_story_named_after_a_new_origin_is_found_by_its_former_id(backend, corpus):
    """Dedup names a story after its origin; a copy crawled later that turns out to be the
    origin renames the story (set_story to ``story_key(origin)``). Alert links and digest
    records made before still name the former id."""
    laser, tw, repost = corpus["laser"], corpus["laser_tw"], corpus["laser_repost"]
    renamed = story_key(tw.id)
    backend.set_story([laser.id, tw.id, repost.id], renamed, tw.id)
    backend.flush()
    for story_id in (renamed, laser.story_id):
        copies = backend.story_copies(story_id)
        assert [c.id for c in copies][0] == tw.id and {c.id for c in copies} == {laser.id, tw.id, repost.id}
        assert {c.story_id for c in copies} == {renamed}


def test_find_by_text_hash_and_lsh_bands(backend, corpus):
    laser = corpus["laser"]
    tw = corpus["laser_tw"]
    # the dedup form folds the script: the traditional copy has the same hash
    assert [r.id for r in backend.find_by_text_hash(laser.text_hash)] == [laser.id, tw.id]
    assert backend.find_by_text_hash("0" * 40) == []
    laser.lsh_bands, tw.lsh_bands = ["b00:1111", "b01:2222"], ["b01:2222"]
    backend.upsert_article(laser)
    backend.upsert_article(tw)
    assert {r.id for r in backend.find_by_lsh_bands(["b01:2222", "b09:none"])} == {laser.id, tw.id}
    assert [r.id for r in backend.find_by_lsh_bands(["b01:2222"], since="2024-07-13")] == [tw.id]
    assert backend.find_by_lsh_bands(["b05:none"]) == []


def test_lsh_candidates_ranked_by_shared_keys_and_capped(backend, corpus):
    """Dedup verifies the likeliest copies first and reads only ``limit`` of them:
    most keys shared first, then the earliest day, then the id (ties on both)."""
    key = "b{:02d}:{:016x}".format
    laser, tw, repost, flood, ai = (corpus[k] for k in ("laser", "laser_tw", "laser_repost", "flood", "ai"))
    laser.lsh_bands = [key(i, 0xa0 + i) for i in range(6)]       # shares 6 keys
    tw.lsh_bands = [key(i, 0xa0 + i) for i in range(3)] + ["l0:x"]   # shares 4, one odd-shaped
    repost.lsh_bands = [key(i, 0xa0 + i) for i in range(3)] + ["l0:x"]   # as many, a day after
    flood.lsh_bands = [key(5, 0xa5), key(9, 0xff)]                # shares 1, earliest day
    ai.lsh_bands = [key(9, 0xff)]                                # shares none of the query
    for record in (laser, tw, repost, flood, ai):
        backend.upsert_article(record)
    query = [key(i, 0xa0 + i) for i in range(6)] + ["l0:x"]
    ranked = [laser.id, tw.id, repost.id, flood.id]
    assert [r.id for r in backend.find_by_lsh_bands(query)] == ranked
    assert [r.id for r in backend.find_by_lsh_bands(query, limit=2)] == ranked[:2]
    assert [r.id for r in backend.find_by_lsh_bands(query, limit=10)] == ranked
    assert backend.find_by_lsh_bands(query, limit=0) == []
    # dedup reads the candidates past the first only when they share 2+ keys
    assert [r.id for r in backend.find_by_lsh_bands(query, min_shared=4)] == ranked[:3]
    assert [r.id for r in backend.find_by_lsh_bands(query, min_shared=5, limit=10)] == [laser.id]
    assert backend.find_by_lsh_bands(query, min_shared=7) == []
    assert [r.id for r in backend.find_by_lsh_bands(query, since="2024-07-13", limit=1)] == [tw.id]
    found = backend.find_by_lsh_bands(query, limit=1)[0]
    assert found == laser                          # whole records, keys in their stored order
    # what dedup reads: the same candidates, the text at least its opening
    light = backend.find_by_lsh_bands(query, full_text=False)
    assert [r.id for r in light] == ranked
    for record, whole in zip(light, (laser, tw, repost, flood)):
        assert whole.text.startswith(record.text) and len(record.text) >= min(100, len(whole.text))
        assert (record.story_id, record.published, record.norm_title) == (
            whole.story_id, whole.published, whole.norm_title)
    # same keys shared, same day: the lower id wins the last place
    tw.published = repost.published = "2024-07-13"
    backend.upsert_article(tw)
    backend.upsert_article(repost)
    tied = sorted([tw.id, repost.id])
    assert [r.id for r in backend.find_by_lsh_bands(query, limit=2)] == [laser.id, tied[0]]
    assert [r.id for r in backend.find_by_lsh_bands(query, limit=3)] == [laser.id] + tied


@pytest.mark.parametrize("limit", [1, 3, 6])
def test_a_tied_group_at_the_cut_is_cut_by_id(backend, limit):
    """Six same-day copies sharing every key: the ``limit`` lowest ids, whether
    the tie past the cut is small or large (the SQLite index reads a few tied
    rows whole but looks up the ids of many)."""
    keys = ["b{:02d}:{:016x}".format(i, 0xc0 + i) for i in range(8)]
    copies = [make_record(f"http://www.sczf.gov.cn/art/2024/7/12/art_{n}.html", "suqian-sucheng",
                          "宿城区召开激光产业园建设推进会", LASER, "2024-07-12") for n in range(6)]
    for record in copies:
        record.lsh_bands = keys
        backend.upsert_article(record)
    assert [r.id for r in backend.find_by_lsh_bands(keys, limit=limit)] == sorted(r.id for r in copies)[:limit]


def test_quarantine_is_recorded_not_searchable(backend, corpus):
    backend.record_quarantine(Quarantined(url="http://www.sczf.gov.cn/art/2024/7/1/spam.html",
                                          site="suqian-sucheng", reason="spam_title",
                                          title="澳门新葡京娱乐场", fetched_at="2024-07-20T08:00:00"))
    backend.flush()
    assert [q.reason for q in backend.quarantined()] == ["spam_title"]
    assert search(backend, "新葡京") == []
    assert backend.count_articles() == 5


@pytest.mark.parametrize("url, words", [
    ("http:///no-host", "bad Elasticsearch index URL"),
    ("http://localhost:9200/Bad Prefix", "index prefix"),
    ("ftp://example.com/x", "sqlite://"),
    ("sqlite:///", "bad SQLite index URL"),
])
def test_open_index_rejects_unknown_urls(url, words):
    with pytest.raises(IndexURLError, match=words):
        open_index(url)


def test_open_index_default_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSMON_INDEX", f"sqlite:///{tmp_path}/env/x.db")
    open_index().close()
    assert (tmp_path / "env" / "x.db").exists()
    monkeypatch.delenv("NEWSMON_INDEX")
    monkeypatch.chdir(tmp_path)
    open_index().close()
    assert (tmp_path / "data" / "newsmon.db").exists()
