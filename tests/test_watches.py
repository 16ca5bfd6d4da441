"""Watches: validation that says where a query breaks, and the Aho–Corasick matcher
deciding exactly what ``Query.matches`` decides, on the fixture corpus."""
from __future__ import annotations

import random

import pytest

from index.query import QuerySyntaxError, parse_query
from monitor.matcher import WatchMatcher
from monitor.watches import Watch, WatchError, validate_watch, webhook_format
from index.normalize import normalize_text


def watch(name="laser", query='"产业园" OR 激光 -招聘', **kw) -> Watch:
    kw.setdefault("emails", ["team@example.com"])
    return Watch(name, query, **kw)


@pytest.mark.parametrize("query, message, caret_line", [
    ('"产业园 OR 激光', "引号没有闭合", "  ^"),
    ("激光 OR", "'OR' 右边缺少查询词", "       ^"),   # after 激光 (2 wide each) and a space
    ("OR 激光", "'OR' 左边缺少查询词", "  ^"),
    ("激光 -", "'-' 后面要紧跟要排除的词", "       ^"),
    ("-招聘", "没有必须出现的词", "  ^"),
    ('激光 ""', "引号里是空的", "       ^"),
    ("   ", "查询是空的", "  ^"),
    ("(激光 OR 传感 宿迁", "括号没有闭合", "  ^"),
    ("宿迁 ()", "括号里是空的", "       ^"),
])
def test_bad_query_is_rejected_with_where_it_breaks(query, message, caret_line):
    with pytest.raises(WatchError) as caught:
        validate_watch(watch(query=query))
    text = str(caught.value)
    assert text.startswith("监测「laser」：查询有误：")
    assert message in text
    lines = text.split("\n")
    assert lines[1] == "  " + query.strip() if query.strip() else lines[1].strip() == ""
    assert lines[2] == caret_line


@pytest.mark.parametrize("changes, message", [
    ({"name": "two words"}, "监测名称 'two words' 不可用"),
    ({"name": "a/b"}, "不能有空格或 /"),
    ({"mode": "weekly"}, "方式 'weekly' 不可用，可选：immediate（即时提醒）、digest（每日摘要）、both（两者）"),
    ({"emails": ["not-an-address"]}, "'not-an-address' 不是有效的邮箱地址"),
    ({"emails": [], "webhooks": ["ftp://example.com/hook"]}, "不是 http(s) 网址"),
    ({"emails": []}, "至少要有一个收件人"),
    ({"emails": [], "webhooks": ["https://example.com/h"], "mode": "digest"}, "每日摘要通过邮件发送"),
])
def test_bad_fields_are_rejected_naming_the_field(changes, message):
    kw = {"name": "laser", "query": "激光", "emails": ["team@example.com"], **changes}
    with pytest.raises(WatchError, match=None) as caught:
        validate_watch(Watch(**kw))
    assert message in str(caught.value)


def test_valid_watch_is_cleaned():
    w = validate_watch(Watch(" 激光-监测 ", "  激光  ", emails=["a@example.com", " a@example.com"],
                             webhooks=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x"],
                             sites=["sucheng-gov", "sucheng-gov"], mode="immediate"))
    assert (w.name, w.query, w.emails, w.sites) == ("激光-监测", "激光", ["a@example.com"], ["sucheng-gov"])
    assert w.immediate and not w.in_digest


@pytest.mark.parametrize("url, kind, target", [
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "wecom", None),
    ("https://oapi.dingtalk.com/robot/send?access_token=t", "dingtalk", None),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/x", "feishu", None),
    ("https://open.larksuite.com/open-apis/bot/v2/hook/x", "feishu", None),
    ("https://hooks.example.com/newsmon", "json", None),
    ("dingtalk+http://127.0.0.1:8080/robot", "dingtalk", "http://127.0.0.1:8080/robot"),
    ("json+https://qyapi.weixin.qq.com/x", "json", "https://qyapi.weixin.qq.com/x"),
])
def test_webhook_format_by_host_or_prefix(url, kind, target):
    assert webhook_format(url) == (kind, target or url)


# -- the matcher decides what Query.matches decides ------------------------------------------

def corpus(gold) -> list[str]:
    return [normalize_text(a["title"]) + "\n" + normalize_text(a["text"]) for a in gold["articles"]]


def corpus_words(texts: list[str], rng: random.Random) -> list[str]:
    """Substrings of the corpus (so queries hit) and a few that miss."""
    words = []
    for text in texts:
        for _ in range(12):
            start = rng.randrange(max(1, len(text) - 6))
            piece = text[start:start + rng.choice((1, 2, 2, 3, 4))].strip()
            if piece and not any(c.isspace() for c in piece) and not set(piece) & set(' "“”＂-－()（）|｜') and piece.lower() not in ("or", "and", "not"):
                words.append(piece)
    return words + ["无此词语", "zzqx", "激光切割", "招聘"]


def random_query(words: list[str], rng: random.Random, depth: int = 0) -> tuple[str, object]:
    """A query in the whole language (AND/OR in any case, |, NOT and -, parentheses,
    phrases) and, built alongside it, what it means: a predicate on the normalized
    text that knows nothing of the parser's normal form."""
    def operand():
        if depth < 2 and rng.random() < 0.3:
            text, test = random_query(words, rng, depth + 1)
            return f"({text})", test
        word = rng.choice(words)
        shown = f'"{word}"' if rng.random() < 0.15 else word
        return shown, lambda t, w=normalize_text(word): w in t

    def alternatives():
        parts = [operand() for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        ors = [rng.choice((" OR ", " or ", " Or ", " | ")) for _ in parts[1:]]
        text = parts[0][0] + "".join(o + p[0] for o, p in zip(ors, parts[1:]))
        return text, lambda t, ps=parts: any(test(t) for _s, test in ps)

    clauses = [alternatives() for _ in range(rng.choice((1, 1, 2, 3)))]
    joined = clauses[0][0] + "".join(rng.choice((" ", " AND ", " and ")) + c[0] for c in clauses[1:])
    tests = [test for _s, test in clauses]
    if rng.random() < 0.35:
        text, test = operand()
        joined += " " + rng.choice(("-", "NOT ", "not ")) + text
        tests.append(lambda t, test=test: not test(t))
    return joined, lambda t: all(test(t) for test in tests)


def random_queries(texts: list[str], n: int, seed: int = 7) -> list[tuple[str, object]]:
    """Queries that parse (the generator can build ``(-a) OR b``-like ones the parser
    refuses: those are skipped), each with its meaning."""
    rng = random.Random(seed)
    words = corpus_words(texts, rng)
    queries = []
    while len(queries) < n:
        text, test = random_query(words, rng)
        try:
            parse_query(text)
        except QuerySyntaxError:
            continue
        queries.append((text, test))
    return queries


def test_the_normal_form_means_what_was_typed(gold):
    """Parentheses are expanded into clauses (index/query.py): on the corpus, the
    parsed query matches exactly the texts the query's own meaning selects."""
    texts = corpus(gold)
    queries = random_queries(texts, 400, seed=11)
    assert sum("(" in q for q, _test in queries) > 100
    for text, test in queries:
        parsed = parse_query(text)
        assert [parsed.matches(t) for t in texts] == [bool(test(t)) for t in texts], text


def test_matcher_agrees_with_query_matches_on_the_fixture_corpus(gold):
    texts = corpus(gold)
    queries = [q for q, _test in random_queries(texts, 400)] + [
        '"产业园" OR 激光 -招聘', "激光產業園 會辦會", "停水 OR 停电", "(激光 -招聘) OR 停水",
        "(激光 OR 停电) 宿迁 -(招聘 公告)"]
    assert sum("(" in q for q in queries) > 100
    watches = [validate_watch(watch(name=f"w{i}", query=q)) for i, q in enumerate(queries)]
    matcher = WatchMatcher(watches)
    hits_total = 0
    for text in texts:
        expected = [w.name for w in watches if parse_query(w.query).matches(text)]
        assert [w.name for w in matcher.match_text(text)] == expected
        hits_total += len(expected)
    assert hits_total > 100   # the random queries do hit, so agreement is not vacuous


def test_matcher_with_no_watches_matches_nothing():
    assert WatchMatcher([]).match_text("宿城区召开激光产业园建设第九次会办会") == []
