"""CPU per new HTTPS connection, the client's share only (the simulator runs in
another process). Baseline: a requests session given the CA bundle as a path, as
the client did before, which loads the bundle again for every connection.
Measured: ods-charter's Transport (one TLS context per process). A bundle the
size of certifi's plus the simulator's CA, as a private-CA user would have.
Also: the same requests over plain HTTP, the ratio the fleet target names
(CPU per portal over HTTPS <= 2x over HTTP). A/B interleaved, >= 5 runs."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import certifi
import requests

from ods_charter.config import HttpSettings
from ods_charter.transport import Transport

CONNECTIONS = 40
RUNS = 7
PAGE = "/pages/charte-cookies/"


def _simulator(root: Path, tls: bool) -> tuple[subprocess.Popen[str], str, str | None]:
    args = [sys.executable, "-m", "ods_charter", "simulator", "--port", "0"]
    args += ["--state", str(root), "--api-key", "bench-key-0000"] + (["--tls"] if tls else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[3]
    ca = proc.stdout.readline().split()[3] if tls else None
    return proc, url, ca


def _cpu(one: Callable[[], None]) -> float:
    start = time.process_time()
    for _ in range(CONNECTIONS):
        one()
    return (time.process_time() - start) / CONNECTIONS * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        https, https_url, ca = _simulator(root / "tls", tls=True)
        http, http_url, _ = _simulator(root / "plain", tls=False)
        try:
            bundle = root / "bundle.pem"
            bundle.write_text(Path(certifi.where()).read_text() + Path(str(ca)).read_text())
            settings = HttpSettings(ca_bundle=str(bundle))

            def baseline() -> None:
                with requests.Session() as session:
                    session.get(https_url + PAGE, verify=str(bundle), timeout=5).raise_for_status()

            def transport(url: str) -> Callable[[], None]:
                def one() -> None:
                    client = Transport(settings)
                    assert client.request("GET", url + PAGE).status == 200
                    client.close()

                return one

            runs: dict[str, list[float]] = {"baseline": [], "https": [], "http": []}
            transport(https_url)()  # warm-up: imports, the one context
            for _ in range(RUNS):
                runs["baseline"].append(_cpu(baseline))
                runs["https"].append(_cpu(transport(https_url)))
                runs["http"].append(_cpu(transport(http_url)))
        finally:
            https.terminate()
            http.terminate()

    def line(name: str, values: list[float]) -> str:
        return (
            f"  {name:<40} min {min(values):6.2f}  median {statistics.median(values):6.2f}"
            f"  max {max(values):6.2f} ms CPU"
        )

    print(f"TLS: client CPU per new connection ({CONNECTIONS} connections x {RUNS} runs)")
    print(line("requests, bundle path (before)", runs["baseline"]))
    print(line("Transport over HTTPS (one context)", runs["https"]))
    print(line("Transport over plain HTTP", runs["http"]))
    before = [b / h for b, h in zip(runs["baseline"], runs["https"], strict=True)]
    https_http = [h / p for h, p in zip(runs["https"], runs["http"], strict=True)]
    for name, ratios in (("before / after", before), ("HTTPS / HTTP", https_http)):
        print(
            f"  ratio {name:<14} min {min(ratios):.2f}  median {statistics.median(ratios):.2f}"
            f"  max {max(ratios):.2f}"
        )


if __name__ == "__main__":
    main()
