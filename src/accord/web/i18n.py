"""English and Chinese for the web UI: the gettext catalog read with Babel at start-up.

English is the source language; Chinese comes from web/locales/zh/LC_MESSAGES/messages.po,
read as is (no compile step). Labels of states, actions and enumerations come from their
declarations instead (core.labels); field labels of payload forms come from the catalog.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from accord.core.labels import Lang

LOCALES = Path(__file__).parent / "locales"
LANGUAGES: tuple[Lang, ...] = ("en", "zh")
LANG_COOKIE = "lang"


class CatalogTranslations(gettext.NullTranslations):
    """gettext over a Babel catalog; a message without a translation falls back to English."""

    def __init__(self, catalog: Catalog | None) -> None:
        super().__init__()
        self.messages: dict[str, str] = {}
        for message in catalog or ():
            if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
                self.messages[message.id] = str(message.string)

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)


def catalog_path(lang: Lang) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: Lang) -> CatalogTranslations:
    if lang == "en":
        return CatalogTranslations(None)
    with catalog_path(lang).open("rb") as po:
        return CatalogTranslations(read_po(po, locale=lang))


def pick_language(cookie: str | None, preferred: str | None) -> Lang:
    """The header switch (the `lang` cookie) wins; then the officer's own language."""
    for candidate in (cookie, preferred):
        if candidate == "zh":
            return "zh"
        if candidate == "en":
            return "en"
    return "en"


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
