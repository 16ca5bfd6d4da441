"""Pagers: the other pages of a list, however the CMS writes them.

Public API (plain functions, no Scrapy)::

    script_pages(html, url, numbered)  -> [url, ...]   pages a script pager would link to
    is_paging_link(list_url, link_url, anchor) -> bool

1. Script pagers carry a page count and a file prefix/suffix, whatever the
   function is called: TRS ``createPageHTML(10, 0, "index", "html")``,
   ``createPageHTML('page_div', 9, 1, 'index', 'html', 20)``, ``Pager({size:16,
   current:0, prefix:'index', suffix:'html'})``... Any call in a ``<script>``
   with a count and a prefix (a word that names the list file: ``index``,
   ``list``, or the page's own file stem) gives ``prefix.suffix`` and
   ``prefix_1.suffix`` .. ``prefix_{N-1}.suffix`` beside the page.
   Pagers that build each page's URL from its number instead (layui
   ``laypage.render({count: 96, limit: 12, curr: 1, jump: … obj.curr + '.html'})``,
   a click handler's ``'?categoryNum=004001002&pageIndex=' + (data.pageIndex + 1)``,
   ``pageing(id, total, pageSize, pageIndex, …)`` fed by ``var total = 58``): the
   count comes from the script's options or variables (a page count, or records and
   records per page), the URLs from the concatenation of a string and the page
   number; pages after the current one are named.
2. Links: ``index_N``/``list_N``/``node_12_N`` file names, ``?page=``/``pageNum=``
   query pages (``crawler.incremental.is_next_page`` tells a list's own pages from
   another column), and 下一页/尾页 anchors.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from crawler.incremental import is_next_page
from crawler.links import is_paging_anchor

MAX_SCRIPT_PAGES = 200          # crawler.traps caps page numbers at 200 as well
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
_CALL = re.compile(r"\b([A-Za-z_$][\w$.]*)\s*\(([^()]{3,400})\)")
_STRING = re.compile(r"""^\s*(['"])([^'"]*)\1\s*$""")
_NUMBER = re.compile(r"""^\s*['"]?(\d{1,4})['"]?\s*$""")
_KEYED = re.compile(r"""([A-Za-z_]\w*)\s*:\s*(['"][^'"]*['"]|\d+)""")
_EXTENSIONS = ("html", "htm", "shtml", "jhtml", "php", "asp", "aspx", "jsp")
_LIST_STEMS = ("index", "list", "default", "more", "node", "page")
# Keys that hold the page count, best first.
_COUNT_KEYS = ("pagecount", "pagescount", "totalpage", "totalpages", "countpage", "pages", "pagenum")
# Pager({size:16, count:45}): records and records per page -> ceil(45/16) pages.
_RECORD_KEYS = ("count", "total", "records", "recordcount", "totalrecord", "totalrecords", "totalcount")
_PER_PAGE_KEYS = ("size", "pagesize", "perpage", "limit", "rows")
_VAR = re.compile(r"\b(?:var|let|const)?\s*([A-Za-z_$][\w$]*)\s*=\s*['\"]?(\d{1,6})['\"]?\s*[;,\n/]")
_CURRENT_KEYS = ("curr", "current", "currentpage", "curpage", "pageindex", "pageno", "page")
# A string joined to the page number: 'list.aspx?pageIndex=' + index, obj.curr + '.html',
# '?categoryNum=004001&pageIndex=' + (data.pageIndex + 1).
_IDENT = r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*"
# the page number alone, or (number + 1); not (npage - 1), not n * 2
_NUMBER_EXPR = r"(?:\(\s*(" + _IDENT + r")\s*(?:\+\s*(1)\s*)?\)|(" + _IDENT + r"))(?!\s*[-*/%(\w$.])"
_CONCAT = re.compile(r"(?:(['\"])([^'\"\n]{0,200})\1\s*\+\s*)?" + _NUMBER_EXPR
                     + r"(?:\s*\+\s*(['\"])([^'\"\n]{0,40})\6)?")
_JOINED = re.compile(r"\+=?\s*$")     # ... + 'page=' + n: a piece of a longer string, not the URL
_PAGE_WORD = re.compile(r"(?i)(page|curr|index|num|no$|^[pni]$)")
_PREFIX_KEYS = ("prefix", "name", "pagename", "filename", "file")
_SUFFIX_KEYS = ("suffix", "ext", "extension", "type")


def script_pages(html: str, url: str, numbered: bool = True) -> list[str]:
    """Pages named by script pagers on the page (``prefix.suffix``, ``prefix_N.suffix``);
    ``numbered``: also pagers that build a URL from the page number (a list's pager, where an
    article's picture-set script builds its own slides' URLs the same way)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    stem, _, ext = name.rpartition(".") if "." in name else (name, "", "")
    stem = stem.lower()
    out: list[str] = []
    for script in _SCRIPT.findall(html):
        variables = dict(_VAR.findall(script + "\n"))     # createPageHTML(countPage, currentPage, ...)
        named = []
        for _name, args in _CALL.findall(script):
            found = _pager_call(_substitute(args, variables), stem, ext or "html")
            if found is None:
                continue
            count, prefix, suffix = found
            named += [f"{prefix}.{suffix}"] + [f"{prefix}_{n}.{suffix}" for n in range(1, count)]
        pages = [urljoin(url, p) for p in named] or (numbered_pages(script, variables, url) if numbered else [])
        out.extend(p for p in pages if p not in out)
    return out


def numbered_pages(script: str, variables: dict[str, str], url: str) -> list[str]:
    """The pages a pager script builds from the page number (``obj.curr + '.html'``):
    its count from options or variables, its URLs from the string joined to the number."""
    keyed = {k.lower(): v for k, v in variables.items()}
    for key, value in _KEYED.findall(script):
        keyed[key.lower()] = value.strip("'\"")
    count = next((int(keyed[k]) for k in _COUNT_KEYS if keyed.get(k, "").isdigit()), None)
    records = next((int(keyed[k]) for k in _RECORD_KEYS if keyed.get(k, "").isdigit()), None)
    per_page = next((int(keyed[k]) for k in _PER_PAGE_KEYS if keyed.get(k, "").isdigit()), None)
    if count is None and records is not None and per_page:
        count = -(-records // per_page)
    if not count or count < 2:
        return []
    current = next((int(keyed[k]) for k in _CURRENT_KEYS if keyed.get(k, "").isdigit()), None)
    for m in _CONCAT.finditer(script):
        head, number, plus_one, tail = m.group(2) or "", m.group(3) or m.group(5), m.group(4), m.group(7) or ""
        if not _is_page_template(head, number, tail) or _JOINED.search(script[max(0, m.start() - 8):m.start()]):
            continue
        offset = 1 if plus_one else 0      # (data.pageIndex + 1): the pager counts from 0
        first = 0 if plus_one or current == 0 else 1
        numbers = range(first + offset, first + offset + min(count, MAX_SCRIPT_PAGES))
        if current is not None:
            numbers = [n for n in numbers if n > current + offset]
        return [urljoin(url, f"{head}{n}{tail}") for n in numbers]
    return []


def _is_page_template(head: str, number: str, tail: str) -> bool:
    """``head + <page number> + tail`` names a list page: the number is a page variable,
    and the strings around it end a query (``?…pageIndex=``) or a path and give a file."""
    if not _PAGE_WORD.search(number.rsplit(".", 1)[-1]) or not (head or tail):
        return False
    if any(c in head + tail for c in " <>'\"\\"):
        return False
    query = "?" in head and head.endswith("=")
    if not tail:       # '?categoryNum=004001&pageIndex=' + n
        return query
    names_file = bool(re.fullmatch(r"(?:_\w*)?\.(?:" + "|".join(_EXTENSIONS) + r")", tail, re.I))
    return names_file and (not head or query or head.endswith(("/", "_", "-")))     # n + '.html', 'list_' + n + '.html'


def _substitute(args: str, variables: dict[str, str]) -> str:
    if not variables:
        return args
    return ",".join(variables.get(arg.strip(), arg) for arg in args.split(","))


def _page_count(keyed: dict[str, str]) -> int | None:
    for key in _COUNT_KEYS:
        if keyed.get(key, "").isdigit():
            return int(keyed[key])
    records = next((int(keyed[k]) for k in _RECORD_KEYS if keyed.get(k, "").isdigit()), None)
    per_page = next((int(keyed[k]) for k in _PER_PAGE_KEYS if keyed.get(k, "").isdigit()), None)
    if records is not None and per_page:
        return -(-records // per_page)
    # one number alone: Pager({size:16, prefix:'index'}) names its pages by it
    return records if records is not None else per_page


def _pager_call(args: str, stem: str, page_ext: str = "html") -> tuple[int, str, str] | None:
    """``(page count, prefix, suffix)`` if the call's arguments look like a pager's."""
    keyed = {k.lower(): v.strip("'\"") for k, v in _KEYED.findall(args)}
    if keyed:
        count = _page_count(keyed)
        prefix = next((keyed[k] for k in _PREFIX_KEYS if k in keyed), None)
        suffix = next((keyed[k] for k in _SUFFIX_KEYS if k in keyed), page_ext)
        if count and prefix and _is_prefix(prefix, stem) and suffix.lower() in _EXTENSIONS:
            return min(count, MAX_SCRIPT_PAGES), prefix, suffix
        return None
    numbers, strings = [], []
    for arg in args.split(","):
        if m := _NUMBER.match(arg):
            numbers.append(int(m.group(1)))
        elif m := _STRING.match(arg):
            strings.append(m.group(2))
    # The prefix is a list-file word followed by an extension: ("index", "html").
    for i, text in enumerate(strings[:-1]):
        if _is_prefix(text, stem) and strings[i + 1].lower() in _EXTENSIONS and numbers:
            count = numbers[0]        # createPageHTML(pages, current, ...): the count comes first
            if count >= 2:
                return min(count, MAX_SCRIPT_PAGES), text, strings[i + 1]
    return None


def _is_prefix(text: str, stem: str) -> bool:
    text = text.lower()
    return bool(re.fullmatch(r"[a-z][\w-]{0,30}", text)) and (
        text in _LIST_STEMS or text == stem or text.startswith(_LIST_STEMS))


def is_paging_link(list_url: str, link_url: str, anchor: str = "") -> bool:
    """Another page of the list at ``list_url``: a 下一页/尾页 anchor, or a URL that
    pages the same list (``index_2.html``, ``?pageNum=3``)."""
    return is_paging_anchor(anchor) or is_next_page(list_url, link_url)
