"""Marker words for every kind of page noise, as named data (trafilatura's xpaths.py habit).

Each group is written once, in simplified Chinese; ``variants`` adds the
traditional spellings real pages use, generated with OpenCC (phrase-aware s2t,
s2tw, s2hk and a naive per-character s2t, because pages mix them: seed 000 has
``轉載請注明出處`` where OpenCC says ``註明``). OpenCC touches only this vocabulary,
never article text. Adding a marker changes data here, not logic in clean.py.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import opencc

# --- line markers: a short line *starting* with one of these is a meta/boilerplate line
# Breadcrumbs ("you are here").
BREADCRUMB_MARKERS = ("位置：", "位置:", "当前位置", "现在位置", "所在位置", "您的位置", "您现在的位置", "你的位置", "你现在的位置", "当前的位置")
# Article meta lines under the title (来源/作者/...). Only dropped when the line is short.
META_LINE_MARKERS = (
    "来源于", "来源", "作者", "责任编辑", "编辑", "浏览次数", "阅读次数", "点击数", "点击量", "访问量",
    "发布时间", "发布日期", "发表时间", "更新时间", "日期", "时间", "信息来源", "文章来源",
    "稿件来源", "发布机构", "发布者", "字号", "字体", "审核", "校对", "供稿", "录入", "原创",
    # a forum post's header and its author's profile card (发表于：…, 等级：… 积分：… 注册：…)
    "发表于", "等级", "积分", "威望", "精华", "帖子",
)
# Share / print / close / font-size bars.
TOOLBAR_MARKERS = (
    "分享到", "分享至", "打印本页", "关闭窗口", "打印", "关闭", "收藏", "【大", "【中", "【小",
    "字体：", "字号：", "扫一扫", "用手机扫描", "微信扫一扫", "扫描二维码", "自动播放", "我要评论", "我要纠错", "阅读 | 订阅", "阅读|订阅",
)
# Previous/next article links.
PREV_NEXT_MARKERS = ("上一篇", "下一篇", "上一条", "下一条", "上篇", "下篇")
# What a prev/next link says when there is no such article ("下一篇：没有了").
NO_MORE_MARKERS = ("没有了", "无", "暂无", "已是第一篇", "已是最后一篇", "没有上一篇", "没有下一篇")
# Share buttons: platform names (a line of only these is a share bar) and the labels before them.
SHARE_TARGETS = (
    "新浪微博", "腾讯微博", "微博", "微信好友", "微信", "朋友圈", "QQ空间", "QQ好友", "QQ", "豆瓣", "人人网",
    "复制链接", "Facebook", "Twitter", "LINE", "Plurk",
)
SHARE_LEAD_MARKERS = ("转播到腾讯微博", "转播到", "分享到", "分享至", "分享：", "分享:", "分享")
# Banners and app/browser prompts above the article ("浏览器更新提醒…立即更新×").
BANNER_MARKERS = (
    "浏览器更新提醒", "升级浏览器", "浏览器版本过低", "立即更新", "立即下载", "立即体验", "下载客户端",
    "下载APP", "打开APP", "打开客户端", "APP内打开", "扫码下载", "阅读全文请打开", "下载地址",
    "欢迎扫描", "扫描二维码关注", "扫码关注", "长按识别二维码", "关注官方微信", "关注微信公众号",
)
# QR-code and app captions ("证券时报APP", "微信公众号"): a short line naming one is a promo.
APP_PROMO_MARKERS = ("APP", "App", "客户端", "公众号", "二维码", "小程序", "扫码关注", "扫一扫")
# "(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)": where the text came from, closing it.
SOURCE_NOTICE_MARKERS = ("本文来自", "本文来源于", "本文来源", "本文转自", "本文转载自", "文章来自", "内容来自")
# Picture credits written with a slash ("图/pixabay", "圖片／視覺中國"); "图：…" is a caption and stays.
PICTURE_CREDIT_MARKERS = ("图片", "图", "摄影", "视频", "制图")
# A link to another article inside the text ("此前报道：港媒曝…", "相关阅读：…").
RELATED_LINK_MARKERS = ("此前报道", "相关报道", "相关阅读", "延伸阅读", "推荐阅读", "往期回顾", "往期推荐", "相关新闻")
# A video player's title bar ("视频-陈同佳出狱 鞠躬说“对不起”").
VIDEO_LABEL_MARKERS = ("视频", "直播", "播放")
# Outlets at the end of a "记者/报名" credit line ("石佳/中国青年报").
MEDIA_SUFFIXES = ("日报", "晚报", "早报", "周刊", "电视台", "客户端", "新闻", "杂志", "频道", "报", "网", "社", "台")
# Copyright disclaimers; the numbered ①②③ clauses after them go too.
DISCLAIMER_MARKERS = ("免责声明", "版权声明", "郑重声明", "特别声明", "声明：", "声明:")
REPOST_NOTICE_MARKERS = ("转载请注明出处", "转载请注明来源", "转载请注明", "未经授权不得转载", "版权所有，未经",
                         "未经允许不得转载", "未经授权，不得转载", "未经书面授权禁止使用")
EMPTY_WIDGET_MARKERS = ("暂无关键词", "暂无评论", "暂无相关")
# Comment / related / recommendation widgets: everything after them is page furniture.
TAIL_WIDGET_MARKERS = (
    "网友点评", "相关评论", "相关推荐", "相关阅读", "相关文章", "相关新闻", "相关链接", "精彩导读",
    "每日推荐", "推荐图文", "热门文章", "热门推荐", "猜你喜欢", "延伸阅读", "最新文章", "最近发表",
    "发表评论请先", "发表评论", "评论列表", "网友评论", "我来说两句", "标签列表", "友情链接",
    "扫描二维码", "热点推荐", "图片新闻", "新闻评论", "加载更多", "热帖", "热词", "选择其他平台",
    "精彩视频推荐", "相关稿件", "责任编辑", "分享到",
    # portal recommendation and reader-feedback widgets (163, sina, stcn, huanqiu, 博客)
    "为你推荐", "为您推荐", "推荐新闻", "推荐阅读", "点击进入专题", "点击排行", "本周热门", "相关资讯",
    "正文已结束", "延伸·推荐", "延伸 · 推荐", "关键词 >>", "关键词>>", "标签：", "标签:", "查看评论", "不感兴趣", "阅读数", "责编", "上一页", "图片均来自网络",
)
# Tag/follow/report widgets ("+关注 / 关注 / 2545文章 / 50445浏览量").
FOLLOW_WIDGET_MARKERS = ("+关注", "＋关注", "关注", "举报")
# Site footers: the words that make a block the page names a footer (<div id="footer">) one
# (pipelines.extraction.evidence.footer_lines).
FOOTER_MARKERS = (
    "主办", "承办", "协办", "主管", "邮箱", "ICP备", "ICP证", "网站标识码", "公网安备", "京公网安备",
    "版权所有", "Copyright", "copyright", "技术支持", "联系电话", "网站地图", "联系我们", "政府网站找错",
    "建议使用", "分辨率",
)
# A footer line opening on one of these and a colon ("主办：××市人民政府办公室").
FOOTER_LINE_STARTS = ("主办", "承办", "协办", "主管", "邮箱", "网站标识码", "技术支持")
# Footer words anywhere in a line (registration numbers, the report hotline), and the
# rights notice when a © or colon follows it ("版权所有：", "版权所有 ©").
FOOTER_LINE_WORDS = ("网站标识码", "公网安备", "违法和不良信息举报", "举报邮箱")
FOOTER_RIGHTS_MARKERS = ("版权所有",)
# Words of a site's legal notice: a numbered clause with three of them is a disclaimer's.
DISCLAIMER_CLAUSE_WORDS = ("本网", "本站", "版权", "转载", "授权", "摘编", "追究", "不承担", "文责自负", "观点")
# What a number alone on a line counts in a follow widget ("2545文章", "50445浏览量").
WIDGET_COUNT_WORDS = ("文章", "浏览量", "粉丝", "评论", "阅读")
# Toolbar buttons a line opens on ("分享到：", "【打印】", "字号：大 中 小").
TOOLBAR_START_MARKERS = ("分享到", "分享至", "自动播放", "打印本页", "关闭窗口", "【打印", "【关闭", "【大", "字号", "字体")
# id/class words of the elements that hold a site footer (<div id="footer">, .copyright, .bottom, .banquan).
FOOTER_BLOCK_NAMES = ("footer", "foot", "copyright", "copy_right", "bottom", "banquan", "bq")
# Service bars at the top of Hanweb/TRS pages (区长信箱 | 区长热线).
SERVICE_BAR_MARKERS = (
    "区长信箱", "区长热线", "市长信箱", "市长热线", "县长信箱", "书记信箱", "政务服务", "无障碍",
    "长者模式", "今日要闻", "设为首页", "加入收藏", "English", "登录超时", "免注册", "快速登录",
)
# Download lines under the text ("附件下载：项目简介.pdf"): links to files, not paragraphs.
ATTACHMENT_MARKERS = ("附件下载", "附件", "下载附件", "相关附件", "相关下载")
ATTACHMENT_EXTENSIONS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "zip", "rar", "ppt", "pptx", "ofd", "txt", "jpg", "png")
# Credit lines under the text: "采写：南都记者 …", "执笔/叨叨姐", "摄影/张艳 编辑/苏芳", "出品︱…".
BYLINE_MARKERS = ("采写", "执笔", "撰文", "摄影", "编辑", "责编", "出品", "记者", "作者", "通讯员", "供稿")
# Contact blocks of site footers: "地 址：", "邮政编码：", "电子信箱：", "传 真：".
CONTACT_MARKERS = ("地址", "邮政编码", "邮编", "电子信箱", "电子邮箱", "电话", "传真", "联系电话")
# Lines that introduce a notice's own contact details ("联系人：张三"): those stay.
CONTACT_INTRO_MARKERS = ("联系人", "联系方式", "咨询", "报名", "受理", "监督", "举报")
# Forum software's id for the element that holds one post's message: Discuz! X/7
# (postmessage_123), Discuz! 4-5 (message123), vBulletin (post_message_123), phpwind
# (read_tpc for the first post, read_123), dvbbs (textstyle_1), phpBB (message_123).
FORUM_MESSAGE_ID_PREFIXES = ("postmessage_", "message", "post_message_", "read_", "textstyle_", "message_")
FORUM_FIRST_POST_IDS = ("read_tpc",)
# Words of a post's header line in forums without known ids (天涯, dvbbs-style tables).
FORUM_POST_MARKERS = ("发表于", "发表时间", "楼主", "沙发", "板凳", "地板", "回复于", "回复时间", "引用", "只看该作者")
# id/class words of a comment section under a post (WordPress comment-list, Sina blog allComm /
# SG_cmp_revert, 评论 pinglun). Not "reply": a 领导信箱 page's reply is its body.
# Case matters: "comment" after no letter, or camel-case "allComm"; never "recommend", "common".
COMMENT_BLOCK_NAMES = (r"(?:(?<![A-Za-z])comm|Comm)(?!on)", "pinglun", "revert")
# Words that make a "（...）" line an editor credit: （责任编辑：张三）.
EDITOR_CREDIT_MARKERS = ("责任编辑", "编辑", "责编", "审核", "校对", "来源")

# --- pinyin: the Mandarin syllable inventory (toneless, ü written v). A bracketed word after
# a CJK character is only a flattened ruby annotation if it is one of these.
PINYIN_SYLLABLES = frozenset("""
a ai an ang ao e ei en eng er o ou
ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu
pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu
fa fan fang fei fen feng fo fou fu
da dai dan dang dao de dei den deng di dian diao die ding diu dong dou du duan dui dun duo
ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nuo nv nve nue
la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve lue
ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo
ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo
ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo
sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo
ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun zuo
ca cai can cang cao ce cen ceng ci cong cou cu cuan cui cun cuo
sa sai san sang sao se sen seng si song sou su suan sui sun suo
ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun
wa wai wan wang wei wen weng wo wu
""".split())

# --- spam vocabulary: porn/gambling injections on hacked or SEO-spam pages
SPAM_KEYWORDS = (
    "在线观看", "国产", "欧美", "日韩", "一区二区", "久久", "精品", "免费一级", "a一片", "av",
    "亚洲第一", "无码", "有码", "毛片", "黄片", "成人", "色情", "偷拍", "自拍", "人妻", "乱伦",
    "高清", "视频在线", "午夜", "伦理", "三级", "激情", "情色", "福利", "网址", "动漫",
    "博彩", "赌场", "彩票", "娱乐城", "百家乐", "体育投注", "投注", "真人", "时时彩", "六合彩",
    "棋牌", "老虎机", "开户", "必威", "十博", "威尼斯人", "葡京", "澳门", "金沙", "太阳城",
)
# Strong words: one of them in a title is already suspicious.
SPAM_STRONG_KEYWORDS = (
    "在线观看", "一区二区", "免费一级", "亚洲第一", "无码", "毛片", "黄片", "久久精品", "国产精品",
    "欧美精品", "色情", "乱伦", "百家乐", "娱乐城", "时时彩", "六合彩", "体育投注", "博彩",
)
# Tags that browsers ignore and spam kits inject (<delect id="znobx">).
SPAM_JUNK_TAGS = ("delect", "delet", "dfn", "acronym", "rp", "strike", "legend", "kbd", "optgroup", "noframes")
# Ordinary tags that spam kits scatter empty, each with a random lowercase id
# (<tbody id="znobx"></tbody> outside any table, <i id="xzbnr"></i>).
SPAM_JUNK_ID_TAGS = ("i", "b", "tbody", "tr", "td", "th", "li", "em", "small", "u", "span", "font", "sub", "var", "ins", "del", "address", "label", "bdo", "cite", "q", "abbr", "tt", "big", "mark", "samp", "s", "strong", "p", "div", "ol", "ul", "dl", "dd", "dt", "center", "menu", "option", "object", "output", "progress", "meter")

# --- extraction vocabulary
# Known CMS body containers, best first (TRS WCM, Hanweb JCMS, UCAP, gov.cn portals, blogs).
BODY_CONTAINER_SELECTORS = (
    "#UCAP-CONTENT", ".TRS_Editor", ".TRS_UEDITOR", "#zoom", ".zoom", ".pages_content", "#Zoom",
    ".article-content", ".article_content", "#article_content", ".articleContent", "#articleContent",
    ".article-body", ".art_con", ".art-con", ".artCon", "#artibody", ".news_content", ".news-content",
    "#news_content", ".newsContent", ".content_text", ".contentText", ".detail-content", ".detail_content",
    ".content-text", ".con_text", "#text", ".post-content", ".entry-content", ".bt_content",
    # WeChat official-account articles (many government offices publish through 公众号 first),
    # VSB (博达) CMS used by universities and county sites.
    "#js_content", ".rich_media_content", "#vsb_content",
    "#article", "#content", ".content", "article", ".main-text", ".wenzhang",
)
# Title elements in the content area, best first.
TITLE_SELECTORS = (
    ".article-title", ".art_title", ".news_title", ".news-title", ".title", "#title", ".bt",
    ".post-title", ".tit", ".arti_title", ".detail-title", ".content-title", "#ivs_title",
)
# <title> suffix separators: "标题_宿迁市人民政府", "标题-平桥区".
TITLE_SEPARATORS = ("_", "-", "|", "—", "－", "–", "｜", "::", "·")

# Script variables that hold the publication time where the page shows none, or only a
# relative one ("前天"): CMS templates and WeChat official-account pages (ct = create time).
PUBLISH_TIME_SCRIPT_VARS = ("publish_time", "publishtime", "pubtime", "pub_time", "pubdate", "pub_date",
                            "publishdate", "publish_date", "create_time", "createtime", "ct", "ptime", "post_time")
# Date labels (发布时间：2021-07-12).
DATE_LABELS = ("发布时间", "发布日期", "发表时间", "发表日期", "成文日期", "发文日期", "日期", "时间", "印发日期", "更新时间",
               "发表于")


@lru_cache(maxsize=8)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


# OpenCC's s2t, s2tw and s2hk dictionaries take ~0.3 s to load, paid by every process that
# imports the cleaning rules (each `newsmon extract`). The spellings of the words above are
# kept in vocabulary_variants.json (``python -m pipelines.extraction.vocabulary`` rewrites it; a test
# checks it against OpenCC); OpenCC is loaded only for a word the table lacks.
_TABLE_FILE = Path(__file__).with_name("vocabulary_variants.json")
_TABLE: dict[str, list[str]] = (json.loads(_TABLE_FILE.read_text(encoding="utf-8"))
                                if _TABLE_FILE.exists() else {})
MISSING: dict[str, list[str]] = {}    # words asked for that the table lacks (computed with OpenCC)


def opencc_spellings(word: str) -> list[str]:
    """s2t, s2tw, s2hk and a naive per-character s2t of ``word``, in that order."""
    s2t = _converter("s2t")
    return [_converter(config).convert(word) for config in ("s2t", "s2tw", "s2hk")] + \
        ["".join(s2t.convert(ch) for ch in word)]   # naive per-character form


def variants(words: tuple[str, ...]) -> tuple[str, ...]:
    """The simplified words plus every traditional spelling of them, deduplicated."""
    out: dict[str, None] = {}
    for word in words:
        out[word] = None
        spellings = _TABLE.get(word)
        if spellings is None:
            spellings = MISSING[word] = opencc_spellings(word)
        for spelling in spellings:
            out[spelling] = None
    return tuple(out)


def pattern(words: tuple[str, ...]) -> str:
    """A regex alternation of all variants, longest first so 转载请注明出处 beats 转载请注明."""
    return "|".join(re.escape(w) for w in sorted(variants(words), key=len, reverse=True))


def write_variants_table() -> int:
    """Rewrite vocabulary_variants.json for every word the pipelines modules ask for at import."""
    import importlib
    global _TABLE
    _TABLE = {}
    MISSING.clear()
    importlib.reload(importlib.import_module("pipelines.extract"))
    for module in ("clean", "linekinds", "widgets", "spam", "clean_tree", "titles", "dates", "evidence"):
        importlib.reload(importlib.import_module(f"pipelines.extraction.{module}"))
    table = dict(sorted(MISSING.items()))
    rows = [f"{json.dumps(word, ensure_ascii=False)}: {json.dumps(spellings, ensure_ascii=False)}"
            for word, spellings in table.items()]
    _TABLE_FILE.write_text("{\n" + ",\n".join(rows) + "\n}\n", encoding="utf-8")
    return len(table)


if __name__ == "__main__":   # run as __main__, this is a second copy: use the imported module
    from pipelines.extraction import vocabulary
    print(f"{vocabulary.write_variants_table()} words written to {_TABLE_FILE.name}")
