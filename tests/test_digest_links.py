"""Digest links go through the same filter as the web pages (``monitor.text.safe_href``):
a stored article whose URL is ``javascript:`` (or ``data:``) never becomes an ``href`` in
the HTML email a team opens. The digest is sent through a real SMTP server (aiosmtpd)
and the links are read back from the received message."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from mailserver import MailServer
from test_digest import MALICIOUS_PAGE, index_page

BAD_URLS = ["javascript:alert(document.cookie)//t20210720_4100001.html",
            " JavaScript:window.__xss=1",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="]


class Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.values: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value or "" for name, value in attrs if name == "href"]
        self.values += [value or "" for _name, value in attrs]


@pytest.mark.parametrize("bad_url", BAD_URLS)
def test_a_javascript_url_never_becomes_a_link_in_the_digest(tmp_path, bad_url):
    from index import open_index
    from monitor.delivery import SMTPSettings
    from monitor.digest import build_digests, send_digest
    from monitor.watches import Watch, WatchStore

    mail = MailServer().start()
    index = open_index(f"sqlite:///{tmp_path}/newsmon.db")
    try:
        WatchStore(index).add(Watch("laser", "激光", emails=["team@example.com"], mode="digest"))
        now = datetime.now(timezone.utc)
        index_page(index, MALICIOUS_PAGE, bad_url, "sucheng-gov", now)
        (digest,) = build_digests(index, now - timedelta(hours=1), now + timedelta(seconds=1),
                                  label=now.date().isoformat())
        assert digest.count == 1 and digest.sections[0].stories[0].story["url"] == bad_url
        assert send_digest(index, digest, SMTPSettings.from_env(mail.env()))
    finally:
        index.close()
        mail.stop()
    (received,) = mail.to("team@example.com")
    html = received.message.get_body(("html",)).get_content()
    parser = Hrefs()
    parser.feed(html)
    assert parser.hrefs == ["#"]                       # the story's title link goes nowhere
    assert not [v for v in parser.values if bad_url.strip().lower()[:10] in v.lower()]


def test_an_http_url_stays_the_link():
    from monitor.text import safe_href
    url = "http://www.sqsc.gov.cn/xwdt/202107/t20210720_4100001.html"
    assert safe_href(url) == url and safe_href("HTTPS://x.gov.cn/a") == "HTTPS://x.gov.cn/a"
    assert [safe_href(u) for u in BAD_URLS + [None, ""]] == ["#"] * 5
