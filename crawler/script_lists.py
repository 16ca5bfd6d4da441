"""Lists filled by script: the article links in the JSON/XML a list page loaded.

Hanweb (大汉) column pages and many portals fetch their article list with a
script (``dataproxy.jsp`` answering XML records of ``<li><a href=...>``, or a JSON
array of ``{"title", "url"}``) and write it into the page. The browser keeps
those answers (``crawler.browser``); ``links_block`` turns the links in them into
one block of plain ``<a href>`` that ``crawler.discovery`` reads like any list,
so a list is found even when the script pages it or renders it late. Links the
rendered page already shows are left out.
"""
from __future__ import annotations

import html as htmllib
import json
import re
from urllib.parse import urljoin, urlsplit

_ANCHOR = re.compile(r"<a\b[^>]*?href\s*=\s*['\"]([^'\"]+)['\"][^>]*>(.*?)</a>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_URL_KEYS = ("url", "link", "href", "docurl", "doc_url", "linkurl", "pageurl", "path", "vc_url")
_TITLE_KEYS = ("title", "doctitle", "doc_title", "name", "vc_title", "subject")
_PAGE_PATH = re.compile(r"^(?:https?://[^\s\"'<>]+|/[^\s\"'<>]+)$")
MAX_LINKS = 500


def captured_links(captured: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(absolute url, title)`` for each link in the captured answers, in order, once."""
    found: list[tuple[str, str]] = []
    for source, text in captured:
        found += _from_json(source, text) or _from_markup(source, text)
    seen, out = set(), []
    for url, title in found:
        if url not in seen and not url.lower().startswith(("javascript:", "mailto:", "#")):
            seen.add(url)
            out.append((url, title))
    return out[:MAX_LINKS]


def links_block(captured: list[tuple[str, str]], base_url: str, html: str) -> str:
    """A ``<div>`` of the captured links the rendered ``html`` does not show yet ('' for none)."""
    items = [f'<li><a href="{htmllib.escape(url)}">{htmllib.escape(title or url)}</a></li>'
             for url, title in captured_links(captured)
             if not _shown(url, html)]
    if not items:
        return ""
    return '<div class="newsmon-script-list"><ul>' + "".join(items) + "</ul></div>"


def _shown(url: str, html: str) -> bool:
    """The rendered page already links to ``url`` (absolute, or by its path)."""
    path = urlsplit(url)._replace(scheme="", netloc="").geturl()
    return any(f'href="{u}"' in html or f"href='{u}'" in html for u in (url, path))


def _from_markup(source: str, text: str) -> list[tuple[str, str]]:
    """Anchors in XML records (``<![CDATA[<li><a href=...>]]>``) or an HTML fragment."""
    text = text.replace("<![CDATA[", "").replace("]]>", "")
    return [(urljoin(source, htmllib.unescape(href.strip())), " ".join(_TAG.sub(" ", htmllib.unescape(title)).split()))
            for href, title in _ANCHOR.findall(text)]


def _from_json(source: str, text: str) -> list[tuple[str, str]]:
    try:
        data = json.loads(text)
    except ValueError:
        start = text.find("(")      # JSONP: callback({...})
        if start < 0 or not text.rstrip().rstrip(";").endswith(")"):
            return []
        try:
            data = json.loads(text[start + 1:text.rstrip().rstrip(";").rfind(")")])
        except ValueError:
            return []
    out: list[tuple[str, str]] = []
    _walk(data, source, out, 0)
    return out


def _walk(node, source: str, out: list, depth: int) -> None:
    if depth > 12 or len(out) >= MAX_LINKS:
        return
    if isinstance(node, dict):
        lowered = {str(k).lower(): v for k, v in node.items()}
        url = next((lowered[k] for k in _URL_KEYS if isinstance(lowered.get(k), str)
                    and _PAGE_PATH.match(lowered[k].strip())), None)
        if url:
            title = next((lowered[k] for k in _TITLE_KEYS if isinstance(lowered.get(k), str)), "")
            out.append((urljoin(source, url.strip()), " ".join(_TAG.sub(" ", title).split())))
        for value in node.values():
            if isinstance(value, (dict, list)):
                _walk(value, source, out, depth + 1)
            elif isinstance(value, str) and "<a" in value:
                out += _from_markup(source, value)
    elif isinstance(node, list):
        for value in node:
            _walk(value, source, out, depth + 1)


# A script that asks the server for data: jQuery's helpers, XHR, fetch, Hanweb's data proxy.
_LOADS_DATA = re.compile(r"\$\.(?:ajax|get|post|getJSON)\s*\(|XMLHttpRequest|\bfetch\s*\(|dataproxy|axios\.|"
                         r"\.load\s*\(\s*['\"]", re.I)
# ... or names a JSON/XML address to load.
_DATA_URL = re.compile(r"['\"][^'\"\s]*\.(?:json|xml)(?:\?[^'\"\s]*)?['\"]", re.I)
# An inline script (no src) and its body.
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# A container with nothing in it (whitespace only): where a script writes the list.
_EMPTY = re.compile(r"<(ul|ol|tbody|dl|div|section|table)\b([^>]*)>\s*</\1\s*>", re.I)
_NAME = re.compile(r"\b(id|class)\s*=\s*['\"]([^'\"]+)['\"]", re.I)
_LISTISH = re.compile(r"list|news|data|item|article|xxgk|wz|lb|content", re.I)


def filled_by_script(html: str) -> bool:
    """Positive evidence that the page's list is written by its own script: an inline script
    loads data (XHR, fetch, ``$.ajax``/``$.get``, a data proxy, a JSON/XML address) and the
    page has an empty list container -- a ``ul``/``ol``/``tbody``/``dl`` or a ``div``/``section``/
    ``table`` -- that the script names (``#list``, ``getElementById("list")``) or whose id/class
    says list (``list``, ``news``, ``data`` ...). Merely having scripts, or a script that posts a
    visit counter next to a page of ordinary links, is not enough: each such page would cost a
    Chromium render."""
    html = _COMMENT.sub("", html)
    loaders = [body for body in _INLINE_SCRIPT.findall(html) if _LOADS_DATA.search(body) or _DATA_URL.search(body)]
    if not loaders:
        return False
    scripts = "\n".join(loaders)
    for tag, attrs in _EMPTY.findall(html):
        names = dict((k.lower(), v) for k, v in _NAME.findall(attrs))
        if not names:
            continue
        ident, classes = names.get("id", ""), names.get("class", "").split()
        if ident and re.search(r"['\"#]" + re.escape(ident) + r"['\"]", scripts):
            return True
        if any(re.search(r"['\"]\." + re.escape(c) + r"['\"\s]", scripts) for c in classes):
            return True
        if tag.lower() != "div" or ident or classes:
            if _LISTISH.search(ident + " " + " ".join(classes)):
                return True
    return False
