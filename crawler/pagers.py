"""Pagers: the other pages of a list, however the CMS writes them.

Public API (plain functions, no Scrapy)::

    script_pages(html, url)  -> [url, ...]   pages a script pager would link to
    is_paging_link(list_url, link_url, anchor) -> bool

1. Script pagers carry a page count and a file prefix/suffix, whatever the
   function is called: TRS ``createPageHTML(10, 0, "index", "html")``,
   ``createPageHTML('page_div', 9, 1, 'index', 'html', 20)``, ``Pager({size:16,
   current:0, prefix:'index', suffix:'html'})``... Any call in a ``<script>``
   with a count and a prefix (a word that names the list file: ``index``,
   ``list``, or the page's own file stem) gives ``prefix.suffix`` and
   ``prefix_1.suffix`` .. ``prefix_{N-1}.suffix`` beside the page.
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
_PREFIX_KEYS = ("prefix", "name", "pagename", "filename", "file")
_SUFFIX_KEYS = ("suffix", "ext", "extension", "type")


def script_pages(html: str, url: str) -> list[str]:
    """Pages named by script pagers on the page (``prefix.suffix``, ``prefix_N.suffix``)."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    stem, _, ext = name.rpartition(".") if "." in name else (name, "", "")
    stem = stem.lower()
    out: list[str] = []
    for script in _SCRIPT.findall(html):
        variables = dict(_VAR.findall(script + "\n"))     # createPageHTML(countPage, currentPage, ...)
        for _name, args in _CALL.findall(script):
            found = _pager_call(_substitute(args, variables), stem, ext or "html")
            if found is None:
                continue
            count, prefix, suffix = found
            pages = [f"{prefix}.{suffix}"] + [f"{prefix}_{n}.{suffix}" for n in range(1, count)]
            out.extend(urljoin(url, p) for p in pages if urljoin(url, p) not in out)
    return out


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
