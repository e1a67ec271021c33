"""Indicators compiled into per-kind lookup tables: IPs as integers (exact, and networks by
prefix length), domains with their parent domains, normalised URLs, hash digests, e-mails."""

from __future__ import annotations

import bisect
import itertools
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from accord.core.labels import Labelled
from accord.cyber.stix import IndicatorPattern, ObservableKind


class FieldKind(Labelled):
    """What a log field holds, which decides the tables its values are looked up in."""

    IP = "ip", "IP address", "IP 地址"
    DOMAIN = "domain", "Domain or host name", "域名或主机名"
    URL = "url", "URL", "网址"
    HASH = "hash", "File hash", "文件哈希"
    EMAIL = "email", "E-mail address", "电子邮件地址"


@dataclass(frozen=True, slots=True)
class Match:
    """One indicator (by position in the index) hit by one observed value, normalised."""

    position: int
    kind: ObservableKind
    value: str


class BadValue(ValueError):
    """An observed value that cannot be what its field says (an IP field holding 'abc')."""


# -- normalisation, shared by indicators and observed values -----------------------------------

_HASH_KIND_BY_LENGTH = {16: ObservableKind.MD5, 20: ObservableKind.SHA1, 32: ObservableKind.SHA256}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_PLAIN_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*")
# URLs that are already in normal form, as most logged ones are: no parsing needed.
_PLAIN_URL = re.compile(r"(?:https?|ftp)://([a-z0-9.-]+)(?:/[^?#%\s]*[^/?#%\s])?/?(?:\?[^#%\s]*)?")


def ipv4_int(text: str) -> int:
    """A dotted IPv4 address as an integer; inet_pton is strict and ten times faster than
    `ipaddress`."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, UnicodeEncodeError, ValueError):
        raise BadValue(f"{text!r} is not an IPv4 address") from None


def ipv6_int(text: str) -> int:
    address = text.strip("[]").split("%", 1)[0]  # brackets from URLs, zone from link-local
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, address), "big")
    except (OSError, UnicodeEncodeError, ValueError):
        raise BadValue(f"{text!r} is not an IPv6 address") from None


def parse_ip(text: str) -> tuple[ObservableKind, int]:
    """(IPV4 or IPV6, integer); IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4."""
    if ":" not in text:
        return ObservableKind.IPV4, ipv4_int(text)
    number = ipv6_int(text)
    if number >> 32 == 0xFFFF:
        return ObservableKind.IPV4, number & 0xFFFFFFFF
    return ObservableKind.IPV6, number


def parse_network(kind: ObservableKind, text: str) -> tuple[int, int]:
    """(network as integer, prefix length) of 'a.b.c.d/n' (host bits are ignored, as in
    `stix2-matcher`) or of a single address."""
    bits = 32 if kind is ObservableKind.IPV4 else 128
    address, _, prefix = text.partition("/")
    number = ipv4_int(address) if kind is ObservableKind.IPV4 else ipv6_int(address)
    if not prefix:
        return number, bits
    if not prefix.isdigit() or not 0 <= int(prefix) <= bits:
        raise BadValue(f"{text!r}: the prefix length must be 0 to {bits}")
    length = int(prefix)
    return number >> (bits - length) << (bits - length), length


def ip_text(kind: ObservableKind, number: int) -> str:
    family = socket.AF_INET if kind is ObservableKind.IPV4 else socket.AF_INET6
    return socket.inet_ntop(family, number.to_bytes(4 if kind is ObservableKind.IPV4 else 16))


def normalise_domain(text: str) -> str:
    """Lower case, no trailing dot, no port, IDNA (punycode) for non-ASCII names."""
    name = text.strip().rstrip(".").lower()
    if ":" in name and name.count(":") == 1:
        name = name.split(":", 1)[0]
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise BadValue(f"{text!r} is not a domain name") from None
    if not name or " " in name:
        raise BadValue(f"{text!r} is not a domain name")
    return name


def _normalise_percent(part: str) -> str:
    # RFC 3986 §6.2.2: escapes of unreserved characters are decoded, the rest upper-cased.
    def one(match: re.Match[str]) -> str:
        octet = int(match[1], 16)
        return chr(octet) if octet in _UNRESERVED else "%" + match[1].upper()

    return _PERCENT.sub(one, part) if "%" in part else part


def normalise_url(text: str) -> str:
    """One spelling per URL: scheme and host lower case, default port dropped, percent-escapes
    normalised, no fragment, no trailing slash (except the root path); no scheme means http."""
    plain = _PLAIN_URL.fullmatch(text)
    if plain is not None and "/?" not in text:
        end = plain.end(1)
        if end == len(text):
            return text + "/"
        if not (text.endswith("/") and end < len(text) - 1):
            return text
    raw = text.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        raise BadValue(f"{text!r} is not a URL") from None
    scheme = parts.scheme.lower()
    if not host:
        raise BadValue(f"{text!r} is not a URL (no host)")
    if ":" in host:
        host = f"[{host}]"
    elif not host.isascii():
        host = normalise_domain(host)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = _normalise_percent(parts.path) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = "?" + _normalise_percent(parts.query) if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def url_host(text: str) -> str | None:
    plain = _PLAIN_URL.fullmatch(text)
    if plain is not None:
        return plain[1]
    try:
        raw = text.strip()
        return urlsplit(raw if "://" in raw else "http://" + raw).hostname
    except ValueError:
        return None


def hash_digest(text: str) -> tuple[ObservableKind, bytes]:
    try:
        digest = bytes.fromhex(text.strip())
    except ValueError:
        raise BadValue(f"{text!r} is not a hexadecimal hash") from None
    kind = _HASH_KIND_BY_LENGTH.get(len(digest))
    if kind is None:
        raise BadValue(f"{text!r} is not an MD5, SHA-1 or SHA-256 hash (wrong length)")
    return kind, digest


def normalise_email(text: str) -> str:
    address = text.strip()
    if "<" in address and address.endswith(">"):  # 'Name <a@b.example>'
        address = address[address.rindex("<") + 1 : -1]
    address = address.removeprefix("mailto:").lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise BadValue(f"{text!r} is not an e-mail address")
    return f"{local}@{normalise_domain(domain)}"


# -- the index ---------------------------------------------------------------------------------

Hits = int | tuple[int, ...]
K = TypeVar("K")
NO_MATCH: tuple[Match, ...] = ()


def _add(table: dict[K, Hits], key: K, position: int) -> None:
    # One int per key in the common case: a tuple for every entry would double the memory.
    found = table.get(key)
    if found is None:
        table[key] = position
    elif isinstance(found, int):
        if found != position:
            table[key] = (found, position)
    elif position not in found:
        table[key] = (*found, position)


def _positions(hits: Hits) -> tuple[int, ...]:
    return (hits,) if isinstance(hits, int) else hits


@dataclass
class _Networks:
    """Networks of one family by prefix length, longest first: a lookup shifts the address
    once per length in use (a handful in real feeds) and asks a dict."""

    bits: int
    by_length: dict[int, dict[int, Hits]] = field(default_factory=dict)
    lengths: list[tuple[int, dict[int, Hits]]] = field(default_factory=list)

    def add(self, network: int, length: int, position: int) -> None:
        _add(self.by_length.setdefault(length, {}), network >> (self.bits - length), position)

    def freeze(self) -> None:
        self.lengths = [
            (self.bits - length, table) for length, table in sorted(self.by_length.items())
        ]

    def lookup(self, number: int) -> list[int]:
        found: list[int] = []
        for shift, table in self.lengths:
            hits = table.get(number >> shift)
            if hits is not None:
                found += _positions(hits)
        return found

    def __len__(self) -> int:
        return sum(map(len, self.by_length.values()))


@dataclass(frozen=True, slots=True)
class Rejected:
    indicator_id: str
    reason: str


BenignCheck = Callable[[ObservableKind, object], "str | None"]


class IndicatorIndex:
    """Every simple indicator's observables, and the anchors of complex ones, in tables keyed by
    normalised value. A position is the indicator's place in `ids`.

    `benign` (a suppression list's `key_entry`) drops the observables of simple indicators that
    are known benign before they cost memory; an indicator left with none is not indexed.
    """

    def __init__(self, benign: BenignCheck | None = None) -> None:
        self.benign = benign
        self.ids: list[str] = []
        self.complex: dict[int, IndicatorPattern] = {}
        self.unanchored: list[int] = []
        self.rejected: list[Rejected] = []
        self.suppressed: list[Rejected] = []
        self.ipv4: dict[int, Hits] = {}
        self.ipv6: dict[int, Hits] = {}
        self.networks4 = _Networks(32)
        self.networks6 = _Networks(128)
        self.domains: dict[str, Hits] = {}
        self.urls: dict[str, Hits] = {}
        self.hashes: dict[bytes, Hits] = {}
        self.emails: dict[str, Hits] = {}
        # The hosts of URL indicators: a logged URL whose host is none of these cannot hit a URL
        # indicator, whatever its path.
        self.url_hosts: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls, indicators: Iterable[IndicatorPattern], benign: BenignCheck | None = None
    ) -> IndicatorIndex:
        index = cls(benign)
        for indicator in indicators:
            index.add(indicator)
        index.freeze()
        return index

    def freeze(self) -> None:
        """Prepare the lookup tables once every indicator is in."""
        self.networks4.freeze()
        self.networks6.freeze()
        hosts = (url_host(url) for url in self.urls)
        self.url_hosts = frozenset(host.rstrip(".") for host in hosts if host)

    def ipv4_untouched(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The IPv4 ranges [start, end] that no exact address or network of the index meets:
        values in them can hit nothing."""
        exact = sorted(self.ipv4)
        networks = sorted(
            (key << (32 - length), (key << (32 - length)) | ((1 << (32 - length)) - 1))
            for length, table in self.networks4.by_length.items()
            for key in table
        )
        starts = [start for start, _ in networks]
        reach = list(itertools.accumulate((end for _, end in networks), max))
        untouched = []
        for start, end in spans:
            i = bisect.bisect_left(exact, start)
            if i < len(exact) and exact[i] <= end:
                continue
            j = bisect.bisect_right(starts, end)
            if j and reach[j - 1] >= start:
                continue
            untouched.append((start, end))
        return untouched

    def add(self, indicator: IndicatorPattern) -> None:
        """Add one indicator; one whose values cannot be read is set aside in `rejected`."""
        position = len(self.ids)
        try:
            keyed = [self._key(o.kind, o.value) for o in indicator.observables]
        except BadValue as exc:
            self.rejected.append(Rejected(indicator.id, str(exc)))
            return
        if self.benign is not None and not indicator.complex:
            kept = []
            for kind, key in keyed:
                entry = self.benign(kind, key)
                if entry is None:
                    kept.append((kind, key))
                else:
                    self.suppressed.append(Rejected(indicator.id, f"benign: {entry}"))
            if not kept:
                return
            keyed = kept
        self.ids.append(indicator.id)
        if indicator.complex:
            self.complex[position] = indicator
            if not keyed:
                self.unanchored.append(position)
        for kind, key in keyed:
            self._insert(kind, key, position)

    @staticmethod
    def _key(kind: ObservableKind, value: str) -> tuple[ObservableKind, object]:
        if kind in (ObservableKind.IPV4, ObservableKind.IPV6):
            network, length = parse_network(kind, value)
            full = 32 if kind is ObservableKind.IPV4 else 128
            return kind, (network if length == full else (network, length))
        if kind is ObservableKind.DOMAIN:
            return kind, normalise_domain(value)
        if kind is ObservableKind.URL:
            return kind, normalise_url(value)
        if kind is ObservableKind.EMAIL:
            return kind, normalise_email(value)
        hash_kind, digest = hash_digest(value)
        if hash_kind is not kind:
            raise BadValue(f"{value!r} is not a {kind.value.upper()} hash (wrong length)")
        return kind, digest

    def _insert(self, kind: ObservableKind, key: object, position: int) -> None:
        if kind in (ObservableKind.IPV4, ObservableKind.IPV6):
            v4 = kind is ObservableKind.IPV4
            if isinstance(key, tuple):
                (self.networks4 if v4 else self.networks6).add(key[0], key[1], position)
            else:
                assert isinstance(key, int)
                _add(self.ipv4 if v4 else self.ipv6, key, position)
        elif kind is ObservableKind.DOMAIN:
            assert isinstance(key, str)
            _add(self.domains, key, position)
        elif kind is ObservableKind.URL:
            assert isinstance(key, str)
            _add(self.urls, key, position)
        elif kind is ObservableKind.EMAIL:
            assert isinstance(key, str)
            _add(self.emails, key, position)
        else:
            assert isinstance(key, bytes)
            _add(self.hashes, key, position)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "ipv4": len(self.ipv4),
            "ipv6": len(self.ipv6),
            "ipv4_networks": len(self.networks4),
            "ipv6_networks": len(self.networks6),
            "domains": len(self.domains),
            "urls": len(self.urls),
            "hashes": len(self.hashes),
            "emails": len(self.emails),
            "complex": len(self.complex),
        }

    # -- lookups of observed values --------------------------------------------------------

    def screen(self, kind: FieldKind, values: Iterable[str]) -> set[str]:
        """The values that may hit or be bad; every other one surely misses. The same lookups as
        `match` with nothing built for a miss: most distinct values in a log miss."""
        if kind is FieldKind.IP:
            return self._screen_ips(values)
        if kind is FieldKind.DOMAIN:
            return self._screen_domains(values)
        if kind is FieldKind.URL:
            return self._screen_urls(values)
        if kind is FieldKind.HASH:
            return self._screen_hashes(values)
        return self._screen_emails(values)

    def _screen_hashes(self, values: Iterable[str]) -> set[str]:
        hashes, from_hex = self.hashes, bytes.fromhex
        maybe: set[str] = set()
        for value in values:
            try:
                digest = from_hex(value)
            except ValueError:
                maybe.add(value)
                continue
            if digest in hashes or len(digest) not in _HASH_KIND_BY_LENGTH:
                maybe.add(value)
        return maybe

    def _screen_emails(self, values: Iterable[str]) -> set[str]:
        emails = self.emails
        maybe: set[str] = set()
        for value in values:
            address = value.lower()
            if _PLAIN_EMAIL.fullmatch(address) is None or address in emails:
                maybe.add(value)
        return maybe

    def _screen_ips(self, values: Iterable[str]) -> set[str]:
        pton, family, from_bytes = socket.inet_pton, socket.AF_INET, int.from_bytes
        exact, lengths = self.ipv4, self.networks4.lengths
        maybe: set[str] = set()
        for value in values:
            try:
                number = from_bytes(pton(family, value), "big")
            except (OSError, UnicodeEncodeError, ValueError):
                maybe.add(value)  # IPv6 or bad: the full lookup decides
                continue
            if number in exact or any((number >> shift) in table for shift, table in lengths):
                maybe.add(value)
        return maybe

    def _screen_domains(self, values: Iterable[str]) -> set[str]:
        domains = self.domains
        maybe: set[str] = set()
        for value in values:
            name = value.lower().rstrip(".")
            if not name.isascii() or ":" in name or name[-1:].isdigit() or " " in name:
                maybe.add(value)
                continue
            suffix = name
            while True:
                if suffix in domains:
                    maybe.add(value)
                    break
                dot = suffix.find(".")
                if dot < 0:
                    break
                suffix = suffix[dot + 1 :]
        return maybe

    def _screen_urls(self, values: Iterable[str]) -> set[str]:
        urls = self.urls
        maybe: set[str] = set()
        by_host: dict[str, list[str]] = {}
        for value in values:
            match = _PLAIN_URL.fullmatch(value)
            if match is None or normalise_url(value) in urls:
                maybe.add(value)
            else:
                by_host.setdefault(match[1], []).append(value)
        for host in self._screen_domains(by_host):
            maybe.update(by_host[host])
        return maybe

    def match_ip(self, text: str) -> tuple[Match, ...]:
        kind, number = parse_ip(text)
        v4 = kind is ObservableKind.IPV4
        hit = (self.ipv4 if v4 else self.ipv6).get(number)
        found = [] if hit is None else list(_positions(hit))
        found += (self.networks4 if v4 else self.networks6).lookup(number)
        if not found:
            return NO_MATCH
        value = ip_text(kind, number)
        return tuple(Match(p, kind, value) for p in found)

    def match_domain(self, text: str) -> tuple[Match, ...]:
        """The domain and each parent domain, label by label: 'notexample.com' never reaches
        'example.com'. A value that is an IP address is looked up as one."""
        if text[-1:].isdigit() or ":" in text:
            try:
                return self.match_ip(text)
            except BadValue:
                pass
        name = normalise_domain(text)
        found: list[Match] = []
        suffix = name
        while True:
            hits = self.domains.get(suffix)
            if hits is not None:
                found += (Match(p, ObservableKind.DOMAIN, name) for p in _positions(hits))
            dot = suffix.find(".")
            if dot < 0:
                break
            suffix = suffix[dot + 1 :]
        return tuple(found) if found else NO_MATCH

    def match_url(self, text: str) -> tuple[Match, ...]:
        """The URL itself, and its host as a domain or IP address."""
        url = normalise_url(text)
        found: list[Match] = []
        hits = self.urls.get(url)
        if hits is not None:
            found += (Match(p, ObservableKind.URL, url) for p in _positions(hits))
        host = url_host(url)
        if host:
            found += self.match_domain(host)
        return tuple(found) if found else NO_MATCH

    def match_hash(self, text: str) -> tuple[Match, ...]:
        kind, digest = hash_digest(text)
        hits = self.hashes.get(digest)
        if hits is None:
            return NO_MATCH
        return tuple(Match(p, kind, digest.hex()) for p in _positions(hits))

    def match_email(self, text: str) -> tuple[Match, ...]:
        address = normalise_email(text)
        hits = self.emails.get(address)
        if hits is None:
            return NO_MATCH
        return tuple(Match(p, ObservableKind.EMAIL, address) for p in _positions(hits))

    def match(self, kind: FieldKind, text: str) -> tuple[Match, ...]:
        """Every indicator (and complex anchor) the value of a field of `kind` hits; BadValue if
        it cannot be such a value."""
        if kind is FieldKind.IP:
            return self.match_ip(text)
        if kind is FieldKind.DOMAIN:
            return self.match_domain(text)
        if kind is FieldKind.URL:
            return self.match_url(text)
        if kind is FieldKind.HASH:
            return self.match_hash(text)
        return self.match_email(text)
