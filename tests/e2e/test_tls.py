"""TLS: ``--tls-cert``/``--tls-key`` on the server, ``ssl=`` on the client."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from netplay.client import Client
from netplay.server import Server

from ..conftest import RawPeer


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made for this test run."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netplay test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


async def test_a_game_over_tls(
    make_server: Callable[..., Awaitable[Server]], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    server = await make_server(tls_cert=str(cert), tls_key=str(key))
    trust = ssl.create_default_context(cafile=str(cert))
    a = await Client.connect("127.0.0.1", server.port, ssl=trust)
    b = await Client.connect("127.0.0.1", server.port, ssl=trust)
    await a.quick_match("tictactoe")
    await b.quick_match("tictactoe")
    await b.wait_for("state")
    await a.move(4)
    assert (await b.wait_for("state", last={"seat": 0, "move": 4}))["state"]["board"][4] == "X"
    await a.close()
    await b.close()
    # A client that does not trust the certificate is refused by its own TLS check.
    with pytest.raises(ssl.SSLCertVerificationError):
        await Client.connect("127.0.0.1", server.port, ssl=ssl.create_default_context())
    # A plain-TCP client gets no netplay answer from a TLS port.
    plain = await RawPeer.open(server.port)
    plain.send({"type": "hello", "protocol": 1})
    assert await plain.closed()
