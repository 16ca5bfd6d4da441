"""The one query language: parsing, errors with positions, substring matching."""
import pytest

from index.query import (MAX_EXPANDED_TERMS, And, Not, Or, QueryLimitError, QuerySyntaxError, Term,
                         make_snippet, parse_query)
from index.normalize import normalize_text


def test_terms_are_anded_and_or_binds_tighter():
    query = parse_query("宿城区 招商 OR 签约")
    assert query.root == And((Term("宿城区"), Or((Term("招商"), Term("签约")))))


def test_or_chain_exclusion_and_phrase():
    query = parse_query('激光 OR 光电 OR 半导体 -"征收 公告" 宿迁')
    assert query.root.clauses == (
        Or((Term("激光"), Term("光电"), Term("半导体"))), Not(Term("征收 公告")), Term("宿迁"))
    assert query.positive_terms == ["激光", "光电", "半导体", "宿迁"]
    assert query.negative_terms == ["征收 公告"]


def test_terms_are_normalized_traditional_fullwidth_case():
    query = parse_query('激光產業園 ＡＩ "Smart  City"')
    assert query.positive_terms == ["激光产业园", "ai", "smart city"]


@pytest.mark.parametrize("text", ["a or b", "a Or b", "a OR b", "a ＯＲ b", "a | b", "a｜b"])
def test_or_in_any_case_and_the_bar_mean_or(text):
    assert parse_query(text).root == And((Or((Term("a"), Term("b"))),))


@pytest.mark.parametrize("text", ["a AND b", "a and b", "a b"])
def test_and_in_any_case_is_the_space(text):
    assert parse_query(text).root == And((Term("a"), Term("b")))


def test_quoted_operators_are_words():
    assert parse_query('a "OR" b').positive_terms == ["a", "or", "b"]
    assert parse_query('a "and" “not”').positive_terms == ["a", "and", "not"]


def test_hyphen_inside_word_is_not_exclusion():
    assert parse_query("covid-19").root == And((Term("covid-19"),))


def test_parentheses_group_or_under_and():
    assert parse_query("(激光 OR 传感) 宿迁").root == And((Or((Term("激光"), Term("传感"))), Term("宿迁")))
    # A Chinese input method types full-width parentheses and curly quotes.
    assert parse_query("（激光 or 传感）“宿迁市”").root == And((Or((Term("激光"), Term("传感"))), Term("宿迁市")))


def test_parentheses_are_expanded_into_clauses():
    assert parse_query("(宿迁 激光) OR 传感").root == And((Or((Term("宿迁"), Term("传感"))),
                                                       Or((Term("激光"), Term("传感")))))
    mixed = parse_query("(激光 -招聘) OR 传感")
    assert mixed.root == And((Or((Term("激光"), Term("传感"))), Or((Not(Term("招聘")), Term("传感")))))
    assert (mixed.positive_terms, mixed.negative_terms) == (["激光", "传感"], ["招聘"])
    assert parse_query("宿迁 -(征收 公告)").root == And((Term("宿迁"), Or((Not(Term("征收")), Not(Term("公告"))))))
    assert parse_query("宿迁 NOT 招聘").root == parse_query("宿迁 -招聘").root
    assert parse_query("a (a OR b)").root == And((Term("a"),))     # a implies a OR b


@pytest.mark.parametrize("text, position, words", [
    ("", 0, "查询是空的"),
    ("   ", 0, "查询是空的"),
    ('激光 "产业园', 3, "引号没有闭合"),
    ("激光 OR", 3, "'OR' 右边缺少查询词"),
    ("OR 激光", 0, "'OR' 左边缺少查询词"),
    ("激光 or", 3, '要搜索单词 or 本身，请加引号："or"'),
    ("激光 OR OR 产业园", 3, "'OR' 右边缺少查询词"),
    ("激光 AND", 3, "'AND' 右边缺少查询词"),
    ("激光 AND OR 宿迁", 3, "'AND' 右边缺少查询词"),
    ("宿迁 NOT", 3, "'NOT' 后面缺少要排除的词"),
    ("激光 - 产业园", 3, "'-' 后面要紧跟要排除的词"),
    ("激光 -", 3, "'-' 后面要紧跟要排除的词"),
    ("-征收 -拆迁", 0, "没有必须出现的词"),
    ("(-征收 -拆迁) OR 激光", 0, "没有必须出现的词"),
    ("激光 OR -拆迁", 6, "不能单独作为 OR 的一项"),
    ("-拆迁 OR 激光", 0, "不能单独作为 OR 的一项"),
    ('激光 ""', 3, "引号里是空的"),
    ("()", 0, "括号里是空的"),
    ("宿迁 ()", 3, "括号里是空的"),
    ("(激光 OR 传感 宿迁", 0, "括号没有闭合"),
    ("宿迁 (", 3, "括号没有闭合"),
    ("激光 OR 传感) 宿迁", 8, "多余的 ')'"),
    ("(激光 OR) 宿迁", 4, "'OR' 右边缺少查询词"),
])
def test_syntax_errors_say_where(text, position, words):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert words in caught.value.message
    assert f"第 {position + 1} 个字符处" in str(caught.value)


def test_expansion_is_bounded():
    pairs = " OR ".join(f"(a{i} b{i})" for i in range(9))        # 2^9 clauses of 9 terms
    with pytest.raises(QueryLimitError) as caught:
        parse_query(pairs)
    assert str(caught.value).startswith(f"括号展开后条件太多（超过 {MAX_EXPANDED_TERMS} 个）")
    assert len(parse_query(" OR ".join(f"(a{i} b{i})" for i in range(5))).root.clauses) == 32


BODY = normalize_text(
    "宿城区召開激光產業園建設推進會\n7月12日上午，宿城區召開激光產業園建設推進會，"
    "聽取園區基礎設施建設、項目招引等工作匯報。ＡＩ視覺檢測項目簽約落戶。")


@pytest.mark.parametrize("text, expected", [
    ("激光产业园", True),
    ("激光產業園", True),
    ("激光产业园 推进会", True),
    ("激光产业园 拆迁", False),
    ("拆迁 OR 签约", True),
    ("拆迁 OR 征收", False),
    ("激光产业园 -签约", False),
    ("激光产业园 -拆迁", True),
    ('"ai视觉"', True),
    ("ａｉ", True),
    ('"激光产业园 建设"', False),   # a phrase is a substring, spaces included
    ("(拆迁 OR 签约) 推进会", True),
    ("(拆迁 OR 征收) 推进会", False),
    ("激光产业园 AND 推进会", True),
    ("拆迁 or 签约", True),
    ("(签约 -推进会) OR 拆迁", False),
    ("(签约 -拆迁) OR 征收", True),
    ("激光 -(签约 推进会)", False),
    ("激光 -(签约 拆迁)", True),
])
def test_matches_is_substring_on_normalized_text(text, expected):
    assert parse_query(text).matches(BODY) is expected


def test_snippet_is_original_script_around_first_hit():
    text = ("宿遷市宿城區人民政府辦公室發佈通知。" * 6 + "\n會議強調，要加快激光產業園配套工程建設，"
            "確保9月底前全面完工。" + "各相關部門要強化服務意識。" * 8)
    snippet = make_snippet(text, parse_query("激光产业园").positive_terms)
    assert "激光產業園" in snippet
    assert len(snippet) <= 122
    assert snippet.startswith("…") and snippet.endswith("…")


def test_snippet_maps_positions_through_nfkc_expansion():
    # Each "㈱" becomes three characters under NFKC; the window must still hold the hit.
    text = "㈱" * 200 + "激光產業園" + "。" * 200
    assert "激光產業園" in make_snippet(text, ["激光产业园"])


def test_snippet_without_hit_starts_at_beginning():
    assert make_snippet("宿城区召开推进会。\n会议强调。", ["标题里的词"]) == "宿城区召开推进会。 会议强调。"


def test_deep_nesting_within_the_length_bound_parses():
    assert parse_query("(" * 249 + "激光" + ")" * 249).root == And((Term("激光"),))
    assert parse_query("宿迁 " + "-(" * 165 + "激光" + ")" * 165).root == And((Term("宿迁"), Not(Term("激光"))))
    with pytest.raises(QueryLimitError) as caught:           # long because of its operators, not its terms
        parse_query("宿迁 " + "NOT (" * 99 + "激光" + ")" * 99)
    assert str(caught.value).startswith("查询太长：")
