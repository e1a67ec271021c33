"""The configuration reference in docs/operations.md is the one `Settings` generates: a setting
added, renamed or given another default without the docs fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli.root import app
from accord.config import Settings
from accord.core.errors import InvalidInput
from accord.ops.reference import BEGIN, END, settings_table, spliced

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_docs_settings_table_is_the_generated_one() -> None:
    document = OPERATIONS.read_text(encoding="utf-8")
    assert spliced(document) == document, (
        "docs/operations.md's settings table differs from Settings: run "
        "`accord config reference --write docs/operations.md`"
    )


def test_every_setting_is_in_the_table_with_its_default() -> None:
    table = settings_table()
    for name, field in Settings.model_fields.items():
        row = next(line for line in table.splitlines() if f"`ACCORD_{name.upper()}`" in line)
        assert field.description and field.description.split()[0] in row, name
    assert "| `ACCORD_MAX_REQUEST_BYTES` | `4194304` |" in table
    assert "| `ACCORD_DELIVERY_POLL_SECONDS` | `0.25` |" in table


def test_a_drifted_table_is_rewritten_and_a_document_without_markers_refused(
    tmp_path: Path,
) -> None:
    stale = f"# Settings\n\n{BEGIN}\n| `ACCORD_GONE` | `1` | removed |\n{END}\n\nafter\n"
    path = tmp_path / "ops.md"
    path.write_text(stale)
    result = CliRunner().invoke(app, ["config", "reference", "--write", str(path)])
    assert result.exit_code == 0, result.output
    rewritten = path.read_text()
    assert "ACCORD_GONE" not in rewritten and "`ACCORD_LOG_FORMAT`" in rewritten
    assert rewritten.endswith(f"{END}\n\nafter\n")
    with pytest.raises(InvalidInput, match="no settings block"):
        spliced("# no markers here\n")
