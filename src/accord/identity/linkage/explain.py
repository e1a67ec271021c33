"""Explanations a reviewer can read: what each feature compared, and how much it weighed."""

from __future__ import annotations

from accord.identity.linkage.compare import Feature, Level, Profile
from accord.identity.linkage.score import Weight
from accord.identity.records import PersonRecord

_NAME = {
    Level.EXACT: "same name in pinyin",
    Level.REORDERED: "same syllables in another order or split",
    Level.SIMILAR: "same surname, given names differ by a few letters",
    Level.SURNAME_ONLY: "same surname only",
    Level.DIFFERENT: "different names",
}
_DATE = {
    Level.EXACT: "same date of birth",
    Level.YEAR_MONTH: "same year and month (one date is partial)",
    Level.YEAR: "same year (one date is partial)",
    Level.SWAPPED: "day and month swapped",
    Level.NEAR: "one year apart",
    Level.NEAR_YEAR: "one year apart (one date is partial)",
    Level.DIFFERENT: "different dates of birth",
}


def _percent(u: float) -> str:
    share = 100 * u
    return f"{share:.2g}%" if share < 1 else f"{share:.0f}%"


def _reading(p: Profile) -> str:
    first = p.name.primary
    if first is None:
        return ""
    return " ".join((*first.surname, *first.given))


def _name_text(p: PersonRecord) -> str:
    if p.name_native and p.name_native != p.name:
        return f"{p.name} / {p.name_native}"
    return p.name


def describe(weight: Weight, q: Profile, c: Profile) -> str:
    """One line, e.g. `name: Cheung Wai ~ 张伟 (zhang wei): same name in pinyin, shared by 0.07%
    of the watchlist [+10.2]`."""
    qr, cr = q.record, c.record
    feature, level = weight.feature, weight.level
    if feature is Feature.NAME:
        text = f"name: {_name_text(qr)} ~ {_name_text(cr)} ({_reading(c)}): {_NAME[level]}"
        if level is Level.EXACT:
            text += f", shared by {_percent(weight.u)} of the watchlist"
        elif level is not Level.DIFFERENT:
            text += f" (surname common: u={weight.u:.2g})"
    elif feature is Feature.NATIVE:
        verdict = "same characters" if level is Level.EXACT else "same sound, other characters"
        text = f"characters: {q.name.han} ~ {c.name.han}: {verdict}"
    elif feature is Feature.BIRTH_DATE:
        text = f"birth date: {qr.birth} ~ {cr.birth}: {_DATE[level]}"
    elif feature is Feature.SEX:
        text = f"sex: {qr.sex} ~ {cr.sex}"
    elif feature is Feature.NATIONALITY:
        text = f"nationality: {qr.nationality} ~ {cr.nationality}"
        if level is Level.EXACT:
            text += f" ({_percent(weight.u)} of the watchlist)"
    elif feature is Feature.RESIDENT_ID:
        a = qr.resident_id.number if qr.resident_id else ""
        b = cr.resident_id.number if cr.resident_id else ""
        text = f"identity card: {a} {'=' if level is Level.EXACT else '≠'} {b}"
    else:
        text = f"passport: {qr.passport} {'=' if level is Level.EXACT else '≠'} {cr.passport}"
    return f"{text} [{weight.bits:+.1f}]"


def explanation(weights: list[Weight], q: Profile, c: Profile, *, prior_bits: float) -> str:
    """Every feature's line, strongest first, then the prior: the whole score on one line."""
    lines = [describe(w, q, c) for w in sorted(weights, key=lambda w: -abs(w.bits))]
    lines.append(f"prior: watchlist size and prevalence [{prior_bits:+.1f}]")
    return "; ".join(lines)
