"""A database outage as an operator lives it: a node on PostgreSQL (its URL carrying a
password) as two real processes, `accord serve --no-workers` and `accord worker`, reaching the
server through a TCP forwarder that the test cuts. /livez keeps answering, /healthz and /readyz
answer 503 naming the database, the workers log one line per backoff step and say when they
recover, nothing logged or answered carries the password or a token, and a node started while
the database is down says so instead of "run accord init"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from accord.cli.demo import Staff, free_port, prepare_node
from tests.conftest import IN_CI, _pg_admin, pg_problem
from tests.faults.tcp import CuttableTcp

PASSWORD = "pw-" + uuid.uuid4().hex  # trust auth ignores it; the node must never show it
METRICS_TOKEN = "mt-" + uuid.uuid4().hex
OUTAGE_SECONDS = 6.0


@pytest.fixture
def postgres_database() -> Iterator[str]:
    problem = pg_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"accord_test_{uuid.uuid4().hex[:12]}"
    conn = _pg_admin()
    conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]
    yield name
    conn = _pg_admin()
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]


@dataclass
class Deployed:
    url: str
    staff: Staff
    logs: list[Path]
    processes: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def deployed(tmp_path: Path, postgres_database: str) -> Iterator[tuple[Deployed, CuttableTcp]]:
    forwarder = CuttableTcp("127.0.0.1", 5432).start()
    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{forwarder.port}/{postgres_database}"
    settings, _card, staff = prepare_node(tmp_path, "US-DOJ", "US", url)
    port = free_port()
    env = {
        **os.environ,
        "ACCORD_DATA_DIR": str(settings.data_dir),
        "ACCORD_DATABASE_URL": url,
        "ACCORD_LOG_FORMAT": "json",
        "ACCORD_METRICS_TOKEN": METRICS_TOKEN,
        "ACCORD_WORKER_HEARTBEAT_SECONDS": "0.5",
        "ACCORD_WORKER_STALE_SECONDS": "3",
        "ACCORD_WORKER_BACKOFF_BASE_SECONDS": "0.25",
        "ACCORD_WORKER_BACKOFF_MAX_SECONDS": "2",
    }
    commands = {
        "web": ["serve", "--no-workers", "--host", "127.0.0.1", "--port", str(port)],
        "worker": ["worker"],
    }
    logs, processes = [], []
    for name, args in commands.items():
        log = tmp_path / f"{name}.log"
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "accord", *args],
                env=env,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
    node = Deployed(f"http://127.0.0.1:{port}", staff, logs, processes)
    try:
        _wait(
            lambda: httpx.get(node.url + "/readyz").status_code == 200,
            "the node to be ready",
            timeout=180,
        )
        yield node, forwarder
    finally:
        node.stop()
        forwarder.stop()


def most_steps(seconds: float, base: float = 0.25, ceiling: float = 2.0) -> int:
    """The most failed rounds a worker can have in `seconds` if each waits at least half its
    backoff step (the jitter's floor)."""
    steps, spent = 1, 0.0
    while True:
        spent += min(ceiling, base * 2 ** (steps - 1)) / 2
        if spent > seconds:
            return steps
        steps += 1


def _json_lines(path: Path) -> list[dict[str, object]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    return records


@pytest.mark.postgres
def test_database_outage_is_told_by_health_and_logged_once_per_backoff_step(
    deployed: tuple[Deployed, CuttableTcp],
) -> None:
    node, forwarder = deployed
    api = httpx.Client(headers={"Authorization": f"Bearer {node.staff.officer.token}"})
    assert api.get(node.url + "/api/v1/cases").status_code == 200
    scraped = httpx.get(node.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    assert 'accord_worker_heartbeat_age_seconds{role="delivery"}' in scraped.text

    forwarder.cut()
    cut_at = time.monotonic()
    answers: list[httpx.Response] = []
    while time.monotonic() - cut_at < OUTAGE_SECONDS:
        assert httpx.get(node.url + "/livez").status_code == 200
        answers += [httpx.get(node.url + "/healthz"), httpx.get(node.url + "/readyz")]
        answers.append(api.get(node.url + "/api/v1/cases"))
        time.sleep(0.5)
    health, ready = answers[-3], answers[-2]
    assert health.status_code == 503 and health.json()["failed"] == ["database"]
    assert ready.status_code == 503 and "database" in ready.json()["failed"]
    refused = answers[-1]
    assert refused.status_code == 503 and refused.json()["error"] == "database_unreachable"
    forwarder.heal()
    _wait(lambda: httpx.get(node.url + "/healthz").status_code == 200, "/healthz after the cut")
    _wait(lambda: httpx.get(node.url + "/readyz").status_code == 200, "/readyz after the cut")
    outage = time.monotonic() - cut_at
    assert api.get(node.url + "/api/v1/cases").status_code == 200
    worker_log = node.logs[1]
    _wait(
        lambda: worker_log.read_text(encoding="utf-8").count("worker: recovered after") == 2,
        "both workers to say they recovered",
    )
    node.stop()

    web_log, worker_log = node.logs
    worker = _json_lines(worker_log)
    failed = [r for r in worker if "round failed" in str(r["message"])]
    for role in ("delivery", "inbox"):
        steps = [r for r in failed if str(r["message"]).startswith(role)]
        # Backoff from 0.25 s doubling to 2 s: a handful of lines in the outage, not one
        # every poll (0.25 s) as before — and each names its retry and its wait.
        assert 1 <= len(steps) <= most_steps(outage), (role, len(steps), outage)
        assert all("retry" in str(r["message"]) for r in steps)
        assert any(str(r["message"]).startswith(f"{role} worker: recovered") for r in worker), (
            f"the {role} worker never said it recovered"
        )
    assert not any("traceback" in r for r in worker), "a traceback in the worker's log"
    web = _json_lines(web_log)
    # A request that found the database down: one warning line each, not a traceback.
    assert any("the database did not answer" in str(r["message"]) for r in web)
    assert not any("traceback" in r for r in web), "a traceback in the web process's log"
    requests = [r for r in web if r["logger"] == "accord.request"]
    assert {r["route"] for r in requests} >= {"/livez", "/healthz", "/readyz", "/api/v1/cases"}
    assert all(r["request_id"] for r in requests)

    answered = "".join(a.text for a in answers)
    seen = [(answered, "an answer")]
    seen += [(log.read_text(encoding="utf-8"), log.name) for log in node.logs]
    for text, where in seen:
        for secret in (PASSWORD, METRICS_TOKEN, node.staff.officer.token):
            assert secret not in text, f"a secret in {where}"


@pytest.mark.postgres
def test_a_node_started_while_its_database_is_down_says_unreachable_not_uninitialised(
    tmp_path: Path, postgres_database: str
) -> None:
    forwarder = CuttableTcp("127.0.0.1", 5432).start()
    try:
        url = (
            f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{forwarder.port}/"
            f"{postgres_database}"
        )
        settings, _card, _staff = prepare_node(tmp_path, "US-DOJ", "US", url)
        forwarder.cut()
        env = {**os.environ, "ACCORD_DATA_DIR": str(settings.data_dir), "ACCORD_DATABASE_URL": url}
        for args in (["serve", "--port", str(free_port())], ["node", "card"]):
            done = subprocess.run(
                [sys.executable, "-m", "accord", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            said = done.stdout + done.stderr
            assert done.returncode == 8, (args, said)
            assert (
                f"database unreachable at postgresql+psycopg://postgres:***@127.0.0.1:"
                f"{forwarder.port}/{postgres_database}"
            ) in said, said
            assert "accord init" not in said and PASSWORD not in said
    finally:
        forwarder.stop()


@pytest.mark.postgres
def test_a_worker_started_while_its_database_is_down_waits_for_it(
    tmp_path: Path, postgres_database: str
) -> None:
    # a supervisor (systemd, the fault run) restarts a worker in the middle of an outage: it must
    # wait for the database, a line per backoff step, and be up when the database is, not exit
    forwarder = CuttableTcp("127.0.0.1", 5432).start()
    try:
        url = (
            f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{forwarder.port}/"
            f"{postgres_database}"
        )
        settings, _card, _staff = prepare_node(tmp_path, "US-DOJ", "US", url)
        forwarder.cut()
        env = {
            **os.environ,
            "ACCORD_DATA_DIR": str(settings.data_dir),
            "ACCORD_DATABASE_URL": url,
            "ACCORD_LOG_FORMAT": "text",
        }
        log_path = tmp_path / "worker.log"
        with log_path.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "accord", "worker"], env=env, stdout=out, stderr=out
            )
        try:
            deadline = time.monotonic() + 60
            while "retrying in" not in log_path.read_text() and time.monotonic() < deadline:
                assert worker.poll() is None, log_path.read_text()
                time.sleep(0.2)
            said = log_path.read_text()
            assert "database unreachable at postgresql+psycopg://postgres:***@" in said, said
            assert worker.poll() is None, said  # still waiting, not exited
            forwarder.heal()
            while "worker ready" not in log_path.read_text() and time.monotonic() < deadline:
                assert worker.poll() is None, log_path.read_text()
                time.sleep(0.2)
            assert "worker ready" in log_path.read_text(), log_path.read_text()
        finally:
            worker.terminate()
            code = worker.wait(timeout=30)
        said = log_path.read_text()
        assert code == 0, said
        assert PASSWORD not in said
    finally:
        forwarder.stop()
