"""Issue 17: extraction that holds on pages nobody tuned it for.

Each page below has the shape of a real CMS template (TRS WCM government article,
WeChat official-account article, Discuz! forum thread, WordPress-style blog post,
a government column list page); the prose is written for the test.
"""
from __future__ import annotations

import pytest

from pipelines.article import ExtractionError
from pipelines.extract import extract_article
from pipelines.extraction.spam import article_spam_reasons, drop_spam_lines, is_spam_line

GOV_HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="SiteName" content="某某县人民政府"><meta name="ColumnName" content="部门动态">
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2023-06-12 09:30">
<title>{title}_部门动态_某某县人民政府</title></head><body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/xwzx/">新闻中心</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/">新闻中心</a> &gt; 部门动态</div>
<div class="article"><h1 class="title">{title}</h1>
<div class="info">发布时间：2023-06-12 09:30 来源：县委宣传部 浏览次数：<span id="views">128</span></div>
<div class="TRS_Editor"><div class="Custom_UnionStyle">"""
GOV_TAIL = """</div></div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div><div class="print">【打印本页】【关闭窗口】</div></div>
<div class="related"><h3>相关新闻</h3><ul>
<li><a href="/xwzx/1.html">县政府召开常务会议研究部署安全生产工作</a></li>
<li><a href="/xwzx/2.html">我县开展防汛应急演练</a></li><li><a href="/xwzx/3.html">全县三夏生产进展顺利</a></li></ul></div>
<div class="footer">主办：某某县人民政府办公室 网站标识码：3400000001 皖ICP备05001234号</div>
</body></html>"""


def gov_page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f'<p style="text-indent:2em;">{p}</p>' for p in paragraphs)
    return (GOV_HEAD.format(title=title) + body + GOV_TAIL).encode("utf-8")


SAOHUANG = [
    "为深入推进“扫黄打非·净网2023”专项行动，6月9日，县“扫黄打非”工作领导小组办公室联合县公安局、县文旅局对城区出版物市场、网吧和校园周边开展集中检查。",
    "检查组重点查看了经营单位是否销售含有淫秽色情、暴力恐怖内容的非法出版物，是否存在盗版教辅、“口袋本”等有害出版物，网吧是否接纳未成年人上网。",
    "此次行动共检查经营单位46家，收缴非法出版物320余册，责令整改3家。检查组要求各经营单位严格落实主体责任，坚决抵制淫秽色情和赌博类有害信息传播。",
    "下一步，县“扫黄打非”办将持续保持高压态势，严厉打击网络色情、网络赌博等违法犯罪活动，为广大青少年营造清朗的网络空间和社会文化环境。",
]
CHILDREN = [
    "近日，县妇联、县检察院联合开展“护苗成长”未成年人保护宣传进校园活动，为全县2000余名中小学生送上法治教育课。",
    "活动中，检察官结合真实案例，讲解了如何识别网络诱骗、拒绝色情信息、防范性侵害等自我保护知识，提醒同学们不要随意添加陌生网友，不向他人发送个人照片。",
    "县妇联负责人表示，将联合有关部门持续开展家庭教育指导，推动学校、家庭、社会共同为未成年人撑起保护伞，坚决遏制色情、暴力等有害信息对未成年人的侵害。",
]


@pytest.mark.parametrize("title,paragraphs", [
    ("县“扫黄打非”办开展出版物市场和网吧集中检查", SAOHUANG),
    ("县妇联联合县检察院开展未成年人保护宣传进校园活动", CHILDREN),
])
def test_report_on_pornography_is_an_article(title, paragraphs):
    art = extract_article(gov_page(title, paragraphs), "http://www.xx.gov.cn/xwzx/bmdt/202306/t20230612_1.html")
    assert not art.spam, art.spam_reasons
    assert art.text.split("\n") == paragraphs
    assert not [r for r in art.spam_reasons if r.startswith("spam_line")]


def test_sentences_mentioning_spam_words_are_prose_not_spam():
    assert drop_spam_lines(SAOHUANG) == (SAOHUANG, [])
    assert article_spam_reasons("严厉打击网络色情和网络赌博 守护青少年健康成长", "\n".join(SAOHUANG)) == []
    assert not is_spam_line("关于开展打击网络色情和非法博彩专项行动的通知")
    assert is_spam_line("澳门葡京赌场_真人百家乐在线开户_亚洲av天堂在线观看")


WECHAT = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta property="og:title" content="我市召开2023年防汛工作会议"><meta property="og:type" content="article">
<title>我市召开2023年防汛工作会议</title></head><body id="activity-detail" class="zh_CN">
<div class="rich_media_wrp" id="js_article"><div class="rich_media_inner"><div id="page-content" class="rich_media_area_primary">
<h1 class="rich_media_title" id="activity-name">我市召开2023年防汛工作会议</h1>
<div id="meta_content" class="rich_media_meta_list"><span class="rich_media_meta rich_media_meta_text">应急管理局</span>
<span class="rich_media_meta rich_media_meta_nickname" id="profileBt"><a href="javascript:void(0);" id="js_name">某某应急管理</a></span>
<em id="publish_time" class="rich_media_meta rich_media_meta_text"></em></div>
<div class="rich_media_content js_underline_content" id="js_content" style="visibility: hidden;">
<section style="line-height: 1.75em;"><span style="font-size: 15px;">5月30日，全市2023年防汛工作会议召开，会议总结了去年防汛工作，分析研判今年汛期形势，安排部署防汛重点任务。</span></section>
<section style="line-height: 1.75em;"><span style="font-size: 15px;">会议指出，今年我市汛期降雨总体偏多，局地强降雨、山洪地质灾害风险较高，各级各部门要克服麻痹思想和侥幸心理。</span></section>
<section style="line-height: 1.75em;"><span style="font-size: 15px;">会议要求，要压紧压实防汛责任，加强监测预警和隐患排查，备足抢险物资和队伍，确保安全度汛。</span></section>
<p style="display: none;"><mp-style-type data-value="3"></mp-style-type></p>
</div>
<script>var ct = "1685433600"; document.getElementById("js_content").style.visibility = "visible";</script>
</div></div></div>
<div class="rich_media_tool" id="js_toobar3"><div class="media_tool_meta">阅读 <span id="readNum3">1024</span></div></div>
</body></html>"""


def test_wechat_hidden_js_content_is_extracted():
    art = extract_article(WECHAT.encode("utf-8"), "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOp")
    assert art.text.split("\n") == [
        "5月30日，全市2023年防汛工作会议召开，会议总结了去年防汛工作，分析研判今年汛期形势，安排部署防汛重点任务。",
        "会议指出，今年我市汛期降雨总体偏多，局地强降雨、山洪地质灾害风险较高，各级各部门要克服麻痹思想和侥幸心理。",
        "会议要求，要压紧压实防汛责任，加强监测预警和隐患排查，备足抢险物资和队伍，确保安全度汛。",
    ]
    assert not art.spam_reasons


FORUM = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>周末带娃去湿地公园，说说几点感受 - 亲子乐园 - 某某论坛 - Powered by Discuz!</title></head><body>
<div id="hd"><div class="wp"><a href="forum.php">论坛首页</a> <a href="home.php">家园</a> <a href="search.php">搜索</a></div></div>
<div id="pt" class="bm cl"><div class="z"><a href="./">某某论坛</a> <em>&rsaquo;</em> <a href="forum-12-1.html">亲子乐园</a> <em>&rsaquo;</em> 周末带娃去湿地公园，说说几点感受</div></div>
<div id="postlist" class="pl bm">
<div id="post_1001"><table id="pid1001" class="plhin"><tr><td class="pls"><div class="authi"><a href="space-uid-88.html" class="xw1">春风十里</a></div></td>
<td class="plc"><div class="pct"><div class="pcb"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr>
<td class="t_f" id="postmessage_1001">
上周六天气不错，带孩子去了城东的湿地公园，整体体验还可以，说几点感受给准备去的家长参考。<br />
<br />
第一，停车比较方便，东门停车场车位很多，上午十点前到基本不用排队，收费也不贵。<br />
<br />
第二，园里步道很长，三四岁的孩子走不完全程，建议带上推车，中间的观鸟台可以歇歇脚。<br />
<br />
第三，园里小卖部东西偏贵，最好自己带水和零食，垃圾记得带走，保护环境人人有责。<br />
</td></tr></table></div></div></div></td></tr></table></div>
<div id="post_1002"><table id="pid1002" class="plhin"><tr><td class="pls"><div class="authi"><a href="space-uid-93.html" class="xw1">小鱼儿</a></div></td>
<td class="plc"><div class="pct"><div class="pcb"><div class="t_fsz"><table><tr><td class="t_f" id="postmessage_1002">
谢谢楼主分享，下周也准备去看看。
</td></tr></table></div></div></div></td></tr></table></div>
</div>
<div id="ft" class="wp cl"><p>Powered by <strong>Discuz!</strong> X3.4 &copy; 2001-2023 Comsenz Inc.</p></div>
</body></html>"""

BLOG = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8">
<title>读《乡土中国》札记 &#8211; 半亩方塘</title></head><body class="post-template-default single single-post">
<header class="site-header"><nav><ul><li><a href="/">首页</a></li><li><a href="/category/reading/">读书</a></li><li><a href="/about/">关于</a></li></ul></nav></header>
<main id="main" class="site-main"><article id="post-312" class="post-312 post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">读《乡土中国》札记</h1></header>
<div class="entry-content">
<p>重读费孝通先生的《乡土中国》，最大的感受是书里讲的“差序格局”至今仍然能在身边找到影子。</p>
<p>所谓差序格局，就像把一块石头丢进水里，以自己为中心推出去的一圈圈波纹，越推越远，也越推越薄。</p>
<p>书中对“礼治秩序”的讨论同样让人印象深刻：在熟人社会里，维持秩序的往往不是法律条文，而是人们从小习得的规矩。</p>
<p>当然，今天的乡村早已不是费先生笔下的样子，但理解这些概念，依然有助于我们看清许多习以为常的现象。</p>
</div>
<footer class="entry-footer"><span class="cat-links">分类：<a href="/category/reading/">读书</a></span></footer>
</article></main>
<aside class="widget-area"><section class="widget"><h2 class="widget-title">近期文章</h2><ul>
<li><a href="/2019/03/01/">春日随笔</a></li><li><a href="/2019/02/11/">年终书单</a></li><li><a href="/2019/01/05/">冬夜读诗</a></li></ul></section></aside>
</body></html>"""


def test_undated_forum_post_is_not_refused():
    art = extract_article(FORUM.encode("utf-8"), "http://bbs.example.cn/thread-4512-1-1.html")
    assert art.published is None
    assert art.text.startswith("上周六天气不错，带孩子去了城东的湿地公园")
    assert "第三，园里小卖部东西偏贵，最好自己带水和零食，垃圾记得带走，保护环境人人有责。" in art.text
    assert "Powered by" not in art.text and "论坛首页" not in art.text
    assert "谢谢楼主分享" not in art.text and "小鱼儿" not in art.text   # a reply is a comment


def test_undated_blog_post_is_not_refused():
    art = extract_article(BLOG.encode("utf-8"), "http://blog.example.cn/reading/xiangtu-zhaji/")
    assert art.published is None
    assert art.text.split("\n")[0].startswith("重读费孝通先生的《乡土中国》")
    assert len(art.text.split("\n")) == 4 and "近期文章" not in art.text


LIST_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>部门动态_某某县人民政府</title>
<meta name="ColumnName" content="部门动态"></head><body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/xwzx/">新闻中心</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/">新闻中心</a> &gt; 部门动态</div>
<div class="list"><ul>{items}</ul>
<div class="page">共20页 <a href="index_1.html">下一页</a> <a href="index_19.html">尾页</a></div></div>
<div class="footer">主办：某某县人民政府办公室 网站标识码：3400000001</div></body></html>"""
HEADLINES = ["县政府召开常务会议研究部署安全生产工作", "我县开展2023年防汛应急演练", "全县三夏生产进展顺利 夏粮收购有序推进",
             "县市场监管局开展食品安全专项检查", "县教体局召开中考工作部署会", "县卫健委开展义诊进社区活动",
             "我县举办2023年招商引资推介会", "县人社局举办春风行动专场招聘会", "县住建局开展燃气安全隐患排查整治",
             "县文旅局举办非遗展演活动", "县交通局推进农村公路提档升级", "县水利局开展河湖“清四乱”行动"]


def test_list_page_is_refused():
    items = "".join(f'<li><a href="./202306/t2023061{i % 10}_{i}.html">{h}</a><span>2023-06-{12 - i % 10:02d}</span></li>'
                    for i, h in enumerate(HEADLINES))
    with pytest.raises(ExtractionError) as info:
        extract_article(LIST_PAGE.format(items=items).encode("utf-8"), "http://www.xx.gov.cn/xwzx/bmdt/")
    assert info.value.reason == "no_body"


RECOMMEND_INSIDE = [
    "6月10日，我县2023年“文化和自然遗产日”非遗展演活动在县文化广场举行，20余个非遗项目集中亮相。",
    "活动现场，剪纸、竹编、木雕等传统技艺传承人现场展示技艺，吸引了众多市民驻足观看、体验。",
]
RECOMMEND_AFTER = [
    "县文旅局负责人介绍，近年来我县不断加大非遗保护力度，已建成非遗传承基地12个，认定县级以上非遗代表性传承人86名。",
    "下一步，我县将继续推动非遗进校园、进社区、进景区，让非遗在保护传承中焕发新的活力。",
]


def test_recommended_box_inside_article_keeps_the_paragraphs_after_it():
    box = ('<div class="tjyd"><p><strong>推荐阅读</strong></p><ul>'
           '<li><a href="/xwzx/a.html">我县举办非遗文化进校园活动</a></li>'
           '<li><a href="/xwzx/b.html">县文旅局召开文物安全工作会议</a></li>'
           '<li><a href="/xwzx/c.html">全县旅游市场秩序专项整治启动</a></li></ul></div>')
    body = "".join(f'<p style="text-indent:2em;">{p}</p>' for p in RECOMMEND_INSIDE) + box + \
        "".join(f'<p style="text-indent:2em;">{p}</p>' for p in RECOMMEND_AFTER)
    html = GOV_HEAD.format(title="我县举办2023年文化和自然遗产日非遗展演活动") + body + GOV_TAIL
    art = extract_article(html.encode("utf-8"), "http://www.xx.gov.cn/xwzx/bmdt/202306/t20230612_2.html")
    assert art.text.split("\n") == RECOMMEND_INSIDE + RECOMMEND_AFTER
