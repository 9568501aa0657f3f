"""The real CLI over HTTPS against the simulator: trust is explicit, never switched off."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ods_charter.simulator import Simulator

from .conftest import API_KEY, edit_charter, write_config


@pytest.fixture
def tls_sim(tmp_path: Path) -> Iterator[Simulator]:
    with Simulator(api_key=API_KEY, state_dir=tmp_path / "portal", tls=True) as simulator:
        yield simulator


def _project(
    tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, extra: str = ""
) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ODS_API_KEY", API_KEY)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    return write_config(tmp_path / "config", sim.base_url, ("fr", "en"), extra=extra)


def test_sync_over_https_with_the_ca_in_the_config(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    assert tls_sim.base_url.startswith("https://")
    config = _project(tmp_path, tls_sim, monkeypatch, f'ca_bundle = "{tls_sim.ca_bundle}"\n')
    edit_charter(tls_sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    assert cli("check", "--config", config).code == 1
    result = cli("sync", "--config", config, "--yes")
    assert result.code == 0, result.all
    assert cli("check", "--config", config).code == 0
    # Three commands, one kept-alive TLS connection each.
    assert tls_sim.connections == 3 and len(tls_sim.requests) > 8


def test_an_unknown_ca_is_refused_before_any_request(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    config = _project(tmp_path, tls_sim, monkeypatch)
    edit_charter(tls_sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    for command in (["check"], ["publish", "--yes"]):
        result = cli(*command, "--config", config)
        assert result.code == 2 and "TLS certificate could not be verified" in result.err
        assert "ca_bundle" in result.err and result.err.count("\n") == 1
    assert tls_sim.requests == []


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"])
def test_the_environment_can_name_the_ca(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:  # type: ignore[no-untyped-def]
    config = _project(tmp_path, tls_sim, monkeypatch)
    monkeypatch.setenv(variable, str(tls_sim.ca_bundle))
    assert cli("check", "--config", config).code == 0


def test_a_certificate_for_another_name_is_refused(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with Simulator(
        api_key=API_KEY, state_dir=tmp_path / "portal", tls=True, tls_names=("portal.example",)
    ) as sim:
        config = _project(tmp_path, sim, monkeypatch, f'ca_bundle = "{sim.ca_bundle}"\n')
        result = cli("check", "--config", config)
        assert result.code == 2 and "TLS certificate could not be verified" in result.err
        assert sim.requests == []


def test_the_deadline_cuts_a_trickling_tls_answer(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    config = _project(tmp_path, tls_sim, monkeypatch, f'ca_bundle = "{tls_sim.ca_bundle}"\n')
    config.write_text(config.read_text().replace("read_timeout = 2", "read_timeout = 1"))
    tls_sim.faults.arm({"trickle": 10, "trickle_bytes": 40, "trickle_delay": 0.1})
    result = cli("check", "--config", config, "--lang", "fr")
    assert result.code == 2 and "timed out waiting for the answer" in result.err


class _ConnectProxy(socketserver.ThreadingTCPServer):
    """A minimal HTTPS proxy (CONNECT): records the tunnels and every byte relayed."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.targets: list[str] = []
        self.seen = bytearray()
        self.lock = threading.Lock()


class _Tunnel(socketserver.BaseRequestHandler):
    server: _ConnectProxy

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b" ")[:2]
        with self.server.lock:
            self.server.seen += head
            self.server.targets.append(f"{method.decode()} {target.decode()}")
        if method != b"CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = target.decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = {self.request: upstream, upstream: self.request}
        try:
            while True:
                ready, _, _ = select.select(list(pair), [], [], 5)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    with self.server.lock:
                        self.server.seen += data
                    pair[sock].sendall(data)
        finally:
            upstream.close()


def test_a_configured_proxy_carries_https_as_an_opaque_tunnel(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    proxy = _ConnectProxy()
    threading.Thread(
        target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
        extra = f'ca_bundle = "{tls_sim.ca_bundle}"\nproxy = "{proxy_url}"\n'
        config = _project(tmp_path, tls_sim, monkeypatch, extra)
        edit_charter(tls_sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
        assert cli("sync", "--config", config, "--yes").code == 0
    finally:
        proxy.shutdown()
        proxy.server_close()
    port = tls_sim.server.server_address[1]
    assert proxy.targets and set(proxy.targets) == {f"CONNECT 127.0.0.1:{port}"}
    assert API_KEY.encode() not in proxy.seen and b"apikey" not in proxy.seen
