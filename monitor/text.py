"""Plain-text rendering of stories for the terminal (search, demo), and the one
link filter every rendered page and email uses."""
from __future__ import annotations

from monitor.clock import show


def safe_href(url: str | None) -> str:
    """An article URL as a link target: only http(s); anything else (``javascript:``,
    ``data:``) goes nowhere. Stored URLs come from crawled pages, so they are untrusted."""
    return url if url and url.lower().startswith(("http://", "https://")) else "#"


def when(published: str | None) -> str:
    """A stored time as users read it: ``NEWSMON_TZ``, to the minute (``monitor.clock``)."""
    return show(published, "----------")


def reach_line(story: dict) -> str:
    """"首发 X，N 家转载（…）": N counts other sites (a site that carries the story
    twice is one 家); extra copies beyond one per site are noted as 篇."""
    copies = story.get("copies") or []
    others = [c for c in copies if c.get("url") != story.get("url")]
    sites = sorted({c["site"] for c in others if c.get("site") != story.get("site")})
    if not others:
        return f"首发 {story.get('site')}"
    if not sites:
        return f"首发 {story.get('site')}，本站另有 {len(others)} 篇"
    line = f"首发 {story.get('site')}，{len(sites)} 家转载（{'，'.join(sites)}）"
    if len(others) > len(sites):
        line += f"，共 {len(copies)} 篇"
    return line


def format_story(n: int, story: dict) -> str:
    lines = [f"{n:>2}. {when(story.get('published'))}  {story.get('title')}",
             f"    {story.get('site')}  {story.get('url')}",
             f"    {reach_line(story)}"]
    snippet = (story.get("snippet") or "").replace("\n", " ")
    if snippet:
        lines.append(f"    …{snippet}…")
    for copy in story.get("copies") or []:
        if copy.get("url") != story.get("url"):
            lines.append(f"      ↳ {when(copy.get('published'))}  {copy.get('site')}  {copy.get('url')}")
    return "\n".join(lines)


def format_stories(query: str, stories: list[dict]) -> str:
    if not stories:
        return f"no stories match {query!r}"
    head = f"{len(stories)} {'story' if len(stories) == 1 else 'stories'} for {query!r}:"
    return "\n".join([head] + [format_story(i, s) for i, s in enumerate(stories, 1)])


def format_page(query: str, result) -> str:
    """A page of search results (``index.story_search.SearchPage``) for the terminal:
    ``共 N 条报道，显示第 a–b 条：``, the stories numbered from a, and how to see more."""
    total, first, end = result.total, result.offset + 1, result.offset + len(result.stories)
    page = result.offset // result.limit + 1
    if not total:
        return f"没有找到与 {query!r} 匹配的报道"
    if not result.stories:
        return f"共 {total} 条报道；第 {page} 页没有报道（每页 {result.limit} 条，共 {-(-total // result.limit)} 页）"
    shown = f"第 {first} 条" if first == end else f"第 {first}–{end} 条"
    order = "，按相关度" if result.sort == "relevance" else ""
    lines = [f"共 {total} 条报道，显示{shown}{order}（{query!r}）："]
    lines += [format_story(n, story) for n, story in enumerate(result.stories, first)]
    if end < total:
        lines.append(f"（还有 {total - end} 条：加 --page {page + 1} 看下一页）")
    return "\n".join(lines)
