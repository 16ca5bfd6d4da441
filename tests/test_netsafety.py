"""Network safety: private, loopback, link-local and metadata addresses are refused."""
import pytest

from crawler.netsafety import AllowList, UnsafeURLError, check_url


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/", "http://localhost/", "http://10.1.2.3/", "http://192.168.1.1/admin",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://0.0.0.0/",
    "http://metadata.google.internal/", "ftp://www.gov.cn/", "file:///etc/passwd",
])
def test_private_and_odd_urls_are_refused(url):
    with pytest.raises(UnsafeURLError):
        check_url(url, AllowList())


def test_allow_list_by_host_or_cidr():
    check_url("http://127.0.0.1:8080/x", AllowList.parse("127.0.0.1"))
    check_url("http://10.1.2.3/", AllowList.parse("10.0.0.0/8, intranet.local"))
    check_url("http://192.168.5.5/", AllowList(), allow_private=True)
    with pytest.raises(UnsafeURLError, match="NEWSMON_ALLOW_HOSTS"):
        check_url("http://10.1.2.3/", AllowList.parse("127.0.0.1"))


def test_public_ip_literal_passes():
    check_url("http://8.8.8.8/", AllowList())
