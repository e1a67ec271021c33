"""The web UI's side of the catalogue (core.i18n): the language cookie and the header switch's
rule, the English labels of payload fields (their catalog msgids), and the Babel extractor that
keeps those labels in the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from accord.core.i18n import as_language
from accord.core.labels import Lang

LANG_COOKIE = "lang"


def pick_language(cookie: str | None, preferred: str | None) -> Lang:
    """The header switch (the `lang` cookie) wins; then the officer's own language."""
    return as_language(cookie) or as_language(preferred) or "en"


def field_label(name: str) -> str:
    """The English label (and catalog msgid) of a payload field: `treaty_basis` → `Treaty basis`."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def extract_field_labels(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extractor (see babel.cfg): the labels and hints of every payload field of every
    case type, so that `pybabel extract` keeps them in the catalog."""
    from accord.composition import assemble
    from accord.web.forms import schema_messages

    del fileobj, keywords, comment_tags, options  # the declarations are read, not the file

    for message in schema_messages(assemble().case_types):
        yield 0, "gettext", message, ["payload field of a case action"]
