"""The case page's "Personal data history": each erasure, correction and retraction with its
rule or reason, when, by whom, where in the log and the peer's receipt, in English and Chinese,
and never the data itself (neither the erased value nor the corrected one)."""

from __future__ import annotations

from accord.cli.scenarios import REMOVAL
from tests.helpers import act, open_from, pump
from tests.web.conftest import Web


def history_section(page: str) -> str:
    assert 'class="personal-history"' in page, "the page has no personal data history"
    return page.split('class="personal-history"')[1].split("</section>")[0]


def test_the_history_shows_the_rule_and_reason_and_never_the_content(web: Web) -> None:
    reference = open_from(web.us, web.cn.name, REMOVAL.opening, officer="Officer Smith")
    pump(web.us, web.cn)
    client = web.client()
    web.sign_in(client, "smith")
    assert 'class="personal-history"' not in client.get(f"/cases/{reference}").text
    act(web.us, reference, "correct", {
        "rule": "GDPR art. 16", "reason": "passport shows another spelling",
        "corrections": [{"seq": 1, "path": "/details/persons/0", "set": {"name": "LING Hui"}}],
    })  # fmt: skip
    act(web.us, reference, "retract", {
        "reason": "released before the request was answered",
        "items": [{"seq": 1, "path": "/details/persons/2"}],
    })  # fmt: skip
    pump(web.us, web.cn)

    section = history_section(client.get(f"/cases/{reference}").text)
    assert "Personal data history" in section
    assert "GDPR art. 16" in section and "passport shows another spelling" in section
    assert "released before the request was answered" in section
    assert "<code>/details/persons/0/name</code>" in section
    assert "<code>/details/persons/2</code>" in section
    assert "Correct personal data" in section and "Retract an item" in section
    assert section.count("CN-MOJ") == 2  # both receipts, by the peer
    for value in ("LIN Hui", "LING Hui", "WU Ming", "1995-11"):
        assert value not in section

    chinese = web.client()
    web.sign_in(chinese, "wang", lang="zh")
    section = history_section(chinese.get(f"/cases/{reference}").text)
    assert "个人数据处理记录" in section and "更正个人数据" in section and "撤回一项内容" in section
    assert "依据的规则或理由" in section and "GDPR art. 16" in section
    assert "LING Hui" not in section
