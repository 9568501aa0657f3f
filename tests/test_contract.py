"""The harness can fail: the simulator resets what a PUT leaves out, and the
session-wide contract check flags what breaks the OpenAPI file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ods_charter.simulator import Simulator

from .conftest import API_KEY, edit_charter
from .contract import problems

SLUG = "charte-cookies"
API = f"/api/automation/v1.0/code_editor_pages/{SLUG}/"


def test_publish_keeps_every_writable_field_the_put_must_resend(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    """The simulator resets a field a PUT leaves out, as the contract reads; so
    a client that forgets one (CSS, title, tags...) changes the page here."""
    page = sim.store.page(SLUG)
    assert page is not None
    page.update(
        title={"fr": "Charte", "en": "Charter"},
        description="Les cookies du portail",
        tags=["légal"],
        template="custom_wide.html",
        is_restricted=True,
    )
    page["content"]["css"] = {"fr": ".a { color: red }", "en": ".b { color: blue }"}
    sim.store.put_raw_page(page)
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    # A restricted page's public copy needs a login: the live comparison is not the point here.
    assert cli("publish", "--config", project, "--yes", "--no-verify-live").code == 0
    after = sim.store.page(SLUG)
    assert after is not None
    for field in ("title", "description", "tags", "template", "is_restricted", "is_archived"):
        assert after[field] == page[field], field
    assert after["content"]["css"] == page["content"]["css"]
    assert after["content"]["html"]["en"] == page["content"]["html"]["en"]


def test_every_api_exchange_of_a_publish_is_recorded_without_the_key(
    cli, project: Path, sim: Simulator, api_contract: list[dict[str, Any]]
) -> None:  # type: ignore[no-untyped-def]
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")
    assert cli("publish", "--config", project, "--yes").code == 0
    calls = [(e["method"], e["path"], e["status"]) for e in api_contract]
    # plan, re-read just before the write, the write, read-back
    assert calls == [("GET", API, 200), ("GET", API, 200), ("PUT", API, 200), ("GET", API, 200)]
    put = api_contract[2]
    assert (
        json.loads(put["body"])["content"]["html"]["fr"]
        == json.loads(put["answer"])["content"]["html"]["fr"]
    )
    assert API_KEY not in repr(api_contract)


def _exchange(**changes: Any) -> dict[str, Any]:
    body = {"content": {"html": {"fr": "<p>x</p>"}, "css": {}}}
    exchange = {
        "method": "PUT",
        "path": API,
        "query": "",
        "headers": {"Authorization": "apikey ********", "Content-Type": "application/json"},
        "body": json.dumps(body).encode(),
        "status": 200,
        "faulty": False,
        "content_type": "application/json",
        "answer": json.dumps({**body, "slug": SLUG}).encode(),
    }
    exchange.update(changes)
    return exchange


def test_the_contract_check_flags_what_breaks_the_openapi_file() -> None:
    assert problems(_exchange()) == []
    no_content = problems(_exchange(body=b'{"title": {"fr": "x"}}'))
    assert len(no_content) == 1 and "'content' is a required property" in no_content[0]
    no_key = problems(_exchange(headers={"Content-Type": "application/json"}))
    assert len(no_key) == 1 and "Security" in no_key[0]
    bad_answer = problems(_exchange(answer=b'{"content": {"html": {"fr": 3}}}'))
    assert len(bad_answer) == 1 and "answer 200" in bad_answer[0]
    bare_401 = problems(_exchange(status=401, answer=b'{"detail": "no"}'))
    assert any("'error_code' is a required property" in p for p in bare_401)
    not_json_403 = problems(_exchange(status=403, answer=b"<html>Forbidden</html>"))
    assert not_json_403 == [f"PUT {API}: answer 403 is not JSON"]
    # A request broken on purpose: only the answer is held to the contract.
    assert problems(_exchange(body=b"{}"), check_request=False) == []
