"""The portal simulator: the Automation API contract, public pages, bad input."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_core import OpenAPI

from ods_charter.errors import PortalError
from ods_charter.portal import AutomationClient
from ods_charter.simulator import Simulator
from ods_charter.transport import Transport

from .conftest import API_KEY, FIXTURES, READ_ONLY_KEY
from .contract import problems

SPEC = FIXTURES / "openapi" / "ods-automation-api-v1.0-code-editor-pages.openapi.json"
API = "/api/automation/v1.0/code_editor_pages/"
AUTH = {"Authorization": f"apikey {API_KEY}"}


def _openapi(base_url: str) -> OpenAPI:
    spec = json.loads(SPEC.read_text())
    spec["servers"] = [{"url": f"{base_url}/api/automation/v1.0"}]
    return OpenAPI.from_dict(spec)


@pytest.mark.off_contract  # one request breaks the contract on purpose
def test_every_exchange_of_the_client_follows_the_official_contract(
    sim: Simulator, api_contract: list[dict[str, Any]]
) -> None:
    client = AutomationClient(sim.base_url, API_KEY, Transport())
    pages = list(client.list_pages(page_size=2))
    page = client.get_page("charte-cookies")
    body = {k: page[k] for k in ("title", "description", "template", "tags", "content")}
    body["content"]["html"]["fr"] += "<p>Mise à jour</p>"
    client.check_put(client.put_page("charte-cookies", body), "charte-cookies")
    with pytest.raises(PortalError):
        client.get_page("does-not-exist")
    bad = requests.put(sim.base_url + API + "charte-cookies/", json={"title": {}}, headers=AUTH)

    assert len(pages) == len(sim.store.snapshot()["pages"])
    *ours, theirs = list(api_contract)  # as the simulator received and answered them
    assert len(ours) >= 6 and {e["method"] for e in ours} == {"GET", "PUT"}
    # Every request the client sent, and every answer it got, follows the contract...
    assert [p for exchange in ours for p in problems(exchange)] == []
    # ...and the validator does catch a request that breaks it, while the
    # simulator's answer to that request still follows the contract.
    assert any("'content' is a required property" in p for p in problems(theirs))
    assert problems(theirs, check_request=False) == []
    assert bad.status_code == 400
    assert bad.json()["detail"] == {"content": ["This field is required."]}


@pytest.mark.off_contract  # breaks the contract on purpose
def test_pagination(sim: Simulator) -> None:
    first = requests.get(sim.base_url + API, params={"limit": 4}, headers=AUTH).json()
    assert first["total_count"] == 6 and len(first["results"]) == 4 and first["previous"] is None
    second = requests.get(first["next"], headers=AUTH).json()
    assert len(second["results"]) == 2 and second["next"] is None and second["previous"]
    meta = requests.get(sim.base_url + API, params={"limit": 0}, headers=AUTH).json()
    assert meta["results"] == [] and meta["total_count"] == 6
    too_many = requests.get(sim.base_url + API, params={"limit": 1001}, headers=AUTH)
    assert too_many.status_code == 400 and too_many.json()["error_code"] == "validation_error"


@pytest.mark.off_contract  # breaks the contract on purpose
@pytest.mark.parametrize(
    ("headers", "params", "status"),
    [
        ({}, {}, 401),
        ({"Authorization": "apikey wrong"}, {}, 401),
        ({"Authorization": f"apikey {READ_ONLY_KEY}"}, {}, 403),
        ({}, {"apikey": API_KEY}, 200),
    ],
)
def test_auth_on_update(
    sim: Simulator, headers: dict[str, str], params: dict[str, str], status: int
) -> None:
    body = {"content": {"html": {"fr": "<p>x</p>"}}}
    resp = requests.put(
        sim.base_url + API + "charte-cookies/", json=body, headers=headers, params=params
    )
    assert resp.status_code == status
    if status != 200:
        assert set(resp.json()) >= {"error_code", "message"}


def test_read_only_key_may_read(sim: Simulator) -> None:
    resp = requests.get(
        sim.base_url + API + "charte-cookies/", headers={"Authorization": f"apikey {READ_ONLY_KEY}"}
    )
    assert resp.status_code == 200 and resp.json()["slug"] == "charte-cookies"


def test_put_ignores_read_only_fields_and_replaces_the_page(sim: Simulator) -> None:
    before = sim.store.page("charte-cookies")
    assert before is not None
    body = {
        "content": {"html": {"fr": "<p>seul</p>"}},
        "slug": "hijack",
        "created_by": {"username": "mallory"},
        "is_pushed_by_parent": True,
    }
    resp = requests.put(sim.base_url + API + "charte-cookies/", json=body, headers=AUTH)
    page = resp.json()
    assert resp.status_code == 200
    assert page["slug"] == "charte-cookies" and page["created_by"] == before["created_by"]
    assert page["is_pushed_by_parent"] is False
    assert page["content"]["html"] == {"fr": "<p>seul</p>"}  # English dropped: PUT replaces
    # Writable fields not given go back to their defaults, as the contract reads.
    assert page["content"]["css"] == {} and page["title"] == {} and page["tags"] == []
    assert page["description"] == "" and page["template"] == "custom.html"
    assert page["updated_by"] == {"username": "charter.bot"}
    assert page["updated_at"] > before["updated_at"]


def test_lenient_put_keeps_what_it_is_not_given(tmp_path: Path) -> None:
    with Simulator(api_key=API_KEY, state_dir=tmp_path, lenient_put=True) as lenient:
        before = lenient.store.page("charte-cookies")
        body = {"content": {"html": {"fr": "<p>seul</p>"}}}
        page = requests.put(lenient.base_url + API + "charte-cookies/", json=body, headers=AUTH)
        assert before is not None and page.status_code == 200
        kept = {k: before[k] for k in ("title", "tags", "description", "template")}
        assert {k: page.json()[k] for k in kept} == kept
        assert page.json()["content"]["css"] == before["content"]["css"]


def test_archived_page_cannot_be_edited(sim: Simulator) -> None:
    resp = requests.put(
        sim.base_url + API + "ancienne-charte/",
        json={"content": {"html": {"fr": "x"}}},
        headers=AUTH,
    )
    assert resp.status_code == 400 and "archived" in resp.json()["message"]


@pytest.mark.off_contract  # breaks the contract on purpose
@pytest.mark.parametrize(
    ("data", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "validation_error"),
        (b'{"content": {}}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "validation_error"),
        (
            b'{"content": {"html": {"fr": 3}}}',
            {"Content-Type": "application/json"},
            400,
            "validation_error",
        ),
        (
            b'{"content": {"html": {}}, "colour": 1}',
            {"Content-Type": "application/json"},
            400,
            "validation_error",
        ),
        (b"x" * 2_000_001, {"Content-Type": "application/json"}, 413, "payload_too_large"),
        (b"\xff\xfe", {"Content-Type": "application/json"}, 400, "validation_error"),
    ],
)
def test_bad_bodies_get_clean_json_errors(
    sim: Simulator, data: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    state_before = (sim.state_dir / "state.json").read_bytes()
    resp = requests.put(
        sim.base_url + API + "charte-cookies/", data=data, headers={**AUTH, **headers}
    )
    assert resp.status_code == status
    assert resp.json()["error_code"] == code
    assert "Traceback" not in resp.text
    assert (sim.state_dir / "state.json").read_bytes() == state_before


@pytest.mark.off_contract  # breaks the contract on purpose
@pytest.mark.parametrize("slug", ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "UPPER", "a%00b", "x" * 200])
def test_strange_slugs_are_not_found(sim: Simulator, slug: str) -> None:
    resp = requests.get(f"{sim.base_url}{API}{slug}/", headers=AUTH)
    assert resp.status_code == 404 and resp.json()["error_code"] == "not_found"


def test_public_pages_and_cookies(sim: Simulator) -> None:
    fr = requests.get(sim.base_url + "/pages/charte-cookies/")
    assert fr.status_code == 200 and "Nom du prestataire" in fr.text and 'ng-app="' in fr.text
    assert "csrftoken" in fr.cookies and "django_language" not in fr.cookies
    raw = fr.raw.headers.getlist("Set-Cookie")
    assert any("Max-Age=31449600; Path=/; SameSite=Lax" in c for c in raw)
    en = requests.get(sim.base_url + "/pages/charte-cookies/", params={"flg": "en"})
    assert "Service provider's name" in en.text and en.cookies["django_language"] == "en"
    unknown_language = requests.get(sim.base_url + "/pages/charte-cookies/", params={"flg": "de"})
    assert "Nom du prestataire" in unknown_language.text
    assert requests.get(sim.base_url + "/pages/nope/").status_code == 404
    assert requests.get(sim.base_url + "/pages/ancienne-charte/").status_code == 404
    restricted = requests.get(sim.base_url + "/pages/charte-interne/", allow_redirects=False)
    assert restricted.status_code == 302 and restricted.headers["Location"].startswith("/login/")
    legal = requests.get(sim.base_url + "/terms/cookies-policy/")
    assert legal.status_code == 200 and "Nom du prestataire" in legal.text


def test_request_log_masks_the_key(sim: Simulator) -> None:
    requests.get(sim.base_url + API, headers=AUTH)
    requests.get(sim.base_url + API, params={"apikey": API_KEY})
    log = requests.get(sim.base_url + "/__simulator__/requests").json()
    assert API_KEY not in json.dumps(log)
    assert log[0]["headers"]["Authorization"] == "apikey ********"
    assert log[1]["query"] == "apikey=%2A%2A%2A%2A%2A%2A%2A%2A"


def test_admin_faults_endpoint_arms_and_clears(sim: Simulator) -> None:
    armed = requests.post(sim.base_url + "/__simulator__/faults", json={"fail_count": 1})
    assert armed.json()["fail_count"] == 1
    assert requests.get(sim.base_url + "/").status_code == 503
    assert requests.get(sim.base_url + "/").status_code == 200
    bad = requests.post(sim.base_url + "/__simulator__/faults", json={"explode": True})
    assert bad.status_code == 400 and "explode" in bad.json()["message"]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with Simulator(api_key=API_KEY, state_dir=tmp_path) as first:
        requests.put(
            first.base_url + API + "accueil/",
            json={"content": {"html": {"fr": "<p>v2</p>"}}},
            headers=AUTH,
        )
    with Simulator(api_key=API_KEY, state_dir=tmp_path) as second:
        assert second.store.page("accueil")["content"]["html"]["fr"] == "<p>v2</p>"  # type: ignore[index]


def test_fifty_concurrent_clients_leave_a_consistent_state(sim: Simulator) -> None:
    errors: list[Any] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            with requests.Session() as session:
                for i in range(4):
                    if i % 2:
                        resp = session.get(sim.base_url + API + "accueil/", headers=AUTH)
                    else:
                        body = {"content": {"html": {"fr": f"<p>client {n} write {i}</p>"}}}
                        resp = session.put(sim.base_url + API + "accueil/", json=body, headers=AUTH)
                    with lock:
                        statuses.append(resp.status_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and set(statuses) == {200} and len(statuses) == 200
    state = json.loads((sim.state_dir / "state.json").read_text())
    history = [h for h in state["history"] if h["slug"] == "accueil"]
    assert len(history) == 100  # every PUT recorded: no lost update unnoticed
    stamps = [h["updated_at"] for h in history]
    assert stamps == sorted(stamps) and len(set(stamps)) == 100
    assert state["pages"]["accueil"]["updated_at"] == stamps[-1]
