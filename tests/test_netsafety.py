"""Network safety: private, loopback, link-local and metadata addresses are refused."""
import pytest

from netsafety.addresses import AllowList, UnsafeURLError, check_url


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


@pytest.mark.parametrize("url", [
    "http://100.100.100.200/latest/meta-data/",     # Alibaba Cloud metadata (shared address space)
    "http://[::ffff:127.0.0.1]/", "http://[2002:7f00:1::]/",   # IPv4-mapped, 6to4 around 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",                 # NAT64 around 169.254.169.254
    "http://[fd00:ec2::254]/",                      # AWS IPv6 metadata (unique local)
    "http://2130706433/", "http://0x7f.1/",         # 127.0.0.1 spelled as a number
    "http://metadata.tencentyun.com/",
])
def test_disguised_private_addresses_are_refused(url):
    with pytest.raises(UnsafeURLError):
        check_url(url, AllowList())


def test_fetch_connects_only_to_the_checked_address(fixture_sites):
    """``newsmon extract URL`` path: a name resolving to loopback is refused at connect
    time even though the allow-list names the loopback *address* of another host."""
    from netsafety.fetch import fetch_url
    url = fixture_sites.url_of("pingqiao-gov", "/")
    assert fetch_url(url, AllowList.parse("127.0.0.1")).status == 200
    with pytest.raises(UnsafeURLError, match="localhost resolves to non-public address 127.0.0.1"):
        fetch_url(url.replace("127.0.0.1", "localhost"), AllowList.parse("127.0.0.2"))
