"""A throwaway self-signed certificate for the servers' TLS option (made with ``openssl``)."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path
from typing import Tuple

__all__ = ["Certificate"]


class Certificate:
    """A key and self-signed certificate for ``host`` (valid one day), in a private temporary
    directory removed by :meth:`remove`."""

    def __init__(self, host: str) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError("tls=True needs the openssl command to make a test certificate")
        self._dir = tempfile.TemporaryDirectory(prefix="eventstream-tls-")
        self.cert_file, self.key_file = _make(openssl, Path(self._dir.name), host)

    def server_context(self, alpn: Tuple[str, ...]) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        if alpn:
            context.set_alpn_protocols(list(alpn))
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cafile=self.cert_file)

    def remove(self) -> None:
        self._dir.cleanup()


def _make(openssl: str, directory: Path, host: str) -> Tuple[str, str]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        ipaddress.ip_address(host)
        names = f"subjectAltName=IP:{host},DNS:localhost"
    except ValueError:
        names = f"subjectAltName=DNS:{host},DNS:localhost"
    command = [
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=eventstream test server",
        "-addext",
        names,
        "-keyout",
        str(key),
        "-out",
        str(cert),
    ]
    done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"openssl could not make a test certificate: {done.stderr.decode(errors='replace')}"
        )
    return str(cert), str(key)
