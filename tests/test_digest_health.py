"""The digest's source-health section from the run history (monitor.health):
a site whose crawls keep failing is listed with its flag; the others are counted healthy."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

from conftest import run_newsmon


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def test_failing_site_is_in_the_digest_health_section(fixture_sites, tmp_path, chromium_browser, artifacts_dir):
    from index import open_index
    from monitor.digest import build_digests, render_html, render_text

    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n"
                     f"  - name: pingqiao-gov\n    start_urls: [{fixture_sites.urls['pingqiao-gov']}]\n"
                     f"  - name: gone-gov\n    start_urls: [{closed_port_url()}]\n", encoding="utf-8")
    assert run_newsmon("watch", "add", "tea", "--query", "茶叶", "--email", "team@example.com",
                       "--index", index_url).returncode == 0
    for _ in range(3):       # three failed runs in a row make a site "failing"
        run_newsmon("crawl", "--sites", sites, "--index", index_url)
    with open_index(index_url) as index:
        now = datetime.now(timezone.utc)
        (digest,) = build_digests(index, now - timedelta(hours=1), now + timedelta(seconds=1),
                                  label=now.date().isoformat())
    assert {site["name"] for site in digest.health} == {"pingqiao-gov", "gone-gov"}
    (problem,) = digest.problem_sites
    assert problem["name"] == "gone-gov" and problem["health"][0]["kind"] == "failing"
    text = render_text(digest)
    assert "gone-gov: [连续失败] 最近 3 次运行连续失败" in text and "1 个来源正常。" in text
    page = chromium_browser.new_page()
    try:
        page.set_content(render_html(digest))
        row = page.locator("#health tr.site-problem[data-site='gone-gov']")
        assert "连续失败" in row.inner_text() and "最近 3 次运行连续失败" in row.inner_text()
        assert "1 个来源正常" in page.locator("#health").inner_text()
        assert page.locator("section.watch[data-watch='tea'] article.story").count() >= 1
        page.screenshot(path=str(artifacts_dir / "digest-health.png"), full_page=True)
    finally:
        page.close()
