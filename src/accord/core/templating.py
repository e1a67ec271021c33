"""Jinja2 environments that render in one language: the catalogue installed as `_`, with the
labels, the language choice and times that every page and document of Accord shares."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from accord.core.clock import parse_iso
from accord.core.i18n import translations
from accord.core.labels import Lang, label, pick


def when(moment: datetime | str | None) -> str:
    """Times are shown in UTC, to the minute: both sides read the same clock."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = parse_iso(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def environment(templates: Path, lang: Lang) -> Environment:
    """The templates of one folder, rendered in `lang`; callers add their own globals."""
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        when=when,
        lang=lang,
        label=partial(label, lang=lang),
        pick=partial(pick, lang),
    )
    return env


def pdf_of(html: str) -> bytes:
    """A rendered page as PDF (WeasyPrint; Chinese in the Noto CJK fonts of the machine). The
    import waits for the first PDF: WeasyPrint and Pango cost a second at start-up."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
