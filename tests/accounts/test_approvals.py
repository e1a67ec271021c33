"""Account requests on SQLite and PostgreSQL: two administrators deciding one request at the
same moment decide it once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from accord.accounts import approvals
from accord.accounts import service as accounts
from accord.core.errors import Conflict
from accord.core.permissions import Role
from tests.helpers import make_node

PASSWORD = "correct horse battery staple"


def test_two_administrators_approving_at_once_apply_the_change_once(
    tmp_path: Path, database_url: Callable[[str], str]
) -> None:
    node = make_node(tmp_path, database_url("us"), "US-DOJ", "US")
    runtime = node.runtime
    try:
        with runtime.transaction() as session:
            for username, role in (
                ("root", Role.ADMINISTRATOR),
                ("ada", Role.ADMINISTRATOR),
                ("bo", Role.ADMINISTRATOR),
                ("audrey", Role.AUDITOR),
            ):
                accounts.create_user(
                    session,
                    username=username,
                    display_name=username,
                    role=role,
                    unit="administration",
                    password=PASSWORD,
                )
            root = accounts.principal_of(accounts.get_user(session, "root"))
            ada = accounts.principal_of(accounts.get_user(session, "ada"))
            bo = accounts.principal_of(accounts.get_user(session, "bo"))
            request_id = approvals.request_role(
                session,
                by=root,
                username="audrey",
                role=Role.LIAISON_OFFICER,
                lifetime=timedelta(hours=1),
            ).id
        first_holds = threading.Event()
        second_done: list[BaseException | None] = []

        def second() -> None:
            first_holds.wait(10)
            try:
                with runtime.transaction() as session:
                    approvals.approve(session, request_id=request_id, by=bo)
            except BaseException as exc:
                second_done.append(exc)
            else:
                second_done.append(None)

        other = threading.Thread(target=second)
        other.start()
        with runtime.transaction() as session:
            approvals.approve(session, request_id=request_id, by=ada)
            first_holds.set()  # the second starts while the first has not committed
            other.join(0.5)
            assert other.is_alive(), "the second decision did not wait for the first"
        other.join(30)
        assert len(second_done) == 1 and isinstance(second_done[0], Conflict), second_done
        with runtime.reading() as session:
            decided = approvals.get_request(session, request_id)
            assert (decided.status, decided.decided_by) == ("approved", "ada")
            assert accounts.get_user(session, "audrey").role == Role.LIAISON_OFFICER.value
    finally:
        runtime.close()
