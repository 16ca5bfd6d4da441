"""Search pages on both backends (the contract suite's fixtures): total count, offset,
region filter, relevance sort, and the sites/regions the filters offer. A page
sorted by date from offset 0 must be exactly what ``search`` (and so
``newsmon search --json``) returns."""
from __future__ import annotations

import pytest

from index.query import parse_query
from index.story_search import search_page
from test_index_contract import FLOOD, LASER, T2S, backend, make_record  # noqa: F401 (fixtures)

LASER_TITLE = "宿城区召开激光产业园建设推进会"


@pytest.fixture
def regional(backend):  # noqa: F811 - the contract suite's fixture
    """Five stories in three regions: the laser story (with a traditional-script repost in
    another province), a later laser follow-up that only mentions the park once, a flood
    report, a 2023 laser story, and a 招聘 notice."""
    def add(url, site, region, title, text, published, **kw):
        record = make_record(url, site, title, text, published, **kw)
        record.region = region
        backend.upsert_article(record)
        return record

    laser = add("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html", "suqian-sucheng",
                "江苏省宿迁市宿城区", LASER_TITLE, LASER, "2024-07-12")
    laser_tw = add("https://news.example.com.tw/a/20240713/88123.htm", "tw-news", "台湾省台北市",
                   T2S.convert(LASER_TITLE), T2S.convert(LASER), "2024-07-13",
                   story_id=laser.story_id, canonical=False)
    follow = add("http://www.sczf.gov.cn/art/2024/7/20/art_1229_3459999.html", "suqian-sucheng",
                 "江苏省宿迁市宿城区", "宿城区重点项目建设观摩活动举行",
                 "7月20日，宿城区组织重点项目建设观摩，先后察看了激光产业园标准厂房、智能装备产业园等6个项目现场，"
                 "观摩组认为，今年项目建设总体进展顺利。", "2024-07-20")
    flood = add("http://www.sihong.gov.cn/t20240702_4123456.html", "sihong", "江苏省宿迁市泗洪县",
                "泗洪县全面排查防汛隐患", FLOOD, "2024-07-02")
    old = add("http://www.whlaser.cn/news/2023/0310/1001.html", "laser-industry", "湖北省武汉市",
              "光谷激光产业园二期开工", "3月10日，光谷激光产业园二期项目开工，激光产业园二期规划用地300亩，激光产业园管委会介绍，"
              "建成后激光企业将超过50家。", "2023-03-10")
    backend.flush()
    return {"laser": laser, "laser_tw": laser_tw, "follow": follow, "flood": flood, "old": old}


def page(backend, text, **kw):  # noqa: F811
    return search_page(backend, parse_query(text), **kw)


def urls(result):
    return [s["url"] for s in result.stories]


def test_first_page_by_date_is_exactly_search(backend, regional):  # noqa: F811
    for text, filters in [("激光产业园", {}), ("激光 OR 防汛", {"limit": 2}), ("激光產業園", {"sites": ["tw-news"]}),
                          ("产业园", {"since": "2024-01-01", "until": "2024-07-15"}), ("防汛 -隐患", {})]:
        limit = filters.pop("limit", 20)
        want = backend.search(parse_query(text), limit=limit, **filters)
        got = page(backend, text, limit=limit, **filters)
        assert got.stories == want, text


def test_total_counts_every_matching_story_and_pages_cover_them_once(backend, regional):  # noqa: F811
    everything = backend.search(parse_query("激光 OR 防汛"), limit=100)
    assert len(everything) == 4
    first = page(backend, "激光 OR 防汛", limit=3)
    second = page(backend, "激光 OR 防汛", offset=3, limit=3)
    assert first.total == second.total == 4
    assert first.stories + second.stories == everything
    assert urls(second) == [regional["old"].url]
    assert page(backend, "激光 OR 防汛", offset=4, limit=3).stories == []
    assert page(backend, "不存在的词", limit=3).total == 0


def test_region_filter_takes_any_region_containing_it(backend, regional):  # noqa: F811
    in_city = page(backend, "激光 OR 防汛", regions=["江苏省宿迁市"])
    assert urls(in_city) == [regional["follow"].url, regional["laser"].url, regional["flood"].url]
    assert in_city.total == 3
    assert urls(page(backend, "防汛 OR 激光", regions=["江苏省宿迁市泗洪县"])) == [regional["flood"].url]
    assert urls(page(backend, "防汛 OR 激光", regions=["宿城区"])) == [regional["follow"].url, regional["laser"].url]
    assert page(backend, "激光", regions=["*"]).total == 0          # no wildcard syntax leaks through
    # The laser story is found through its Taiwanese copy, and still shows its origin and every copy.
    taiwan = page(backend, "激光产业园", regions=["台湾省"])
    assert urls(taiwan) == [regional["laser"].url]
    assert [c["url"] for c in taiwan.stories[0]["copies"]] == [regional["laser"].url, regional["laser_tw"].url]
    both = page(backend, "激光产业园", regions=["台湾省", "湖北省"])
    assert urls(both) == [regional["laser"].url, regional["old"].url]
    assert page(backend, "激光产业园", regions=["江苏省南京市"]).total == 0


def test_relevance_puts_the_story_about_the_term_first(backend, regional):  # noqa: F811
    by_date = page(backend, "激光产业园")
    assert urls(by_date) == [regional["follow"].url, regional["laser"].url, regional["old"].url]
    by_relevance = page(backend, "激光产业园", sort="relevance")
    # Title hits first (the 2023 story names the term earlier in its body), the passing mention last.
    assert urls(by_relevance) == [regional["old"].url, regional["laser"].url, regional["follow"].url]
    assert by_relevance.total == by_date.total == 3
    assert urls(page(backend, "激光产业园", sort="relevance", offset=2, limit=1)) == [regional["follow"].url]


def test_traditional_input_finds_the_same_page(backend, regional):  # noqa: F811
    simplified = page(backend, "激光产业园 推进会", sort="relevance")
    traditional = page(backend, "激光產業園 推進會", sort="relevance")
    assert urls(traditional) == urls(simplified) == [regional["laser"].url]
    assert traditional.total == 1


def test_site_regions_lists_every_site_with_its_region(backend, regional):  # noqa: F811
    assert backend.site_regions() == {
        "laser-industry": "湖北省武汉市", "sihong": "江苏省宿迁市泗洪县",
        "suqian-sucheng": "江苏省宿迁市宿城区", "tw-news": "台湾省台北市"}


def test_bad_paging_is_refused(backend, regional):  # noqa: F811
    with pytest.raises(ValueError, match="unknown sort"):
        page(backend, "激光", sort="clicks")
    with pytest.raises(ValueError, match="offset"):
        page(backend, "激光", offset=-1)


def test_every_match_is_the_same_whether_read_lazily_or_all_at_once(backend, regional):  # noqa: F811
    for text in ("激光产业园", "激光 OR 防汛 -推进会", "產業園 观摩", "防汛"):
        query = parse_query(text)
        everything = backend.match_stories(query)
        assert everything == backend.match_stories(query, limit=100), text   # scores included
        assert everything[:2] == backend.match_stories(query, limit=2), text
