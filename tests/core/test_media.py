"""Media types as a file's record carries them (RFC 6838), and the headers of its download."""

from __future__ import annotations

import pytest

from accord.core.media import (
    content_disposition,
    download_headers,
    media_type_problem,
    safe_media_type,
)


@pytest.mark.parametrize(
    "value",
    [
        "application/pdf",
        "application/octet-stream",
        "application/stix+json;version=2.1",
        "text/plain; charset=utf-8",
        'text/plain; charset="utf-8"',
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/svg+xml",
    ],
)
def test_a_media_type_is_kept(value: str) -> None:
    assert media_type_problem(value) is None
    assert safe_media_type(value) == value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("text/plain\r\nSet-Cookie: a=b", "control character"),
        ("text/plain\n", "control character"),
        ("text/plain\x00", "control character"),
        ("text/\tplain", "control character"),
        ("text/plain\x85", "control character"),
        ("", "not a type/subtype"),
        ("pdf", "not a type/subtype"),
        ("text/", "not a type/subtype"),
        ("/plain", "not a type/subtype"),
        ("text/plain/extra", "not a type/subtype"),
        ("text plain/x", "not a type/subtype"),
        ("text/plain; charset", "not a type/subtype"),
        ('text/plain; a="unterminated', "not a type/subtype"),
        ("текст/plain", "not a type/subtype"),
        ("application/" + "x" * 128, "not a type/subtype"),  # a subtype of 128 characters
        ("application/x; a=" + "b" * 200, "longer than 200"),
    ],
)
def test_a_media_type_that_is_not_one_is_refused_with_the_reason(value: str, why: str) -> None:
    problem = media_type_problem(value)
    assert problem is not None and why in problem
    assert safe_media_type(value) == "application/octet-stream"


def test_a_plain_name_is_sent_as_it_is() -> None:
    assert content_disposition("statement-2026.pdf") == 'attachment; filename="statement-2026.pdf"'


def test_a_name_in_chinese_is_sent_in_filename_star_with_an_ascii_fallback() -> None:
    assert content_disposition("银行流水 2026.pdf") == (
        "attachment; filename=\"____ 2026.pdf\"; filename*=UTF-8''"
        "%E9%93%B6%E8%A1%8C%E6%B5%81%E6%B0%B4%202026.pdf"
    )


@pytest.mark.parametrize(
    "name",
    [
        'a"; filename="evil.exe',
        "a\r\nSet-Cookie: x=1.pdf",
        "../../etc/passwd",
        "a\\b.pdf",
        "\u202egpj.exe",
    ],
)
def test_a_hostile_name_cannot_split_or_spoof_the_header(name: str) -> None:
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header and "\u202e" not in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "/" not in fallback and "\\" not in fallback
    assert header.encode("latin-1")  # a header value Starlette can send


def test_an_empty_name_is_a_download() -> None:
    assert content_disposition("\r\n") == 'attachment; filename="download"'


def test_download_headers_are_both_made_safe() -> None:
    assert download_headers(None, 42) == {
        "content-type": "application/octet-stream",
        "content-disposition": 'attachment; filename="download"',
    }
