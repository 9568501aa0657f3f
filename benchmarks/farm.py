"""A farm of simulated portals in processes of their own, apart from the client.

Portal ``i`` is served by simulator ``i % SIMULATORS``: every portal still has
its own configuration and its own connections (the client keeps one session
per portal), while the farm stays a few dozen servers, not thousands of
threads polling. Each simulator adds ``latency`` to every answer.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from ods_charter.simulator import Simulator

SIMULATORS = 48
PROCESSES = 2
REGISTRY = Path(__file__).resolve().parent.parent / "config" / "registry.toml"


def _serve(count: int, latency: float, tls: bool, root: Path, conn: Connection) -> None:
    sims = []
    for i in range(count):
        # HTTPS: each simulator makes a throwaway CA; see _bundle for the client's side.
        sim = Simulator(state_dir=root / f"sim{i}", api_key=None, tls=tls).start()
        sim.faults.arm({"latency": latency})
        sims.append(sim)
    conn.send([(sim.base_url, str(sim.ca_bundle or "")) for sim in sims])
    while conn.recv() == "cpu":  # until the benchmark is done
        conn.send(time.process_time())
    for sim in sims:
        sim.stop()


class Farm:
    def __init__(self, config: Path, pipes: list[Connection]) -> None:
        self.config = config  # the main config: its portals/ lists every portal
        self._pipes = pipes

    def cpu(self) -> float:
        """CPU seconds the farm's processes have used so far."""
        for pipe in self._pipes:
            pipe.send("cpu")
        return sum(pipe.recv() for pipe in self._pipes)


@contextmanager
def farm(root: Path, portals: int, latency: float, tls: bool) -> Iterator[Farm]:
    """Serve ``portals`` portals in processes of their own."""
    context = multiprocessing.get_context("fork")  # the benchmark has no threads yet
    per_process = max(1, min(portals, SIMULATORS) // PROCESSES)
    pipes, workers, endpoints = [], [], []
    try:
        for p in range(PROCESSES):
            parent, child = context.Pipe()
            worker = context.Process(
                target=_serve, args=(per_process, latency, tls, root / f"farm{p}", child)
            )
            worker.start()
            pipes.append(parent)
            workers.append(worker)
        for pipe in pipes:
            endpoints += pipe.recv()
        yield Farm(_configs(root / "config", portals, endpoints, _bundle(root, endpoints)), pipes)
    finally:
        for pipe in pipes:
            pipe.send("stop")
        for worker in workers:
            worker.join(timeout=30)


def _bundle(root: Path, endpoints: list[tuple[str, str]]) -> str:
    """One CA bundle as a user with a private CA has: certifi's and the farm's CAs.

    Its size matters: the client loads it once per process, as it would in use.
    """
    cas = [Path(ca).read_text() for _, ca in endpoints if ca]
    if not cas:
        return ""
    import certifi

    bundle = root / "ca-bundle.pem"
    bundle.write_text(Path(certifi.where()).read_text() + "\n".join(cas))
    return str(bundle)


def _configs(
    directory: Path, portals: int, endpoints: list[tuple[str, str]], ca_bundle: str
) -> Path:
    (directory / "portals").mkdir(parents=True, exist_ok=True)
    main = directory / "portal.toml"
    main.write_text("")
    for i in range(portals):
        base_url = endpoints[i % len(endpoints)][0]
        http = f'[http]\nca_bundle = "{ca_bundle}"\n' if ca_bundle else ""
        (directory / "portals" / f"p{i:05}.toml").write_text(
            f'[portal]\nname = "portal {i}"\nbase_url = "{base_url}"\n'
            f'[page]\nslug = "charte-cookies"\nlanguages = ["fr"]\n'
            f'[registry]\npath = "{REGISTRY}"\n{http}'
        )
    return main
