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
    Level.WITHIN: "within the span of years given",
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


def _written(name: str, native: str) -> str:
    return f"{name} / {native}" if native and native != name else name


def _name_text(p: Profile) -> str:
    """The name compared, in both scripts where the record has both: an alias with the
    person's name it stands for (`CHANG, Wei (alias of ZHANG, Wei / 张伟)`)."""
    record = p.record
    own = _written(record.name, record.name_native)
    if p.alias is None:
        return own
    kind = "weak alias" if p.alias.weak else "alias"
    return f"{_written(p.alias.name, p.alias.native)} ({kind} of {own})"


def _several(first: str | None, more: tuple[str, ...]) -> str:
    return "/".join((first or "", *more))


def _passport(record: PersonRecord) -> str:
    issuer = f" ({record.passport_country})" if record.passport_country else ""
    more = "".join(
        f"/{p.number}" + (f" ({p.country})" if p.country else "") for p in record.passports
    )
    return f"{record.passport}{issuer}{more}"


def describe(weight: Weight, q: Profile, c: Profile) -> str:
    """One line, e.g. `name: Cheung Wai ~ 张伟 (zhang wei): same name in pinyin, shared by 0.07%
    of the watchlist [+10.2]`."""
    qr, cr = q.record, c.record
    feature, level = weight.feature, weight.level
    if feature is Feature.NAME:
        text = f"name: {_name_text(q)} ~ {_name_text(c)} ({_reading(c)}): {_NAME[level]}"
        if level is Level.EXACT:
            text += f", shared by {_percent(weight.u)} of the watchlist"
        elif level is not Level.DIFFERENT:
            text += f" (surname common: u={weight.u:.2g})"
        if q.weak or c.weak:
            text += ", a weak alias: weighs less"
    elif feature is Feature.NATIVE:
        verdict = "same characters" if level is Level.EXACT else "same sound, other characters"
        text = f"characters: {q.name.han} ~ {c.name.han}: {verdict}"
    elif feature is Feature.BIRTH_DATE:
        text = f"birth date: {qr.birth} ~ {cr.birth}: {_DATE[level]}"
    elif feature is Feature.SEX:
        text = f"sex: {qr.sex} ~ {cr.sex}"
    elif feature is Feature.NATIONALITY:
        text = f"nationality: {_several(qr.nationality, qr.nationalities)} ~ "
        text += _several(cr.nationality, cr.nationalities)
        if level is Level.EXACT:
            text += f" ({_percent(weight.u)} of the watchlist)"
    elif feature is Feature.RESIDENT_ID:
        sign = "=" if level is Level.EXACT else "≠"
        text = f"identity card: {'/'.join(sorted(qr.all_card_numbers))} {sign} "
        text += "/".join(sorted(cr.all_card_numbers))
    else:
        sign = "=" if level is Level.EXACT else "≠"
        text = f"passport: {_passport(qr)} {sign} {_passport(cr)}"
    return f"{text} [{weight.bits:+.1f}]"


def explanation(weights: list[Weight], q: Profile, c: Profile, *, prior_bits: float) -> str:
    """Every feature's line, strongest first, then the prior: the whole score on one line."""
    lines = [describe(w, q, c) for w in sorted(weights, key=lambda w: -abs(w.bits))]
    lines.append(f"prior: watchlist size and prevalence [{prior_bits:+.1f}]")
    return "; ".join(lines)
