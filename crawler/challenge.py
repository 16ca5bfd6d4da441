"""Anti-bot answers: is this response a challenge, and of which kind?

design.md: "Anti-bot challenge pages (HTTP 412 with a ``$_ts`` script, 521 with
``__jsl_clearance``, script-only 200 pages) are never indexed; the site's run is
recorded as blocked". ``challenge_kind(status, headers, body)`` says which kind a
response is, or None for an ordinary one; it is a plain function (no Scrapy), used
by ``crawler.ladder`` on every response of a site and by the tests.

Kinds, in the order they are checked:

1. ``ruishu`` -- 瑞数 (Rivers Security): a ``$_ts`` script (HTTP 412 at first, or
   a 200 page with no text that runs it); the script sets cookies and reloads.
2. ``jiasule`` -- 加速乐: HTTP 521 whose script sets ``__jsl_clearance``.
3. ``waf`` -- HTTP 403/405/406/418/493 from a web application firewall (安全狗,
   云锁, 创宇盾, 宝塔, "访问被拦截"...). A plain 403 with no such words is an
   ordinary HTTP error, not a challenge.
4. ``captcha`` -- a page with at most two links that asks for a captcha (验证码,
   滑动验证, 人机验证...), has next to no other text and is no login form.
5. ``script_page`` -- a 200 HTML page that is a script and no text: no prose,
   at most two links, and an inline script that acts like a challenge (sets a
   cookie, reloads, wipes the page, hides its code). "Challenge marker gone" is never a pass: only positive
   evidence of real text (``has_real_text``) is.

Most pages are settled on bytes alone (a page with several links is no script
page), so an ordinary crawl pays a few ``bytes.find`` per page.
"""
from __future__ import annotations

import re

# The kinds and their labels are run-history vocabulary (monitor/health.py reads them too).
from index.runs import CAPTCHA, JIASULE, RUISHU, SCRIPT_PAGE, WAF  # noqa: F401
from index.runs import CHALLENGE_KINDS as KINDS  # noqa: F401
from index.runs import CHALLENGE_LABELS as LABELS

REAL_TEXT_CHARS = 40          # visible non-space characters that make a page "real"
_WAF_STATUSES = (403, 405, 406, 418, 493)
_WAF_WORDS = tuple(w.encode() for w in (
    "安全狗", "云锁", "创宇盾", "知道创宇", "宝塔", "网站防火墙", "Web应用防火墙", "WEB应用防火墙",
    "访问被拦截", "访问被阻断", "请求被拦截", "已被拦截", "疑似攻击", "非法请求", "D盾", "waf", "WAF",
    "Request blocked", "request was blocked", "Access Denied"))
_CAPTCHA_WORDS = tuple(w.encode() for w in (
    "验证码", "滑动验证", "人机验证", "安全验证", "请完成验证", "拖动滑块", "captcha", "CAPTCHA", "geetest"))
_SCRIPT = re.compile(rb"<script\b", re.I)
# What a challenge's own script does, as positive evidence: set a cookie, reload or
# re-request the same address, wipe the document, or hide its code (eval, char codes,
# long escape runs). A page whose scripts are only linked files or a jump to another
# page is an ordinary short page (a frame set, a redirect, a login), never a challenge.
_INLINE_SCRIPT = re.compile(rb"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)
_CHALLENGE_ACTS = re.compile(rb"document\.cookie|location\.reload|location\.(?:pathname|search)"
                             rb"|location(?:\.href)?\s*=\s*location|document\.open\s*\(|eval\s*\("
                             rb"|String\.fromCharCode|(?:\\x[0-9a-f]{2}){16}", re.I)
_PASSWORD_FIELD = re.compile(rb"<input\b[^>]*type\s*=\s*[\"']?password", re.I)
_ANCHOR = re.compile(rb"<a\s[^>]*href", re.I)
_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.I)


def challenge_kind(status: int, headers: dict[str, str] | None, body: bytes) -> str | None:
    """The kind of anti-bot challenge this response is (``KINDS``), or None."""
    content_type = ((headers or {}).get("content-type") or "").lower()
    if content_type and not any(t in content_type for t in ("html", "text/plain", "xml")):
        return None              # a PDF, an image, JSON: never a challenge page
    head = body[:262144]
    # (a page that got through keeps its $_ts script: only a page without real text is the challenge)
    if b"$_ts" in head and (status == 412 or (_SCRIPT.search(head) and not has_real_text(_text_of(head)))):
        return RUISHU
    if status == 521 and (b"__jsl_clearance" in head or b"jsl" in head.lower()):
        return JIASULE
    if status in _WAF_STATUSES and any(w in head for w in _WAF_WORDS):
        return WAF
    if not _few_links(head):
        return None              # an ordinary page links to several others
    if (any(w in head for w in _CAPTCHA_WORDS) and not _PASSWORD_FIELD.search(head)
            and not has_real_text(_text_of(head), 200)):
        return CAPTCHA           # (a login form's 验证码 is the site's own, not a wall)
    if status == 200 and _looks_script_only(head):
        return SCRIPT_PAGE
    return None


def _few_links(body: bytes) -> bool:
    """At most two links (a challenge or captcha page has next to none)."""
    for n, _match in enumerate(_ANCHOR.finditer(body), 1):
        if n > 2:
            return False
    return True


def _looks_script_only(body: bytes) -> bool:
    if not any(_CHALLENGE_ACTS.search(code) for code in _INLINE_SCRIPT.findall(body)):
        return False
    return not has_real_text(_text_of(body))


def _text_of(body: bytes) -> str:
    """The page's visible text, roughly: no scripts, styles, comments or tags."""
    from pipelines.extraction.decode import decode_html
    from pipelines.article import ExtractionError
    try:
        html = decode_html(body, {}).text
    except ExtractionError:
        return ""
    return _ENTITY.sub(" ", _TAG.sub(" ", _INVISIBLE.sub(" ", html)))


def has_real_text(text: str, chars: int = REAL_TEXT_CHARS) -> bool:
    """Positive evidence of a real page: at least ``chars`` visible non-space characters."""
    seen = 0
    for piece in text.split():
        seen += len(piece)
        if seen >= chars:
            return True
    return False


def is_challenge_marker(text: str) -> bool:
    """Text that a challenge page, not a real one, shows (for the browser's check)."""
    return any(w.decode() in text for w in _CAPTCHA_WORDS)
