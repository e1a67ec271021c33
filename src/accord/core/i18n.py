"""The English/Chinese catalogue of Accord's texts (web UI and briefing pack), read with Babel.

English is the source language; Chinese comes from locales/zh/LC_MESSAGES/messages.po, read as
is (no compile step). Labels of states, actions and enumerations come from their declarations
instead (core.labels).
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from accord.core.labels import Lang

LOCALES = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES: tuple[Lang, ...] = ("en", "zh")


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
    if lang == "en":  # the source language: every message is its own translation
        return CatalogTranslations(None)
    with catalog_path(lang).open("rb") as po:
        return CatalogTranslations(read_po(po, locale=lang))


def as_language(code: str | None) -> Lang | None:
    """`code` as a language of the catalogue, or None if it names none."""
    for lang in LANGUAGES:
        if code == lang:
            return lang
    return None
