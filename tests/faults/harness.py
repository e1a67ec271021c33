"""The fault-injection run: two real nodes behind a faulty proxy, traffic through the API, kills,
clock skew and a full disk, then healing and the invariants. `run(plan, root)` returns the JSON
summary; `tests/faults/run.py` (`make faults`) and `tests/faults/test_faults.py` call it.

On PostgreSQL both nodes also lose their database server for a phase (a TCP forwarder in front
of it is cut), and every log line of the run is searched for the database password and the
officers' tokens.

Each node is two processes, `accord serve --no-workers` (API and inbox) and `accord worker`
(delivery and inbox processing), so that either can be killed alone; killing the "node" kills
both. Every case is MLA, half sequenced by each node; notes carry a unique nonce
(`fault nonce <hex>`), attachments carry it in their description.
"""

from __future__ import annotations

import os
import platform
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, make_url, select

from accord.cases.models import Case, PendingAction
from accord.cli.demo import Staff, pin, prepare_node
from accord.cli.scenarios import MLA_OPENING, REVIEW
from accord.composition import assemble
from accord.config import Settings
from accord.federation.keys import fingerprint
from accord.federation.models import InboxItem, NodeRecord, OutboxItem, QuarantineItem
from accord.federation.schemas import NodeCard
from accord.runtime import Runtime
from tests.faults.proxy import FaultRates, ProxyPair
from tests.faults.tcp import CuttableTcp

NONCE = re.compile(r"fault nonce ([0-9a-f]{32})")
US, CN = "US-DOJ", "CN-MOJ"


@dataclass
class FaultPlan:
    events: int = 10_000
    """actions acknowledged by the API (notes and attachments) before the traffic stops"""
    kills: int = 20
    drop: float = 0.10
    duplicate: float = 0.10
    reorder: float = 0.10
    delay: float = 0.10
    max_delay: float = 0.3
    cases: int = 0
    """0: one case per 100 events, at least 4"""
    attachment_every: int = 40
    """one event in this many is an attachment (1–150 KB, so one to three chunks)"""
    threads: int = 3
    skew_seconds: float = 120.0
    """CN-MOJ's clock runs this far ahead of US-DOJ's throughout (inside the window)"""
    window_seconds: int = 300
    skew_beyond_seconds: float = 400.0
    """for one phase CN-MOJ's delivery worker runs this far ahead (outside the window); 0: no"""
    full_disk: bool = True
    database_outage: bool = True
    """on PostgreSQL, for one phase both nodes lose their database (a TCP forwarder in front of
    the server is cut); their URLs carry a password, which no log line may show"""
    rotate_keys: bool = True
    """mid-run, US-DOJ rotates its keys (`accord keys rotate`) while its processes run on"""
    phase_seconds: float = 4.0
    heal_timeout: float = 300.0
    seed: int = 7


@dataclass
class Action:
    nonce: str
    reference: str
    node: str
    kind: str
    outcome: str
    """applied, pending, refused (an HTTP error answer) or unknown (no answer)"""
    pending_id: str | None = None
    detail: str | None = None


def _node_env(settings: Settings, skew: float, window: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_DATA_DIR=str(settings.data_dir),
        ACCORD_CLOCK_SKEW_SECONDS=str(skew),
        ACCORD_REPLAY_WINDOW_SECONDS=str(window),
        # Short backoff so that healing takes seconds, not the production cap of 5 minutes.
        ACCORD_DELIVERY_BACKOFF_BASE_SECONDS="0.2",
        ACCORD_DELIVERY_BACKOFF_MAX_SECONDS="2",
        ACCORD_DELIVERY_TIMEOUT_SECONDS="15",
    )
    if settings.database_url:
        env["ACCORD_DATABASE_URL"] = settings.database_url
    return env


class NodeProcesses:
    """One node: its web process and its worker process, each killable and restartable."""

    def __init__(
        self, settings: Settings, card: NodeCard, staff: Staff, logs: Path, plan: FaultPlan
    ) -> None:
        self.name = card.name
        self.settings = settings
        self.url = card.endpoint
        self.staff = staff
        self.skew = plan.skew_seconds if card.name == CN else 0.0
        self.window = plan.window_seconds
        self.log = logs / f"{card.name}.log"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.officer = httpx.Client(
            headers={"Authorization": f"Bearer {staff.officer.token}"}, timeout=30
        )
        self.reviewer = httpx.Client(
            headers={"Authorization": f"Bearer {staff.reviewer.token}"}, timeout=30
        )
        self.admin = httpx.Client(headers={"Authorization": f"Bearer {staff.admin_token}"})
        self.runtime = Runtime.open(settings, assemble())

    def fingerprint(self) -> str:
        """The fingerprint of the keys the node's database names now."""
        with self.runtime.reading() as session:
            record = session.scalar(select(NodeRecord))
            assert record is not None
            return fingerprint(record.signing_key, record.encryption_key)

    def start(self, role: str, *, skew: float | None = None) -> None:
        args = ["serve", "--no-workers"] if role == "web" else ["worker"]
        env = _node_env(self.settings, self.skew if skew is None else skew, self.window)
        with self.log.open("ab") as log:
            self.processes[role] = subprocess.Popen(
                [sys.executable, "-m", "accord", *args, "--log-level", "warning"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if role == "web":
            self.wait_healthy()

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["web"].poll() is not None:
                raise RuntimeError(f"{self.name} web process exited; see {self.log}")
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {self.log}")

    def kill(self, role: str) -> None:
        process = self.processes[role]
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(30)

    def exited(self) -> list[str]:
        return [role for role, p in self.processes.items() if p.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)
        for client in (self.officer, self.reviewer, self.admin):
            client.close()
        self.runtime.close()

    # -- the API, as the officers use it ---------------------------------------------------

    def act(self, reference: str, action: str, payload: dict[str, Any]) -> httpx.Response:
        reviewed = self.runtime.case_types.of_reference(reference).needs_review(action)
        client = self.reviewer if reviewed else self.officer
        return client.post(
            f"{self.url}/api/v1/cases/{reference}/actions",
            json={"action": action, "payload": payload},
        )

    def attach(self, reference: str, content: bytes, description: str) -> httpx.Response:
        return self.officer.post(
            f"{self.url}/api/v1/cases/{reference}/attachments",
            files={"file": ("evidence.bin", content, "application/octet-stream")},
            data={"handling_code": "H1", "description": description},
        )

    def get(self, path: str) -> Any:
        response = self.officer.get(self.url + path, timeout=60)
        response.raise_for_status()
        return response.json()


class DatabaseOutage:
    """A cuttable TCP forwarder between both nodes and their PostgreSQL server; their URLs go
    through it and carry a password (trust authentication ignores it), so that a log line that
    prints a URL shows it."""

    PASSWORD = "fault-run-" + uuid.uuid4().hex

    def __init__(self, urls: tuple[str, str]) -> None:
        upstream = make_url(urls[0])
        self.forwarder = CuttableTcp(upstream.host or "127.0.0.1", upstream.port or 5432).start()
        self.urls = tuple(
            make_url(url)
            .set(host="127.0.0.1", port=self.forwarder.port, password=self.PASSWORD)
            .render_as_string(hide_password=False)
            for url in urls
        )

    def stop(self) -> None:
        self.forwarder.stop()


class FullDisk:
    """Makes CN-MOJ's data folder full and frees it again.

    As root, where mounting is allowed, the data folder is a tmpfs (its SQLite database, blobs
    and keys live there); full means the tmpfs is shrunk to what it holds, freed means it is
    grown back: writes really fail with ENOSPC. Otherwise, as a fallback, the blob folder is
    made read-only (writes of received chunks fail with EACCES; the database is not affected),
    and when neither is possible the phase is skipped; the summary says which was done.
    """

    SIZE = "2g"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.method = "none"
        self.mounted = False

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            done = subprocess.run(
                [
                    "mount",
                    "-t",
                    "tmpfs",
                    "-o",
                    f"size={self.SIZE},mode=0700",
                    "tmpfs",
                    self.data_dir,
                ],
                capture_output=True,
            )
            if done.returncode == 0:
                self.method, self.mounted = "tmpfs", True
        else:
            self.method = "read-only blob folder"

    def fill(self) -> None:
        if self.method == "tmpfs":
            stat = os.statvfs(self.data_dir)
            used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
            self._remount(f"{used + 4 * 4096}")
        elif self.method == "read-only blob folder":
            blobs = self.data_dir / "blobs"
            blobs.mkdir(exist_ok=True)
            blobs.chmod(0o500)

    def free(self) -> None:
        if self.method == "tmpfs":
            self._remount(self.SIZE)
        elif self.method == "read-only blob folder":
            (self.data_dir / "blobs").chmod(0o700)

    def _remount(self, size: str) -> None:
        subprocess.run(
            ["mount", "-o", f"remount,size={size}", str(self.data_dir)],
            check=True,
            capture_output=True,
        )

    def release(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.data_dir)], capture_output=True)
            self.mounted = False


@dataclass
class Run:
    plan: FaultPlan
    nodes: dict[str, NodeProcesses]
    proxies: ProxyPair
    disk: FullDisk
    references: list[str] = field(default_factory=list)
    sequencer: dict[str, str] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    kills: Counter[str] = field(default_factory=Counter)
    unexpected_exits: list[str] = field(default_factory=list)
    phases: dict[str, Any] = field(default_factory=dict)
    acknowledged: int = 0
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    traffic_done: threading.Event = field(default_factory=threading.Event)
    intended_down: set[tuple[str, str]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    """what went wrong in the harness itself (a process that would not restart)"""
    outage: DatabaseOutage | None = None

    @property
    def progress(self) -> float:
        return self.acknowledged / max(1, self.plan.events)


@contextmanager
def two_nodes(
    plan: FaultPlan, root: Path, database_urls: tuple[str | None, str | None]
) -> Iterator[Run]:
    """US-DOJ and CN-MOJ peered through the faulty proxies; everything stopped afterwards."""
    disk = FullDisk(root / CN)
    if plan.full_disk:
        disk.prepare()
    proxies = ProxyPair(
        FaultRates(
            drop=plan.drop,
            delay=plan.delay,
            duplicate=plan.duplicate,
            reorder=plan.reorder,
            max_delay=plan.max_delay,
        ),
        plan.seed,
    )
    nodes: dict[str, NodeProcesses] = {}
    outage = None
    if plan.database_outage and database_urls[0] and database_urls[1]:
        outage = DatabaseOutage((database_urls[0], database_urls[1]))
        database_urls = (outage.urls[0], outage.urls[1])
    try:
        us = prepare_node(root, US, "US", database_urls[0])
        cn = prepare_node(root, CN, "CN", database_urls[1])
        proxies.start({US: us[1].endpoint, CN: cn[1].endpoint})
        pin(us[0], cn[1].model_copy(update={"endpoint": proxies.proxies[CN].url}), US)
        pin(cn[0], us[1].model_copy(update={"endpoint": proxies.proxies[US].url}), CN)
        for settings, card, staff in (us, cn):
            node = NodeProcesses(settings, card, staff, root, plan)
            nodes[card.name] = node
            node.start("web")
            node.start("worker")
        yield Run(plan, nodes, proxies, disk, outage=outage)
    finally:
        for node in nodes.values():
            node.stop()
        proxies.stop()
        if outage is not None:
            outage.stop()
        if disk.method == "read-only blob folder":
            disk.free()
        disk.release()


# -- traffic ----------------------------------------------------------------------------------


def open_cases(run: Run) -> None:
    count = run.plan.cases or max(4, run.plan.events // 100)
    for i in range(count):
        opener = run.nodes[US if i % 2 == 0 else CN]
        peer = CN if opener.name == US else US
        opened = opener.officer.post(
            f"{opener.url}/api/v1/cases", json={**MLA_OPENING, "peer": peer}
        )
        opened.raise_for_status()
        reference = opened.json()["reference"]
        for action, payload in (
            ("send_to_review", {"note": "ready"}),
            ("approve_and_submit", REVIEW),
        ):
            answer = opener.act(reference, action, payload)
            if answer.status_code != 201:
                raise RuntimeError(f"{reference} {action}: {answer.status_code} {answer.text}")
        run.references.append(reference)
        run.sequencer[reference] = opener.name


def drive(run: Run, worker: int) -> None:
    """Take actions until the plan's number has been acknowledged by the API."""
    rng = random.Random(run.plan.seed * 1000 + worker)
    while True:
        with run.lock:
            if run.failures or run.acknowledged + run.in_flight >= run.plan.events:
                return
            run.in_flight += 1
        acknowledged = False
        try:
            acknowledged = _one_action(run, rng)
        finally:
            with run.lock:
                run.in_flight -= 1
                run.acknowledged += acknowledged


def _one_action(run: Run, rng: random.Random) -> bool:
    reference = rng.choice(run.references)
    node = run.nodes[rng.choice((US, CN))]
    kind = "attachment" if rng.randrange(run.plan.attachment_every) == 0 else "note"
    outcome = record(run, node, reference, kind, rng)
    if outcome in ("applied", "pending"):
        return True
    time.sleep({"down": 0.1, "not here yet": 0.02}.get(outcome, 0.05))
    return False


def record(run: Run, node: NodeProcesses, reference: str, kind: str, rng: random.Random) -> str:
    """Take one action with a fresh nonce; remember what the API answered."""
    nonce = uuid.uuid4().hex
    try:
        if kind == "attachment":
            content = rng.randbytes(rng.randint(1_000, 150_000))
            answer = node.attach(reference, content, f"fault nonce {nonce}")
        else:
            answer = node.act(reference, "note", {"text": f"fault nonce {nonce}"})
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return "down"  # the process is down: nothing was sent
    except httpx.HTTPError as exc:
        run.actions.append(Action(nonce, reference, node.name, kind, "unknown", detail=repr(exc)))
        return "unknown"
    if answer.status_code == 404:
        return "not here yet"  # the case has not reached this side yet
    if answer.status_code >= 500:  # the node failed (its database down): landed or not
        run.actions.append(
            Action(nonce, reference, node.name, kind, "unknown", detail=str(answer.status_code))
        )
        return "unknown"
    if answer.status_code in (201, 202):
        body = answer.json()
        pending = body.get("pending") or {}
        run.actions.append(
            Action(nonce, reference, node.name, kind, body["status"], pending_id=pending.get("id"))
        )
        return str(body["status"])
    run.actions.append(
        Action(nonce, reference, node.name, kind, "refused", detail=str(answer.status_code))
    )
    return f"refused {answer.status_code}"


# -- chaos ------------------------------------------------------------------------------------


def chaos(run: Run) -> None:
    """Kills, the full disk and the skewed clock, at points of the traffic's progress."""
    try:
        _chaos(run)
    except Exception as exc:  # stop the traffic and say why, rather than hang
        run.failures.append(f"harness: {exc!r}")


def _chaos(run: Run) -> None:
    rng = random.Random(run.plan.seed + 1)
    schedule: list[tuple[float, str]] = [
        (min(0.95, (i + 1) / (run.plan.kills + 1) + rng.uniform(-0.02, 0.02)), "kill")
        for i in range(run.plan.kills)
    ]
    if run.plan.full_disk and run.disk.method != "none":
        schedule.append((0.4, "full_disk"))
    if run.plan.skew_beyond_seconds:
        schedule.append((0.65, "skew_beyond"))
    if run.outage is not None:
        schedule.append((0.3, "database_outage"))
    if run.plan.rotate_keys:
        schedule.append((0.5, "rotate_keys"))
    schedule.sort()
    while schedule:
        watch(run)
        if run.progress >= schedule[0][0] or run.traffic_done.is_set():
            _, what = schedule.pop(0)
            {
                "kill": kill_one,
                "full_disk": full_disk,
                "skew_beyond": skew_beyond,
                "database_outage": database_outage,
                "rotate_keys": rotate_keys,
            }[what](run, rng)
        else:
            time.sleep(0.05)


def watch(run: Run) -> None:
    """Restart a process that died on its own (and say so in the summary)."""
    for node in run.nodes.values():
        for role in node.exited():
            if (node.name, role) in run.intended_down:
                continue
            code = node.processes[role].returncode
            run.unexpected_exits.append(f"{node.name} {role} exited with {code}")
            node.start(role)


def kill_one(run: Run, rng: random.Random) -> None:
    node = run.nodes[rng.choice((US, CN))]
    target = rng.choice(("web", "worker", "node"))
    roles = ("web", "worker") if target == "node" else (target,)
    run.intended_down.update((node.name, r) for r in roles)
    for role in roles:
        node.kill(role)
    run.kills[f"{node.name} {target}"] += 1
    time.sleep(rng.uniform(0.2, 1.5))
    for role in roles:
        node.start(role)
        run.intended_down.discard((node.name, role))


def full_disk(run: Run, rng: random.Random) -> None:
    """CN-MOJ's disk fills while US-DOJ keeps sending it notes and files."""
    us = run.nodes[US]
    started = time.monotonic()
    run.disk.fill()
    answers: Counter[str] = Counter()
    try:
        for reference in run.references[:4]:
            answers[record(run, us, reference, "attachment", rng)] += 1
        while time.monotonic() - started < run.plan.phase_seconds:
            answers[record(run, run.nodes[CN], rng.choice(run.references), "note", rng)] += 1
            time.sleep(0.2)
    finally:
        run.disk.free()
    run.phases["full_disk"] = {
        "method": run.disk.method,
        "seconds": round(time.monotonic() - started, 1),
        "node": CN,
        "answers_while_full": dict(answers),
    }


def skew_beyond(run: Run, rng: random.Random) -> None:
    """CN-MOJ's delivery worker restarts with its clock outside US-DOJ's replay window."""
    cn = run.nodes[CN]
    run.intended_down.add((CN, "worker"))
    cn.kill("worker")
    cn.start("worker", skew=run.plan.skew_beyond_seconds)
    started = time.monotonic()
    own = [r for r in run.references if run.sequencer[r] == CN]
    # Until US-DOJ has refused something for the skew (the worker needs a moment to start),
    # and for at least the phase's length.
    while time.monotonic() - started < max(run.plan.phase_seconds, 60) and not (
        time.monotonic() - started >= run.plan.phase_seconds and refused_for_skew(run.nodes[US])
    ):
        record(run, cn, rng.choice(own), "note", rng)  # events CN-MOJ must send
        time.sleep(0.2)
    seconds = time.monotonic() - started
    cn.kill("worker")
    cn.start("worker")
    run.intended_down.discard((CN, "worker"))
    run.phases["skew_beyond"] = {
        "node": CN,
        "skew_seconds": run.plan.skew_beyond_seconds,
        "seconds": round(seconds, 1),
    }


def rotate_keys(run: Run, rng: random.Random) -> None:
    """US-DOJ rotates its keys with `accord keys rotate` while cases are in flight; its web and
    worker processes go on with the old keys for a phase (the overlap), then restart."""
    us = run.nodes[US]
    previous = us.fingerprint()
    started = time.monotonic()
    rotated = subprocess.run(
        [sys.executable, "-m", "accord", "keys", "rotate", "--overlap", "1d"],
        env=_node_env(us.settings, us.skew, us.window),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if rotated.returncode != 0:
        run.failures.append(f"accord keys rotate failed: {rotated.stdout}{rotated.stderr}")
        return
    while time.monotonic() - started < run.plan.phase_seconds:
        record(run, us, rng.choice(run.references), "note", rng)  # under the old keys
        time.sleep(0.2)
    for role in ("web", "worker"):
        run.intended_down.add((US, role))
        us.kill(role)
        us.start(role)
        run.intended_down.discard((US, role))
    run.phases["key_rotation"] = {
        "node": US,
        "previous": previous,
        "new": us.fingerprint(),
        "seconds": round(time.monotonic() - started, 1),
    }


def database_outage(run: Run, rng: random.Random) -> None:
    """Both nodes lose their PostgreSQL server for a phase while the officers keep working:
    /livez goes on answering, /healthz answers 503 naming the database, nothing crashes; then
    the server comes back and the node heals by itself."""
    assert run.outage is not None
    started = time.monotonic()
    health: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    run.outage.forwarder.cut()
    try:
        while time.monotonic() - started < max(run.plan.phase_seconds, 6.0):
            for node in run.nodes.values():
                with suppress(httpx.HTTPError):
                    live = httpx.get(node.url + "/livez", timeout=5).status_code
                    ready = httpx.get(node.url + "/healthz", timeout=10)
                    failed = ",".join(ready.json().get("failed", [])) or "none"
                    health[f"livez {live}, healthz {ready.status_code} ({failed})"] += 1
                answers[record(run, node, rng.choice(run.references), "note", rng)] += 1
            time.sleep(0.3)
    finally:
        run.outage.forwarder.heal()
    seconds = time.monotonic() - started
    for node in run.nodes.values():
        node.wait_healthy()
    run.phases["database_outage"] = {
        "seconds": round(seconds, 1),
        "recovered_after_seconds": round(time.monotonic() - started - seconds, 1),
        "health_while_down": dict(health),
        "answers_while_down": dict(answers),
    }


def logs_check(run: Run) -> dict[str, Any]:
    """Every log line of both nodes' processes: no password, no token; and how many lines the
    workers wrote for failed rounds (one per backoff step)."""
    secrets = [run.outage.PASSWORD] if run.outage is not None else []
    for node in run.nodes.values():
        secrets += [node.staff.officer.token, node.staff.reviewer.token, node.staff.admin_token]
    found: list[str] = []
    failure_lines = 0
    tracebacks = 0
    for node in run.nodes.values():
        text = node.log.read_text(encoding="utf-8", errors="replace")
        found += [f"{node.log.name}: a secret" for secret in secrets if secret in text]
        failure_lines += text.count("worker: round failed")
        tracebacks += text.count("Traceback")
    return {"secrets_found": found, "worker_failure_lines": failure_lines, "tracebacks": tracebacks}


def refused_for_skew(node: NodeProcesses) -> int:
    with node.runtime.reading() as session:
        return (
            session.scalar(select(func.count()).where(QuarantineItem.reason.contains("window")))
            or 0
        )


# -- healing and the invariants ---------------------------------------------------------------


def backlog(node: NodeProcesses) -> dict[str, Any]:
    with node.runtime.reading() as session:
        return {
            "outbox_pending": session.scalar(
                select(func.count()).where(OutboxItem.status == "pending")
            ),
            "inbox_unsettled": session.scalar(
                select(func.count()).where(InboxItem.status.in_(("stored", "waiting")))
            ),
            "actions_pending": session.scalar(
                select(func.count()).where(PendingAction.status == "pending")
            ),
            "heads": dict(session.execute(select(Case.reference, Case.head_hash)).all()),
        }


def wait_quiet(run: Run) -> dict[str, Any]:
    deadline = time.monotonic() + run.plan.heal_timeout
    quiet_rounds = 0
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        watch(run)
        state = {name: backlog(node) for name, node in run.nodes.items()}
        busy = any(
            s["outbox_pending"] or s["inbox_unsettled"] or s["actions_pending"]
            for s in state.values()
        )
        if not busy and state[US]["heads"] == state[CN]["heads"]:
            quiet_rounds += 1
            if quiet_rounds >= 3:
                return {"quiet": True}
        else:
            quiet_rounds = 0
        time.sleep(0.5)
    return {
        "quiet": False,
        "backlog": {
            name: {k: v for k, v in s.items() if k != "heads"} for name, s in state.items()
        },
        "heads_differ": sorted(
            r
            for r in set(state[US]["heads"]) | set(state[CN]["heads"])
            if state[US]["heads"].get(r) != state[CN]["heads"].get(r)
        ),
    }


def _kind_of(reason: str) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", reason)
    text = re.sub(r"\b[0-9a-f]{32,64}\b", "<hash>", text)
    text = re.sub(r"\d[\d:.TZ+-]*", "<n>", text)
    return text[:120]


def check(run: Run) -> dict[str, Any]:
    """The invariants, after healing. Every breach is a line in `violations`."""
    us, cn = run.nodes[US], run.nodes[CN]
    violations: list[str] = []
    seen: Counter[str] = Counter()
    identical = 0
    events = 0
    unsigned = 0
    attachments_missing: list[str] = []
    pending_by_id: dict[str, dict[str, Any]] = {}
    for reference in run.references:
        logs = [n.get(f"/api/v1/cases/{reference}/log") for n in (us, cn)]
        verdicts = [n.get(f"/api/v1/cases/{reference}/verify") for n in (us, cn)]
        if logs[0] == logs[1] and all(v["identical"] for v in verdicts):
            identical += 1
        else:
            violations.append(
                f"{reference}: logs differ ({len(logs[0])} vs {len(logs[1])} events; "
                f"{verdicts[0]['explanation']})"
            )
        events += len(logs[0])
        # /verify checked each signature on each side; every event must carry one
        unsigned += sum(1 for log in logs for event in log if not event.get("signature"))
        for event in logs[0]:
            for value in event["payload"].values():
                if isinstance(value, str):
                    seen.update(NONCE.findall(value))
        for node in (us, cn):
            for attachment in node.get(f"/api/v1/cases/{reference}/attachments"):
                if not attachment["available"]:
                    attachments_missing.append(f"{reference} {attachment['sha256']} on {node.name}")
            for pending in node.get(f"/api/v1/cases/{reference}").get("pending", []):
                pending_by_id[pending["id"]] = pending
    duplicated = {nonce: n for nonce, n in seen.items() if n > 1}
    for nonce, n in duplicated.items():
        violations.append(f"nonce {nonce} applied {n} times")
    lost: list[str] = []
    outcomes: Counter[str] = Counter()
    rejected_without_reason = 0
    for action in run.actions:
        outcomes[f"{action.kind}:{action.outcome}"] += 1
        present = seen.get(action.nonce, 0)
        if action.outcome == "applied" and present != 1:
            lost.append(
                f"{action.reference} {action.kind} {action.nonce} (applied by {action.node})"
            )
        elif action.outcome == "pending":
            pending = pending_by_id.get(str(action.pending_id))
            status = pending["status"] if pending else "missing"
            outcomes[f"{action.kind}:pending:{status}"] += 1
            if status == "applied" and present != 1:
                lost.append(f"{action.reference} {action.nonce} (pending applied, not in log)")
            elif status == "rejected":
                if not pending or not pending.get("reason"):
                    rejected_without_reason += 1
                if present:
                    violations.append(f"{action.nonce} rejected yet in the log")
            elif status not in ("applied", "rejected"):
                lost.append(f"{action.reference} {action.nonce} (pending left {status})")
        elif action.outcome == "refused" and present:
            violations.append(f"{action.nonce} refused by the API ({action.detail}) yet in the log")
        elif action.outcome == "unknown":
            outcomes["unknown_landed"] += present
    violations += [f"lost: {line}" for line in lost]
    violations += [f"attachment not available: {line}" for line in attachments_missing]
    if rejected_without_reason:
        violations.append(f"{rejected_without_reason} rejected actions without a reason")
    quarantine = quarantined(run)
    if quarantine["without_reason"]:
        violations.append(f"{quarantine['without_reason']} quarantined items without a reason")
    if run.unexpected_exits:
        violations += [f"crash: {line}" for line in run.unexpected_exits]
    if unsigned:
        violations.append(f"{unsigned} events carry no signed act")
    return {
        "cases": len(run.references),
        "identical_logs": identical == len(run.references),
        "cases_identical": identical,
        "events_in_logs": events,
        "events_with_verified_signatures": 2 * events - unsigned,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "attachments_missing": len(attachments_missing),
        "outcomes": dict(sorted(outcomes.items())),
        "quarantined": quarantine,
        "violations": violations,
    }


def quarantined(run: Run) -> dict[str, Any]:
    """Every refusal on both sides, with its reason: quarantine rows, envelopes the peer
    refused, and submitted actions the sequencer rejected."""
    reasons: Counter[str] = Counter()
    total = without = 0
    refused_for_skew = 0
    for node in run.nodes.values():
        with node.runtime.reading() as session:
            for stage, reason in session.execute(
                select(QuarantineItem.stage, QuarantineItem.reason)
            ):
                total += 1
                without += not (reason or "").strip()
                reasons[f"{node.name} {stage}: {_kind_of(reason or '')}"] += 1
                refused_for_skew += "window" in (reason or "")
            for error in session.scalars(
                select(OutboxItem.last_error).where(OutboxItem.status == "refused")
            ):
                total += 1
                without += not (error or "").strip()
                reasons[f"{node.name} refused by peer: {_kind_of(error or '')}"] += 1
            for reason in session.scalars(
                select(PendingAction.reason).where(PendingAction.status == "rejected")
            ):
                total += 1
                without += not (reason or "").strip()
                reasons[f"{node.name} rejected by sequencer: {_kind_of(reason or '')}"] += 1
    return {
        "total": total,
        "with_reason": total - without,
        "without_reason": without,
        "refused_for_clock_skew": refused_for_skew,
        "reasons": dict(reasons.most_common(12)),
    }


def run(
    plan: FaultPlan, root: Path, database_urls: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    """The whole run; returns the summary (its `violations` list is empty when all holds)."""
    started = time.monotonic()
    with two_nodes(plan, root, database_urls) as faulty:
        open_cases(faulty)
        threads = [
            threading.Thread(target=drive, args=(faulty, i), daemon=True)
            for i in range(plan.threads)
        ]
        for thread in threads:
            thread.start()
        chaos_thread = threading.Thread(target=chaos, args=(faulty,), daemon=True)
        chaos_thread.start()
        for thread in threads:
            thread.join()
        traffic_seconds = time.monotonic() - started
        faulty.traffic_done.set()
        chaos_thread.join()
        faulty.proxies.set_active(False)
        heal_started = time.monotonic()
        healed = wait_quiet(faulty)
        heal_seconds = time.monotonic() - heal_started
        result = check(faulty)
        result["violations"][:0] = faulty.failures
        logged = logs_check(faulty)
        result["violations"] += [f"log: {line}" for line in logged["secrets_found"]]
        if not healed["quiet"]:
            result["violations"].insert(0, f"did not heal within {plan.heal_timeout} s: {healed}")
        proxy = faulty.proxies.counts()
        summary: dict[str, Any] = {
            "store": "postgresql" if database_urls[0] else "sqlite",
            "events_sent": sum(1 for a in faulty.actions if a.outcome in ("applied", "pending")),
            "attachments_sent": sum(
                1
                for a in faulty.actions
                if a.kind == "attachment" and a.outcome in ("applied", "pending")
            ),
            "kills": sum(faulty.kills.values()),
            "kills_by_target": dict(sorted(faulty.kills.items())),
            "drops": proxy["drops"],
            "dropped_requests": proxy["dropped_requests"],
            "dropped_answers": proxy["dropped_answers"],
            "duplicates": proxy["duplicates"],
            "reorders": proxy["reorders"],
            "late_replays": proxy["late_replays"],
            "delays": proxy["delays"],
            "proxied_requests": proxy["requests"],
            "clock_skew": {
                "node": CN,
                "seconds": plan.skew_seconds,
                "replay_window_seconds": plan.window_seconds,
                "beyond_window": faulty.phases.get("skew_beyond"),
            },
            "full_disk": faulty.phases.get("full_disk", {"method": faulty.disk.method}),
            "database_outage": faulty.phases.get("database_outage"),
            "logs": logged,
            "key_rotation": faulty.phases.get("key_rotation"),
            "unexpected_exits": len(faulty.unexpected_exits),
            **result,
            "traffic_seconds": round(traffic_seconds, 1),
            "heal_seconds": round(heal_seconds, 1),
            "elapsed_seconds": round(time.monotonic() - started, 1),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
        }
    return summary
