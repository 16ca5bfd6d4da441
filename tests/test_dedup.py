"""Story clustering on realistic reposts: every copy of one report joins its story,
similar-but-different reports stay apart, and the state lives in a real SQLite index."""
from __future__ import annotations

import time

import opencc
import pytest

from index import open_index
from index.base import ArticleRecord
from index.identity import article_id, canonical_url
from pipelines.stories.clustering import StoryClusterer, text_hash
from index.normalize import normalize_text

T2S = opencc.OpenCC("s2t")   # the tests write simplified text and derive traditional copies

LASER = [
    "7月12日上午，宿城区召开激光产业园建设推进会，听取园区基础设施建设、项目招引和企业服务等方面"
    "工作汇报，研究部署下一阶段重点任务。区委副书记、区长王建国出席会议并讲话。",
    "会议指出，激光产业园是全区打造先进制造业集群的重要载体。今年以来，园区累计签约项目12个，"
    "总投资达46.5亿元，其中超10亿元项目3个，标准厂房新开工面积18万平方米，产业集聚效应初步显现。",
    "会议强调，要坚持项目为王，紧盯激光器、光学元件、激光装备等细分领域，开展精准招商、产业链招商，"
    "力争年内再引进一批强链补链项目。要加快推进道路、供水、污水处理等配套工程建设，确保9月底前全面完工。",
    "会议要求，各相关部门要强化服务意识，落实“一企一策”帮办代办机制，及时协调解决企业在用地、融资、"
    "用工等方面遇到的困难和问题，推动已签约项目早开工、早投产、早见效。",
    "区发改委、工信局、自然资源和规划分局、生态环境局等部门主要负责同志参加会议。",
]
MEETING_9 = [
    "7月5日下午，宿城区召开重点项目第九次会办会，逐一会办宏源纺织、恒达智能装备等6个项目在推进中"
    "遇到的问题。区委常委、常务副区长刘洋主持会议。",
    "会上，各项目单位负责人分别汇报了项目建设进展及存在的困难，相关部门现场提出解决方案。针对宏源纺织"
    "二期厂房消防验收问题，住建局明确将于本周内组织专家现场指导；针对恒达智能装备用电增容需求，"
    "供电公司承诺月底前完成线路改造。",
    "刘洋要求，各部门要树牢“项目为王”理念，对会办事项建立台账、明确时限，逐项销号，确保问题不过夜、"
    "服务不断档。",
]
MEETING_10 = [
    "7月19日上午，宿城区召开重点项目第十次会办会，集中会办新材料产业园污水管网、金陵食品冷链仓储等"
    "5个项目的用地和审批事项。区委常委、常务副区长刘洋主持会议。",
    "会上，自然资源和规划分局通报了新材料产业园地块报批进展，行政审批局就金陵食品冷链仓储项目施工许可"
    "办理提出并联审批方案，生态环境局表示将提前介入污水管网项目环评，压缩审批时间。",
    "刘洋要求，各部门要树牢“项目为王”理念，对会办事项建立台账、明确时限，逐项销号，确保问题不过夜、"
    "服务不断档。",
]
FLOOD = [
    "入汛以来，泗洪县严格落实防汛责任制，对全县23座小型水库、136公里河道堤防开展拉网式隐患排查，"
    "共发现并整改隐患点位47处。",
    "县防汛抗旱指挥部要求，各乡镇要严格执行24小时值班和领导带班制度，备足防汛物资，一旦发生险情，"
    "确保第一时间报告、第一时间处置。",
    "目前，全县已储备编织袋12万条、救生衣3000件，组建防汛抢险队伍38支、1900余人，"
    "并于6月下旬组织开展了防汛应急演练。",
    "下一步，泗洪县将加强与气象、水文部门的会商研判，滚动发布预警信息，确保安全度汛。",
]
STRAW = [
    "为切实做好夏季秸秆禁烧工作，6月10日起，宿城区成立5个专项督查组，深入各乡镇（街道）田间地头开展"
    "秸秆禁烧和综合利用督查。",
    "督查组采取“四不两直”方式，重点检查乡镇网格化巡查、重点区域值守和秸秆离田收储等情况，"
    "对发现的问题现场交办、限时整改。",
    "截至目前，全区夏季秸秆综合利用率达96.8%，未发现火点。各乡镇将继续保持高压态势，确保“不着一把火、"
    "不冒一处烟”。",
]
ORIGINALS = {"laser": LASER, "meeting9": MEETING_9, "meeting10": MEETING_10, "flood": FLOOD,
             "straw": STRAW}


def text(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)


def variants(paragraphs: list[str]) -> dict[str, str]:
    """How reposting sites change a report."""
    edited = list(paragraphs)
    first = edited[1].split("。")
    edited[1] = "。".join([first[0] + "，进一步明确了工作目标"] + first[1:])
    return {
        "lead_in": "宿迁网讯：" + text(paragraphs),
        "editor_line": text(paragraphs) + "\n（编辑：李娜  审核：张伟）",
        "edited_sentence": text(edited),
        "dropped_paragraph": text(paragraphs[:-1]),
        "traditional": T2S.convert(text(paragraphs)),
        "lead_in_and_editor": "宿迁日报讯（记者 陈晨）：" + text(paragraphs) + "\n责任编辑：王芳",
    }


def make_record(url: str, body: str, published: str, *, title="宿城区召开激光产业园建设推进会",
                site="suqian-sucheng", fetched_at="2024-07-20T08:00:00+00:00") -> ArticleRecord:
    key = canonical_url(url)
    return ArticleRecord(
        id=article_id(key), url=url, canonical_url=key, site=site, title=title, text=body,
        norm_title=normalize_text(title), norm_text=normalize_text(body), text_hash=text_hash(body),
        published=published, fetched_at=fetched_at)


@pytest.fixture
def index(tmp_path):
    backend = open_index(f"sqlite:///{tmp_path}/dedup.db")
    yield backend
    backend.close()


@pytest.fixture
def clusterer(index):
    return StoryClusterer(index)


def add(clusterer, record):
    """What the Scrapy pipeline does: assign, then upsert."""
    return clusterer.store(record)


def canonical_ids(index) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in index.export():
        found.setdefault(line["story_id"], [])
        if line["canonical"]:
            found[line["story_id"]].append(line["id"])
    return found


# -- canonical URLs ----------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html",
     "HTTPS://WWW.SCZF.GOV.CN:443/art/2024/7/12/art_1229_3456789.html#top"),
    ("http://www.sczf.gov.cn/col/col1229/index.html", "https://www.sczf.gov.cn/col/col1229/"),
    ("http://www.sczf.gov.cn/", "http://www.sczf.gov.cn"),
    ("http://x.gov.cn/content.jsp?id=9&cat=2&utm_source=wx&spm=a.b",
     "http://x.gov.cn/content.jsp?cat=2&from=timeline&id=9&isappinstalled=0"),
    ("http://x.gov.cn:80/a/%E5%AE%BF.html", "http://x.gov.cn/a/宿.html"),
])
def test_canonical_url_equal(a, b):
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize("a, b", [
    ("http://x.gov.cn/content.jsp?id=9", "http://x.gov.cn/content.jsp?id=10"),
    ("http://x.gov.cn:8080/a.html", "http://x.gov.cn/a.html"),
    ("http://x.gov.cn/A.html", "http://x.gov.cn/a.html"),
])
def test_canonical_url_different(a, b):
    assert canonical_url(a) != canonical_url(b)


def test_canonical_url_has_no_scheme():
    assert canonical_url("https://www.sczf.gov.cn/art/index.html?b=2&a=1") == "www.sczf.gov.cn/art?a=1&b=2"


# -- clustering --------------------------------------------------------------------

def test_first_copy_starts_a_story_with_bands(clusterer, index):
    record = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_1.html", text(LASER), "2024-07-12")
    assignment = add(clusterer, record)
    assert assignment.new_story and assignment.match is None
    assert assignment.story_id == "s-" + record.id[:16] == record.story_id
    assert record.canonical and assignment.canonical_id == record.id
    assert len(record.lsh_bands) == 40 and record.lsh_bands[7].startswith("b07:")
    assert record.lsh_bands[32].startswith("l0:")   # the lead signature, for truncated reposts
    assert index.get_article(record.id).lsh_bands == record.lsh_bands


@pytest.mark.parametrize("kind, match", [
    ("lead_in", "near"), ("editor_line", "near"), ("edited_sentence", "near"),
    ("dropped_paragraph", "near"), ("traditional", "exact"), ("lead_in_and_editor", "near"),
])
def test_reposts_join_the_original_story(clusterer, index, kind, match):
    original = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_1.html", text(LASER), "2024-07-12")
    add(clusterer, original)
    repost = make_record(f"http://www.sqxww.cn/news/{kind}.htm", variants(LASER)[kind], "2024-07-13",
                         site="suqian-news")
    assignment = add(clusterer, repost)
    assert (assignment.story_id, assignment.match, assignment.duplicate_of) == (
        original.story_id, match, original.id)
    assert not assignment.new_story and not repost.canonical
    assert canonical_ids(index) == {original.story_id: [original.id]}


def test_distinct_meeting_reports_stay_apart(clusterer, index):
    ninth = make_record("http://www.sczf.gov.cn/art/9.html", text(MEETING_9), "2024-07-05",
                        title="宿城区召开重点项目第九次会办会")
    tenth = make_record("http://www.sczf.gov.cn/art/10.html", text(MEETING_10), "2024-07-19",
                        title="宿城区召开重点项目第十次会办会")
    assert add(clusterer, ninth).new_story
    assert add(clusterer, tenth).new_story
    assert ninth.story_id != tenth.story_id


def test_recrawl_of_same_url_changes_nothing(clusterer, index):
    url = "http://www.sczf.gov.cn/art/2024/7/12/art_1229_1.html"
    add(clusterer, make_record(url, text(LASER), "2024-07-12"))
    add(clusterer, make_record("http://www.sqxww.cn/a.htm", variants(LASER)["lead_in"], "2024-07-13"))
    before = list(index.export())
    again = make_record("https://www.sczf.gov.cn/art/2024/7/12/art_1229_1.html?utm_source=wechat",
                        text(LASER), "2024-07-12", fetched_at="2024-07-21T08:00:00+00:00")
    assignment = add(clusterer, again)
    assert assignment.match == "url" and not assignment.new_story
    assert again.fetched_at == "2024-07-20T08:00:00+00:00"   # first fetch time kept
    index.flush()
    after = list(index.export())
    assert after == before
    assert again.url == url   # the first-seen spelling of the URL stays


def test_later_crawled_earlier_copy_becomes_canonical(clusterer, index):
    repost = make_record("http://www.sqxww.cn/a.htm", variants(LASER)["lead_in"], "2024-07-14",
                         site="suqian-news", fetched_at="2024-07-14T10:00:00+00:00")
    first = add(clusterer, repost)
    original = make_record("http://www.sczf.gov.cn/art/1.html", text(LASER), "2024-07-12",
                           fetched_at="2024-07-20T10:00:00+00:00")
    assignment = add(clusterer, original)
    # the story takes its origin's id, as if the origin had been crawled first
    assert assignment.story_id == "s-" + original.id[:16] != first.story_id
    assert assignment.renamed_from == first.story_id
    assert assignment.canonical_id == original.id and original.canonical
    assert canonical_ids(index) == {assignment.story_id: [original.id]}
    assert {c.id for c in index.story_copies(first.story_id)} == {repost.id, original.id}  # a former id finds it
    later = make_record("http://www.tw.example/a.htm", variants(LASER)["traditional"], "2024-07-15",
                        site="tw-news")
    joined = add(clusterer, later)
    assert joined.canonical_id == original.id and joined.renamed_from is None
    assert canonical_ids(index) == {assignment.story_id: [original.id]}


def test_same_day_copy_without_lead_in_wins_tie(clusterer, index):
    with_lead = make_record("http://www.sqxww.cn/a.htm", variants(LASER)["lead_in"], "2024-07-12",
                            fetched_at="2024-07-12T10:00:00+00:00")
    add(clusterer, with_lead)
    plain = make_record("http://www.sczf.gov.cn/a.htm", text(LASER), "2024-07-12",
                        fetched_at="2024-07-12T10:00:00+00:00")
    assert add(clusterer, plain).canonical_id == plain.id


def test_near_duplicate_outside_window_is_a_new_story(clusterer, index):
    add(clusterer, make_record("http://www.sczf.gov.cn/a.htm", text(LASER), "2024-07-12"))
    late = make_record("http://www.sqxww.cn/a.htm", variants(LASER)["lead_in"], "2024-09-20")
    assert add(clusterer, late).new_story


def test_short_texts_match_only_exactly_and_with_the_same_title(clusterer, index):
    notice = "详见附件。"
    a = make_record("http://x.gov.cn/1.htm", notice, "2024-07-01", title="2024年第一批项目公示")
    b = make_record("http://x.gov.cn/2.htm", notice, "2024-07-02", title="2024年第二批项目公示")
    c = make_record("http://y.gov.cn/3.htm", notice, "2024-07-03", title="2024年第一批项目公示")
    assert add(clusterer, a).new_story and add(clusterer, b).new_story
    assert add(clusterer, c).story_id == a.story_id
    short = "宿城区召开激光产业园建设推进会，区长王建国出席会议并讲话。"
    d = make_record("http://x.gov.cn/4.htm", short, "2024-07-01")
    e = make_record("http://x.gov.cn/5.htm", short.replace("讲话", "作重要讲话"), "2024-07-01")
    assert add(clusterer, d).new_story and add(clusterer, e).new_story
    assert d.lsh_bands == []


def test_corpus_precision_recall_and_speed(clusterer, index):
    """Every original with every repost kind, interleaved: all copies of one report
    share its story and no two reports share one."""
    truth: dict[str, str] = {}
    records = []
    for name, paragraphs in ORIGINALS.items():
        records.append((name, make_record(f"http://www.sczf.gov.cn/{name}.html", text(paragraphs),
                                          "2024-07-12", title=name)))
        for kind, body in variants(paragraphs).items():
            records.append((name, make_record(f"http://www.repost.cn/{name}/{kind}.html", body,
                                              "2024-07-13", title=name, site="repost")))
    records.sort(key=lambda pair: pair[1].id)   # crawl order is arbitrary
    start = time.perf_counter()
    for name, record in records:
        add(clusterer, record)
        truth[record.id] = name
    per_article_ms = (time.perf_counter() - start) / len(records) * 1000
    stories: dict[str, set[str]] = {}
    for line in index.export():
        stories.setdefault(line["story_id"], set()).add(truth[line["id"]])
    assert all(len(names) == 1 for names in stories.values())    # precision: no merged reports
    assert len(stories) == len(ORIGINALS)                        # recall: no split reports
    assert all(len(ids) == 1 for ids in canonical_ids(index).values())
    print(f"\n{len(records)} articles, {per_article_ms:.2f} ms per article (assign + upsert)")
    assert per_article_ms < 50
