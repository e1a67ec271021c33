"""What an officer reads when an input is refused: each validation problem (by its pydantic error
type) and each service refusal, in the officer's language, naming the field and what to do.

The services speak English to every adapter (the API, the CLI, the logs); this is the web's
translation of what they say. Validation problems translate by their stable error type and
parameters; service refusals by their class and, for the ones an officer meets, their text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from accord.cases.casetype import FieldMeta
from accord.core.errors import (
    AccordError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PeerUnreachable,
    Problem,
    Unauthenticated,
    WorkflowViolation,
)
from accord.core.i18n import translations
from accord.core.labels import Lang, pick
from accord.web.i18n import field_label


def N_(message: str) -> str:
    """Marks a message for the catalogue (babel extracts `N_`); translated where it is shown."""
    return message


PROBLEMS: Mapping[str, str] = {
    "missing": N_("Required: fill this in."),
    "string_too_short": N_("Too short: write at least %(min_length)s characters."),
    "string_too_long": N_("Too long: shorten it to at most %(max_length)s characters."),
    "string_pattern_mismatch": N_("Not in the expected form: see the hint for what to write."),
    "string_type": N_("Write text here."),
    "too_short": N_("Add at least %(min_length)s: none or too few were given."),
    "too_long": N_("Too many: at most %(max_length)s are allowed."),
    "list_type": N_("Give a list here (one row or one line per item)."),
    "dict_type": N_("Give the fields of one entry here."),
    "model_type": N_("Give the fields of one entry here."),
    "model_attributes_type": N_("Give the fields of one entry here."),
    "extra_forbidden": N_("This field is not part of the form: leave it out."),
    "int_parsing": N_("Write a whole number (digits only)."),
    "int_type": N_("Write a whole number (digits only)."),
    "int_from_float": N_("Write a whole number, without a fractional part."),
    "float_parsing": N_("Write a number, for example 2500000.50."),
    "float_type": N_("Write a number, for example 2500000.50."),
    "decimal_parsing": N_("Write a number, for example 2500000.50."),
    "finite_number": N_("Write a finite number."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
    "greater_than": N_("Must be greater than %(gt)s."),
    "greater_than_equal": N_("Must be %(ge)s or more."),
    "less_than": N_("Must be less than %(lt)s."),
    "less_than_equal": N_("Must be %(le)s or less."),
    "enum": N_("Choose one of the listed values."),
    "literal_error": N_("Choose one of the listed values."),
    "date_parsing": N_("Not a real date: write it as YYYY-MM-DD (for example 1990-02-28)."),
    "date_from_datetime_parsing": N_(
        "Not a real date: write it as YYYY-MM-DD (for example 1990-02-28)."
    ),
    "date_from_datetime_inexact": N_("Give a date without a time of day."),
    "date_type": N_("Not a real date: write it as YYYY-MM-DD (for example 1990-02-28)."),
    "datetime_parsing": N_(
        "Not a real date and time: write it as YYYY-MM-DD HH:MM (for example 2026-03-01 14:30)."
    ),
    "datetime_from_date_parsing": N_(
        "Not a real date and time: write it as YYYY-MM-DD HH:MM (for example 2026-03-01 14:30)."
    ),
    "datetime_type": N_(
        "Not a real date and time: write it as YYYY-MM-DD HH:MM (for example 2026-03-01 14:30)."
    ),
    "timezone_aware": N_("Give the time in UTC."),
    "uuid_parsing": N_("Not an identifier of the expected form."),
    "url_parsing": N_("Not a web address: write it as https://…"),
    "json_invalid": N_("Not valid JSON: check the brackets, quotes and commas."),
    "json_type": N_("Not valid JSON: check the brackets, quotes and commas."),
    "partial_date": N_(
        "Not a real date: write YYYY, YYYY-MM or YYYY-MM-DD (for example 1990 or 1990-02-28)."
    ),
    "birth_date_range": N_(
        "Not a plausible date of birth: give one between %(earliest)s and today."
    ),
    "date_order": N_("%(later)s is before %(earlier)s: put them in order."),
    "country_code": N_(
        "%(value)s is not a country code: choose the country from the list (two capital "
        "letters, such as CN or US)."
    ),
    "sex_code": N_("Choose M (male), F (female) or U (unknown)."),
    "confirm_required": N_("Tick the box to confirm: this step cannot be undone."),
    "nul_character": N_("The text contains a NUL character: remove it."),
}
"""The officer's message for each pydantic error type (and our own validators' types)."""

CHOICES: Mapping[str, str] = {
    "M": N_("Male"),
    "F": N_("Female"),
    "U": N_("Unknown"),
    "ipv4": N_("IPv4 address"),
    "ipv6": N_("IPv6 address"),
    "cidr": N_("IP range (CIDR)"),
    "domain": N_("Domain name"),
    "url": N_("URL"),
    "md5": N_("MD5 hash"),
    "sha1": N_("SHA-1 hash"),
    "sha256": N_("SHA-256 hash"),
    "email": N_("E-mail address"),
    "person": N_("Person"),
    "organisation": N_("Organisation"),
    "account": N_("Account"),
    "vehicle": N_("Vehicle"),
    "phone": N_("Phone"),
    "address": N_("Address"),
    "other": N_("Other"),
    "g": N_("grams"),
    "kg": N_("kilograms"),
    "t": N_("tonnes"),
    "ml": N_("millilitres"),
    "l": N_("litres"),
    "tablets": N_("tablets"),
    "units": N_("units"),
    "red": N_("Red notice: a wanted person"),
    "yellow": N_("Yellow notice: a missing person"),
}
"""The officer's label of each word a pattern-restricted field allows (`^(M|F|U)?$`)."""

VALUE_ERROR = N_("Not accepted: %(reason)s")
"""A validator's own refusal (`value_error`), whose text is the declaration's, in English."""


def _label(
    name: str, meta: Mapping[str, FieldMeta] | None, gettext: Callable[[str], str], lang: Lang
) -> str:
    declared = (meta or {}).get(name)
    return pick(lang, declared.en, declared.zh) if declared else gettext(field_label(name))


def where(
    path: tuple[str | int, ...], lang: Lang, meta: Mapping[str, FieldMeta] | None = None
) -> str:
    """The field a problem is about, as the form labels it: `Persons, row 2: Birth date`."""
    gettext = translations(lang).gettext
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(gettext("row %(number)s") % {"number": part + 1})
        else:
            parts.append(_label(part, meta, gettext, lang))
    return pick(lang, ", ", "，").join(parts)


def explain(problem: Problem, lang: Lang, meta: Mapping[str, FieldMeta] | None = None) -> str:
    """What was wrong, and what to do, in `lang`; not naming the field (it stands beside it)."""
    gettext = translations(lang).gettext
    template = PROBLEMS.get(problem.type)
    if template is None:
        reason = problem.message.removeprefix("Value error, ")
        return gettext(VALUE_ERROR) % {"reason": reason}
    params: dict[str, object] = {k: v for k, v in problem.ctx.items()}
    for key in ("earlier", "later"):  # field names: shown as the form labels them
        if isinstance(params.get(key), str):
            params[key] = _label(str(params[key]), meta, gettext, lang)
    try:
        return gettext(template) % params
    except (KeyError, TypeError, ValueError):  # a problem made without its parameters
        return gettext(VALUE_ERROR) % {"reason": problem.message}


def explain_at(problem: Problem, lang: Lang, meta: Mapping[str, FieldMeta] | None = None) -> str:
    """The message beside a top-level field: the rest of the path (`row 2, Birth date`) first."""
    text = explain(problem, lang, meta)
    inner = problem.path[1:]
    return f"{where(inner, lang, meta)}{pick(lang, ': ', '：')}{text}" if inner else text


def explain_in_full(
    problem: Problem, lang: Lang, meta: Mapping[str, FieldMeta] | None = None
) -> str:
    """The message in a list above the form: the whole path, then what to do."""
    text = explain(problem, lang, meta)
    colon = pick(lang, ": ", "：")
    return f"{where(problem.path, lang, meta)}{colon}{text}" if problem.path else text


# -- service refusals -------------------------------------------------------------------------

_REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (
            r"^user '(?P<name>[^']*)' exists already$",
            N_("There is already an officer with the username %(name)s: choose another username."),
        ),
        (
            r"^no user '(?P<name>[^']*)'",
            N_("There is no officer with the username %(name)s."),
        ),
        (
            r"^no case '(?P<reference>[^']*)' on this node",
            N_("There is no case %(reference)s on this node, or it is not shared with your unit."),
        ),
        (
            r"^no person '(?P<person>[^']*)' in this batch$",
            N_("There is no person %(person)s in this batch: choose one from the list."),
        ),
        (
            r"^person '(?P<person>[^']*)' is (?P<status>\w+), not (?P<wanted>[\w ,]+)$",
            N_(
                "Person %(person)s is not in the status this action needs: check the batch "
                "table for what each person needs next."
            ),
        ),
        (
            r"^(?P<count>\d+) persons are not settled yet",
            N_(
                "%(count)s persons of the batch are not settled yet: verify or refuse each of "
                "them first."
            ),
        ),
        (
            r"^assets (?P<assets>.+) were not identified in this case$",
            N_(
                "Assets %(assets)s were not identified in this case: use the asset ids from the "
                "identification."
            ),
        ),
        (
            r"^not case references: (?P<refs>.+)$",
            N_("These are not case references: %(refs)s."),
        ),
        (
            r"^no peer named '(?P<name>[^']*)'",
            N_("There is no peer %(name)s: choose a peer from the list."),
        ),
        (
            r"^no such file on this case",
            N_(
                "There is no such file on this case: the case does not name it. Choose a file "
                "from the case's list of evidence and attachments."
            ),
        ),
        (
            r"^title and officer must not contain NUL",
            N_("The text contains a NUL character: remove it."),
        ),
        (
            r"CSRF token missing or wrong",
            N_(
                "This form has expired or did not come from this site: reload the page and send "
                "it again."
            ),
        ),
    )
)


def _refusal_text(message: str, gettext: Callable[[str], str]) -> str | None:
    reason = message.split(" refused: ", 1)[-1]
    for pattern, template in _REFUSALS:
        found = pattern.search(reason)
        if found:
            return gettext(template) % found.groupdict()
    return None


def refusal(error: AccordError, lang: Lang) -> str:
    """A service's refusal as the officer reads it: what was wrong and what to do, in `lang`;
    no permission codes, no command lines."""
    gettext = translations(lang).gettext
    known = _refusal_text(error.message, gettext)
    if known is not None:
        return known
    if isinstance(error, WorkflowViolation):
        if " refused: " in error.message:
            reason = error.message.split(" refused: ", 1)[1]
            return gettext("The case's rules refused this action: %(reason)s") % {"reason": reason}
        return gettext(
            "This action is not possible in the case's current state or not for your side. "
            "The case page shows what you can do now."
        )
    if isinstance(error, Forbidden):
        return gettext(
            "Your role does not allow this. If your work needs it, ask an administrator of "
            "your node."
        )
    if isinstance(error, NotFound):
        return gettext(
            "This page does not exist, or what it shows is not shared with your unit. Check "
            "the address, or find it from the dashboard."
        )
    if isinstance(error, Unauthenticated):
        return gettext("Sign in again to continue.")
    if isinstance(error, PayloadTooLarge):
        return gettext("What you sent is too large for this node: send a smaller file or text.")
    if isinstance(error, PeerUnreachable):
        return gettext(
            "The peer could not be reached. Your action is kept and will be sent when it "
            "answers; try again later if it is not."
        )
    if isinstance(error, InvalidInput):
        return gettext("Not accepted: %(reason)s") % {"reason": error.message}
    if isinstance(error, Conflict):
        return gettext("This conflicts with what the node holds: %(reason)s") % {
            "reason": error.message
        }
    return gettext("This did not work: %(reason)s") % {"reason": error.message}
