"""Media types (RFC 6838) as a file's record may carry them, and the headers of a download
built from a record that may be hostile: a safe Content-Type and Content-Disposition."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_MEDIA_TYPE = 200
"""Characters: a type/subtype is at most 127 + 1 + 127 (RFC 6838 §4.2), parameters included."""

FALLBACK = "application/octet-stream"

_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&\-^_.+]{0,126}"
_TOKEN = r"[!#$%&'*+\-.^_`|~A-Za-z0-9]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_MEDIA_TYPE = re.compile(
    rf"(?P<type>{_NAME})/(?P<subtype>{_NAME})"
    rf"(?:[ \t]*;[ \t]*{_NAME}=(?:{_TOKEN}|{_QUOTED}))*"
)
"""RFC 6838 §4.2 restricted names for the type, the subtype and parameter names; parameter
values a token or a quoted string (RFC 9110 §5.6.6), ASCII only."""


def media_type_problem(value: str) -> str | None:
    """Why `value` is not a media type this node keeps and sends in a header, or None."""
    for position, char in enumerate(value):
        if unicodedata.category(char) == "Cc":
            return (
                f"media type has a control character ({char!r} at position {position}); "
                "give a type/subtype such as application/pdf"
            )
    if len(value) > MAX_MEDIA_TYPE:
        return f"media type is longer than {MAX_MEDIA_TYPE} characters"
    if not _MEDIA_TYPE.fullmatch(value.strip()):
        return (
            f"media type {value[:60]!r} is not a type/subtype (RFC 6838), "
            "such as application/pdf or text/plain; charset=utf-8"
        )
    return None


def safe_media_type(value: object) -> str:
    """The recorded media type if it is one, else application/octet-stream (records written
    before media types were checked, or by a peer that does not check them, may hold anything)."""
    if isinstance(value, str) and media_type_problem(value) is None:
        return value.strip()
    return FALLBACK


def content_disposition(filename: object, *, fallback: str = "download") -> str:
    """`attachment` with the name as ASCII in `filename` and, when that had to change it, in
    full as UTF-8 in `filename*` (RFC 6266 §4.3, RFC 5987); control characters and path
    separators never reach the header."""
    name = "".join(
        "_" if char in "/\\" else char
        for char in str(filename or "")
        if unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip()
    name = name or fallback
    ascii_name = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in name)
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def download_headers(filename: object, media_type: object) -> dict[str, str]:
    """Content-Type and Content-Disposition of a file's download, whatever its record holds."""
    return {
        "content-type": safe_media_type(media_type),
        "content-disposition": content_disposition(filename),
    }
