"""``ods-charter demo``: the whole cycle against the embedded simulator."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import replace
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from ods_charter.charter import run_check
from ods_charter.config import PortalConfig, load_config
from ods_charter.diff import CheckResult
from ods_charter.html.splice import table_spans
from ods_charter.portal import AutomationClient
from ods_charter.registry import Registry, load_registry
from ods_charter.reports import render
from ods_charter.reports.build import from_check
from ods_charter.reports.plans import colour_diff
from ods_charter.simulator import Simulator, seed_state
from ods_charter.simulator.state import CHARTER_SLUG
from ods_charter.sync import sync
from ods_charter.transport import Transport

_OBSOLETE_ROW = """<tr>
                <td>Opendatasoft</td>
                <td>Ancien suivi de navigation</td>
                <td>ods_legacy_tracking</td>
                <td>Mesurer la navigation (service arrêté en 2022)</td>
            </tr>"""


def drifted_state() -> dict[str, Any]:
    """The STAR portal after a careless edit: one cookie gone, an obsolete one
    still listed, a purpose reworded in French and in English."""
    state = seed_state()
    content = state["pages"][CHARTER_SLUG]["content"]["html"]
    fr = content["fr"]
    start = fr.index("<tr>", fr.index("Choix concernant") - 200)
    end = fr.index("</tr>", start) + len("</tr>")
    fr = fr[:start] + _OBSOLETE_ROW + fr[end:]  # cookies_preferences gone, an old one listed
    content["fr"] = fr.replace(
        "Se souvenir de la langue du visiteur", "Se souvenir de la langue choisie"
    )
    content["en"] = content["en"].replace(
        "Retrieve data through API calls", "Fetch data with API calls"
    )
    return state


def outside_tables(html: str) -> str:
    """The page with its tables cut out: what must never change."""
    out, at = [], 0
    for span in table_spans(html):
        out.append(html[at : span.start])
        at = span.end
    return "".join(out) + html[at:]


def _to_text(result: CheckResult, color: bool) -> str:
    return render(from_check(result), "text", color).rstrip("\n")


def run_demo(config_path: Path | None, echo: Callable[[str], None], color: bool = False) -> int:
    """The cycle on a simulated STAR portal; ``config_path`` defaults to the one
    shipped in the package, so that the demo runs from any folder."""
    with as_file(files("ods_charter") / "data" / "portal.toml") as shipped:
        config = load_config(config_path or shipped)
        registry = load_registry(config.registry_path)
    return _run(config, registry, echo, color)


def _run(config: PortalConfig, registry: Registry, echo: Callable[[str], None], color: bool) -> int:
    key = secrets.token_hex(16)  # a fresh demo key: never printed, never stored
    with (
        tempfile.TemporaryDirectory(prefix="ods-charter-demo-") as tmp,
        Simulator(api_key=key, state=drifted_state(), state_dir=Path(tmp) / "portal") as sim,
    ):
        cfg = replace(config, base_url=sim.base_url, languages=("fr", "en"))
        client = AutomationClient(sim.base_url, key, Transport(cfg.http))
        before_page = sim.store.page(CHARTER_SLUG)
        assert before_page is not None
        echo(f"A simulated STAR portal is running at {sim.base_url}.")
        echo("Its cookie charter was edited by hand and no longer matches the registry.\n")

        echo("1. check: read the public page in French and English, compare with the registry")
        first = run_check(cfg, registry, transport=client.transport)
        echo(_indent(_to_text(first, color)))
        echo(f"   exit code {first.exit_code} (1 = drift): this is what CI would report.\n")

        echo("2. sync: plan the fix through the Automation API, back up, write, verify")
        outcome = sync(
            cfg,
            registry,
            client,
            confirm=lambda plan: True,  # the demo answers yes; real runs ask or need --yes
            backup_dir=Path(tmp) / "backups",
            audit_log=Path(tmp) / "audit.jsonl",
            on_step=lambda line: echo(_indent(line)),
        )
        if outcome.plan is not None:
            echo("   the HTML change that was sent, row by row (- before, + after the sync):")
            echo(_indent(colour_diff(outcome.plan.html_diff(), color).rstrip()))
        echo("")

        echo("3. check again: the API copy now matches the registry (and the public page shows it)")
        final = outcome.final
        echo(_indent(_to_text(final, color)))

        after_page = sim.store.page(CHARTER_SLUG)
        assert after_page is not None
        kept = (
            all(
                outside_tables(before_page["content"]["html"][lang])
                == outside_tables(after_page["content"]["html"][lang])
                for lang in before_page["content"]["html"]
            )
            and before_page["content"]["css"] == after_page["content"]["css"]
        )
        echo("\n4. nothing else moved: every byte outside the cookie tables, the CSS and")
        echo(f"   the title are as they were: {'yes' if kept else 'NO'}")

        echo("\n5. sync again: nothing to write (the page is already true)")
        again = sync(
            cfg,
            registry,
            client,
            confirm=lambda plan: True,
            backup_dir=Path(tmp) / "backups",
            audit_log=Path(tmp) / "audit.jsonl",
        )
        writes = sum(1 for r in sim.requests if r["method"] == "PUT")
        echo(f"   PUT requests received by the portal in all: {writes}")
        ok = first.exit_code == 1 and final.exit_code == 0 and kept and again.published is None
        ok = ok and writes == 1
        echo(
            "\nDemo finished: "
            + ("every step behaved as expected." if ok else "SOMETHING WENT WRONG.")
        )
        echo("The simulator, its state, the backup and the audit log were removed.")
    return 0 if ok else 1


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())
