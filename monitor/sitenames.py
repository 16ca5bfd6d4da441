"""Sites' display names (the sites file's ``title:``, e.g. 宿城区人民政府) in the index's
state store, so every reader -- ``newsmon status``, digests, the web UI -- shows them
without reading the sites file (which lives with the crawler, a layer up).

Written by whoever holds the sites file: the web app when it starts and after each
change it makes, and the scheduler's digest job from the file it scheduled.

A site with no ``title:`` is shown by the name it gives itself, learned by the crawl from
its start page (``own_name``: a ``SiteName``-type meta, else its ``<title>`` without
首页 and slogans) and kept apart (``OWN_NAME_KIND``), so it never overrides an operator's
``title:`` and a sync of the file's titles never deletes it.
"""
from __future__ import annotations

import re

from lxml import html as lxml_html

TITLE_KIND = "site_title"
OWN_NAME_KIND = "site_own_name"

# <meta name=…> that government CMSs (TRS, Hanweb, 政府网站集约化平台) and others use for
# the site's own name, most specific first.
_NAME_METAS = ("sitename", "site_name", "og:site_name", "application-name", "websitename")
_SEPARATORS = re.compile(r"\s+[-–—|·_:：]\s+|[|｜_—–]+|\s-\s|--")
_BOILERPLATE = re.compile(r"^(?:首页|主页|网站首页|门户首页|index|home(?:\s*page)?|welcome)$", re.I)
_PREFIX = re.compile(r"^(?:欢迎(?:访问|来到|光临)|welcome to)\s*", re.I)
_SUFFIX = re.compile(r"(?:网站首页|门户首页|官方网站|门户网站|首页|主页|官网)$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_NAME = 40


def _clean(text: str) -> str:
    text = " ".join(text.split())
    text = _PREFIX.sub("", text)
    return _SUFFIX.sub("", text).strip(" -_|·")


def own_name(page: str) -> str:
    """The name a site gives itself on its start page, or "" when it gives none that reads
    as a name (no Chinese, or longer than ``MAX_NAME``)."""
    try:
        tree = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return ""
    metas = {(m.get("name") or m.get("property") or "").strip().lower(): m.get("content") or ""
             for m in tree.iter("meta")}
    candidates = [metas.get(key, "") for key in _NAME_METAS]
    title = tree.findtext(".//title") or ""
    candidates += [part for part in _SEPARATORS.split(title) if not _BOILERPLATE.match(part.strip())]
    for candidate in candidates:
        name = _clean(candidate)
        if name and _CJK.search(name) and len(name) <= MAX_NAME:
            return name
    return ""


def learn_name(state, site: str, name: str) -> None:
    """Keep the name ``site`` gives itself (an empty one changes nothing)."""
    if name and (state.get(OWN_NAME_KIND, site) or {}).get("name") != name:
        state.put(OWN_NAME_KIND, site, {"name": name})


def own_names(state) -> dict[str, str]:
    """Site name -> the name the site gives itself, for the sites a crawl learned one of."""
    return {key: doc["name"] for key, doc in state.scan(OWN_NAME_KIND) if doc.get("name")}


def _operator_titles(state) -> dict[str, str]:
    return {key: doc["title"] for key, doc in state.scan(TITLE_KIND) if doc.get("title")}


def site_titles(state) -> dict[str, str]:
    """Site name -> display name: the operator's ``title:``, else the site's own name."""
    return {**own_names(state), **_operator_titles(state)}


def sync_titles(state, titles: dict[str, str], *, prune: bool = True) -> None:
    """Store ``titles``; with ``prune``, exactly those (a site that lost its title or left
    the file shows its name again). The scheduler does not prune: it leaves paused sites out."""
    stored = _operator_titles(state)
    for name, title in titles.items():
        if title and stored.get(name) != title:
            state.put(TITLE_KIND, name, {"title": title})
    if prune:
        for name in stored.keys() - {name for name, title in titles.items() if title}:
            state.delete(TITLE_KIND, name)


def display_name(titles: dict[str, str], name: str) -> str:
    return titles.get(name) or name
