"""The widget rules around an article (pipelines.extraction.widgets, the new box rules in
pipelines.extraction.clean_tree, the <title>-segment headline in pipelines.extraction.titles), each on its
own in simplified and traditional forms, then on realistic pages through the whole
extraction: a portal article (UTF-8) and its Big5 traditional twin, each carrying
every widget above and below the body.
"""
from __future__ import annotations

import lxml.html
import pytest

from pipelines.extraction.clean import clean_paragraphs
from pipelines.extraction.clean_tree import drop_link_list_boxes, drop_related_boxes
from pipelines.extract import extract_article
from pipelines.extraction.titles import headline_shown_in_title
from pipelines.extraction.widgets import (
    drop_prev_next_links, drop_trailing_widgets, is_banner_line, is_breadcrumb_path, is_dateline,
    is_related_link_line, is_share_line, is_slash_byline, is_source_notice, is_tag_line, is_video_label,
    strip_source_notice_suffix, unwrap_single_cell_rows,
)

BODY = "11月8日上午，宿迁市宿城区召开激光产业园建设第九次会办会。区委副书记、区长张辉出席会议并讲话。"
BODY2 = "会上，开发区管委会汇报西城大厦有关情况及提请解决问题；与会人员进行交流发言。"
TBODY = "11月8日上午，宿遷市宿城區召開激光產業園建設第九次會辦會。區委副書記、區長張輝出席會議並講話。"


# ------------------------------------------------------------------ one line at a time
@pytest.mark.parametrize("line", [
    "20190926|国贸|增长率|全球经济", "玉峰道路, 上宇老觀景台, 美樹營地, 控溪吊橋, 石磊部落",
    "激光产业 | 宿城区 | 会办会", "標籤，宿遷，產業園，招商",
])
def test_tag_lines(line):
    assert is_tag_line(line)


@pytest.mark.parametrize("line", [
    BODY, "北京、上海、广州、深圳", "一是加快建设，二是优化服务，三是强化保障。",
    "报名时间，报名地点，报名方式：见附件。", "会议强调，要坚持以人民为中心的发展思想，统筹发展和安全，推动高质量发展",
])
def test_not_tag_lines(line):
    assert not is_tag_line(line)


@pytest.mark.parametrize("line", ["微博 微信", "微信 微博", "\ue609微博\ue608微信", "转播到腾讯微博", "轉播到騰訊微博",
                                  "分享：", "分享到：新浪微博 QQ空间 朋友圈", "分享至：微信好友 Facebook Twitter"])
def test_share_lines(line):
    assert is_share_line(line)


@pytest.mark.parametrize("line", ["他在微博上发文称，将于明日召开发布会。", "微信支付已覆盖全市公交。", "分享经验，共同进步"])
def test_not_share_lines(line):
    assert not is_share_line(line)


@pytest.mark.parametrize("line", [
    "浏览器更新提醒电脑登录微信无需扫码，浏览QQ空间提速 5 倍立即更新×", "瀏覽器更新提醒，立即更新×",
    "打开APP阅读全文", "打開APP閱讀全文", "证券时报APP", "微信公众号", "微信公眾號", "下载客户端 查看更多",
])
def test_banner_lines(line):
    assert is_banner_line(line)


@pytest.mark.parametrize("line", [
    BODY, "用户可在政务服务APP上办理社保转移，目前已有10万人使用。", "市民可关注“宿迁发布”微信公众号，了解详情，也可拨打热线。",
])
def test_not_banner_lines(line):
    assert not is_banner_line(line)


@pytest.mark.parametrize("line", ["科技 > 要闻 > THE NEXT WEB > 正文", "首頁 » 新聞 » 本地", "首页>>东区新闻>>正文"])
def test_breadcrumb_paths(line):
    assert is_breadcrumb_path(line)


@pytest.mark.parametrize("line", [BODY, "温度>30℃时，停止作业。", "A>B"])
def test_not_breadcrumb_paths(line):
    assert not is_breadcrumb_path(line)


@pytest.mark.parametrize("line", ["TNW中文站2016年10月14日07:17", "新華網 2019-09-26 10:09", "中国青年报 2019年9月24日 09:10"])
def test_datelines(line):
    assert is_dateline(line)


@pytest.mark.parametrize("line", ["2016年10月14日07:17，记者来到现场。", "TNW中文站 10月14日报道", "2021年7月12日 宿城区人民政府"])
def test_not_datelines(line):
    assert not is_dateline(line)


@pytest.mark.parametrize("line", ["石佳/中国青年报", "張三／聯合報", "李四/新华社", "王五 / 澎湃新闻"])
def test_slash_bylines(line):
    assert is_slash_byline(line)


@pytest.mark.parametrize("line", ["中国/美国", "供需/价格", "北京/上海两地的报", BODY])
def test_not_slash_bylines(line):
    assert not is_slash_byline(line)


@pytest.mark.parametrize("line", ["图/pixabay", "圖片／視覺中國", "摄影/张艳"])
def test_picture_credits(line):
    assert is_slash_byline(line)


@pytest.mark.parametrize("line", ["图：市民在政务服务中心排队办理业务", "图/文 本报记者在现场看到，市民排起长队。"])
def test_picture_captions_are_not_credits(line):
    assert not is_slash_byline(line)


@pytest.mark.parametrize("line", ["(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)", "（本文來自澎湃新聞，更多原創資訊請下載“澎湃新聞”APP）",
                                  "本文转自微信公众号“宿迁发布”"])
def test_source_notices(line):
    assert is_source_notice(line)


@pytest.mark.parametrize("line", ["本文来自一线调研，反映了基层的真实情况，值得认真研究。", BODY])
def test_not_source_notices(line):
    assert not is_source_notice(line)


def test_strip_source_notice_suffix():
    last = "（原题为《新年伊始，习近平的重要文章谈了啥？》）"
    assert strip_source_notice_suffix([BODY, last + "(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)"]) == [BODY, last]
    assert strip_source_notice_suffix([BODY, last + "（本文來自澎湃新聞）"]) == [BODY, last]
    assert strip_source_notice_suffix([BODY]) == [BODY]


@pytest.mark.parametrize("line", ["此前报道：港媒曝陈同佳出狱前首受访 称“对不起香港人”", "相關閱讀：宿遷召開激光產業園會辦會",
                                  "【延伸阅读】：宿城区再签约三个项目"])
def test_related_link_lines(line):
    assert is_related_link_line(line)


@pytest.mark.parametrize("line", ["此前报道称，该项目将于年底竣工。", "相关报道显示，全市已有10万人参加培训"])
def test_sentences_about_reports_stay(line):
    assert not is_related_link_line(line)


@pytest.mark.parametrize("line", ["视频-陈同佳出狱 鞠躬说“对不起”", "視頻：陳同佳出獄 鞠躬說“對不起”", "直播｜宿城区激光产业园签约仪式"])
def test_video_labels(line):
    assert is_video_label(line)


@pytest.mark.parametrize("line", ["视频显示，事发时路口车流量不大。", "视频中的男子随后被警方带走"])
def test_sentences_about_videos_stay(line):
    assert not is_video_label(line)


@pytest.mark.parametrize("line", ["更多猛料！欢迎扫描左方二维码关注新浪新闻官方微信（xinlang-xinwen）",
                                  "更多猛料！歡迎掃描左方二維碼關注新浪新聞官方微信（xinlang-xinwen）"])
def test_follow_promos_are_banners(line):
    assert is_banner_line(line)


# ------------------------------------------------------------------ rules over the paragraph list
@pytest.mark.parametrize("prev,title,nxt,nothing", [
    ("上一篇 :", "今日股市行情分析--2019年8月19日", "下一篇 :", "没有了"),
    ("上一篇：", "宿城区召开全区安全生产工作会议", "下一篇：", "已是最后一篇"),
    ("上一篇：", "宿城區召開全區安全生產工作會議", "下一篇：", "沒有了"),
])
def test_drop_prev_next_links(prev, title, nxt, nothing):
    assert drop_prev_next_links([prev, title, nxt, nothing, BODY, BODY2]) == [BODY, BODY2]
    assert drop_prev_next_links([BODY, f"{prev}{title}", BODY2]) == [BODY, BODY2]


def test_prev_next_label_does_not_take_a_paragraph():
    assert drop_prev_next_links(["下一篇：", BODY]) == [BODY]


def test_drop_trailing_widgets():
    tail = ["玉峰道路, 上宇老觀景台, 美樹營地", "分享：", "证券时报APP", "微信公众号", "- THE END -"]
    assert drop_trailing_widgets([BODY, BODY2, *tail]) == [BODY, BODY2]
    # the same words inside the article stay
    assert drop_trailing_widgets(["微信公众号", BODY]) == ["微信公众号", BODY]


def test_unwrap_single_cell_rows():
    assert unwrap_single_cell_rows(["| 顺德区调研 来源于：东区办事处 |", f"| {BODY} |"]) == \
        ["顺德区调研 来源于：东区办事处", BODY]
    table = ["| 姓名 | 职务 |", "| 张三 | 区长 |"]
    assert unwrap_single_cell_rows(table) == table


@pytest.mark.parametrize("lines,title", [
    (["| 顺德区大良街道调研众创金融街 来源于：东区办事处 |", f"| {BODY} |"], "顺德区大良街道调研众创金融街"),
    (["| 順德區大良街道調研眾創金融街 來源於：東區辦事處 |", f"| {TBODY} |"], "順德區大良街道調研眾創金融街"),
])
def test_title_with_its_meta_line_in_one_cell(lines, title):
    assert clean_paragraphs(lines, title) == [lines[1].strip("| ")]


@pytest.mark.parametrize("head", [
    ["20190926|国贸|增长率|全球经济", "上一篇 :", "今日股市行情分析--2019年8月19日", "下一篇 :", "没有了", "微博 微信", "4"],
    ["瀏覽器更新提醒電腦登錄微信無需掃碼，瀏覽QQ空間提速 5 倍立即更新×", "科技 > 要聞 > 正文",
     "TNW中文站2016年10月14日07:17", "轉播到騰訊微博"],
    ["石佳/中国青年报"],
    ["新酷产品第一时间免费试玩，快来新浪众测，体验各领域最前沿的产品吧~！下载客户端还能获得专享福利哦！"],
    ["新酷產品第一時間免費試玩，快來新浪眾測，體驗各領域最前沿的產品吧~！下載客戶端還能獲得專享福利哦！"],
])
def test_head_widgets_go_before_the_lead(head):
    assert clean_paragraphs([*head, BODY, BODY2], "标题") == [BODY, BODY2]


# ------------------------------------------------------------------ tree rules
def test_small_box_titled_by_a_div_loses_its_teaser_but_keeps_the_title():
    tree = lxml.html.fromstring(f"""<div class="post_body"><p>{BODY}</p><p>{BODY2}</p>
      <div class="special_tag_wrap"><div class="special_tag">
        <div class="special_tag_ttl">延伸 · 推荐</div>
        <div class="special_tag_cnt"><p><a href="/19/0907/a.html">女警一天打100电话被停机</a></p>
          <p>近日，四川江油一社区女民警在开展辖区核查工作时，平均日拨100余个电话。</p></div>
      </div></div></div>""")
    assert drop_related_boxes(tree) == 1
    text = tree.text_content()
    assert "近日，四川江油" not in text and "女警一天" not in text
    assert "延伸 · 推荐" in text and BODY in text and BODY2 in text


def test_a_widget_word_opening_a_long_section_is_not_a_box():
    paragraphs = "".join(f"<p>{BODY}</p>" for _ in range(10))
    tree = lxml.html.fromstring(f"<div><div>相关新闻</div>{paragraphs}</div>")
    assert drop_related_boxes(tree) == 0
    assert tree.text_content().count(BODY) == 10


@pytest.mark.parametrize("title", ["时报观察", "點擊排行", "热门文章"])
def test_drop_link_list_boxes(title):
    items = "".join(f'<li>{i}、<a href="/2019/0927/{i}.shtml">第{i}篇评论文章的标题在这里</a></li>' for i in range(1, 6))
    tree = lxml.html.fromstring(f"""<div class="box_right"><div class="guancha">
        <div class="title">{title}</div><ul class="list">{items}</ul></div>
        <div class="txt"><p>{BODY}</p></div></div>""")
    assert drop_link_list_boxes(tree) == 1
    text = tree.text_content()
    assert title not in text and "评论文章" not in text and BODY in text


def test_a_heading_over_prose_is_not_a_link_box():
    tree = lxml.html.fromstring(f'<div><h3>会议要求</h3><ul><li>{BODY}</li><li>{BODY2}</li>'
                                f'<li><a href="/a">附件一</a></li></ul></div>')
    assert drop_link_list_boxes(tree) == 0


# ------------------------------------------------------------------ headline from <title> segments
@pytest.mark.parametrize("title,html,want", [
    ("新竹尖石_美樹營地賞楓 (2) @ 史蒂文的家_藍天 :: 痞客邦 PIXNET ::",
     '<h1>痞客邦 PIXNET</h1><h1><a href="/blog">史蒂文的家_藍天</a></h1><h2><a href="/post/1">新竹尖石_美樹營地賞楓 (2)</a></h2>',
     "新竹尖石_美樹營地賞楓 (2)"),
    ("明日股市预测--最新出炉联合国贸发报告：2019年全球经济增长率降至2.3%",
     '<div class="title-text">最新出炉联合国贸发报告：2019年全球经济增长率降至2.3%</div>',
     "最新出炉联合国贸发报告：2019年全球经济增长率降至2.3%"),
    ("顺德区大良街道调研众创金融街 东区办事处_中山网",
     '<table><tr><td><span class="Title"><b>顺德区大良街道调研众创金融街</b></span></td></tr></table>',
     "顺德区大良街道调研众创金融街"),
    ("中华人民共和国监察法-纪检", '<td><span class="STYLE8">中华人民共和国监察法</span></td>', "中华人民共和国监察法"),
    # a tail segment that names the site is never the headline
    ("通知公告_宿迁市人民政府", '<div class="logo">宿迁市人民政府</div>', ""),
])
def test_headline_shown_in_title(title, html, want):
    tree = lxml.html.document_fromstring(f"<html><head><title>{title}</title></head><body>{html}</body></html>")
    assert headline_shown_in_title(tree, title) == want


# ------------------------------------------------------------------ whole pages
def portal_page(lang: str) -> str:
    """A portal article with every widget: banner, breadcrumb, sidebar tags, prev/next and share
    icons before the body; dateline, slash byline and share line at its head; a teaser box,
    a column box of links and tags under it."""
    s = lang == "zh-CN"
    t = (lambda simp, trad: simp if s else trad)
    body = t(BODY, TBODY)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="{'utf-8' if s else 'big5'}">
<title>{t('明日观察', '明日觀察')}--{t('宿城区召开激光产业园建设会办会', '宿城區召開激光產業園建設會辦會')}</title>
<script>var _hmt = _hmt || []; var ct = "1636338600";</script>
<link rel="stylesheet" href="/css/main.css"></head>
<body>
<div class="top-banner"><strong>{t('浏览器更新提醒', '瀏覽器更新提醒')}</strong><span>{t('电脑登录无需扫码', '電腦登錄無需掃碼')}</span>
  <a href="/update.exe">{t('立即更新', '立即更新')}</a><em>×</em></div>
<div class="nav"><ul><li><a href="/">{t('首页', '首頁')}</a></li><li><a href="/news/">{t('新闻', '新聞')}</a></li></ul></div>
<div id="content" class="container">
 <div id="article-leftbar"><ul>
  <li class="Lbar_tags"><div class="tag">20211108|{t('激光', '激光')}|{t('产业园', '產業園')}|{t('会办会', '會辦會')}</div></li>
  <li><div class="adjacent-post-title">{t('上一篇', '上一篇')} :</div><a href="/n/1.html">{t('宿城区召开安全生产会议', '宿城區召開安全生產會議')}</a></li>
  <li><div class="adjacent-post-title">{t('下一篇', '下一篇')} :</div>{t('没有了', '沒有了')}</li>
  <li class="share"><a href="#"><i class="icon"></i><span>{t('微博', '微博')}</span></a><a href="#"><span>{t('微信', '微信')}</span></a></li>
 </ul></div>
 <div id="article-wrapper">
  <div class="crumbs">{t('新闻', '新聞')} &gt; {t('本地', '本地')} &gt; {t('正文', '正文')}</div>
  <div class="page-article">
   <div class="title-text">{t('宿城区召开激光产业园建设会办会', '宿城區召開激光產業園建設會辦會')}</div>
   <div class="meta"><span>{t('宿迁网', '宿遷網')}2021{t('年', '年')}11{t('月', '月')}8{t('日', '日')}10:30</span></div>
   <div class="page_art_content">
    <p>{t('张艳/宿迁日报', '張艷/宿遷日報')}</p>
    <p>{body}</p>
    <p>{t(BODY2, '會上，開發區管委會匯報西城大廈有關情況及提請解決問題；與會人員進行交流發言。')}</p>
   </div>
   <div class="special_tag"><div class="special_tag_ttl">{t('延伸 · 推荐', '延伸 · 推薦')}</div>
     <div class="special_tag_cnt"><p><a href="/n/2.html">{t('激光产业园再签约', '激光產業園再簽約')}</a></p>
     <p>{t('近日，宿城区激光产业园又有三个项目签约落户。', '近日，宿城區激光產業園又有三個項目簽約落戶。')}</p></div></div>
   <div class="tags">{t('激光', '激光')}, {t('产业园', '產業園')}, {t('宿城区', '宿城區')}, {t('会办会', '會辦會')}</div>
  </div>
  <div class="guancha"><div class="title">{t('时报观察', '時報觀察')}</div><ul>
   {''.join(f'<li>{i}、<a href="/o/{i}.html">{t("评论文章标题", "評論文章標題")}{i}</a></li>' for i in range(1, 6))}
  </ul></div>
 </div>
</div>
<div class="footer"><p>{t('主办：宿迁市宿城区人民政府', '主辦：宿遷市宿城區人民政府')}</p></div>
</body></html>"""


@pytest.mark.parametrize("lang,encoding", [("zh-CN", "utf-8"), ("zh-TW", "big5")])
def test_portal_page_widgets_never_reach_the_article(lang, encoding):
    html = portal_page(lang)
    article = extract_article(html.encode(encoding), "http://www.example.cn/news/12345.html",
                              {"Content-Type": f"text/html; charset={encoding}"})
    s = lang == "zh-CN"
    assert article.title == ("宿城区召开激光产业园建设会办会" if s else "宿城區召開激光產業園建設會辦會")
    lines = article.text.split("\n")
    assert lines[0] == (BODY if s else TBODY) and len(lines) == 2, lines
    for leak in ("|", "上一篇", "没有了", "沒有了", "微博", "立即更新", "正文", "10:30", "日報", "日报",
                 "近日", "時報觀察", "时报观察", "評論文章", "评论文章", "激光, "):
        assert leak not in article.text, leak


def test_date_from_a_script_variable_when_the_page_shows_none():
    html = portal_page("zh-CN").replace("2021年11月8日10:30", "前天")
    article = extract_article(html.encode("utf-8"), "http://www.example.cn/news/12345.html")
    assert article.published == "2021-11-08T10:30"


@pytest.mark.parametrize("crumb,title_tag,headline", [
    ("首页 - 新闻动态", "新闻动态--中国地理学会官网", "2019年中国人文地理学术年会在重庆•西南大学成功举行！"),
    ("首頁 &gt; 通知公告", "通知公告_宿遷市人民政府", "關於開展2021年度安全生產大檢查的通知"),
])
def test_title_tag_naming_the_column_gives_way_to_the_longest_heading(crumb, title_tag, headline):
    """<title> that every article of a column shares ("新闻动态--学会官网"), shown as the
    breadcrumb's last crumb: the headline is the page's longest heading, not the column."""
    from pipelines.article import ExtractOptions
    from pipelines.extraction.pagemeta import read_meta
    from pipelines.extraction.titles import find_title, page_title
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title_tag}</title></head><body>
      <div class="header"><h4><b>新闻排行榜</b></h4></div>
      <div class="main"><h3>{crumb}</h3><div class="detail"><h5>{headline}</h5>
        <div class="detailCon"><p>{BODY}</p></div></div>
      <div class="side"><h4>联系我们</h4><h5>中国地理学会</h5></div></div></body></html>"""
    tree = lxml.html.document_fromstring(html)
    assert find_title(tree, read_meta(tree), ExtractOptions(), page_title(tree)) == headline
