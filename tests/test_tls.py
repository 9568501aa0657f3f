"""The real CLI over HTTPS against the simulator: trust is explicit, never switched off."""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from ods_charter.simulator import Simulator

from .conftest import API_KEY, edit_charter, write_config
from .test_transport import hung_up


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
    assert hung_up(tls_sim, 3)  # each attempt's TLS connection was cut, not read to its end


class _SlowRelay(socketserver.ThreadingTCPServer):
    """A TCP relay in front of a portal that passes the portal's bytes on one at a
    time, ``delay`` apart: a TLS handshake that crawls, each byte well within any
    socket timeout. Counts the bytes passed on before the client hung up."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _SlowPipe)
        self.upstream, self.delay = upstream, delay
        self.passed = 0
        self.hung_up = threading.Event()


class _SlowPipe(socketserver.BaseRequestHandler):
    server: _SlowRelay

    def handle(self) -> None:
        with socket.create_connection(self.server.upstream) as portal:
            self.request.setblocking(False)
            while True:
                with contextlib.suppress(BlockingIOError):
                    sent = self.request.recv(65536)
                    if not sent:  # the client hung up
                        self.server.hung_up.set()
                        return
                    portal.sendall(sent)
                ready, _, _ = select.select([portal], [], [], self.server.delay)
                if ready:
                    data = portal.recv(1)
                    if not data:
                        return
                    try:
                        self.request.sendall(data)
                    except OSError:
                        self.server.hung_up.set()
                        return
                    self.server.passed += 1
                    threading.Event().wait(self.server.delay)


def test_the_deadline_cuts_a_crawling_tls_handshake(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    port = tls_sim.server.server_address[1]
    relay = _SlowRelay(("127.0.0.1", port), delay=0.005)
    threading.Thread(
        target=relay.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        config = _project(tmp_path, tls_sim, monkeypatch, f'ca_bundle = "{tls_sim.ca_bundle}"\n')
        text = config.read_text().replace(
            tls_sim.base_url, f"https://127.0.0.1:{relay.server_address[1]}"
        )
        config.write_text(
            text.replace("read_timeout = 2", "read_timeout = 0.5").replace(
                "retries = 2", "retries = 0"
            )
        )
        result = cli("check", "--config", config, "--lang", "fr")
        assert relay.hung_up.wait(5)
    finally:
        relay.shutdown()
        relay.server_close()
    assert result.code == 2 and "timed out waiting for the answer" in result.err, result.all
    # 0.5 s at 5 ms a byte is at most 100 bytes: the handshake (about 380 bytes from
    # the portal) was cut, not read to its end and then cut at the request.
    assert relay.passed < 250, relay.passed
    assert tls_sim.requests == []


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
                # Bytes a TLS layer has already decrypted wake no select().
                ready = [s for s in pair if isinstance(s, ssl.SSLSocket) and s.pending()]
                if not ready:
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


class _TlsConnectProxy(_ConnectProxy):
    """The same proxy reached over TLS, with a certificate from its own CA."""

    def __init__(self, authority: trustme.CA) -> None:
        super().__init__()
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(self.tls)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        return self.tls.wrap_socket(sock, server_side=True), address


@contextlib.contextmanager
def _serving(proxy: _ConnectProxy) -> Iterator[str]:
    """The proxy's port, served in a thread for the block."""
    threading.Thread(
        target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield str(proxy.server_address[1])
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_configured_proxy_carries_https_as_an_opaque_tunnel(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    proxy = _ConnectProxy()
    with _serving(proxy) as proxy_port:
        extra = f'ca_bundle = "{tls_sim.ca_bundle}"\nproxy = "http://127.0.0.1:{proxy_port}"\n'
        config = _project(tmp_path, tls_sim, monkeypatch, extra)
        edit_charter(tls_sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
        assert cli("sync", "--config", config, "--yes").code == 0
    port = tls_sim.server.server_address[1]
    assert proxy.targets and set(proxy.targets) == {f"CONNECT 127.0.0.1:{port}"}
    assert API_KEY.encode() not in proxy.seen and b"apikey" not in proxy.seen


def test_the_ca_bundle_is_loaded_once_per_process_not_per_connection(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    config = _project(tmp_path, tls_sim, monkeypatch, f'ca_bundle = "{tls_sim.ca_bundle}"\n')
    for _ in range(3):  # three commands, three sessions, three connections
        assert cli("check", "--config", config).code == 0
    assert tls_sim.connections == 3 and len(loads) == 1


def test_a_fleet_over_https_keeps_each_portal_on_its_own_ca(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    sims = [
        Simulator(api_key=API_KEY, state_dir=tmp_path / f"sim{i}", tls=True).start()
        for i in range(3)
    ]
    try:
        configs = [
            write_config(
                tmp_path / f"p{i}", sim.base_url, name=f"p{i}", extra=f'ca_bundle = "{ca}"\n'
            )
            for i, (sim, ca) in enumerate(
                zip(sims, [sims[0].ca_bundle, sims[1].ca_bundle, sims[0].ca_bundle], strict=True)
            )
        ]
        edit_charter(sims[1], "fr", "Se souvenir de la langue du visiteur", "Langue")
        args = [a for c in configs for a in ("--config", str(c))]
        result = cli("check", *args, "--jobs", "3", "--format", "json")
        refused_before_http = sims[2].requests == []
    finally:
        for sim in sims:
            sim.stop()
    portals = json.loads(result.out)["portals"]
    # The third trusts the first portal's CA only: its own certificate is refused.
    assert [p["status"] for p in portals] == ["ok", "drift", "error"]
    assert "TLS certificate could not be verified" in portals[2]["error"]
    assert refused_before_http


def test_a_public_page_redirected_to_https_is_verified_with_the_configured_ca(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with Simulator(api_key=API_KEY, state_dir=tmp_path / "plain") as plain:
        config = _project(tmp_path, plain, monkeypatch, f'ca_bundle = "{tls_sim.ca_bundle}"\n')
        plain.faults.arm({"redirect": 1, "redirect_to": tls_sim.base_url})
        result = cli("check", "--config", config, "--lang", "fr")
    assert result.code == 0, result.all
    assert [r["path"] for r in tls_sim.requests] == ["/pages/charte-cookies/"]


def test_a_hashed_directory_of_cas_is_trusted(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # REQUESTS_CA_BUNDLE may name a directory prepared by `openssl rehash`, as requests allows.
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(str(tls_sim.ca_bundle), certs / "simulator.pem")
    subprocess.run(["openssl", "rehash", str(certs)], check=True)
    config = _project(tmp_path, tls_sim, monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs))
    result = cli("check", "--config", config)
    assert result.code == 0, result.all


def test_a_proxy_whose_certificate_is_not_trusted_gets_nothing(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # An HTTPS proxy is verified as the portal is; its own CA is not in the bundle.
    with Simulator(api_key=API_KEY, state_dir=tmp_path / "proxy", tls=True) as proxy:
        extra = f'ca_bundle = "{tls_sim.ca_bundle}"\nproxy = "{proxy.base_url}"\n'
        config = _project(tmp_path, tls_sim, monkeypatch, extra)
        result = cli("publish", "--config", config, "--yes")
        assert proxy.requests == [] and tls_sim.requests == []
    assert result.code == 2 and "TLS certificate could not be verified" in result.err, result.all
    assert result.err.count("\n") == 1
    assert "the proxy's TLS certificate" in result.err  # not the portal's: its CA is trusted


def test_a_proxy_that_cannot_be_reached_is_named(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    extra = f'ca_bundle = "{tls_sim.ca_bundle}"\nproxy = "http://127.0.0.1:{port}"\n'
    config = _project(tmp_path, tls_sim, monkeypatch, extra)
    config.write_text(config.read_text().replace("retries = 2", "retries = 0"))
    result = cli("check", "--config", config, "--lang", "fr")
    assert result.code == 2 and "cannot connect through the proxy ([http] proxy)" in result.err
    assert tls_sim.requests == [] and result.err.count("\n") == 1, result.all


def test_an_https_proxy_is_verified_with_the_configured_bundle(
    cli, tmp_path: Path, tls_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # The bundle holds the portal's CA and the proxy's (a company's private CA): the
    # proxy's certificate is checked against it, not against the system's CAs.
    authority = trustme.CA(organization_name="a company proxy")
    bundle = tmp_path / "company-and-portal.pem"
    bundle.write_bytes(Path(str(tls_sim.ca_bundle)).read_bytes() + authority.cert_pem.bytes())
    proxy = _TlsConnectProxy(authority)
    with _serving(proxy) as proxy_port:
        extra = f'ca_bundle = "{bundle}"\nproxy = "https://127.0.0.1:{proxy_port}"\n'
        result = cli("check", "--config", _project(tmp_path, tls_sim, monkeypatch, extra))
    assert result.code == 0, result.all
    assert set(proxy.targets) == {f"CONNECT 127.0.0.1:{tls_sim.server.server_address[1]}"}
    assert [r["path"] for r in tls_sim.requests][:1] == ["/pages/charte-cookies/"]


def test_a_plain_http_run_loads_no_ca_bundle(
    cli, tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Loopback HTTP (the simulator, a local test portal): no TLS, so no bundle is
    # read, and one that is broken is no reason to fail.
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate\n")
    config = _project(tmp_path, sim, monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(broken))
    result = cli("check", "--config", config)
    assert result.code == 0, result.all
