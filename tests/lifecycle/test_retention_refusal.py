"""A retention run that meets a case it cannot erase, on SQLite and PostgreSQL: that case is
reported with the reason and left as it was (its savepoint rolled back, nothing of its erasure
applied), the other cases of the same chunk are erased, and the next run tries it again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accord.cases import service
from accord.cases.models import CaseEvent, CaseEventPart
from accord.cli.scenarios import REMOVAL
from accord.core.clock import utcnow
from accord.core.errors import Conflict
from accord.lifecycle import retention
from tests.helpers import Node, act, open_from


def salted(node: Node, reference: str) -> int:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        rows = session.scalars(select(CaseEventPart).where(CaseEventPart.case_id == case.id))
        return sum(1 for p in rows if p.salt)


def actions(node: Node, reference: str) -> list[str]:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        return list(
            session.scalars(
                select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            )
        )


def test_a_case_the_run_cannot_erase_does_not_stop_the_others(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    us, cn = pair
    references = [open_from(us, cn.name, REMOVAL.opening) for _ in range(3)]
    for reference in references:
        act(us, reference, "withdraw", {"reason": "the persons left on their own"})
    with us.runtime.transaction() as session:
        retention.agree_retention(
            session, peer=cn.name, case_type="removal", state="withdrawn", days=0
        )
    stuck = references[1]
    real_act = service.act

    def refusing(session: Any, **kwargs: Any) -> service.Acted:
        acted = real_act(session, **kwargs)  # the event is appended, then the refusal comes
        if kwargs["reference"] == stuck:
            raise Conflict(f"case {stuck} changed while the run was erasing it")
        return acted

    with monkeypatch.context() as faulty:
        faulty.setattr(service, "act", refusing)
        erased, left = retention.apply(us.runtime.transaction, node=us.identity, now=utcnow())
    assert [d.reference for d in erased] == [references[0], references[2]]
    (refused,) = left
    assert refused.reference == stuck and refused.held is None
    assert refused.refused is not None and "changed while the run" in refused.refused
    assert "1 not erased" in retention.summary(erased, left) and stuck in retention.summary(
        erased, left
    )
    for reference in (references[0], references[2]):
        assert salted(us, reference) == 0 and actions(us, reference)[-1] == "erase"
    assert salted(us, stuck) > 0  # rolled back: no erase event, every part still salted
    assert "erase" not in actions(us, stuck)

    erased, left = retention.apply(us.runtime.transaction, node=us.identity, now=utcnow())
    assert [d.reference for d in erased] == [stuck] and left == []
    assert salted(us, stuck) == 0
