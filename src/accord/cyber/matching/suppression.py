"""Known-benign values that never become sightings: private and special address ranges, public
resolvers, empty-file hashes, and the operator's own entries."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from accord.core.errors import InvalidInput
from accord.cyber.matching.index import (
    BadValue,
    hash_digest,
    normalise_domain,
    normalise_email,
    normalise_url,
    parse_network,
    url_host,
)
from accord.cyber.stix import ObservableKind

# RFC 1918, loopback, link-local, CGNAT, "this network", multicast, broadcast, and their IPv6
# counterparts: addresses that say nothing about a remote actor.
SPECIAL_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "fe80::/10",
    "fc00::/7",
    "ff00::/8",
)
# Public resolvers show up in every network's logs and in careless feeds.
PUBLIC_RESOLVERS = (
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2620:fe::fe",
    "dns.google",
    "one.one.one.one",
    "cloudflare-dns.com",
    "dns.quad9.net",
    "localhost",
)
# The hashes of the empty file: a feed that lists one would flag every zero-byte download.
EMPTY_FILE_HASHES = (
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
)
DEFAULT_ENTRIES = (*SPECIAL_RANGES, *PUBLIC_RESOLVERS, *EMPTY_FILE_HASHES)

_HEX = re.compile(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}")


@dataclass
class _Ranges:
    """Disjoint, sorted [start, end] ranges of one family with the entry that put each there."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)

    def add(self, start: int, end: int, entry: str) -> None:
        spans = sorted(
            [*zip(self.starts, self.ends, self.entries, strict=True), (start, end, entry)]
        )
        merged: list[tuple[int, int, str]] = []
        for s, e, name in spans:
            if merged and s <= merged[-1][1] + 1:
                last = merged[-1]
                merged[-1] = (last[0], max(last[1], e), last[2] if last[1] >= e else name)
            else:
                merged.append((s, e, name))
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]
        self.entries = [m[2] for m in merged]

    def containing(self, start: int, end: int) -> str | None:
        i = bisect.bisect_right(self.starts, start) - 1
        if i >= 0 and end <= self.ends[i]:
            return self.entries[i]
        return None


class SuppressionList:
    """Entries are IPs or networks, domains (with their subdomains), URLs, hashes, e-mails."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.ranges = {ObservableKind.IPV4: _Ranges(), ObservableKind.IPV6: _Ranges()}
        self.domains: set[str] = set()
        self.urls: set[str] = set()
        self.hashes: set[bytes] = set()
        self.emails: set[str] = set()
        self.size = 0
        for entry in entries:
            self.add(entry)

    @classmethod
    def defaults(cls) -> SuppressionList:
        return cls(DEFAULT_ENTRIES)

    def add(self, entry: str) -> None:
        """Add one entry, its kind read from its shape; BadValue if it has none."""
        text = entry.strip()
        if "://" in text:
            self.urls.add(normalise_url(text))
        elif "@" in text:
            self.emails.add(normalise_email(text))
        elif _HEX.fullmatch(text):
            self.hashes.add(hash_digest(text)[1])
        elif ":" in text or text.replace(".", "").replace("/", "").isdigit():
            kind = ObservableKind.IPV6 if ":" in text else ObservableKind.IPV4
            network, length = parse_network(kind, text)
            bits = 32 if kind is ObservableKind.IPV4 else 128
            self.ranges[kind].add(network, network | ((1 << (bits - length)) - 1), text)
        else:
            self.domains.add(normalise_domain(text))
        self.size += 1

    def add_file(self, path: Path) -> None:
        """One entry a line; '#' starts a comment."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidInput(f"cannot read the suppression list {path}: {exc.strerror}") from None
        for number, line in enumerate(lines, 1):
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            try:
                self.add(entry)
            except BadValue as exc:
                raise InvalidInput(f"{path}:{number}: {exc}; fix or remove the entry") from None

    def _domain(self, name: str) -> str | None:
        suffix = name
        while True:
            if suffix in self.domains:
                return suffix
            dot = suffix.find(".")
            if dot < 0:
                return None
            suffix = suffix[dot + 1 :]

    def network_entry(self, kind: ObservableKind, start: int, end: int) -> str | None:
        """The entry whose range holds all of [start, end], if any."""
        return self.ranges[kind].containing(start, end)

    def entry_for(self, kind: ObservableKind, value: str) -> str | None:
        """The entry that makes an observed value (normalised, as in a `Match`) benign."""
        if kind in (ObservableKind.IPV4, ObservableKind.IPV6):
            number, _ = parse_network(kind, value)
            return self.network_entry(kind, number, number)
        if kind is ObservableKind.DOMAIN:
            return self._domain(value)
        if kind is ObservableKind.URL:
            if value in self.urls:
                return value
            host = url_host(value)
            return self._domain(host) if host else None
        if kind is ObservableKind.EMAIL:
            return value if value in self.emails else None
        return value if bytes.fromhex(value) in self.hashes else None

    def key_entry(self, kind: ObservableKind, key: object) -> str | None:
        """The entry that makes an indicator's index key benign (an IP number, a network as
        (number, length), a normalised domain/URL/e-mail, a digest)."""
        if kind in (ObservableKind.IPV4, ObservableKind.IPV6):
            bits = 32 if kind is ObservableKind.IPV4 else 128
            start, length = key if isinstance(key, tuple) else (key, bits)
            assert isinstance(start, int) and isinstance(length, int)
            return self.network_entry(kind, start, start | ((1 << (bits - length)) - 1))
        if isinstance(key, bytes):
            return key.hex() if key in self.hashes else None
        assert isinstance(key, str)
        if kind is ObservableKind.DOMAIN:
            return self._domain(key)
        return self.entry_for(kind, key)
