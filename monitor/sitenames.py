"""Sites' display names (the sites file's ``title:``, e.g. 宿城区人民政府) in the index's
state store, so every reader -- ``newsmon status``, digests, the web UI -- shows them
without reading the sites file (which lives with the crawler, a layer up).

Written by whoever holds the sites file: the web app when it starts and after each
change it makes, and the scheduler's digest job from the file it scheduled.
"""
from __future__ import annotations

TITLE_KIND = "site_title"


def site_titles(state) -> dict[str, str]:
    """Site name -> display name, for the sites that have one."""
    return {key: doc["title"] for key, doc in state.scan(TITLE_KIND) if doc.get("title")}


def sync_titles(state, titles: dict[str, str], *, prune: bool = True) -> None:
    """Store ``titles``; with ``prune``, exactly those (a site that lost its title or left
    the file shows its name again). The scheduler does not prune: it leaves paused sites out."""
    stored = site_titles(state)
    for name, title in titles.items():
        if title and stored.get(name) != title:
            state.put(TITLE_KIND, name, {"title": title})
    if prune:
        for name in stored.keys() - {name for name, title in titles.items() if title}:
            state.delete(TITLE_KIND, name)


def display_name(titles: dict[str, str], name: str) -> str:
    return titles.get(name) or name
