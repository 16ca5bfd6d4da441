"""Page shapes the held-out sets have and the stored pages lack, built from real templates.

Each builder returns the raw bytes of one page in the markup of a real kind of site, with
prose written for the tests (no page is copied):

* ``old_portal_page``  – a 2005-era county portal: a Dreamweaver table layout (778 px
  banner, a left column of links, the article in a ``<td>`` whose paragraphs are
  ``&nbsp;`` indents and ``<br>`` breaks, a footer table), GB2312;
* ``dvbbs_thread``     – a 2005 dvbbs thread: a table per post, no message ids, GB2312;
* ``discuz_thread``    – a Discuz! X3.4 thread (``#postlist``, ``div#post_N`` /
  ``td.t_f#postmessage_N``, 楼主/沙发 floors, a reply quoting the first post), GBK;
* ``sina_blog``        – a 2008 Sina blog post (``.articalContent``) with readers' comments
  (``.allComm`` / ``ul.SG_cmp_revert``) longer than the post;
* ``wordpress_post``   – a WordPress (Twenty Seventeen) post with ``ol.comment-list``;
* ``chapter_page``     – a novel site's chapter (``#content``, ``<br /><br />``, 上一章/下一章), GBK;
* ``timetable_page``   – a TRS government page whose body is a schedule table (cells with
  ``<p>``, a rowspan day column written vertically), no sentence in it;
* ``video_page``       – a VSB (博达) video page: a player script, meta fields, and the site
  footer (``#footer #copyright``: 地址/邮编/电话/传真) as the only text.
"""
from __future__ import annotations

OLD_PORTAL_PARAS = [
    "6月10日上午，我县召开2005年防汛抗旱工作会议，副县长王建国出席会议并讲话，各乡镇分管领导、县直有关部门负责人参加了会议。",
    "会议通报了今年以来全县雨情、水情和工程度汛准备情况，分析了当前防汛工作面临的形势。据气象部门预测，今年主汛期我县降水偏多二至三成，发生较大洪涝灾害的可能性较大。",
    "王建国强调，各乡镇、各部门要牢固树立防大汛、抗大灾的思想，切实落实以行政首长负责制为核心的各项防汛责任制，做到责任到人、措施到位。",
    "会议要求，要抓紧对全县42座小型水库和沿河堤防进行一次拉网式检查，发现隐患立即整改；要备足防汛物资，组建抢险队伍，确保一旦出现险情能够拉得出、用得上。",
    "会上，县防汛抗旱指挥部与各乡镇签订了2005年防汛工作目标责任书。",
]
OLD_PORTAL = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>我县召开2005年防汛抗旱工作会议--某某县人民政府</title>
<link href="../../css/style.css" rel="stylesheet" type="text/css">
<script language="JavaScript" src="../../js/menu.js"></script>
</head>
<body leftmargin="0" topmargin="0" marginwidth="0" marginheight="0">
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr><td><img src="../../images/top_banner.jpg" width="778" height="110"></td></tr>
</table>
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0" background="../../images/nav_bg.gif">
  <tr><td height="28" align="center" class="nav"><a href="../../index.htm">首 页</a> | <a href="../../zwgk/index.htm">政务公开</a> | <a href="../../xwzx/index.htm">新闻中心</a> | <a href="../../tzzn/index.htm">投资指南</a> | <a href="../../bmfw/index.htm">便民服务</a> | <a href="../../hdjl/index.htm">互动交流</a></td></tr>
</table>
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0">
  <tr>
    <td width="180" valign="top" bgcolor="#F2F7FC">
      <table width="100%" border="0" cellspacing="0" cellpadding="0">
        <tr><td height="30" background="../../images/left_title.gif" class="white"><b>新闻中心</b></td></tr>
        <tr><td height="24">&nbsp;&middot;<a href="../gzdt/index.htm">工作动态</a></td></tr>
        <tr><td height="24">&nbsp;&middot;<a href="../xzdt/index.htm">乡镇动态</a></td></tr>
        <tr><td height="24">&nbsp;&middot;<a href="../bmdt/index.htm">部门动态</a></td></tr>
        <tr><td height="24">&nbsp;&middot;<a href="../tpxw/index.htm">图片新闻</a></td></tr>
        <tr><td height="24">&nbsp;&middot;<a href="../tzgg/index.htm">通知公告</a></td></tr>
      </table>
      <table width="100%" border="0" cellspacing="0" cellpadding="0">
        <tr><td height="30" background="../../images/left_title.gif" class="white"><b>热点文章</b></td></tr>
        <tr><td height="22">&middot;<a href="200506/t20050608_1102.htm">县委中心组学习贯彻“三个代表”重要思想</a></td></tr>
        <tr><td height="22">&middot;<a href="200506/t20050606_1099.htm">我县夏粮收购工作全面展开</a></td></tr>
        <tr><td height="22">&middot;<a href="200506/t20050603_1091.htm">县人大常委会视察城区建设工作</a></td></tr>
      </table>
    </td>
    <td width="10">&nbsp;</td>
    <td width="588" valign="top">
      <table width="100%" border="0" cellspacing="0" cellpadding="0">
        <tr><td height="28" class="weizhi">您现在的位置：<a href="../../index.htm">首页</a> &gt;&gt; <a href="../index.htm">新闻中心</a> &gt;&gt; <a href="index.htm">工作动态</a></td></tr>
      </table>
      <table width="96%" border="0" align="center" cellpadding="0" cellspacing="0">
        <tr><td height="50" align="center" class="title"><font color="#CC0000" size="4"><b>我县召开2005年防汛抗旱工作会议</b></font></td></tr>
        <tr><td height="25" align="center" bgcolor="#EEEEEE" class="date">发布时间：2005-6-12&nbsp;&nbsp;&nbsp;来源：县政府办公室&nbsp;&nbsp;&nbsp;浏览次数：<font color="red">235</font></td></tr>
        <tr><td height="10"></td></tr>
        <tr>
          <td class="content" style="line-height:180%">
{body}
          </td>
        </tr>
        <tr><td height="40" align="right">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
        <tr><td>上一篇：<a href="t20050610_1105.htm">县领导检查城区防汛准备工作</a><br>下一篇：<a href="t20050613_1111.htm">我县启动农村合作医疗试点工作</a></td></tr>
      </table>
    </td>
  </tr>
</table>
<table width="778" border="0" align="center" cellpadding="0" cellspacing="0" bgcolor="#3366CC">
  <tr><td height="70" align="center" class="white">版权所有：某某县人民政府办公室&nbsp;&nbsp;地址：某某县人民路1号&nbsp;&nbsp;邮编：234000<br>
  电话：0557-1234567&nbsp;&nbsp;技术支持：某某县信息中心&nbsp;&nbsp;皖ICP备05001234号<br>建议使用IE5.0以上浏览器，1024*768分辨率浏览本站</td></tr>
</table>
</body>
</html>"""


def old_portal_page() -> bytes:
    body = "<br>\n".join("&nbsp;&nbsp;&nbsp;&nbsp;" + p + "<br>" for p in OLD_PORTAL_PARAS)
    return OLD_PORTAL.format(body=body).encode("gb2312")


THREAD_POST = [
    "前两天去县政务服务中心办了营业执照变更，整个流程比想象中顺利，记录一下给有需要的朋友参考。",
    "一、材料：变更登记申请书、股东会决议、新的公司章程或章程修正案、营业执照正副本，法人身份证原件。申请书在“皖事通”上可以直接填，打印出来签字就行。",
    "二、窗口：一楼市场监管综合窗口取号，我去的时候是周二上午九点多，前面只有三个人，十分钟就叫到号了。",
    "三、时间：材料齐全的话当场受理，工作人员说三个工作日内出照，结果第二天下午就接到短信通知可以领了。",
    "总的来说，现在办事确实方便了不少，提醒大家去之前先打电话问清楚需要哪些材料，免得白跑一趟。",
]
REPLY_TEXTS = [
    "感谢楼主分享，正好下个月要去办地址变更，请问需要房屋租赁合同原件吗？",
    "我上个月也去办过，窗口的工作人员态度很好，就是停车位太少了，建议坐公交过去。",
    "马克一下，回头用得着。",
]


def discuz_thread() -> bytes:
    def post(pid, floor, author, when, message, quote=""):
        return f"""<div id="post_{pid}"><table id="pid{pid}" class="plhin" summary="pid{pid}" cellspacing="0" cellpadding="0">
<tr><td class="pls" rowspan="2"><div class="pi"><div class="authi"><a href="home.php?mod=space&amp;uid={pid % 97}" target="_blank" class="xw1">{author}</a></div></div>
<div><div class="avatar"><a href="home.php?mod=space&amp;uid={pid % 97}" class="avtm"><img src="uc_server/avatar.php?uid={pid % 97}&amp;size=middle" /></a></div></div>
<dl class="pil cl"><dt>积分</dt><dd>{pid % 500}</dd></dl></td>
<td class="plc"><div class="pi"><strong><a href="forum.php?mod=redirect&amp;goto=findpost&amp;ptid=51234&amp;pid={pid}" id="postnum{pid}">{floor}</a></strong>
<div class="pti"><div class="authi"><img class="authicn vm" src="static/image/common/online_member.gif" /><em id="authorposton{pid}">发表于 {when}</em>
<span class="pipe">|</span><a href="forum.php?mod=viewthread&amp;tid=51234&amp;page=1&amp;authorid={pid % 97}">只看该作者</a></div></div></div>
<div class="pct"><div class="pcb"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr>
<td class="t_f" id="postmessage_{pid}">{quote}{message}</td></tr></table></div>
<div id="comment_{pid}" class="cm"></div></div></div></td></tr>
<tr><td class="plc plm"><div class="sign">生活就是一场修行</div></td></tr>
<tr><td class="pls"></td><td class="plc"><div class="po hin"><div class="pob cl"><em><a class="fastre" href="forum.php?mod=post&amp;action=reply&amp;fid=36&amp;tid=51234&amp;repquote={pid}">回复</a></em>
<p><a href="javascript:;" id="mgc_post_{pid}">使用道具</a> <a href="javascript:;">举报</a></p></div></div></td></tr></table></div>
"""
    first = post(2201, "楼主", "山城老王", "2023-5-22 10:16", "<br />\r\n".join(THREAD_POST))
    quote = ('<div class="quote"><blockquote><font size="2"><font color="#999999">山城老王 发表于 2023-5-22 10:16</font>'
             f'<br />{THREAD_POST[0][:28]} ...</font></blockquote></div><br />')
    replies = (post(2202, "沙发", "小雨点", "2023-5-22 11:02", REPLY_TEXTS[0], quote)
               + post(2205, "板凳", "青山绿水", "2023-5-22 13:45", REPLY_TEXTS[1])
               + post(2213, "地板", "路过的", "2023-5-23 08:20", REPLY_TEXTS[2]))
    html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>去县政务服务中心办营业执照变更的经历 - 便民信息 -  某某论坛 -  Powered by Discuz!</title>
<meta name="keywords" content="去县政务服务中心办营业执照变更的经历" />
<meta name="generator" content="Discuz! X3.4" />
<script type="text/javascript">var STYLEID = '1', STATICURL = 'static/', IMGDIR = 'static/image/common', VERHASH = 'Wq6';</script>
</head><body id="nv_forum" class="pg_viewthread">
<div id="toptb" class="cl"><div class="wp"><div class="z"><a href="javascript:;">设为首页</a><a href="javascript:;">收藏本站</a></div>
<div class="y"><a href="member.php?mod=register">立即注册</a> <a href="member.php?mod=logging&amp;action=login">登录</a></div></div></div>
<div id="hd"><div class="wp"><div id="nv"><ul><li class="a"><a href="forum.php">论坛</a></li><li><a href="portal.php">门户</a></li>
<li><a href="group.php">群组</a></li><li><a href="home.php">家园</a></li></ul></div></div></div>
<div id="wp" class="wp">
<div id="pt" class="bm cl"><div class="z"><a href="./" class="nvhm">某某论坛</a> <em>&rsaquo;</em> <a href="forum.php">论坛</a> <em>&rsaquo;</em>
<a href="forum.php?gid=1">生活服务</a> <em>&rsaquo;</em> <a href="forum-36-1.html">便民信息</a> <em>&rsaquo;</em> <a href="thread-51234-1-1.html">去县政务服务中心办营业执照变更的经历</a></div></div>
<div id="ct" class="wp cl"><div id="pgt" class="pgs mbm cl"><div class="pgt"><div class="pg"><strong>1</strong><a href="thread-51234-2-1.html">2</a><a href="thread-51234-2-1.html" class="nxt">下一页</a></div></div>
<span class="y pgb"><a href="forum-36-1.html">返回列表</a></span><a id="newspecial" href="forum.php?mod=post&amp;action=newthread&amp;fid=36">发新帖</a></div>
<div id="postlist" class="pl bm">
<table cellspacing="0" cellpadding="0"><tr><td class="pls ptn pbn"><div class="hm ptn"><span class="xg1">查看:</span> <span class="xi1">1823</span><span class="pipe">|</span><span class="xg1">回复:</span> <span class="xi1">15</span></div></td>
<td class="plc ptm pbn vwthd"><h1 class="ts"><span id="thread_subject">去县政务服务中心办营业执照变更的经历</span></h1></td></tr></table>
{first}{replies}</div>
<div class="pgs mtm mbm cl"><div class="pg"><strong>1</strong><a href="thread-51234-2-1.html">2</a><a href="thread-51234-2-1.html" class="nxt">下一页</a></div></div>
</div></div>
<div id="ft" class="wp cl"><div id="flk" class="y"><p><a href="archiver/">Archiver</a><span class="pipe">|</span><a href="forum.php?mobile=yes">手机版</a><span class="pipe">|</span><strong><a href="/" target="_blank">某某论坛</a></strong></p></div>
<div id="frt"><p>Powered by <strong><a href="http://www.discuz.net" target="_blank">Discuz!</a></strong> <em>X3.4</em></p><p class="xs0">&copy; 2001-2023 <a href="http://www.comsenz.com" target="_blank">Comsenz Inc.</a></p></div></div>
</body></html>"""
    return html.encode("gbk")


SINA_PARAS = [
    "今天是女儿上小学的第一天，早上六点半她就自己起床了，把新书包翻来覆去检查了好几遍。",
    "送到校门口，她回头朝我挥挥手，头也不回地跟着老师走进了教室。倒是我在门口站了好一会儿，心里空落落的。",
    "想起六年前她刚出生时小小的样子，仿佛就在昨天。孩子总是在我们不经意间长大，能陪伴她的每一天都值得珍惜。",
]
SINA_COMMENTS = [
    "看得我眼眶都湿了，我家儿子明年也要上小学了，真不知道到时候我能不能忍住不哭。孩子长大真的太快了，一定要好好珍惜现在陪伴他们的时光。",
    "写得真好！想起我送女儿上学的那一天，也是她头也不回地走了，我在校门口站了半个小时。现在她都上初中了，时间过得真快，有时候真希望时间能慢一点。",
    "博主的文字总是这么温暖，每次来看都有收获。祝小朋友学习进步，天天开心！也祝博主一家幸福安康。",
    "同感同感，第一次送孩子上学的心情真是说不出来，既高兴又舍不得，还有点担心她在学校会不会被欺负，会不会吃不饱饭。",
]


def sina_blog() -> bytes:
    comments = "".join(f"""<li><div class="SG_revert_Cont"><p><span class="SG_revert_Tit"><a href="http://blog.sina.com.cn/u/{1000 + i}" target="_blank">网友{i + 1}</a></span><span class="SG_revert_Time"><em class="SG_txtc">2008-9-1 1{i}:2{i}</em></span></p>
<div class="SG_revert_Inner SG_txtb">{c}</div><p class="myReFrom"><span class="SG_revert_Re SG_linkb"><a href="#">回复</a></span></p></div></li>""" for i, c in enumerate(SINA_COMMENTS))
    html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>女儿上学的第一天_小草的博客_新浪博客</title></head>
<body><div class="sinablogb"><div id="sinablogHead" class="sinabloghead"><div class="blogtitle"><h1><a href="http://blog.sina.com.cn/xiaocao"><span id="blognamespan">小草的博客</span></a></h1></div>
<div class="blognav" id="blognav"><div class="blognavInfo"><span><a href="http://blog.sina.com.cn/xiaocao">首页</a></span><span><a href="http://blog.sina.com.cn/s/articlelist_1234_0_1.html">博文目录</a></span><span><a href="http://blog.sina.com.cn/s/profile_1234.html">关于我</a></span></div></div></div>
<div class="sinablogbody" id="sinablogbody"><div id="column_1" class="SG_colW21 SG_colFirst"><div class="SG_conn"><div class="SG_connHead"><span class="title">个人资料</span></div>
<div class="SG_connBody"><div class="info_nm"><strong>小草</strong></div><div class="info_list"><ul><li><span>博客等级：</span>12</li><li><span>博客积分：</span>1,203</li><li><span>博客访问：</span>86,412</li></ul></div></div></div></div>
<div id="column_2" class="SG_colW73"><div id="module_920" class="SG_conn"><div class="SG_connHead"><span class="title">正文</span></div><div class="SG_connBody"><div class="artical" id="articlebody">
<div class="articalTitle"><h2 id="t_4d2a2fe00100ab12" class="titName SG_txta">女儿上学的第一天</h2><span class="time SG_txtc">(2008-09-01 09:15:32)</span></div>
<div class="articalTag" id="sina_keyword_ad_area"><table><tr><td class="blog_tag"><h3>标签：</h3><a href="#" target="_blank">育儿</a> <a href="#" target="_blank">杂谈</a></td><td class="blog_class">分类：<a href="#">生活点滴</a></td></tr></table></div>
<div class="articalContent" id="sina_keyword_ad_area2">
{"".join(f"<p>&nbsp;&nbsp;&nbsp; {p}</p>" for p in SINA_PARAS)}
</div>
<div class="articalInfo"><div class="IL">阅读<span>(1024)</span><em class="SG_txtb">┊</em> 评论 <span>(4)</span><em class="SG_txtb">┊</em> 收藏<span>(0)</span></div></div>
<div class="articalfrontback SG_j_linedot1 clearfix"><div><span class="SG_txtb">前一篇：</span><a href="http://blog.sina.com.cn/s/blog_4d2a2fe00100ab0z.html">暑假的最后一周</a></div><div><span class="SG_txtb">后一篇：</span><a href="http://blog.sina.com.cn/s/blog_4d2a2fe00100ab5c.html">家长会</a></div></div>
<div class="allComm"><div class="allCommTit"><div class="SG_floatL"><strong>评论</strong><span id="commAd_1" style="display: inline-block;"></span></div></div>
<ul class="SG_cmp_revert" id="article_comment_list">{comments}</ul></div>
</div></div></div></div></div>
<div id="sinablogfooter" class="sinablogfooter clearfix"><p class="SG_linka"><a href="http://corp.sina.com.cn/chn/" target="_blank">新浪简介</a> | <a href="http://help.sina.com.cn/" target="_blank">客户服务</a></p><p class="copyright SG_linka">Copyright &copy; 1996 - 2008 SINA Corporation, All Rights Reserved</p></div>
</div></body></html>"""
    return html.encode("utf-8")


WP_PARAS = [
    "清明假期回了一趟老家，跟着父亲去后山看了看那片种了二十多年的茶园。",
    "父亲说，今年春天雨水足，头茬明前茶比去年早了五六天开采，芽头也更饱满。村里的合作社统一收鲜叶，一斤能卖到六十多块，比前几年自己炒了去镇上卖省事多了。",
    "下午跟着采了两个小时茶，手指被茶汁染得发黑，腰也酸得直不起来，才真正体会到一杯好茶背后有多少辛苦。",
    "晚上母亲用新炒的茶招待邻居，大家围坐在院子里聊今年的收成，聊谁家孩子考上了大学，聊村口那条新修的水泥路。那种热闹，是城里很难找到的。",
]
WP_COMMENTS = [
    ("山那边的云", "2021年4月6日 21:14", "看得好想家啊，我们老家也是种茶的，这个时候应该满山都是采茶的人了。"),
    ("阿木", "2021年4月7日 08:30", "文字很有画面感。请问博主老家是哪里的？明前茶有没有网店可以买？"),
    ("半亩方塘", "2021年4月7日 09:12", "回复阿木：在皖南，合作社有个小店，回头私信你。"),
]


def wordpress_post() -> bytes:
    comments = "".join(f"""<li class="comment even thread-even depth-1" id="comment-{i + 41}">
<article id="div-comment-{i + 41}" class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">
<img alt="" src="https://secure.gravatar.com/avatar/{i}?s=32" class="avatar avatar-32 photo" height="32" width="32" /><b class="fn">{who}</b><span class="says">说道：</span></div>
<div class="comment-metadata"><a href="https://blog.example.cn/2021/04/06/chayuan/#comment-{i + 41}"><time datetime="2021-04-06T21:14:00+08:00">{when}</time></a></div></footer>
<div class="comment-content"><p>{text}</p></div>
<div class="reply"><a rel="nofollow" class="comment-reply-link" href="#comment-{i + 41}">回复</a></div></article></li>
""" for i, (who, when, text) in enumerate(WP_COMMENTS))
    paras = "\n".join(f"<p>{p}</p>" for p in WP_PARAS)
    html = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>清明回乡看茶园 &#8211; 半亩方塘</title>
<link rel='stylesheet' id='twentyseventeen-style-css' href='https://blog.example.cn/wp-content/themes/twentyseventeen/style.css?ver=5.7' type='text/css' media='all' />
</head>
<body class="post-template-default single single-post postid-256 single-format-standard">
<div id="page" class="site"><header id="masthead" class="site-header" role="banner"><div class="site-branding"><p class="site-title"><a href="https://blog.example.cn/" rel="home">半亩方塘</a></p>
<p class="site-description">读书、行路与生活</p></div>
<nav id="site-navigation" class="main-navigation"><ul id="top-menu" class="menu"><li><a href="https://blog.example.cn/">首页</a></li><li><a href="https://blog.example.cn/category/essay/">随笔</a></li><li><a href="https://blog.example.cn/category/reading/">读书</a></li><li><a href="https://blog.example.cn/about/">关于</a></li></ul></nav></header>
<div class="site-content-contain"><div id="content" class="site-content"><div class="wrap"><div id="primary" class="content-area"><main id="main" class="site-main" role="main">
<article id="post-256" class="post-256 post type-post status-publish format-standard hentry category-essay">
<header class="entry-header"><div class="entry-meta"><span class="posted-on"><span class="screen-reader-text">发布于</span> <a href="https://blog.example.cn/2021/04/06/chayuan/" rel="bookmark"><time class="entry-date published" datetime="2021-04-06T20:31:00+08:00">2021年4月6日</time></a></span></div>
<h1 class="entry-title">清明回乡看茶园</h1></header>
<div class="entry-content">
{paras}
</div>
<footer class="entry-footer"><span class="cat-tags-links"><span class="cat-links">分类目录 <a href="https://blog.example.cn/category/essay/" rel="category tag">随笔</a></span><span class="tags-links">标签 <a href="https://blog.example.cn/tag/hometown/" rel="tag">故乡</a>、<a href="https://blog.example.cn/tag/tea/" rel="tag">茶</a></span></span></footer>
</article>
<nav class="navigation post-navigation" role="navigation"><h2 class="screen-reader-text">文章导航</h2><div class="nav-links"><div class="nav-previous"><a href="https://blog.example.cn/2021/03/20/chunfen/" rel="prev"><span class="screen-reader-text">上一篇文章</span><span class="nav-title">春分那天的雨</span></a></div><div class="nav-next"><a href="https://blog.example.cn/2021/04/18/dushu/" rel="next"><span class="screen-reader-text">下一篇文章</span><span class="nav-title">四月读书记</span></a></div></div></nav>
<div id="comments" class="comments-area"><h2 class="comments-title">《清明回乡看茶园》有3条评论</h2>
<ol class="comment-list">
{comments}</ol>
<div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">发表评论</h3><form action="https://blog.example.cn/wp-comments-post.php" method="post" id="commentform" class="comment-form" novalidate><p class="comment-notes"><span id="email-notes">您的电子邮箱地址不会被公开。</span> 必填项已用<span class="required">*</span>标注</p><p class="comment-form-comment"><label for="comment">评论</label> <textarea id="comment" name="comment" cols="45" rows="8" maxlength="65525" required="required"></textarea></p><p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="发表评论" /></p></form></div>
</div>
</main></div>
<aside id="secondary" class="widget-area" role="complementary"><section id="recent-posts-2" class="widget widget_recent_entries"><h2 class="widget-title">近期文章</h2><ul><li><a href="https://blog.example.cn/2021/04/18/dushu/">四月读书记</a></li><li><a href="https://blog.example.cn/2021/03/20/chunfen/">春分那天的雨</a></li><li><a href="https://blog.example.cn/2021/02/12/guonian/">回老家过年</a></li></ul></section>
<section id="recent-comments-2" class="widget widget_recent_comments"><h2 class="widget-title">近期评论</h2><ul id="recentcomments"><li class="recentcomments"><span class="comment-author-link">阿木</span>发表在《<a href="https://blog.example.cn/2021/04/06/chayuan/#comment-42">清明回乡看茶园</a>》</li></ul></section></aside>
</div></div>
<footer id="colophon" class="site-footer" role="contentinfo"><div class="wrap"><div class="site-info"><a href="https://beian.miit.gov.cn/">皖ICP备18001234号-1</a> <span role="separator" aria-hidden="true"></span><a href="https://cn.wordpress.org/" class="imprint">自豪地采用WordPress</a></div></div></footer>
</div></div></body></html>"""
    return html.encode("utf-8")


CHAPTER = [
    "天刚蒙蒙亮，村口的老槐树下已经聚了不少人。",
    "李老汉蹲在磨盘上，吧嗒吧嗒抽着旱烟，眯着眼睛看远处的山梁。昨夜一场大雨，山上的溪水涨了，哗哗的水声隔着半里地都听得见。",
    "“今年的麦子怕是要晚收了。”他磕了磕烟锅，慢吞吞地说。",
    "没人接话。大家都知道，晚收意味着什么。",
]


def chapter_page() -> bytes:
    body = "<br /><br />".join("&nbsp;&nbsp;&nbsp;&nbsp;" + p for p in CHAPTER)
    html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=gbk" />
<title>第三章 麦收_山村往事_某某文学网</title><meta name="keywords" content="山村往事,第三章 麦收" /></head>
<body><div id="wrapper"><div class="header"><div class="logo"><a href="/">某某文学网</a></div><div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/xuanhuan/">玄幻</a></li><li><a href="/dushi/">都市</a></li><li><a href="/lishi/">历史</a></li><li><a href="/paihang/">排行榜</a></li></ul></div></div>
<div class="box_con"><div class="con_top"><a href="/">某某文学网</a> &gt; <a href="/book/1234/">山村往事</a> &gt; 第三章 麦收</div>
<div class="bookname"><h1>第三章 麦收</h1><div class="bottem1"><a href="/book/1234/2.html">上一章</a> &larr; <a href="/book/1234/">章节目录</a> &rarr; <a href="/book/1234/4.html">下一章</a> <a href="javascript:;">加入书签</a></div></div>
<div id="content">{body}</div>
<div class="bottem2"><a href="/book/1234/2.html">上一章</a> &larr; <a href="/book/1234/">章节目录</a> &rarr; <a href="/book/1234/4.html">下一章</a> <a href="javascript:;">加入书签</a></div>
</div><div class="footer"><div class="footer_cont"><p>本站所有小说为转载作品，所有章节均由网友上传，转载至本站只是为了宣传，让更多读者欣赏。</p><p>Copyright &copy; 2013 某某文学网 All Rights Reserved.</p></div></div></div></body></html>"""
    return html.encode("gbk")


TIMETABLE_HEADER = ["日期", "时间", "班级", "场地", "项目", "负责教师"]
TIMETABLE_ROWS = [
    ("周一", [("8:00-8:40", "一（1）班", "东操场", "广播操", "陈晓燕 刘洋"), ("8:00-8:40", "一（2）班", "东操场", "跳绳", "王丽 赵磊"),
             ("9:50-10:20", "二（1）班", "西操场", "跑操", "黄建国 周敏"), ("9:50-10:20", "二（2）班", "西操场", "踢毽子", "吴芳 孙立")]),
    ("周三", [("8:00-8:40", "三（1）班", "东操场", "广播操", "郑红梅 李强"), ("8:00-8:40", "三（2）班", "篮球场", "运球接力", "何静 钱峰"),
             ("9:50-10:20", "四（1）班", "西操场", "跑操", "林小华 马超"), ("9:50-10:20", "四（2）班", "田径场", "立定跳远", "许丹 高原")]),
    ("周五", [("8:00-8:40", "五（1）班", "田径场", "耐力跑", "罗文 冯涛"), ("8:00-8:40", "五（2）班", "篮球场", "投篮练习", "宋佳 唐亮"),
             ("9:50-10:20", "六（1）班", "西操场", "跑操", "韩雪 曹阳"), ("9:50-10:20", "六（2）班", "东操场", "跳长绳", "邓丽 彭博")]),
]
TIMETABLE_NOTE = "说明：遇雨雪天气，由负责教师组织学生在教室内开展活动。"


def timetable_lines() -> list[str]:
    """The table as a reader reads it: one line per row, cells space-separated, the day
    (written one character per line in its rowspan cell) only in its first row."""
    lines = [" ".join(TIMETABLE_HEADER)]
    for day, rows in TIMETABLE_ROWS:
        for i, row in enumerate(rows):
            lines.append(" ".join(([" ".join(day)] if i == 0 else []) + list(row)))
    return lines + [TIMETABLE_NOTE]


def timetable_page() -> bytes:
    head = "".join(f'<td style="border:1px solid #000;"><p align="center"><strong>{h}</strong></p></td>' for h in TIMETABLE_HEADER)
    rows = [f"<tr>{head}</tr>"]
    for day, day_rows in TIMETABLE_ROWS:
        for i, row in enumerate(day_rows):
            cells = "".join(f'<td style="border:1px solid #000;"><p align="center">{c}</p></td>' for c in row)
            if i == 0:
                vertical = "".join(f'<p align="center">{ch}</p>' for ch in day)
                cells = f'<td rowspan="{len(day_rows)}" style="border:1px solid #000;">{vertical}</td>' + cells
            rows.append(f"<tr>{cells}</tr>")
    html = f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="ArticleTitle" content="2023-2024学年第一学期城关小学大课间体育活动安排表">
<meta name="PubDate" content="2023-09-04 10:12"><meta name="ContentSource" content="城关小学">
<title>2023-2024学年第一学期城关小学大课间体育活动安排表_体育教育_某某县教育局</title></head><body>
<div class="top"><div class="logo"><img src="../../../images/logo.png" alt="某某县教育局"></div>
<ul class="nav"><li><a href="../../../">首页</a></li><li><a href="../../../jyxw/">教育新闻</a></li><li><a href="../../">特色教育</a></li><li><a href="../../../zcfg/">政策法规</a></li></ul></div>
<div class="location">您当前的位置：<a href="../../../">首页</a> &gt; <a href="../../">特色教育</a> &gt; <a href="../">体育教育</a></div>
<div class="main"><div class="article_title">2023-2024学年第一学期城关小学大课间体育活动安排表</div>
<div class="article_info">发布时间：2023-09-04 来源：城关小学 【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</div>
<div class="TRS_Editor"><table border="1" cellspacing="0" cellpadding="0" align="center" style="border-collapse:collapse;">
<tbody>{"".join(rows)}</tbody></table>
<p>{TIMETABLE_NOTE}</p><p style="text-align:right">城关小学</p><p style="text-align:right">2023年9月4日</p></div>
<div class="article_tools">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div></div>
<div class="footer"><p>主办单位：某某县教育局 地址：某某县人民路8号 电话：0555-1234567</p><p>皖ICP备12003456号 网站标识码：3405000012</p></div>
</body></html>"""
    return html.encode("utf-8")


def video_page() -> bytes:
    return """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"><html><head>
<META Name="keywords" Content="某某开放大学,作品展示,春天的故事">
<title>春天的故事-某某开放大学微课大赛</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<script type="text/javascript" src="/system/resource/js/counter.js"></script>
<script type="text/javascript">_jsq_(1021,'/VideoInfo.jsp',2133,1090416079)</script></head>
<body><div id="header"><div id="logo"><img src="../../images/logo.jpg"></div>
<div id="nav"><ul><li><a href="../../index.htm">首页</a></li><li><a href="../../dsjj.htm">大赛简介</a></li><li><a href="../../zpzs.htm">作品展示</a></li><li><a href="../../tzgg.htm">通知公告</a></li></ul></div></div>
<div id="video_mainContent"><div id="videoBox"><div class="videoBox_Lnav">当前位置：<a href="../../index.htm">首页</a>&gt;&gt;<a href="../../zpzs.htm">作品展示</a>&gt;&gt;正文</div>
<div class="videoBox_Info"><script language="javascript" src="../../system/resource/js/news/mp4video.js"></script>
<form name="_newscontent_fromname"><div class="videoBox_Info_title">春天的故事</div>
<div class="videoBox_content"><div class="videoBox_art"><ul>
<li><span>作品名称：</span>春天的故事</li><li><span>参赛选手：</span>林小雨</li><li><span>所在学校：</span>某某分校</li>
<li><span>作品类别：</span>语文</li><li><span>播放次数：</span><script>_showDynClicks("wbnews", 1090416079, 2133)</script> 次</li>
<li><span>发布时间：</span>2016年10月12日 09:30</li></ul></div>
<div class="videoBox_video"><div id="vsb_content" class="info_InfoBox_content"><div class="v_news_content">
<script name="_videourl" vurl="/_mediafile/wkds/2016/10/12/3fjq2ks8de.mp4" vwidth="480" vheight="360">showVsbVideo("/_mediafile/wkds/2016/10/12/3fjq2ks8de.mp4","height=\\"360\\"","width=\\"480\\"","","","false");</script>
</div></div></div></div>
<ul><li>上一条：<a href="2134.htm">雨巷</a></li><li>下一条：<a href="2132.htm">再别康桥</a></li></ul></form>
<div class="videoBox_Info_share"><div class="videoBox_Info_share_T"><span>评论交流</span></div><div class="videoBox_Info_share_C"><span style="color: #c00">暂不开启...</span></div></div>
</div></div></div>
<div id="footer"><div id="copyright"><p>地址：某某市文化路二段十号&nbsp; 邮编：610000&nbsp;&nbsp;技术支持：信息技术中心</p>
<p>电话：028-12345678&nbsp;&nbsp;传真：028-12345679&nbsp;&nbsp;E-mail：xxzx@example.edu.cn</p></div></div>
</body></html>""".encode("utf-8")


DVBBS_POST = [
    "各位乡亲：本人在县城东关开了一家农资店，现将今年夏季化肥、种子的价格和几点购买建议贴出来，供大家参考。",
    "一、复合肥（45%含量）每袋120元，比去年同期上涨8元左右；尿素每袋95元，基本持平。建议需要量大的农户可以几家联合订购，能便宜一些。",
    "二、玉米种子今年主推郑单958和浚单20，每斤14元到16元不等，请认准正规包装和经营许可证，谨防假种子。",
    "三、购买农资一定要索要发票或收据，出了问题才好维权。有什么不明白的可以跟帖问我，看到就回。",
]
DVBBS_REPLIES = [
    "谢谢楼主，正准备这几天去买化肥，看了心里有数了。",
    "顶一个！楼主说得对，去年我们村就有人买到了假种子，出苗率不到一半。",
    "请问楼主，店里有没有送货上门的服务？我们村离县城有二十多里路。",
]


def dvbbs_thread() -> bytes:
    """A 2005 dvbbs (动网论坛) thread: one table per post, no ids on the messages, GB2312."""
    def post(floor, user, when, title, lines):
        body = "<br>".join(lines)
        return f"""<table cellpadding=3 cellspacing=1 align=center class=tableborder1 style="table-layout:fixed;word-break:break-all">
<tr><td class=tablebody1 valign=top width=175 rowspan=2><b>{user}</b><br><img src="images/userface/image{len(user)}.gif" width=32 height=32><br>等级：新手上路<br>文章：{len(body) % 90 + 3}<br>积分：{len(body) % 300}<br>注册：2004-11-3</td>
<td class=tablebody1 valign=top width=*><table width=100% cellpadding=0 cellspacing=0><tr><td><img src="skins/default/topicface/face1.gif"> <b>{title}</b></td>
<td align=right nowrap>发表于：{when} &nbsp; {floor}</td></tr></table>
<hr size=1 color=#cccccc><span style="font-size:9pt;line-height:15pt">{body}</span></td></tr>
<tr><td class=tablebody1 valign=bottom align=right><a href="reply.asp?boardid=8&amp;replyid=1">回复</a> | <a href="reply.asp?boardid=8&amp;quote=1">引用</a> | <a href="#top">TOP</a></td></tr></table>
"""
    first = post("楼主", "东关农资", "2005-6-8 9:12:33", "今年夏季化肥、种子价格和购买建议", DVBBS_POST)
    replies = "".join(post(f"第{i + 2}楼", user, f"2005-6-8 {10 + i}:0{i}:15", "回复：今年夏季化肥、种子价格和购买建议", [text])
                      for i, (user, text) in enumerate(zip(("老王头", "种粮大户", "北乡小李"), DVBBS_REPLIES)))
    html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某某县在线论坛 -- 今年夏季化肥、种子价格和购买建议</title>
<link rel="stylesheet" type="text/css" href="skins/default/style.css"></head>
<body leftmargin=0 topmargin=0>
<table cellspacing=0 cellpadding=0 width=778 align=center border=0><tr><td><a href="index.asp"><img src="images/logo.gif" border=0></a></td>
<td align=right><a href="reg.asp">注册</a> | <a href="login.asp">登录</a> | <a href="search.asp">搜索</a> | <a href="help.asp">帮助</a></td></tr></table>
<table cellpadding=3 cellspacing=1 align=center class=tableborder1><tr><td class=tablebody2>&nbsp;<a href="index.asp">某某县在线论坛</a> → <a href="list.asp?boardid=8">农业天地</a> → 今年夏季化肥、种子价格和购买建议</td></tr></table>
<table cellpadding=3 cellspacing=1 align=center class=tableborder1><tr><td class=tablebody2>本主题共有 4 条回复 | <a href="post.asp?action=new&amp;boardid=8">发表新帖</a> | <a href="post.asp?action=reply&amp;boardid=8&amp;id=3388">回复本帖</a></td></tr></table>
<div id="posts">
{first}{replies}</div>
<table cellpadding=3 cellspacing=1 align=center class=tableborder1><tr><td align=center class=tablebody2>Copyright &copy;2003-2005 某某县在线论坛 Powered By <a href="http://www.dvbbs.net/">Dvbbs</a> Version 7.1.0 Sp1<br>页面执行时间 0.0625 秒, 5 次数据查询</td></tr></table>
</body></html>"""
    return html.encode("gb2312")


def old_portal_plain_page() -> bytes:
    """The plainer 2005 portal: <title> is only the site's name, the headline a bold <font size=4>
    in a centred <p>, a row of two cells (a menu of links beside the article), <font> around
    ideographic-space-indented <br> paragraphs."""
    body = '<font size="2" face="宋体">' + "<br>".join("\u3000\u3000" + p for p in OLD_PORTAL_PARAS) + "</font>"
    html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>某某县人民政府</title></head><body>
<table width=760 align=center><tr><td><img src="images/top.jpg" width=760 height=100></td></tr></table>
<table width=760 align=center><tr><td width=170 valign=top bgcolor="#EAF2FB"><a href="zwgk/index.htm">政务公开</a><br><a href="xwzx/index.htm">新闻中心</a><br><a href="zsyz/index.htm">招商引资</a><br><a href="bmfw/index.htm">便民服务</a></td>
<td valign=top><p align=center><b><font size=4 color="#990000">我县召开2005年防汛抗旱工作会议</font></b></p>
<p align=center>2005年6月12日\u3000\u3000县政府办公室\u3000\u3000点击：235</p><hr size=1>{body}
<p align=right>【<a href="javascript:window.close()">关闭窗口</a>】</p></td></tr></table>
<table width=760 align=center><tr><td align=center>版权所有：某某县人民政府\u3000技术支持：县信息中心\u3000皖ICP备05001234号</td></tr></table>
</body></html>"""
    return html.encode("gb2312")
