"""The sites file: a bad file names the line and the field; a minimal one works."""
import pytest

from crawler.sites import SitesFileError, load_sites, parse_schedule

GOOD = """\
# monitoring: 宿迁 and 信阳
sites:
  - name: suqian-sucheng
    start_urls: [https://www.sucheng.gov.cn/]
    region: 江苏省宿迁市宿城区
    schedule: "every 30m"
  - name: xinyang-pingqiao
    start_urls:
      - http://www.pingqiao.gov.cn/
    schedule: "*/30 * * * *"
    encoding: gb18030
    selectors: {title: "h1.title", body: "#zoom"}
watches:
  - name: 激光
    query: 激光 产业园
"""


def write(tmp_path, text):
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_site_needs_only_name_and_start_urls(tmp_path):
    sites = load_sites(write(tmp_path, "sites:\n  - name: a\n    start_urls: [http://www.a.gov.cn/]\n"))
    (site,) = sites.sites
    assert site.name == "a" and site.start_urls == ("http://www.a.gov.cn/",)
    assert site.extract_options().encoding is None


def test_full_file_with_overrides_and_watches(tmp_path):
    sites = load_sites(write(tmp_path, GOOD))
    assert [s.name for s in sites.sites] == ["suqian-sucheng", "xinyang-pingqiao"]
    assert sites.sites[0].region == "江苏省宿迁市宿城区"
    options = sites.sites[1].extract_options()
    assert options.encoding == "gb18030" and options.body_selector == "#zoom"
    assert sites.watches[0]["query"] == "激光 产业园"


@pytest.mark.parametrize("replace, line, field", [
    ('schedule: "every 30m"', 6, "schedule"),
    ("start_urls: [https://www.sucheng.gov.cn/]", 4, "start_urls"),
    ("encoding: gb18030", 11, "encoding"),
    ('selectors: {title: "h1.title", body: "#zoom"}', 12, "selectors"),
])
def test_bad_field_names_line_and_field(tmp_path, replace, line, field):
    bad_values = {"schedule": 'schedule: "every 30 fortnights"', "start_urls": "start_urls: [ftp://x.gov.cn/]",
                  "encoding": "encoding: klingon-8", "selectors": "selectors: {headline: h1}"}
    path = write(tmp_path, GOOD.replace(replace, bad_values[field]))
    with pytest.raises(SitesFileError) as err:
        load_sites(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert f"field '{field}'" in message


def test_duplicate_name_and_unknown_field_and_broken_yaml(tmp_path):
    with pytest.raises(SitesFileError, match=r":6: .*duplicate site name 'a' \(first defined on line 2\)"):
        load_sites(write(tmp_path, "sites:\n  - name: a\n    start_urls: [http://a.cn/]\n"
                         "  - name: b\n    start_urls: [http://b.cn/]\n"
                         "  - name: a\n    start_urls: [http://c.cn/]\n"))
    with pytest.raises(SitesFileError, match=r":4: site 'a': field 'colour': unknown field"):
        load_sites(write(tmp_path, "sites:\n  - name: a\n    start_urls: [http://a.cn/]\n    colour: red\n"))
    with pytest.raises(SitesFileError, match=r"not valid YAML"):
        load_sites(write(tmp_path, "sites:\n  - name: [a\n"))
    with pytest.raises(SitesFileError, match="not found"):
        load_sites(tmp_path / "missing.yaml")


def test_select_unknown_site_lists_known(tmp_path):
    sites = load_sites(write(tmp_path, GOOD))
    with pytest.raises(SitesFileError, match="no site named 'nope'; known sites: suqian-sucheng, xinyang-pingqiao"):
        sites.select(["nope"])


def test_schedule_forms():
    assert parse_schedule("every 30m") == ("interval", 1800)
    assert parse_schedule("every 2h") == ("interval", 7200)
    assert parse_schedule("0 7 * * *") == ("cron", "0 7 * * *")
    with pytest.raises(ValueError):
        parse_schedule("hourly")
