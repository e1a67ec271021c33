"""The configuration reference, generated from `Settings` so that it cannot drift: the table of
every `ACCORD_` variable with its default and meaning, written into docs/operations.md by
`accord config reference --write docs/operations.md` (a test compares the two)."""

from __future__ import annotations

from pathlib import Path

from accord.config import Settings
from accord.core.errors import InvalidInput

BEGIN = (
    "<!-- settings: generated from accord.config.Settings by "
    "`accord config reference --write docs/operations.md`; do not edit by hand -->"
)
END = "<!-- end of the generated settings -->"


def _default(value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def settings_table() -> str:
    """The Markdown table: variable, default, meaning, one row per setting, in their order."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise InvalidInput(f"setting {name} has no description: give its Field one")
        meaning = field.description.replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | `{_default(field.default)}` | {meaning} |")
    return "\n".join(rows) + "\n"


def spliced(document: str) -> str:
    """`document` with the text between the markers replaced by the current table."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise InvalidInput(f"no settings block: the document needs the lines {BEGIN} and {END}")
    return document[: start + len(BEGIN)] + "\n" + settings_table() + document[end:]


def write_into(path: Path) -> bool:
    """Rewrite the settings block of `path`; return whether it changed."""
    before = path.read_text(encoding="utf-8")
    after = spliced(before)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before
