"""Each cleaning rule on its own, then the whole chain on the five seed dumps."""
from __future__ import annotations


import lxml.html
import pytest

from pipelines.extraction.clean import (
    clean_paragraphs, drop_contact_footer, drop_disclaimer_block, drop_head_boilerplate, drop_meta_lines,
    drop_repeated_article, drop_tail_widgets, drop_title_lines, strip_pinyin_annotations, CleanContext,
)
from pipelines.extraction.clean_tree import drop_related_boxes, strip_ruby_annotations
from conftest import SHARED

SEEDS = SHARED / "seeds"
BODY = "11月8日上午，宿迁市宿城区召开激光产业园建设第九次会办会。区委副书记、区长张辉出席会议并讲话。"
BODY2 = "会上，开发区管委会汇报西城大厦有关情况及提请解决问题；与会人员进行交流发言。"


@pytest.mark.parametrize("before,after", [
    ("宿遷召開(kāi)激光產(chǎn)業(yè)園", "宿遷召開激光產業園"),
    ("會(huì)辦會(huì)", "會辦會"),
    ("限值(value)及测量方法", "限值(value)及测量方法"),
    ("条件：(a)外观检验；(b)内部气孔率", "条件：(a)外观检验；(b)内部气孔率"),
    ("（一）加快建设", "（一）加快建设"),
    ("昨(5)日，市委书记", "昨(5)日，市委书记"),
    ("兆瓦(MW)级", "兆瓦(MW)级"),
    ("開（kāi）會", "開會"),
])
def test_strip_pinyin_annotations(before, after):
    assert strip_pinyin_annotations([before]) == [after]


def test_toneless_syllables_only_on_annotated_pages():
    assert strip_pinyin_annotations(["的(de)"]) == ["的(de)"]
    annotated = ["開(kāi)會(huì)產(chǎn)業(yè)的(de)"]
    assert strip_pinyin_annotations(annotated) == ["開會產業的"]


def test_drop_related_boxes_tree():
    html = ("<div><p>正文第一段，讲的是本文。</p><div class='box'><p>前面的文字。</p><h3>相关推荐</h3>"
            "<ul><li><a href='/1'>另一篇文章的标题一</a></li><li><a href='/2'>另一篇文章的标题二</a></li></ul></div>"
            "<h2>为你推荐：</h2><dl><dd><a href='/3'>推荐标题</a></dd></dl><h2>会议要求</h2><p>各单位要落实。</p></div>")
    tree = lxml.html.fromstring(html)
    assert drop_related_boxes(tree) == 2
    text = tree.text_content()
    assert "另一篇文章" not in text and "推荐标题" not in text and "相关推荐" not in text
    # what precedes a box heading stays, and so does a heading that is not a widget name
    assert "前面的文字" in text and "会议要求" in text and "各单位要落实" in text


def test_strip_ruby_annotations_tree():
    tree = lxml.html.fromstring("<p><ruby>開<rp>(</rp><rt>kāi</rt><rp>)</rp></ruby>會了</p>")
    assert strip_ruby_annotations(tree) == 3
    assert tree.text_content() == "開會了"


def test_drop_disclaimer_block_with_clauses():
    lines = [BODY, "轉載請注明出處。", "暫無關鍵詞", "免責聲明", "① 凡本網未注明其他出處的作品,版權均屬於激光製造網。", "② 凡本網注明其他來源的作品及圖片,均轉載自其它媒體。", BODY2]
    assert drop_disclaimer_block(lines) == [BODY, BODY2]


def test_drop_tail_widgets_with_follow_tags():
    lines = [BODY, BODY2, "-", "傳感器", "+關注", "關注", "2545文章", "50445瀏覽量", "751075 -", "發表評論請先 登錄", "相關推薦"]
    assert drop_tail_widgets(lines) == [BODY, BODY2]


@pytest.mark.parametrize("widget", ["网友点评", "0相关评论", "相关推荐", "精彩導讀", "每日推薦", "上一篇：没有了",
                                    "主办：宿迁市宿城区人民政府办公室", "苏ICP备05009876号-1", "熱門文章",
                                    "违法和不良信息举报电话：010-62675637", "舉報郵箱：jubao@vip.sina.com"])
def test_tail_widgets_cut(widget):
    lines = [BODY, widget, "相关文章标题一", "相关文章标题二"]
    out = drop_tail_widgets(lines)
    assert out == [BODY]


def test_drop_head_boilerplate():
    lines = ["閱讀 | 訂閱", "閱讀 | 訂閱", "今日要聞", "宿遷召開激光產業園建設第九次會辦會",
             "來源:宿遷經信網2016-11-14 我要評論(0 )", "所在位置：網站首頁 > 平橋新聞 > 瀏覽",
             "區長信箱 | 區長熱線:0376-3772020", BODY]
    ctx = CleanContext(title="宿遷召開激光產業園建設第九次會辦會")
    assert drop_head_boilerplate(lines, ctx) == [BODY]


@pytest.mark.parametrize("line", [
    "2021-07-12 來源:平橋區融媒體中心 作者:韓濤", "发布时间：2016-11-08 16:42 来源：宿城区经信局 浏览次数：",
    "（责任编辑：王敏）", "【打印本页】【关闭窗口】", "分享到：", "【字体：大 中 小】", "主办：宿迁市宿城区人民政府办公室　承办：宿城区大数据管理局",
    "网站标识码：3213020001", "郵箱:xyjcpq@163.com",
])
def test_drop_meta_lines(line):
    assert drop_meta_lines([BODY, line, BODY2]) == [BODY, BODY2]


@pytest.mark.parametrize("line", ["时间：7月12日上午9点，地点：区政府三楼会议室。", "来源于群众，服务于群众。", "他说：日期已经确定。"])
def test_meta_like_sentences_stay(line):
    assert drop_meta_lines([BODY, line]) == [BODY, line]


def test_drop_repeated_article_whole_copy():
    lines = [BODY, BODY2, "以“钉钉子”精神推动项目落地", BODY, BODY2]
    assert drop_repeated_article(lines) == [BODY, BODY2]


def test_drop_repeated_article_teaser_prefix():
    teaser = BODY[:40]
    assert drop_repeated_article([teaser, BODY, BODY2]) == [BODY, BODY2]
    assert drop_repeated_article([teaser + "…", BODY]) == [BODY]


def test_short_repeats_are_kept():
    assert drop_repeated_article(["一、", BODY, "一、", BODY2]) == ["一、", BODY, "一、", BODY2]


def test_a_question_put_to_each_interviewee_stays():
    """The same short question before each answer is the text's refrain, not a second copy;
    neither is the interviewee line before it a second copy's headline."""
    interview = ["贝莱德固定收益业务全球首席投资官：Rick Rieder", "债券市场存在泡沫吗？", BODY,
                 "摩根大通首席投资官兼全球固定收益主管：Bob Michele", "债券市场存在泡沫吗？", BODY2,
                 "先鋒領航全球固定收益主管：John Hollyer", "債券市場存在泡沫嗎？", BODY[:30] + "。"]
    assert drop_repeated_article(interview) == interview
    # question and answer shown again together: that run of repeats holds a paragraph, a copy
    assert drop_repeated_article(interview + ["债券市场存在泡沫吗？", BODY]) == interview


def test_two_code_listings_keep_their_shared_lines():
    first = ["我们来看这样一个场景：", "import json", "import redis", "client = redis.Redis()", "def parse():"]
    stamp = "handler.insert_one({'finished': True, 'ts': datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')})"
    first = [*first, stamp]
    second = ["那么代码可能变成下面这样：", "import json", "import redis", "import contextlib",
              "def add_ts():", stamp, "client = redis.Redis()", "def parse():"]
    assert drop_repeated_article([*first, BODY, *second, BODY2]) == [*first, BODY, *second, BODY2]


def test_drop_title_lines():
    ctx = CleanContext(title="工業開新局 項目再出彩")
    assert drop_title_lines(["工業開新局  項目再出彩", BODY], ctx) == [BODY]


NOISE = ("(kāi)", "(qū)", "免責聲明", "轉載請注明出處", "網友點評", "+關注", "瀏覽量", "發表評論", "相關推薦",
         "閱讀 | 訂閱", "所在位置", "區長信箱", "每日推薦", "主辦", "承辦", "郵箱", "暫無關鍵詞", "精彩導讀", "來源:")


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")) if SEEDS.exists() else [])
def test_seed_dumps_come_out_clean(seed):
    raw = (SEEDS / seed).read_text(encoding="utf-8").split("\n")
    out = clean_paragraphs(raw)
    text = "\n".join(out)
    for marker in NOISE:
        assert marker not in text, marker
    keys = [p for p in out if len(p) >= 8]
    assert len(keys) == len(set(keys)), "a paragraph appears twice"
    assert all(not any(q != p and q.startswith(p) for q in out) for p in out if len(p) > 15), "teaser kept"


@pytest.mark.parametrize("line", ["附件下载：项目简介.pdf", "附件：宿城区2020年政府信息公开工作年度报告.pdf", "年度报告.docx"])
def test_attachment_download_lines_dropped(line):
    assert drop_meta_lines([BODY, line]) == [BODY]


def test_attachment_list_in_text_stays():
    assert drop_meta_lines([BODY, "附件：1.宿城区名单"]) == [BODY, "附件：1.宿城区名单"]


def test_drop_contact_footer():
    footer = ["地 址：北京市朝阳区大屯路甲11号", "邮政编码：100101", "电子信箱：gsc@example.cn", "传 真：010-64870663"]
    assert drop_contact_footer([BODY, *footer]) == [BODY]
    # a notice's own contact details stay: introduced by 联系人, or too few lines to be a footer
    own = [BODY, "联系人：张三", "联系电话：0527-84351234", "地址：宿城区政府大楼", "邮编：223800"]
    assert drop_contact_footer(own) == own
    assert drop_contact_footer([BODY, "联系电话：0527-84351234"]) == [BODY, "联系电话：0527-84351234"]


@pytest.mark.parametrize("line", ["《棱镜》作者 周纯", "澎湃新闻记者 段彦超 廖艳", "本報記者 陳明", "原创： 路闻卓立编译 人民币交易与研究"])
def test_credit_lines_dropped(line):
    assert drop_meta_lines([BODY, line, BODY2]) == [BODY, BODY2]


def test_accessibility_end_of_text_hint_cuts_the_tail():
    assert drop_tail_widgets([BODY, BODY2, "正文已结束，您可以按alt+4进行评论", "相关文章标题"]) == [BODY, BODY2]


def test_timestamp_and_names_is_a_meta_line():
    assert drop_meta_lines(["2020-06-05 20:35 叨叨姐 胡一刀 李小飞刀", BODY]) == [BODY]
    # a date with an office name closing a notice is a signature, not a meta line
    assert drop_meta_lines([BODY, "2021年7月12日 宿城区人民政府"]) == [BODY, "2021年7月12日 宿城区人民政府"]
