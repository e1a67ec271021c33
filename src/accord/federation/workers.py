"""The node's background workers: delivery of the outbox and processing of the inbox.

Each runs in its own thread, woken at once when a commit wrote to its table and otherwise
polling, so writes made by other processes (the CLI) are picked up too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from accord.config import Settings
from accord.federation import delivery, inbox, outbox
from accord.federation.keys import NodeIdentity

log = logging.getLogger(__name__)


class Workers:
    def __init__(
        self, factory: sessionmaker[Session], node: NodeIdentity, settings: Settings
    ) -> None:
        self.factory = factory
        self.node = node
        self.settings = settings
        self.stop = threading.Event()
        self.outbox_wake = threading.Event()
        self.inbox_wake = threading.Event()
        self._threads: list[threading.Thread] = []
        event.listen(factory, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(outbox.WAKE_KEY, False):
            self.outbox_wake.set()
        if session.info.pop(inbox.WAKE_KEY, False):
            self.inbox_wake.set()

    def start(self) -> None:
        client = httpx.Client(timeout=self.settings.delivery_timeout_seconds)
        self._threads = [
            threading.Thread(
                target=self._loop,
                args=(
                    self.outbox_wake,
                    lambda: delivery.deliver_once(self.factory, self.node, self.settings, client),
                ),
                name="accord-delivery",
                daemon=True,
            ),
            threading.Thread(
                target=self._loop,
                args=(self.inbox_wake, lambda: inbox.process(self.factory, self.node)),
                name="accord-inbox",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        self.outbox_wake.set()
        self.inbox_wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, wake: threading.Event, step: Callable[[], int]) -> None:
        while not self.stop.is_set():
            wake.clear()  # before the step, so a commit during it wakes the next round
            try:
                progressed = step()
            except Exception:
                log.exception("worker step failed; retrying")
                progressed = 0
            if not progressed:
                wake.wait(self.settings.delivery_poll_seconds)
