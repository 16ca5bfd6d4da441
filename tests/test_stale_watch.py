"""A watch stored before today's query limits (here: 100 terms, over the 64-term cap)
no longer parses. It is skipped with one warning; it must not stop every other
watch's alerts or the digest."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

from conftest import crawl_into, run_newsmon
from index import open_index

OLD_QUERY = " OR ".join(f"旧词{i}" for i in range(100))


def test_an_unparsable_stored_watch_is_skipped_not_fatal(fixture_sites, tmp_path):
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    added = run_newsmon("watch", "add", "laser", "--query", "激光", "--email", "team@example.com",
                        "--mode", "both", "--index", index_url)
    assert added.returncode == 0, added.stderr
    index = open_index(index_url)
    try:   # as an older newsmon stored it, before the limits existed
        index.state.put("watch", "old-wide", {"name": "old-wide", "query": OLD_QUERY,
                                              "emails": ["ops@example.com"], "mode": "both"})
    finally:
        index.close()

    crawl = crawl_into(fixture_sites, tmp_path, index_url=index_url)
    assert "old-wide" in crawl.proc.stderr and "无法解析" in crawl.proc.stderr
    pending = run_newsmon("alerts", "pending", "--index", index_url)
    assert pending.returncode == 0, pending.stderr
    laser_alerts = [line for line in pending.stdout.splitlines() if " laser/" in line]
    assert laser_alerts, pending.stdout          # the good watch still alerts
    assert "old-wide/" not in pending.stdout

    today = (datetime.now(timezone.utc) + timedelta(hours=8)).date().isoformat()
    out = tmp_path / "digest.eml"
    digest = run_newsmon("digest", "--date", today, "--to", "team@example.com", "--dry-run", "--out", out,
                         "--index", index_url)
    assert digest.returncode == 0, digest.stderr
    message = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "监测「laser」" in text and "old-wide" not in text
