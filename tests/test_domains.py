"""beian/domains.py: what a user types -> host and registrable main domain, or a typed, precise refusal."""
from __future__ import annotations

import socket
import sys
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from beian.domains import MAX_INPUT_CHARS, DomainError, parse_host, public_suffix_of
from beian.errors import InputError

# --- accepted: (input, host, main_domain, is_subdomain) -------------------------------------------
ACCEPTED = [
    ("blog.example.com.cn", "blog.example.com.cn", "example.com.cn", True),
    ("example.com.cn", "example.com.cn", "example.com.cn", False),
    ("www.example.com", "www.example.com", "example.com", True),
    ("a.b.example.com", "a.b.example.com", "example.com", True),
    ("HTTPS://Blog.Example.COM.cn:8443/path/x?q=1&r=2#frag", "blog.example.com.cn", "example.com.cn", True),
    ("http://user:secret@shop.example.net/", "shop.example.net", "example.net", True),
    ("//example.com/path", "example.com", "example.com", False),
    ("example.com:8080", "example.com", "example.com", False),
    ("ftp://files.example.org/x", "files.example.org", "example.org", True),
    ("  www.example.com  ", "www.example.com", "example.com", True),
    ("example.com.", "example.com", "example.com", False),  # trailing dot: the fully qualified form
    ("BLOG.EXAMPLE.COM", "blog.example.com", "example.com", True),
    ("ｂｌｏｇ．ｅｘａｍｐｌｅ．ｃｏｍ", "blog.example.com", "example.com", True),  # full-width, as IMEs type it
    ("博客.例子.中国", "博客.例子.中国", "例子.中国", True),
    ("xn--9krq6q.xn--fsqu00a.xn--fiqs8s", "博客.例子.中国", "例子.中国", True),
    ("XN--9KRQ6Q.xn--fsqu00a.XN--FIQS8S.", "博客.例子.中国", "例子.中国", True),
    ("例子。中国", "例子.中国", "例子.中国", False),  # ideographic full stop
    ("https://例子.中国/路径", "例子.中国", "例子.中国", False),
    ("EXAMPLE.公司", "example.公司", "example.公司", False),
    ("a.b.example.co.uk", "a.b.example.co.uk", "example.co.uk", True),
    ("www.beijing.gov.cn", "www.beijing.gov.cn", "beijing.gov.cn", True),
    ("a.bj.cn", "a.bj.cn", "a.bj.cn", False),
    ("foo.com.ai", "foo.com.ai", "foo.com.ai", False),
    ("a--b.com", "a--b.com", "a--b.com", False),
    ("me.github.io", "me.github.io", "github.io", True),
    ("a" * 63 + ".com", "a" * 63 + ".com", "a" * 63 + ".com", False),
]


@pytest.mark.parametrize("text,host,main,is_sub", ACCEPTED, ids=[row[0][:40] for row in ACCEPTED])
def test_accepted(text, host, main, is_sub):
    parsed = parse_host(text)
    assert (parsed.host, parsed.main_domain, parsed.is_subdomain) == (host, main, is_sub)


def test_parsed_fields_of_an_idn():
    parsed = parse_host("博客.例子.中国")
    assert parsed.host_ascii == "xn--9krq6q.xn--fsqu00a.xn--fiqs8s"
    assert parsed.main_domain_ascii == "xn--fsqu00a.xn--fiqs8s"
    assert (parsed.suffix, parsed.suffix_ascii, parsed.subdomain) == ("中国", "xn--fiqs8s", "博客")
    assert parsed.platform_suffix is None


def test_platform_domain_is_recognised_from_the_private_section():
    assert parse_host("a.me.github.io").platform_suffix == "github.io"
    assert parse_host("a.me.github.io").main_domain == "github.io"  # ICANN: the domain GitHub registered
    assert parse_host("github.io").platform_suffix is None  # the platform's own domain
    assert parse_host("blog.example.com.cn").platform_suffix is None


def test_suffix_is_the_icann_public_suffix():
    assert parse_host("blog.example.com.cn").suffix == "com.cn"
    assert parse_host("www.beijing.gov.cn").suffix == "gov.cn"
    assert parse_host("me.github.io").suffix == "io"


# --- refused: (input, code, exact message or a fragment) ----------------------------------------
IP_V4 = "“1.2.3.4” 是 IPv4 地址，不是域名：ICP 备案针对域名，请输入网站的域名 (an IP address is not a domain name)"
REJECTED = [
    ("", "empty", "请输入域名，例如 blog.example.com (no domain given)"),
    ("   \t ", "empty", "请输入域名，例如 blog.example.com (no domain given)"),
    ("1.2.3.4", "ip_address", IP_V4),
    ("http://1.2.3.4:8080/x", "ip_address", IP_V4),
    ("[::1]", "ip_address", "是 IPv6 地址"),
    ("2001:db8::1", "ip_address", "“2001:db8::1” 是 IPv6 地址"),
    ("https://[2001:db8::1]:443/", "ip_address", "“2001:db8::1” 是 IPv6 地址"),
    ("1.2.3", "ip_address", "看起来是 IP 地址"),
    ("exa_mple.com", "bad_char",
     "标签 “exa_mple” 含有不允许的字符 “_”（U+005F LOW LINE）：每一段只能由字母、数字和连字符组成 "
     "(only letters, digits and hyphens are allowed)"),
    ("exa mple.com", "bad_char", "含有不允许的字符 空格（U+0020 SPACE）"),
    ("exa!mple.com", "bad_char", "“!”"),
    ("<script>alert(1)</script>", "bad_char", "“<”（U+003C LESS-THAN SIGN）"),
    ("☃.com", "bad_char", "“☃”（U+2603 SNOWMAN）"),
    ("😀.example.com", "bad_char", "U+1F600"),
    ("-abc.com", "hyphen", "标签 “-abc” 以连字符开头或结尾，这是不允许的：连字符只能在中间 (a label cannot start or end with a hyphen)"),
    ("abc-.com", "hyphen", "“abc-”"),
    ("博客-.例子.中国", "hyphen", "“博客-”"),
    ("a" * 64 + ".com", "label_too_long", "编码后 64 个字符，每段上限 63"),
    ("中华人民共和国工业和信息化部政务服务平台网站备案管理系统.com", "label_too_long", "每段上限 63"),
    (".".join(["a" * 63] * 4) + ".com", "name_too_long", "域名过长：编码后 259 个字符，上限 253"),
    ("com", "no_registrable_domain",
     "“com” 只是公共后缀，没有可注册的主域名；请输入完整的域名，例如 example.com (a public suffix alone has no registrable domain)"),
    ("com.cn", "no_registrable_domain", "“com.cn” 只是公共后缀"),
    ("gov.cn.", "no_registrable_domain", "“gov.cn” 只是公共后缀"),
    ("中国", "no_registrable_domain", "“中国” 只是公共后缀"),
    ("example.notatld", "unknown_tld", "顶级域 “.notatld” 不在公共后缀列表中"),
    ("localhost", "unknown_tld", "“.localhost”"),
    ("a..b.com", "empty_label", "有空的标签（连续的点或以点开头）"),
    (".example.com", "empty_label", "有空的标签"),
    ("example.com..", "empty_label", "有空的标签"),
    (".", "empty_label", "域名不能只有一个点"),
    ("xn--zz.com", "bad_idn", "以 xn-- 开头，但不是有效的国际化域名编码"),
    ("a\nb.com", "control_chars", "控制字符"),
    ("example.com\x00", "control_chars", "控制字符"),
    ("https://", "bad_url", "中没有主机名"),
    ("http://[::1", "bad_url", "无法从"),
    ("x" * (MAX_INPUT_CHARS + 1), "too_long", f"不超过 {MAX_INPUT_CHARS} 个字符"),
]


@pytest.mark.parametrize("text,code,message", REJECTED, ids=[f"{row[1]}:{row[0][:30]!r}" for row in REJECTED])
def test_rejected_with_a_precise_reason(text, code, message):
    with pytest.raises(DomainError) as info:
        parse_host(text)
    assert info.value.code == code
    assert message in str(info.value)
    assert "\n" not in str(info.value)  # the CLI prints it as one line


def test_every_rejection_reason_is_covered():
    codes = {code for _, code, _ in REJECTED}
    assert codes == {"empty", "too_long", "control_chars", "bad_url", "ip_address", "empty_label", "bad_char",
                     "hyphen", "label_too_long", "name_too_long", "bad_idn", "no_registrable_domain", "unknown_tld"}


def test_domain_error_is_an_input_error():
    assert issubclass(DomainError, InputError)
    with pytest.raises(InputError):
        parse_host(None)


def test_hostile_input_is_refused_quickly():
    start = time.perf_counter()
    for text in ("x" * 200_000, "a." * 100_000, "<" * 200_000, "\x00" * 200_000,
                 "<html><body onload=alert(1)>" * 7000, "例" * 200_000, "a" * 8000, "a-" * 4000 + "a.com"):
        with pytest.raises(DomainError):
            parse_host(text)
    assert time.perf_counter() - start < 1.0


def test_messages_do_not_echo_long_input():
    with pytest.raises(DomainError) as info:
        parse_host("<" + "b" * 5000 + ">.com")
    assert len(str(info.value)) < 200


def test_the_bundled_list_is_used_and_never_fetched(monkeypatch):
    """publicsuffixlist ships its own copy; parsing must not touch the network or the updater."""
    from beian import domains

    def no_network(*args, **kwargs):
        raise AssertionError("parse_host tried to open a network connection")

    domains._psl.cache_clear()
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert parse_host("blog.example.com.cn").main_domain == "example.com.cn"
    assert parse_host("me.github.io").platform_suffix == "github.io"
    assert "publicsuffixlist.update" not in sys.modules


def test_public_suffix_of():
    assert public_suffix_of("com.cn") == "com.cn"
    assert public_suffix_of("xn--fiqs8s") == "中国"
    assert public_suffix_of("中国") == "中国"
    assert public_suffix_of("con") is None
    assert public_suffix_of("example.com") is None
    assert public_suffix_of("a b") is None


# --- properties ---------------------------------------------------------------------------------
HOSTY = st.text(alphabet=st.sampled_from(list("abcXYZ019-._:/@[]?#%~ \t。．例子中国xn-ü☃\u200b\u00ad<>\\")), max_size=60)
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
SUFFIX = st.sampled_from(["com", "com.cn", "cn", "net", "org", "io", "中国", "公司", "gov.cn", "co.uk", "github.io"])


def _outcome(text):
    try:
        return parse_host(text)
    except DomainError as exc:
        return ("error", exc.code, str(exc))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), HOSTY))
def test_parser_raises_only_its_own_error_and_is_deterministic(text):
    first = _outcome(text)  # any other exception fails the test
    assert _outcome(text) == first


@settings(max_examples=300, deadline=None)
@given(st.lists(LABEL, min_size=1, max_size=4), SUFFIX, st.booleans(), st.booleans())
def test_well_formed_hosts_parse_and_round_trip(labels, suffix, upper, url):
    host = ".".join([*labels, suffix])
    assume(public_suffix_of(host) is None)  # e.g. nm.cn is itself a public suffix (a province of .cn)
    text = host.upper() if upper else host
    text = f"https://{text}:8443/x?y=1" if url else text
    parsed = parse_host(text)
    assert parsed.host == host.lower() or parsed.host == parse_host(host).host
    assert parsed.host.endswith(parsed.main_domain)
    assert parsed.main_domain.endswith(parsed.suffix)
    assert parsed.is_subdomain == (parsed.host != parsed.main_domain)
    # parsing the result again, in either form, gives the same thing
    assert parse_host(parsed.host) == parsed
    assert parse_host(parsed.host_ascii) == parsed
    assert parse_host(parsed.host + ".") == parsed
