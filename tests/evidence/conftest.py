"""A real time-stamping authority for the tests: OpenSSL's `ts -reply` behind a loopback HTTP
front end, with its own CA and a TSA certificate whose extended key usage is time stamping."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.evidence.timestamps import TimestampAuthority

OPENSSL_TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {serial}
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(
    folder: Path, *, common_name: str = "Accord Test TSA"
) -> tuple[Path, Path, Path]:
    """A CA and a TSA certificate it signed (extendedKeyUsage timeStamping, critical, as
    RFC 3161 §2.3 requires); returns the paths of the CA certificate, TSA certificate and key."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{common_name} Root"))
        .issuer_name(_name(f"{common_name} Root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, tsa_path, key_path = folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tsa_path.write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, tsa_path, key_path


class OpenSSLTSA:
    """`openssl ts -reply` answering RFC 3161 queries over HTTP on loopback; `stop()` takes
    it down (connections refused) and `start()` brings it back on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_file, self.certificate_file, self.key_file = make_certificates(folder)
        (folder / "serial").write_text("01\n")
        self.config = folder / "tsa.cnf"
        self.config.write_text(OPENSSL_TSA_CONFIG.format(serial=folder / "serial"))
        self.port = 0
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def authority(self, *, timeout: float = 5.0) -> TimestampAuthority:
        certificate = x509.load_pem_x509_certificate(self.certificate_file.read_bytes())
        roots = tuple(x509.load_pem_x509_certificates(self.ca_file.read_bytes()))
        return TimestampAuthority(
            url=self.url, certificate=certificate, roots=roots, timeout=timeout
        )

    def reply(self, query: bytes) -> bytes:
        with self._lock, tempfile.TemporaryDirectory() as scratch:
            query_file, reply_file = Path(scratch) / "q.tsq", Path(scratch) / "r.tsr"
            query_file.write_bytes(query)
            subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(self.config),
                    "-queryfile",
                    str(query_file),
                    "-inkey",
                    str(self.key_file),
                    "-signer",
                    str(self.certificate_file),
                    "-out",
                    str(reply_file),
                ],
                check=True,
                capture_output=True,
            )
            self.requests += 1
            return reply_file.read_bytes()

    def start(self) -> None:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/tsa":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length", "0"))
                query = self.rfile.read(length)
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(415, "expected application/timestamp-query")
                    return
                try:
                    body = tsa.reply(query)
                except subprocess.CalledProcessError:
                    self.send_error(400, "openssl ts could not answer that query")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[OpenSSLTSA]:
    if shutil.which("openssl") is None:
        pytest.fail("the test TSA needs the openssl command")
    server = OpenSSLTSA(tmp_path / "tsa")
    server.start()
    yield server
    server.stop()
