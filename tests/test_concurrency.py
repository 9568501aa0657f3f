"""Writes that race, and writes whose outcome is unknown: nothing is lost, and
the user is told what really happened. Real HTTP to the simulator throughout."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ods_charter.config import load_config
from ods_charter.errors import ConcurrentEditError, PublishError
from ods_charter.lock import page_lock
from ods_charter.portal import AutomationClient
from ods_charter.publish import execute, plan_publish
from ods_charter.registry import load_registry
from ods_charter.simulator import Simulator
from ods_charter.transport import Transport

from .conftest import API_KEY, edit_charter
from .conftest import charter_page as _page
from .conftest import put_count as _puts

SLUG = "charte-cookies"
NOTE = "<p>Modifié par quelqu'un d'autre.</p>"


def _drift(sim: Simulator) -> None:
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")


def _audit(project: Path) -> list[dict[str, Any]]:
    path = project.parent.parent / ".ods-charter" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _publish_with_ctrl_c(cli, project: Path, when: Callable[[], bool]) -> Any:  # type: ignore[no-untyped-def]
    """Run publish; press Ctrl-C (SIGINT to the main thread) once ``when()`` holds."""
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        while not when():
            time.sleep(0.01)
        signal.pthread_kill(main, signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    result = cli("publish", "--config", project, "--yes")
    presser.join()
    return result


def _backup(project: Path) -> dict[str, Any]:
    (path,) = (project.parent.parent / ".ods-charter" / "backups").iterdir()
    return dict(json.loads(path.read_text()))


def test_a_second_run_on_the_same_page_waits_then_refuses(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    with page_lock(sim.base_url, SLUG, lock_dir=project.parent.parent / ".ods-charter" / "locks"):
        result = cli("publish", "--config", project, "--yes", "--lock-wait", "0.2")
    assert result.code == 2
    assert "another ods-charter run is writing page 'charte-cookies'" in result.err
    assert "waited 0.2 s" in result.err
    assert result.err.count("\n") == 1  # one line
    assert _puts(sim) == 0
    assert not (project.parent.parent / ".ods-charter" / "backups").exists()
    # Once the other run is done, the same command goes through.
    assert cli("publish", "--config", project, "--yes", "--lock-wait", "0.2").code == 0


def test_two_runs_at_once_write_once_and_the_second_is_told(
    project: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both runs plan on the same page; every request is slow, so without the
    lock both would re-read before either writes, and the second would silently
    overwrite the first."""
    _drift(sim)
    config = load_config(project)
    registry = load_registry(config.registry_path)
    clients = [AutomationClient(sim.base_url, API_KEY, Transport(config.http)) for _ in range(2)]
    plans = [plan_publish(c, config, registry) for c in clients]
    sim.faults.arm({"latency": 0.3})
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            execute(clients[n], plans[n], lock_wait=10)
        except PublishError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _puts(sim) == 1
    assert len(errors) == 1 and isinstance(errors[0], ConcurrentEditError)
    assert "nothing was written" in str(errors[0])


def test_an_edit_landing_right_after_the_put_is_told_with_what_each_backup_holds(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    before = _page(sim)
    sim.faults.arm({"edit_during_put": {"slug": SLUG, "when": "after"}})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2, result.all
    now = _page(sim)
    assert f"someone.else saved the page at {now['updated_at']}" in result.err
    assert "right after this update was applied" in result.err and "content.html" in result.err
    backup_path = next((project.parent.parent / ".ods-charter" / "backups").iterdir())
    assert f"{backup_path.relative_to(project.parent.parent)} holds the page as it was" in (
        result.err
    )
    # Nothing is lost: their version on the portal, the old page and ours in the backup.
    assert now["updated_by"] == {"username": "someone.else"}
    assert NOTE in now["content"]["html"]["fr"]
    backup = _backup(project)
    assert backup["page"] == before
    assert backup["sent"]["content"]["html"]["fr"] + NOTE == now["content"]["html"]["fr"]
    assert _puts(sim) == 1
    assert _audit(project)[-1]["result"].startswith("error: someone.else saved the page")


def test_the_window_left_an_edit_between_re_read_and_put_is_one_round_trip(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    """Without ETags an edit landing between the re-read and the PUT is
    overwritten unseen (SECURITY.md says so). What the tool can do is keep that
    window to nothing but the PUT itself: no other request in between."""
    _drift(sim)
    sim.faults.arm({"edit_during_put": {"slug": SLUG, "when": "before"}})
    assert cli("publish", "--config", project, "--yes").code == 0
    log = [(r["method"], r["path"]) for r in sim.requests]
    put = log.index(("PUT", f"/api/automation/v1.0/code_editor_pages/{SLUG}/"))
    assert log[put - 1] == ("GET", f"/api/automation/v1.0/code_editor_pages/{SLUG}/")
    assert NOTE not in _page(sim)["content"]["html"]["fr"]  # their edit is the one lost


@pytest.mark.parametrize(
    "field", ["html", "css", "title", "description", "template", "tags", "is_restricted"]
)
def test_a_put_stored_otherwise_than_sent_is_caught(
    cli, project: Path, sim: Simulator, field: str
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"corrupt_put": field})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    name = f"content.{field}" if field in {"html", "css"} else field
    assert f"verification failed: the page read back differs from what was sent in {name};" in (
        result.err
    )
    assert "ods-charter rollback" in result.err
    assert _audit(project)[-1]["result"].startswith("error: verification failed")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        # The portal applies the PUT, but a proxy in front answers 502.
        ({"status": 502, "body": "<html>Bad gateway</html>"}, "the portal answered 502"),
        (
            {"status": 200, "body": '{"status": "queued"}'},
            "the portal answered 200 with something that is not the page",
        ),
    ],
)
def test_an_applied_put_with_a_wrong_answer_is_settled_by_reading_back(
    cli, project: Path, sim: Simulator, answer: dict[str, Any], says: str
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"put_answer": answer})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert f"{says}, but the page read back holds the update" in result.out
    assert "verified" in result.out and _puts(sim) == 1  # not sent again
    assert [e["event"] for e in _audit(project)] == ["started", "completed"]
    assert _audit(project)[-1]["result"] == "ok"


def test_a_5xx_on_every_try_that_was_not_applied_says_nothing_was_written(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    before = _page(sim)
    sim.faults.arm(
        {"fail_count": 3, "fail_status": 500, "fail_methods": ["PUT"], "retry_after": "0"}
    )
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert "the portal answered 500 after 3 tries; the page read back is unchanged" in result.err
    assert _puts(sim) == 3 and _page(sim) == before
    assert _audit(project)[-1]["result"].startswith("error: the portal answered 500")


def test_ctrl_c_while_the_answer_is_pending_is_settled_and_audited(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"put_answer_delay": 1.5})
    writes = len(sim.store.snapshot()["history"])
    # Once the PUT is applied: its answer is then held back.
    result = _publish_with_ctrl_c(
        cli, project, lambda: len(sim.store.snapshot()["history"]) > writes
    )
    assert result.code == 130
    assert "interrupted while the update was in flight; the page read back holds the update" in (
        result.err
    )
    entries = _audit(project)
    assert [e["event"] for e in entries] == ["started", "completed"]
    assert entries[1]["result"].startswith("interrupted while the update was in flight")


def test_an_audit_log_that_cannot_be_written_stops_the_write_before_the_put(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    (project.parent.parent / ".ods-charter" / "audit.jsonl").mkdir(parents=True)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert "cannot write the audit log" in result.err and "nothing was written" in result.err
    assert _puts(sim) == 0


def test_an_audit_log_lost_after_the_put_still_reports_and_shows_the_line(
    project: Path, sim: Simulator, tmp_path: Path
) -> None:
    _drift(sim)
    config = load_config(project)
    client = AutomationClient(sim.base_url, API_KEY, Transport(config.http))
    plan = plan_publish(client, config, load_registry(config.registry_path))
    log = tmp_path / "audit.jsonl"

    def on_step(text: str) -> None:
        if text == "update sent":  # the log goes away while the write is in flight
            log.unlink()
            log.mkdir()

    with pytest.raises(PublishError) as caught:
        execute(client, plan, audit_log=log, backup_dir=tmp_path / "bk", on_step=on_step)
    message = str(caught.value)
    assert message.startswith("the page was updated and verified, but")
    assert "cannot write the audit log" in message and '"result": "ok"' in message
    assert _page(sim)["content"]["html"] == plan.html


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            '{"error_code": "validation_error", "message": "Invalid input", '
            '"detail": {"title": ["Too long."]}}',
            'the portal answered 400 validation_error: Invalid input {"title": ["Too long."]}',
        ),
        ("<html>Bad request</html>", "the portal answered 400"),
    ],
)
def test_a_4xx_answer_to_the_put_is_an_error_naming_the_page(
    cli, project: Path, sim: Simulator, body: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    """The contract says a 400 wrote nothing: no read-back, no retry, one line."""
    _drift(sim)
    sim.faults.arm({"put_answer": {"status": 400, "body": body}})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert f"error: update of page 'charte-cookies': {says}" in result.err
    assert _puts(sim) == 1
    assert _audit(project)[-1]["result"].startswith("error: update of page 'charte-cookies'")


def test_ctrl_c_before_the_put_took_effect_says_nothing_was_written_so_far(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    before = _page(sim)
    # Every request is slow, and the PUT will be refused once its wait is over.
    sim.faults.arm({"latency": 1.0, "fail_count": 1, "fail_methods": ["PUT"]})
    # Once the PUT has arrived: it waits out its latency, then is refused.
    result = _publish_with_ctrl_c(
        cli, project, lambda: any(r["method"] == "PUT" for r in sim.requests)
    )
    assert result.code == 130
    assert "the page read back is unchanged: nothing was written (so far)" in result.err
    assert _page(sim) == before
    assert _audit(project)[-1]["result"].startswith("interrupted while the update was in flight")


def test_a_lost_answer_and_someone_elses_edit_are_told_apart(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"edit_during_put": {"slug": SLUG, "when": "after"}, "lose_put_response": 1})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert "the answer was lost" in result.err
    assert "the page read back holds neither the content read before nor the update" in (result.err)
    assert f"(last saved by someone.else at {_page(sim)['updated_at']})" in result.err
    assert _puts(sim) == 1  # not sent again over their edit
