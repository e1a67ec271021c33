"""The deployment files in deploy/ as shipped: the systemd units pass `systemd-analyze verify`,
the nginx configuration passes `nginx -t` on Debian's nginx, and a node of two web processes
runs behind that nginx with TLS (a self-signed certificate made here): answers through it,
Secure cookies behind the trusted proxy, the proxy's request id in the node's request log,
metrics not exposed through it."""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accord.cli.demo import Staff, free_port, prepare_node
from tests.conftest import IN_CI

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("accord-web@8701", "accord-delivery@1", "accord-inbox@1")
SHIPPED_ACCORD = "/opt/accord/.venv/bin/accord"


def tool(name: str, package: str) -> str:
    """The path of a system tool; in CI its absence fails (`make deploy-tools` installs it)."""
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        message = f"{name} is missing: `make deploy-tools` (root, apt-get install {package})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def replaced(text: str, replacements: dict[str, str]) -> str:
    """`text` with each string replaced, every one of which must be there: if the shipped file
    changes, the test says so instead of testing something else."""
    for old, new in replacements.items():
        assert old in text, f"the shipped file no longer holds {old!r}"
        text = text.replace(old, new)
    return text


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    accord = Path(sys.executable).with_name("accord")
    for unit in UNITS:
        template = unit.split("@")[0] + "@.service"
        text = (DEPLOY / "systemd" / template).read_text(encoding="utf-8")
        assert "After=network-online.target postgresql.service" in text
        assert "User=accord" in text and "NoNewPrivileges=true" in text
        assert "ProtectSystem=strict" in text and "ReadWritePaths=/srv/accord" in text
        # The shipped path of the program, where `make install-prod` puts it; here, ours.
        (tmp_path / template).write_text(replaced(text, {SHIPPED_ACCORD: str(accord)}))
    for unit in UNITS:
        done = subprocess.run(
            [analyze, "verify", str(tmp_path / f"{unit}.service")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # verify exits 0 on unknown keys and bad values, but says so: nothing must be said.
        said = [
            line
            for line in (done.stdout + done.stderr).splitlines()
            if line.strip() and "accord" in line
        ]
        assert done.returncode == 0 and not said, (unit, done.stdout, done.stderr)
    for unit, flags in (("delivery", "--delivery --no-inbox"), ("inbox", "--inbox --no-delivery")):
        text = (DEPLOY / "systemd" / f"accord-{unit}@.service").read_text(encoding="utf-8")
        assert f"ExecStart={SHIPPED_ACCORD} worker {flags}\n" in text


def nginx_setup(
    root: Path, *, upstreams: tuple[int, int], tls_port: int, plain_port: int
) -> tuple[Path, Path]:
    """A main nginx.conf of its own (pid, logs and temporary files under `root`) that
    includes deploy/nginx/accord.conf with only its addresses and certificate paths
    replaced; returns (nginx.conf, certificate)."""
    root.mkdir(parents=True, exist_ok=True)
    cert, key = root / "fullchain.pem", root / "privkey.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=accord.test",
            "-addext", "subjectAltName=DNS:accord.test,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    shipped = (DEPLOY / "nginx" / "accord.conf").read_text(encoding="utf-8")
    site = replaced(
        shipped,
        {
            "127.0.0.1:8701": f"127.0.0.1:{upstreams[0]}",
            "127.0.0.1:8702": f"127.0.0.1:{upstreams[1]}",
            "    listen 443 ssl http2;": f"    listen 127.0.0.1:{tls_port} ssl http2;",
            "    listen [::]:443 ssl http2;\n": "",  # the test host may have no IPv6
            "    listen 80;": f"    listen 127.0.0.1:{plain_port};",
            "    listen [::]:80;\n": "",
            "/etc/ssl/accord/fullchain.pem": str(cert),
            "/etc/ssl/accord/privkey.pem": str(key),
        },
    )
    (root / "accord.conf").write_text(site)
    temp = "\n".join(
        f"    {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = root / "nginx.conf"
    main.write_text(
        f"{user}daemon off;\npid {root / 'nginx.pid'};\nerror_log {root / 'error.log'} info;\n"
        "events { worker_connections 128; }\n"
        f"http {{\n    access_log {root / 'access.log'};\n{temp}\n"
        f"    include {root / 'accord.conf'};\n}}\n"
    )
    return main, cert


def test_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    nginx = tool("nginx", "nginx")
    main, _ = nginx_setup(
        tmp_path, upstreams=(8701, 8702), tls_port=free_port(), plain_port=free_port()
    )
    done = subprocess.run(
        [nginx, "-t", "-c", str(main), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def _wait_up(url: str, verify: ssl.SSLContext | bool = True, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, verify=verify, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout} s")


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[str, list[int], Path, Staff, Path]]:
    nginx = tool("nginx", "nginx")
    settings, _card, staff = prepare_node(
        tmp_path, "US-DOJ", "US", f"sqlite:///{tmp_path / 'us.db'}"
    )
    ports = [free_port(), free_port()]
    tls_port, plain_port = free_port(), free_port()
    main, cert = nginx_setup(
        tmp_path / "nginx", upstreams=(ports[0], ports[1]), tls_port=tls_port, plain_port=plain_port
    )
    env = {
        **os.environ,
        "ACCORD_DATA_DIR": str(settings.data_dir),
        "ACCORD_DATABASE_URL": settings.resolved_database_url,
        "ACCORD_LOG_FORMAT": "json",
        "ACCORD_FORWARDED_ALLOW_IPS": "127.0.0.1",  # as deploy/accord.env has it
    }
    log = tmp_path / "web.log"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "accord", "serve", "--no-workers", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]  # fmt: skip
    processes.append(
        subprocess.Popen(
            [nginx, "-c", str(main), "-p", str(tmp_path / "nginx")],
            stdout=(tmp_path / "nginx.out").open("ab"),
            stderr=subprocess.STDOUT,
        )
    )
    try:
        for port in ports:
            _wait_up(f"http://127.0.0.1:{port}/livez")
        _wait_up(f"https://127.0.0.1:{tls_port}/livez", verify=trusting(cert))
        yield f"https://127.0.0.1:{tls_port}", [*ports, plain_port], cert, staff, log
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_node_behind_debians_nginx_with_tls(
    behind_nginx: tuple[str, list[int], Path, Staff, Path],
) -> None:
    url, ports, cert, staff, log = behind_nginx
    proxied = httpx.Client(base_url=url, verify=trusting(cert), timeout=10)
    plain = httpx.get(f"http://127.0.0.1:{ports[2]}/cases", timeout=10)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")

    health = proxied.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    cases = proxied.get("/api/v1/cases", headers={"Authorization": f"Bearer {staff.officer.token}"})
    assert cases.status_code == 200

    # Over TLS through the trusted proxy the sign-in cookie is Secure; straight to the process
    # over plain HTTP it is not (and the browser would not send a Secure one back there).
    login = proxied.get("/login")
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("accord_prelogin=") and "; Secure" in cookie, cookie
    direct = httpx.get(f"http://127.0.0.1:{ports[0]}/login", timeout=10)
    assert "accord_prelogin=" in direct.headers["set-cookie"]
    assert "Secure" not in direct.headers["set-cookie"]

    # nginx's $request_id reaches the node, which logs it and echoes it.
    ids = set()
    for _ in range(4):  # both upstreams, whatever nginx's order
        answer = proxied.get("/livez", headers={"X-Request-ID": "from-the-client"})
        rid = answer.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
        ids.add(rid)
    assert len(ids) == 4

    # Metrics: not through the public address; on loopback, straight to the process.
    assert proxied.get("/metrics").status_code == 404
    scraped = httpx.get(f"http://127.0.0.1:{ports[0]}/metrics", timeout=10)
    assert scraped.status_code == 200 and "accord_http_request_duration_seconds" in scraped.text

    time.sleep(0.5)  # the request log line is written as the answer leaves
    logged = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    requests = {r["request_id"]: r for r in logged if r.get("logger") == "accord.request"}
    assert ids <= set(requests), "nginx's request ids are not in the node's request log"
    assert all(requests[i]["route"] == "/livez" and requests[i]["status"] == 200 for i in ids)
