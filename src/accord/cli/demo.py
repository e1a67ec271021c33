"""`accord demo`: two real nodes on loopback play a legal assistance case from draft to closed."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer

from accord.accounts.passwords import generate_password
from accord.accounts.service import create_user, issue_token
from accord.cli import history as history_mod
from accord.cli import scenarios
from accord.cli.common import console, counting_bar
from accord.cli.scenarios import Scenario
from accord.composition import assemble
from accord.config import Settings
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role
from accord.dialogue.scorecard import money
from accord.federation.node import ADMIN_PASSWORD_FILE, TOKEN_FILE, init_node
from accord.federation.peers import add_peer
from accord.federation.schemas import NodeCard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Officer:
    username: str
    password: str
    token: str


@dataclass(frozen=True)
class Staff:
    """The demo officers of one node: a liaison officer and a legal reviewer of its central
    authority (the unit that also receives the peer's cases), and the administrator."""

    officer: Officer
    reviewer: Officer
    admin_token: str
    others: tuple[tuple[Role, Officer], ...] = ()
    """The other demo accounts (dialogue coordinator, administrator, auditor), by role."""

    def accounts(self) -> list[tuple[Role, Officer]]:
        return [
            (Role.LIAISON_OFFICER, self.officer),
            (Role.LEGAL_REVIEWER, self.reviewer),
            *self.others,
        ]


@dataclass
class RunningNode:
    name: str
    data: Path
    url: str
    staff: Staff
    process: subprocess.Popen[bytes]
    client: httpx.Client
    reviewer: httpx.Client

    def act(self, reference: str, action: str, payload: dict[str, Any]) -> Any:
        """Take an action as the officer, or as the legal reviewer for a review action."""
        reviewed = assemble().case_types.of_reference(reference).needs_review(action)
        client = self.reviewer if reviewed else self.client
        response = client.post(
            f"{self.url}/api/v1/cases/{reference}/actions",
            json={"action": action, "payload": payload},
        )
        if response.status_code >= 400:
            raise DemoFailure(f"{self.name} answered {response.status_code}: {response.text}")
        return response.json()

    def get(self, path: str) -> Any:
        response = self.client.get(self.url + path)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post(self.url + path, json=body)
        if response.status_code >= 400:
            raise DemoFailure(f"{self.name} answered {response.status_code}: {response.text}")
        return response.json()

    def stop(self) -> None:
        self.client.close()
        self.reviewer.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


class DemoFailure(Exception):
    pass


DEMO_STAFF: dict[str, list[tuple[str, str, Role]]] = {
    "US": [
        ("smith", "Officer Smith", Role.LIAISON_OFFICER),
        ("doe", "J. Doe (legal)", Role.LEGAL_REVIEWER),
        ("jones", "A. Jones (dialogue)", Role.DIALOGUE_COORDINATOR),
        ("audit", "Inspector General's auditor", Role.AUDITOR),
    ],
    "CN": [
        ("wang", "王警官", Role.LIAISON_OFFICER),
        ("li", "李律师", Role.LEGAL_REVIEWER),
        ("zhao", "赵处长", Role.DIALOGUE_COORDINATOR),
        ("audit", "审计员", Role.AUDITOR),
    ],
}
"""Every node's demo accounts, officer and legal reviewer first (see Staff); the administrator
is the one `accord init` makes (`admin`, its password in the data folder)."""


def prepare_node(
    root: Path,
    name: str,
    country: str,
    database_url: str | None = None,
    namespace: str | None = None,
) -> tuple[Settings, NodeCard, Staff]:
    """Create a node with its demo staff (see Staff); nothing is started yet."""
    data = root / name
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(data_dir=data, database_url=database_url)
    identity, token_path = init_node(
        settings, name=name, country=country, endpoint=url, namespace=namespace
    )
    people = DEMO_STAFF[country]
    engine = make_engine(settings.resolved_database_url)
    officers: list[Officer] = []
    try:
        with unit_of_work(session_factory(engine)) as session:
            for username, display, role in people:
                password = generate_password(username=username, display_name=display)
                user = create_user(
                    session,
                    username=username,
                    display_name=display,
                    role=role,
                    unit=settings.intake_unit,
                    password=password,
                    language="zh" if country == "CN" else "en",
                )
                token = issue_token(session, name="demo", user=user)
                officers.append(Officer(username, password, token))
    finally:
        engine.dispose()
    admin_token = token_path.read_text().strip()
    admin_password = (data / ADMIN_PASSWORD_FILE).read_text().strip()
    others = (
        *((role, o) for (_, _, role), o in zip(people[2:], officers[2:], strict=True)),
        (Role.ADMINISTRATOR, Officer("admin", admin_password, admin_token)),
    )
    staff = Staff(officers[0], officers[1], admin_token, others)
    return settings, identity.card(), staff


def pin(settings: Settings, card: NodeCard, own_name: str) -> None:
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            add_peer(session, card=card, own_name=own_name)
    finally:
        engine.dispose()


def start_node(settings: Settings, card: NodeCard, staff: Staff, log_dir: Path) -> RunningNode:
    log = (log_dir / f"{card.name}.log").open("ab")
    env = {**os.environ, "ACCORD_DATA_DIR": str(settings.data_dir)}
    env.pop("ACCORD_DATABASE_URL", None)
    if settings.database_url:
        env["ACCORD_DATABASE_URL"] = settings.database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "accord", "serve", "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(headers={"Authorization": f"Bearer {staff.officer.token}"}, timeout=30)
    reviewer = httpx.Client(headers={"Authorization": f"Bearer {staff.reviewer.token}"}, timeout=30)
    node = RunningNode(
        card.name, settings.data_dir, card.endpoint, staff, process, client, reviewer
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            client.close()
            reviewer.close()
            raise DemoFailure(f"{card.name} exited; see {log_dir / (card.name + '.log')}")
        try:
            if client.get(node.url + "/healthz").status_code == 200:
                return node
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    node.stop()
    raise DemoFailure(f"{card.name} did not start within 60 s")


def wait_for(predicate: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise DemoFailure(f"timed out waiting for {what}")


def case_on(node: RunningNode, reference: str) -> dict[str, Any] | None:
    response = node.client.get(f"{node.url}/api/v1/cases/{reference}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def play(scenario: Scenario, us: RunningNode, cn: RunningNode) -> str:
    """Play one scenario between the nodes; return the case reference. Raises DemoFailure on
    a rejected action or if the two sides do not converge after a step."""
    opener, other = (us, cn) if scenario.opener == "US" else (cn, us)
    opened = opener.post("/api/v1/cases", {**scenario.opening, "peer": other.name})
    reference: str = opened["reference"]
    kind = scenario.opening["case_type"]

    def show(by: RunningNode, action: str) -> None:
        mine, theirs = case_on(opener, reference), case_on(other, reference)
        console.print(
            f"  {kind:<8} {by.name:<7} {action:<26} {opener.name}: "
            f"{mine['state'] if mine else '—':<20} {other.name}: "
            f"{theirs['state'] if theirs else '(not sent yet)'}",
            soft_wrap=True,
        )

    console.print(f"[bold]{reference}[/bold] {scenario.opening['title']}", soft_wrap=True)
    if opened["shared"]:
        wait_for(lambda: _same_head(opener, other, reference), f"{other.name} to receive it")
    show(opener, "open")
    for item in scenario.steps:
        node = opener if item.side == "requesting" else other
        result = node.act(reference, item.action, item.payload)
        if result["status"] == "pending":
            pending_id = result["pending"]["id"]

            def settled(node: RunningNode = node, pending_id: str = pending_id) -> Any:
                case = case_on(node, reference)
                for p in (case or {}).get("pending", []):
                    if p["id"] == pending_id and p["status"] != "pending":
                        return p
                return None

            outcome = wait_for(settled, f"{item.action} to be applied by the sequencer")
            if outcome["status"] != "applied":
                raise DemoFailure(f"{reference} {item.action} was rejected: {outcome['reason']}")
        mine = case_on(opener, reference)
        if mine and mine["shared"]:
            wait_for(
                lambda: _same_head(opener, other, reference),
                f"{other.name} to replicate {item.action}",
            )
        show(node, item.action)
    final = case_on(opener, reference)
    if not final or final["state"] != scenario.final_state:
        raise DemoFailure(
            f"{reference} ended in {final and final['state']}, not {scenario.final_state}"
        )
    return reference


def scenario(us: RunningNode, cn: RunningNode) -> str:
    """The legal assistance case alone (the spine's demo); returns its reference."""
    return play(scenarios.MLA, us, cn)


def print_scorecard(node: RunningNode) -> None:
    """The dialogue's view of what just happened: a few figures per side, from the logs."""
    card = node.get("/api/v1/dialogue/scorecard")
    console.print("[bold]scorecard[/bold] (all areas, last 90 days), from " + node.name)
    for side, figures in card["areas"]["all"].items():
        now = figures["current"]
        returned = ", ".join(money(f["value"], c) for c, f in now["assets_returned"].items())
        backlog = sum(int(b["value"] or 0) for b in now["backlog"].values())
        median = now["first_response_median_days"]["value"]
        console.print(
            f"  {side}: sent {now['sent']['value']}, received {now['received']['value']}, "
            f"first response median {'—' if median is None else f'{median:g} days'}, "
            f"completed {_share(now['completion_rate']['value'])}, refused "
            f"{_share(now['refusal_rate']['value'])}, open {backlog}, overdue "
            f"{now['overdue']['value']}, fugitives returned "
            f"{now['fugitives_returned']['value']}, assets returned {returned or '0'}, "
            f"persons verified {now['removal_persons_verified']['value']}",
            soft_wrap=True,
        )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


ALL_TYPES = [sc.opening["case_type"] for sc in scenarios.ALL]


def link_outcome(host: RunningNode, guest: RunningNode, round_reference: str, case: str) -> None:
    """The round's first outcome (answer pending MLA requests) tracks the MLA case."""
    host.act(
        round_reference,
        "update_outcome",
        {"outcome_id": "O1", "status": "in_progress", "note": "Tracked.", "cases": [case]},
    )
    wait_for(lambda: _same_head(host, guest, round_reference), "the outcome to replicate")
    console.print(f"{round_reference}: outcome O1 linked to {case} on both nodes")


def write_briefs(node: RunningNode, round_reference: str, folder: Path) -> list[Path]:
    """The round's briefing pack, in English and in Chinese, as PDF (and HTML in English)."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"{node.url}/api/v1/dialogue/rounds/{round_reference}/brief"
    written = []
    for lang, fmt in (("en", "pdf"), ("zh", "pdf"), ("en", "html")):
        response = node.client.get(url, params={"lang": lang, "format": fmt}, timeout=120)
        if response.status_code >= 400:
            raise DemoFailure(f"briefing pack ({lang}, {fmt}): {response.text}")
        target = folder / f"{round_reference}-{lang}.{fmt}"
        target.write_bytes(response.content)
        written.append(target)
    console.print("briefing pack written: " + ", ".join(str(p) for p in written), soft_wrap=True)
    return written


def _same_head(a: RunningNode, b: RunningNode, reference: str) -> bool:
    left, right = case_on(a, reference), case_on(b, reference)
    return bool(left and right and left["head_hash"] == right["head_hash"])


class Stopped(Exception):
    """Ctrl-C (SIGINT) or SIGTERM: stop everything the demo started."""


def _stop_on_signals() -> None:
    """Both signals end the demo through its clean-up, also when it runs in the background
    (where a shell starts it with SIGINT ignored, so Python would not raise KeyboardInterrupt)."""

    def stop(signum: int, _frame: Any) -> None:
        raise Stopped(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


ROLE_USE = {
    Role.LIAISON_OFFICER: "opens cases and takes their steps",
    Role.LEGAL_REVIEWER: "records the legal reviews (approve, accept, refuse)",
    Role.DIALOGUE_COORDINATOR: "rounds, outcomes, the scorecard and the briefing pack",
    Role.ADMINISTRATOR: "users, peers and the node",
    Role.AUDITOR: "reads the audit trail and verifies the logs",
}


def sign_in_lines(nodes: list[RunningNode], root: Path) -> list[str]:
    """Where and as whom to sign in, one line per account, and how the second factor works."""
    lines = []
    for node in nodes:
        lines.append(f"{node.name}: {node.url}/login")
        for role, person in node.staff.accounts():
            lines.append(
                f"  {role.en:<21} {person.username:<7} password {person.password}  "
                f"({ROLE_USE[role]})"
            )
    lines.append(
        "At the first sign-in each account enrols its second factor: the page shows a QR code "
        "(and its secret) for an authenticator app (any TOTP app: Google Authenticator, "
        "FreeOTP, 1Password, ...); type the app's 6-digit code to finish, and from then on sign "
        "in with the password and the app's current code."
    )
    lines.append(f"API tokens (Bearer) of the node operators in {root}/*/{TOKEN_FILE}.")
    return lines


def verify_all(us: RunningNode, cn: RunningNode, references: list[str]) -> int:
    """Both nodes hold the same log of every shared case, and each verifies its own; return
    how many were shared (a draft not yet sent lives on its own node only)."""
    shared = 0
    for reference in references:
        cases = [case_on(n, reference) for n in (us, cn)]
        if any(c is None for c in cases) and not any(c and c["shared"] for c in cases):
            continue
        checks = [n.get(f"/api/v1/cases/{reference}/verify") for n in (us, cn)]
        if not all(c["identical"] for c in checks):
            raise DemoFailure(f"the two logs of {reference} differ: {checks[0]['explanation']}")
        shared += 1
    return shared


def demo(
    workdir: Path = typer.Option(None, help="keep the nodes' data here (default: a temp folder)"),
    serve: bool = typer.Option(
        False,
        "--serve/--no-serve",
        metavar="",  # a flag: no "<bool>" in --help
        help="leave both nodes running afterwards",
    ),
    history: bool = typer.Option(
        True,
        "--history/--no-history",
        metavar="",
        help="first fill both nodes with a year of cooperation (about 230 cases; half a minute "
        "on a quiet machine); --no-history plays only the seven live cases",
    ),
    seed: int = typer.Option(2026, help="the seed of the year of history (same seed, same year)"),
    brief_dir: Path = typer.Option(
        None,
        "--brief-dir",
        help="where the round's briefing packs are written (default: <workdir>/brief, or "
        "build/demo without --workdir)",
    ),
) -> None:
    """Start two nodes (US and CN) on loopback, peer them, fill them with a year of cases,
    play one case of each type and a dialogue round live, print a scorecard and write the
    round's briefing pack. Ctrl-C or SIGTERM stops both nodes."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="accord-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    briefs = brief_dir or (root / "brief" if workdir else Path("build/demo"))
    nodes: list[RunningNode] = []
    summary = ""
    _stop_on_signals()
    try:
        us_settings, us_card, us_staff = prepare_node(root, "US-DOJ", "US")
        cn_settings, cn_card, cn_staff = prepare_node(root, "CN-MOJ", "CN")
        pin(us_settings, cn_card, us_card.name)
        pin(cn_settings, us_card, cn_card.name)
        console.print(
            f"two nodes in {root}: {us_card.name} at {us_card.endpoint}, "
            f"{cn_card.name} at {cn_card.endpoint}"
        )
        year: history_mod.Year | None = None
        shared = 0
        if history:
            year = play_history(us_settings, cn_settings, seed)
        us = start_node(us_settings, us_card, us_staff, root)
        nodes.append(us)
        cn = start_node(cn_settings, cn_card, cn_staff, root)
        nodes.append(cn)
        if year is not None:
            past = [r for refs in year.references.values() for r in refs]
            shared = verify_all(us, cn, past)
            console.print(
                f"the year's {shared} shared cases verify and are identical on both nodes "
                f"({len(past) - shared} drafts not sent yet)"
            )
        references = [play(sc, us, cn) for sc in scenarios.ALL]
        heads: dict[str, tuple[int, str]] = {}
        for reference in references:
            checks = [n.get(f"/api/v1/cases/{reference}/verify") for n in (us, cn)]
            logs = [n.get(f"/api/v1/cases/{reference}/log") for n in (us, cn)]
            if not all(c["identical"] for c in checks) or logs[0] != logs[1]:
                raise DemoFailure(f"the two logs of {reference} differ")
            heads[reference] = (len(logs[0]), checks[0]["local_head"])
            console.print(f"{reference}: {checks[0]['explanation']}", soft_wrap=True)
        round_reference = references[ALL_TYPES.index("round")]
        link_outcome(us, cn, round_reference, references[ALL_TYPES.index("mla")])
        print_scorecard(us)
        write_briefs(us, round_reference, briefs)
        first = references[0]
        summary = (
            f"{len(references) + shared} cases identical on {us.name} and {cn.name}; {first} "
            f"({heads[first][0]} events): head {heads[first][1]}"
        )
        if serve:
            for line in sign_in_lines(nodes, root):
                console.print(line, soft_wrap=True, markup=False)
            console.print("Ctrl-C (or SIGTERM) stops both nodes.")
            while all(n.process.poll() is None for n in nodes):
                time.sleep(1)
        console.print(summary, soft_wrap=True)
    except DemoFailure as exc:
        console.print(f"[red]demo failed: {exc}[/red]")
        raise typer.Exit(1) from None
    except (Stopped, KeyboardInterrupt) as exc:
        console.print(f"stopped ({exc or 'SIGINT'}): both nodes are being stopped")
        if not summary:
            raise typer.Exit(130) from None
        console.print(summary, soft_wrap=True)  # the last line, as after a run without --serve
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for node in nodes:
            node.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if not workdir and not serve:
            shutil.rmtree(root, ignore_errors=True)


def play_history(us: Settings, cn: Settings, seed: int) -> history_mod.Year:
    """The year of cooperation, with a progress bar."""
    names = {country: (people[0][1], people[1][1]) for country, people in DEMO_STAFF.items()}
    quiet = logging.getLogger("accord.identity.integration")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "not screened on receipt" for every removal of the year
    started = time.monotonic()
    try:
        with counting_bar("a year of cooperation", unit="steps", transient=False) as bar:
            task = bar.add_task("history", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            year = history_mod.play_year(us, cn, seed=seed, officers=names, progress=advance)
    finally:
        quiet.setLevel(level)
    kinds = ", ".join(f"{len(v)} {k}" for k, v in year.references.items())
    console.print(
        f"a year of history: {year.cases} cases ({kinds}), {year.events} steps, "
        f"in {time.monotonic() - started:.0f} s",
        soft_wrap=True,
    )
    return year
