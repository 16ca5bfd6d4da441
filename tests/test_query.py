"""The one query language: parsing, errors with positions, substring matching."""
import pytest

from index.query import And, Not, Or, QuerySyntaxError, Term, make_snippet, parse_query
from pipelines.normalize import normalize_text


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


def test_lowercase_or_is_a_word():
    assert parse_query("a or b").root == And((Term("a"), Term("or"), Term("b")))


def test_quoted_or_is_a_word():
    assert parse_query('a "OR" b').positive_terms == ["a", "or", "b"]


def test_hyphen_inside_word_is_not_exclusion():
    assert parse_query("covid-19").root == And((Term("covid-19"),))


@pytest.mark.parametrize("text, position, words", [
    ("", 0, "empty query"),
    ("   ", 0, "empty query"),
    ('激光 "产业园', 3, "unterminated quote"),
    ("激光 OR", 3, "needs a term on its right"),
    ("OR 激光", 0, "needs a term on its left"),
    ("激光 OR OR 产业园", 3, "needs a term on its right"),
    ("激光 - 产业园", 3, "'-' must be followed"),
    ("激光 -", 3, "'-' must be followed"),
    ("-征收 -拆迁", 0, "only exclusions"),
    ("激光 OR -拆迁", 6, "cannot be an OR alternative"),
    ("-拆迁 OR 激光", 0, "cannot be an OR alternative"),
    ('激光 ""', 3, "empty phrase"),
])
def test_syntax_errors_say_where(text, position, words):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert words in caught.value.message
    assert f"position {position}" in str(caught.value)


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
