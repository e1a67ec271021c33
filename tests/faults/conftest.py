"""Fixtures of the fault-injection suite: where the two nodes keep their data, on the test's
store (SQLite in each node's data folder, so that a full disk reaches the database too)."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def database_urls(store: str, database_url: Callable[[str], str]) -> tuple[str | None, str | None]:
    if store == "sqlite":
        return None, None  # the default: accord.db inside each node's data folder
    return database_url("us"), database_url("cn")
