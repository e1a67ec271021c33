"""Every message of the web UI and the briefing pack has its Chinese translation in the catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from accord.composition import assemble
from accord.core.i18n import catalog_path, translations
from accord.web.forms import schema_messages

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map
        )
        if isinstance(message, str)
    }


def test_every_ui_message_has_a_chinese_translation() -> None:
    messages = _extracted()
    assert "Dashboard" in messages and "My queue" in messages  # templates were read
    assert "Wrong username or password." in messages  # and the routes
    assert "Treaty basis" in messages  # and the payload fields of the declarations
    assert "Briefing pack" in messages and "Requests received, by area" in messages  # the pack
    zh = translations("zh").messages
    missing = sorted(m for m in messages if not zh.get(m))
    assert not missing, f"add to {catalog_path('zh')}: {missing}"


def test_every_payload_field_label_is_translated() -> None:
    zh = translations("zh").messages
    assert [m for m in schema_messages(assemble().case_types) if m not in zh] == []
    assert zh["Treaty basis"] == "条约依据"
