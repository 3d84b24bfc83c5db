"""Parse what a user types (a bare host or a pasted URL) into the host and its registrable main domain.

    parse_host("HTTPS://Blog.Example.com.cn:8443/a?b=1")
    -> ParsedDomain(host="blog.example.com.cn", main_domain="example.com.cn", is_subdomain=True, …)

- URLs are taken apart with `urllib.parse` (scheme, user info, port, path, query and fragment are
  dropped); IP addresses are recognised with `ipaddress`.
- Each label is mapped and encoded with `idna` (UTS #46 mapping, IDNA 2008): upper case, full-width
  letters and 。 dots are folded; 博客.例子.中国 and xn--9krq6q.xn--fsqu00a.xn--fiqs8s give the same result.
- The registrable domain comes from the Public Suffix List bundled with `publicsuffixlist`, read from
  the installed package file only: nothing here ever fetches or updates the list over the network.
  Only the ICANN section decides the main domain (what a registrar sells and MIIT files); the private
  section (github.io, …) is used to tell that a host sits on a platform's shared domain.

Every refusal is a `DomainError` (an `InputError`) with a Chinese message and a short English gloss,
and a stable `code` for tests and the UI. Nothing else escapes `parse_host`, whatever the input.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import idna

from .errors import InputError

MAX_INPUT_CHARS = 8192  # a pasted URL (with tracking parameters) can be long; beyond this it is not a hostname
MAX_LABEL = 63  # RFC 1035, octets of the A-label
MAX_NAME = 253  # RFC 1035 presentation form without the trailing dot
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LDH = re.compile(r"^[a-z0-9-]+$")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # IDNA label separators


class DomainError(InputError):
    """The text cannot be used as a domain name; `code` says which check failed."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class ParsedDomain:
    host: str  # Unicode form, lower case, no trailing dot: 博客.例子.中国
    host_ascii: str  # A-label form: xn--9krq6q.xn--fsqu00a.xn--fiqs8s
    main_domain: str  # the registrable domain (ICANN PSL), Unicode form: 例子.中国
    main_domain_ascii: str
    suffix: str  # the ICANN public suffix, Unicode form: com.cn, 中国
    suffix_ascii: str
    is_subdomain: bool  # host is below the main domain (www. counts)
    subdomain: str  # the labels left of the main domain ("blog", "a.b"); "" when none
    platform_suffix: str | None  # a private-section PSL suffix the host sits under (github.io), else None

    def to_json(self) -> dict:
        return asdict(self)


def parse_host(text: object) -> ParsedDomain:
    """Return the parsed host of `text` (a hostname or URL), or raise DomainError saying what is wrong."""
    host = _extract_host(text)
    labels_u, labels_a = _encode_labels(host)
    host_ascii = ".".join(labels_a)
    if len(host_ascii) > MAX_NAME:
        raise DomainError("name_too_long", f"域名过长：编码后 {len(host_ascii)} 个字符，上限 {MAX_NAME}；请检查是否粘贴了多余内容 "
                                           f"(name is {len(host_ascii)} characters long; at most {MAX_NAME} are allowed)")
    if labels_a[-1].isdigit():
        raise DomainError("ip_address", f"“{_show(host)}” 看起来是 IP 地址，不是域名：ICP 备案针对域名，请输入网站的域名 "
                                        "(this looks like an IP address, not a domain name)")

    host_u = ".".join(labels_u)  # the PSL is looked up in Unicode form (see _psl)
    suffix_u = _psl(icann=True).publicsuffix(host_u)
    if suffix_u is None:
        raise DomainError("unknown_tld", f"顶级域 “.{_show(labels_u[-1])}” 不在公共后缀列表中，不是可注册的顶级域；请检查拼写 "
                                         f"(unknown top-level domain .{labels_a[-1]})")
    n_suffix = suffix_u.count(".") + 1
    if len(labels_u) <= n_suffix:
        raise DomainError("no_registrable_domain",
                          f"“{_show(host_u)}” 只是公共后缀，没有可注册的主域名；请输入完整的域名，例如 example.{_show(host_u)} "
                          "(a public suffix alone has no registrable domain)")
    main = -(n_suffix + 1)
    platform = _psl(icann=False).publicsuffix(host_u)  # includes the private section: github.io, …
    on_platform = platform is not None and platform != suffix_u and len(labels_u) > platform.count(".") + 1
    return ParsedDomain(
        host=host_u,
        host_ascii=host_ascii,
        main_domain=".".join(labels_u[main:]),
        main_domain_ascii=".".join(labels_a[main:]),
        suffix=suffix_u,
        suffix_ascii=".".join(labels_a[-n_suffix:]),
        is_subdomain=len(labels_u) > n_suffix + 1,
        subdomain=".".join(labels_u[:main]),
        platform_suffix=platform if on_platform else None,
    )


def public_suffix_of(name: str) -> str | None:
    """The ICANN public suffix `name` is exactly (Unicode or A-label form, no leading dot), else None.

    Used to validate suffix data: 'com.cn' -> 'com.cn', '中国' -> '中国', 'con' -> None."""
    try:
        labels_u, labels_a = _encode_labels(name.strip().lower().rstrip("."))
    except DomainError:
        return None
    unicode_name = ".".join(labels_u)
    return unicode_name if _psl(icann=True).publicsuffix(unicode_name) == unicode_name else None


def parent_suffixes(suffix: str) -> tuple[str, ...]:
    """'com.cn' -> ('com.cn', 'cn'): the suffix itself, then each shorter one."""
    labels = suffix.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


# --- steps ------------------------------------------------------------------------------------


def _extract_host(text: object) -> str:
    """The host part of a bare name or URL, with IP addresses refused; not yet validated label by label."""
    if not isinstance(text, str):
        raise DomainError("empty", "请输入域名，例如 blog.example.com (no domain given)")
    if len(text) > MAX_INPUT_CHARS:
        raise DomainError("too_long", f"输入过长（{len(text):,} 个字符）：请只输入一个域名或网址，不超过 {MAX_INPUT_CHARS} 个字符 "
                                      "(input too long; enter one hostname or URL)")
    text = text.strip()
    if not text:
        raise DomainError("empty", "请输入域名，例如 blog.example.com (no domain given)")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise DomainError("control_chars", "输入中含有换行、制表符等控制字符：请只输入一个域名或网址 "
                                           "(control characters in the input; enter one hostname or URL)")
    _refuse_ip(text.strip("[]"))
    try:
        parts = urlsplit(text if _SCHEME.match(text) or text.startswith("//") else "//" + text)
        host = parts.hostname
    except ValueError:
        raise DomainError("bad_url", f"无法从 “{_show(text)}” 中找到主机名：请只输入域名，例如 blog.example.com "
                                     "(cannot find a hostname in this input)") from None
    if not host:
        raise DomainError("bad_url", f"“{_show(text)}” 中没有主机名：请输入域名，例如 blog.example.com "
                                     "(no hostname in this input)")
    host = host.translate(_DOTS)
    _refuse_ip(host)
    if host.endswith("."):  # the fully qualified form example.com. names the same host
        host = host[:-1]
    if not host:
        raise DomainError("empty_label", "域名不能只有一个点 (a lone dot is not a domain name)")
    return host


def _refuse_ip(text: str) -> None:
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return
    raise DomainError("ip_address", f"“{_show(text)}” 是 IPv{addr.version} 地址，不是域名：ICP 备案针对域名，请输入网站的域名 "
                                    "(an IP address is not a domain name)")


def _encode_labels(host: str) -> tuple[list[str], list[str]]:
    """Unicode and A-label forms of each label, checked one by one."""
    labels_u, labels_a = [], []
    for raw in host.split("."):
        if not raw:
            raise DomainError("empty_label", f"“{_show(host)}” 中有空的标签（连续的点或以点开头）：请删除多余的点 "
                                             "(empty label: two dots in a row or a leading dot)")
        u_label, a_label = _encode_label(raw)
        labels_u.append(u_label)
        labels_a.append(a_label)
    return labels_u, labels_a


def _encode_label(raw: str) -> tuple[str, str]:
    if len(raw) > 4 * MAX_LABEL:  # no mapping shrinks a label that much; do not feed idna megabytes
        _too_long_label(raw, len(raw))
    try:
        label = idna.uts46_remap(raw, std3_rules=False, transitional=False)
    except idna.IDNAError as exc:
        _bad_char(raw, exc)
    if not label:
        raise DomainError("empty_label", f"标签 “{_show(raw)}” 只含不可见字符：请删除它 (label has only invisible characters)")
    if label.startswith("-") or label.endswith("-"):
        raise DomainError("hyphen", f"标签 “{_show(label)}” 以连字符开头或结尾，这是不允许的：连字符只能在中间 "
                                    "(a label cannot start or end with a hyphen)")
    if label.isascii():
        bad = next((ch for ch in label if not _LDH.match(ch)), None)
        if bad is not None:
            raise DomainError("bad_char", f"标签 “{_show(label)}” 含有不允许的字符 {_char(bad)}：每一段只能由字母、数字和连字符组成 "
                                          "(only letters, digits and hyphens are allowed)")
        if label.startswith("xn--"):
            try:
                u_label = idna.ulabel(label)
            except idna.IDNAError:
                raise DomainError("bad_idn", f"标签 “{_show(label)}” 以 xn-- 开头，但不是有效的国际化域名编码（Punycode）"
                                             "(invalid xn-- label)") from None
            if idna.alabel(u_label).decode("ascii") != label:
                raise DomainError("bad_idn", f"标签 “{_show(label)}” 不是规范的国际化域名编码，请直接输入中文域名 "
                                             "(non-canonical xn-- label)")
        else:
            u_label = label
        a_label = label
    else:
        encoded = len(label.encode("punycode")) + 4  # "xn--" + Punycode: the length DNS sees
        if encoded > MAX_LABEL:
            _too_long_label(label, encoded)
        try:
            a_label = idna.alabel(label).decode("ascii")
        except idna.IDNAError as exc:
            _bad_char(label, exc)
        u_label = label
    if len(a_label) > MAX_LABEL:
        _too_long_label(u_label, len(a_label))
    if not _LDH.match(a_label):  # cannot happen after idna; kept so the rule is stated where it is enforced
        raise DomainError("bad_char", f"标签 “{_show(label)}” 编码后仍含非法字符 (label is not letters, digits and hyphens)")
    return u_label, a_label


def _bad_char(label: str, exc: Exception):
    if isinstance(exc, idna.InvalidCodepoint):
        match = re.search(r"U\+([0-9A-F]{4,6})", str(exc))
        if match:
            ch = chr(int(match.group(1), 16))
            raise DomainError("bad_char", f"标签 “{_show(label)}” 含有不允许的字符 {_char(ch)}：域名只能由字母、数字、连字符"
                                          "（及规范的中文等文字）组成 (character not allowed in a domain name)") from None
    raise DomainError("bad_idn", f"标签 “{_show(label)}” 不是有效的国际化域名：{exc} (not a valid internationalised label)") from None


def _too_long_label(label: str, length: int):
    raise DomainError("label_too_long", f"标签 “{_show(label)}” 过长：编码后 {length} 个字符，每段上限 {MAX_LABEL} "
                                        f"(label longer than {MAX_LABEL} characters)")


def _show(text: str, limit: int = 40) -> str:
    """User text inside a message: printable, short."""
    text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    shown = f"“{ch}”" if ch.isprintable() and not ch.isspace() else ("空格" if ch == " " else "")
    return f"{shown}（U+{ord(ch):04X}{' ' + name if name else ''}）".strip()


@lru_cache(maxsize=2)
def _psl(*, icann: bool):
    """The Public Suffix List bundled in the package (ICANN section only, or all of it); never downloaded.

    Kept in its Unicode form (accept_encoded_idn=False parses 3x faster) and so looked up with U-labels;
    unknown TLDs are not public suffixes (accept_unknown=False), so "foo.notatld" has no main domain."""
    from publicsuffixlist import PSLFILE, PublicSuffixList

    with open(PSLFILE, "rb") as source:
        return PublicSuffixList(source, accept_unknown=False, accept_encoded_idn=False, only_icann=icann)
