"""Where requests go and how long they may take: the real CLI against the simulator."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util.url import parse_url

import ods_charter
from ods_charter.config import HttpSettings
from ods_charter.errors import ConfigError, FetchError, PortalError
from ods_charter.portal import AutomationClient
from ods_charter.simulator import Simulator
from ods_charter.transport import Transport, connects_to
from ods_charter.urls import Origin, checked_origin

from .conftest import API_KEY, edit_charter, write_config


def _drift(sim: Simulator) -> None:
    edit_charter(sim, "fr", "Se souvenir de la langue du visiteur", "Langue")


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Simulator]:
    """A second host: where a redirect points, or what a proxy would be."""
    with Simulator(api_key=API_KEY, state_dir=tmp_path / "elsewhere") as other:
        yield other


# Each is read differently by two parsers, or is not a URL a portal has.
AMBIGUOUS = [
    ("http://evil.example:80\\@127.0.0.1:{port}", "backslash"),
    ("http://user:pass@127.0.0.1:{port}", "user name or password"),
    ("http://evil.example@127.0.0.1:{port}", "user name or password"),
    ("http://127.0.0.1:{port}#@evil.example", None),  # fine: the fragment is not the host
    ("http://[::1", "IPv6"),
    ("http://[127.0.0.1]:{port}", "IPv6"),
    ("http://[::1%25lo]:{port}", "IPv6"),
    ("http://[fe80::1::2]:{port}", "IPv6 address is not valid"),
    ("http://127.1:{port}", "dotted IPv4"),
    ("http://0x7f.0.0.1:{port}", "dotted IPv4"),
    ("http://127.0.0.1:{port}:80", "host:port"),
    ("http://127.0.0.1:99999", "between 1 and 65535"),
    ("http://127.0.0.1:/", "host:port"),
    ("http://127.0.0.1\t:{port}", "control characters"),
    ("http://127.0.0.1:{port}\n", "control characters"),
    ("https://exämple.org", "ASCII"),
    ("ftp://127.0.0.1:{port}", "http(s) URL"),
    ("//127.0.0.1:{port}", "http(s) URL"),
    ("http://example.org", "only over HTTPS"),
]


@pytest.mark.parametrize(("template", "why"), [a for a in AMBIGUOUS if a[1]])
def test_ambiguous_or_unsafe_urls_are_refused_before_any_connection(
    cli, project: Path, sim: Simulator, template: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    url = template.format(port=urlsplit(sim.base_url).port)
    for command in (["publish", "--yes"], ["check"]):
        result = cli(*command, "--config", project, "--base-url", url)
        assert result.code == 2, result.all
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
        assert why in result.err and "Traceback" not in result.all
    assert sim.requests == [] and sim.connections == 0


def test_config_refuses_the_same_urls_at_load_time(cli, tmp_path: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    port = urlsplit(sim.base_url).port
    for template, why in AMBIGUOUS:
        if why is None or "\t" in template or "\n" in template:
            continue  # TOML basic strings hold no raw tab or newline
        url = template.format(port=port).replace("\\", "\\\\")
        config = write_config(tmp_path / "c", url)
        result = cli("validate", "--config", config)
        assert result.code == 2 and str(config) in result.err and why in result.err, result.err


def test_a_url_with_a_fragment_holding_at_is_read_one_way(sim: Simulator) -> None:
    url = f"{sim.base_url}/#@evil.example"
    assert (
        connects_to(url)
        == checked_origin(url)
        == Origin("http", "127.0.0.1", sim.server.server_address[1])
    )


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("HTTPS://Portal.Example.org/pages/x/", Origin("https", "portal.example.org", 443)),
        ("https://portal.example.org:8443", Origin("https", "portal.example.org", 8443)),
        ("http://[0:0::1]:8000/", Origin("http", "::1", 8000)),
        ("http://localhost:80", Origin("http", "localhost", 80)),
    ],
)
def test_accepted_urls_name_one_origin(url: str, origin: Origin) -> None:
    assert checked_origin(url) == origin == connects_to(url)


_URL_PIECES = st.text(alphabet="ab1.:@[]\\/%#?-_ \t09xf", max_size=24)


@settings(max_examples=400, deadline=None)
@given(_URL_PIECES, st.sampled_from(["http://", "https://", "HTTP://", "http:/", "http:\\\\"]))
def test_every_url_accepted_is_read_the_same_by_urllib_and_urllib3(rest: str, scheme: str) -> None:
    url = scheme + rest
    try:
        origin = checked_origin(url)
    except ConfigError:
        return
    split, parsed = urlsplit(url), parse_url(url)
    default = 443 if origin.scheme == "https" else 80
    for host, port in ((split.hostname, split.port), (parsed.host, parsed.port)):
        assert _host(host or "") == origin.host and (port or default) == origin.port


def _host(host: str) -> str:
    host = host.strip("[]").lower()
    return ip_address(host).compressed if ":" in host else host


def test_the_api_never_follows_a_redirect(
    cli, project: Path, sim: Simulator, elsewhere: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"redirect": 1, "redirect_to": elsewhere.base_url})
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2
    assert f"redirect (307) to {elsewhere.base_url}/api/automation/v1.0/" in result.err
    assert "set base_url" in result.err
    assert elsewhere.requests == []


def test_a_public_page_may_redirect_but_never_gets_the_key(
    cli, project: Path, sim: Simulator, elsewhere: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"redirect": 1, "redirect_to": elsewhere.base_url})
    # check's first request is the public page (sync reads the API copy first),
    # in a process that holds the key (ODS_API_KEY is set).
    result = cli("check", "--config", project)
    assert result.code in {0, 1}, result.all
    seen = elsewhere.requests
    assert [r["path"] for r in seen] == ["/pages/charte-cookies/"]
    assert not any(k.lower() == "authorization" for r in seen for k in r["headers"])


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("http://127.1:{port}", "dotted IPv4"),
        ("http://evil.example@127.0.0.1:{port}", "user name or password"),
        ("ftp://127.0.0.1:{port}", "http(s) URL"),
        ("http://[::1", "Invalid IPv6 URL"),  # not even joinable to the page's URL
    ],
)
def test_a_redirect_target_is_read_as_strictly_as_the_configured_url(
    cli, project: Path, sim: Simulator, target: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    port = urlsplit(sim.base_url).port
    sim.faults.arm({"redirect": 1, "redirect_to": target.format(port=port)})
    result = cli("check", "--config", project)
    assert result.code == 2 and "redirected to" in result.err and why in result.err, result.all
    assert len(sim.requests) == 1  # the target was refused, not asked


@pytest.mark.parametrize(("hops", "code"), [(10, 0), (11, 2)])
def test_redirects_are_followed_ten_times_at_most(
    cli, project: Path, sim: Simulator, hops: int, code: int
) -> None:  # type: ignore[no-untyped-def]
    sim.faults.arm({"redirect": hops, "redirect_to": sim.base_url})
    result = cli("check", "--config", project, "--lang", "fr")
    assert result.code == code, result.all
    if code:
        assert "more than 10 redirects" in result.err
    assert len(sim.requests) == 11


def test_a_redirect_to_the_same_host_reuses_its_connection(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    sim.faults.arm({"redirect": 1, "redirect_to": sim.base_url})  # as /page -> /page/ does
    assert cli("check", "--config", project, "--lang", "fr").code == 0
    assert len(sim.requests) == 2 and sim.connections == 1


def test_environment_proxies_and_netrc_are_ignored(
    cli,
    project: Path,
    sim: Simulator,
    elsewhere: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    # A simulator serves absolute-form requests too: it records what a proxy would see.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, elsewhere.base_url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    result = cli("sync", "--config", project, "--yes")
    assert result.code == 0, result.all
    assert elsewhere.requests == [] and elsewhere.connections == 0
    auth = {r["headers"].get("Authorization") for r in sim.requests if r["path"].startswith("/api")}
    assert auth == {"apikey ********"}


def test_a_configured_proxy_is_not_used_for_plain_http(
    cli, project: Path, sim: Simulator, elsewhere: Simulator
) -> None:  # type: ignore[no-untyped-def]
    project.write_text(project.read_text() + f'proxy = "{elsewhere.base_url}"\n')
    _drift(sim)
    assert cli("sync", "--config", project, "--yes").code == 0
    assert elsewhere.requests == [] and elsewhere.connections == 0


def test_a_trickling_server_meets_the_deadline(
    cli, tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    # Gaps of 0.1 s never trip a 1 s socket timeout; 40 bytes of them take 4 s,
    # over the 1 s deadline of an attempt: without it the command would succeed.
    sim.faults.arm({"trickle": 10, "trickle_bytes": 40, "trickle_delay": 0.1})
    config = write_config(tmp_path / "config", sim.base_url)
    config.write_text(config.read_text().replace("read_timeout = 2", "read_timeout = 1"))
    result = cli("check", "--config", config)
    assert result.code == 2, result.all
    assert "timed out waiting for the answer" in result.err and "read_timeout" in result.err
    assert len(sim.requests) == 3  # retries = 2
    # Cut, not only reported late: the simulator saw each attempt hang up mid-answer
    # (an answer trickling for ever would otherwise hold the command for ever).
    assert hung_up(sim, 3)


def test_keep_alive_reuses_one_connection_for_a_whole_sync(
    cli, project: Path, sim: Simulator
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    assert cli("sync", "--config", project, "--yes").code == 0
    assert len(sim.requests) >= 6  # API: plan, re-read, PUT, read-back; public: fr, en
    assert sim.connections == 1


def test_an_error_answer_keeps_the_connection_usable(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    sim.faults.arm({"fail_count": 1, "fail_methods": ["PUT"]})  # refused before reading the body
    assert cli("sync", "--config", project, "--yes").code == 0
    assert sim.connections == 1  # the refused body was read and dropped, as nginx does


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("read_timeout = inf", "read_timeout = inf: expected a finite number"),
        ("read_timeout = nan", "read_timeout = nan: expected a finite number"),
        ("connect_timeout = -inf", "connect_timeout = -inf: expected a finite number"),
        ('ca_bundle = "nowhere.pem"', "ca_bundle"),
        ('proxy = "http://u:p@proxy.example:3128"', "user name or password"),
    ],
)
def test_odd_http_values_end_in_one_line(cli, tmp_path: Path, line: str, message: str) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "config", "https://portal.example.org")
    key, text = line.split(" ")[0], config.read_text()
    old = f"{key} = 2\n" if f"{key} = 2\n" in text else "\n[scan]"  # no [scan]: appended
    config.write_text(text.replace(old, line + "\n") if old in text else text + line + "\n")
    result = cli("check", "--config", config)
    assert result.code == 2 and message in result.err and str(config) in result.err, result.err
    assert result.err.count("\n") == 1


@pytest.mark.parametrize(
    "key", ["clé-non-latin-✓-1234", "two words-1234", "line\nbreak-1234", "tab\tinside-1234"]
)
def test_an_odd_key_ends_in_one_line_without_showing_it(
    cli, project: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:  # type: ignore[no-untyped-def]
    _drift(sim)
    monkeypatch.setenv("ODS_API_KEY", key)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2 and "ODS_API_KEY" in result.err and result.err.count("\n") == 1
    assert key not in result.all and "Traceback" not in result.all
    assert [r for r in sim.requests if r["path"].startswith("/api/")] == []


def test_a_dotenv_that_is_not_utf8_names_its_line(
    cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ODS_API_KEY")
    Path(".env").write_bytes(b"# cl\xc3\xa9s\nODS_API_KEY=caf\xe9-1234\n")
    result = cli("check", "--config", project)
    assert (
        result.code == 2
        and result.err == "error: .env: line 2: not UTF-8 text; save the file as UTF-8\n"
    )


def test_a_missing_environment_ca_bundle_is_named(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nowhere/ca.pem")
    config = write_config(tmp_path / "config", "https://portal.example.org")
    result = cli("check", "--config", config)
    assert result.code == 2 and "REQUESTS_CA_BUNDLE=/nowhere/ca.pem" in result.err


def test_simulator_port_out_of_range(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("simulator", "--port", "99999")
    assert result.code == 2 and "port 99999" in result.err and "Traceback" not in result.all


def hung_up(sim: Simulator, count: int) -> bool:
    """Whether the simulator sees ``count`` answers cut short (it notices at its next write)."""
    for _ in range(100):
        if sim.hung_up >= count:
            return True
        time.sleep(0.1)
    return False


def _fetch_in_child(url: str, answers: Any) -> None:
    try:
        Transport(HttpSettings(read_timeout=1, retries=0)).request("GET", url)
        answers.put("answered")
    except FetchError as exc:
        answers.put(str(exc))


def test_a_forked_worker_process_meets_the_deadline_too(sim: Simulator) -> None:
    url = sim.base_url + "/pages/charte-cookies/"
    Transport(HttpSettings()).request("GET", url)  # this process's watchdog is running
    sim.faults.arm({"trickle": 1, "trickle_bytes": 40, "trickle_delay": 0.1})
    context = multiprocessing.get_context("fork")  # fleet workers may be forked
    answers = context.Queue()
    child = context.Process(target=_fetch_in_child, args=(url, answers))
    child.start()
    try:
        assert "timed out waiting for the answer" in answers.get(timeout=30)
    finally:
        child.join()


def test_pagination_never_follows_a_link_to_another_origin(
    sim: Simulator, elsewhere: Simulator
) -> None:
    client = AutomationClient(sim.base_url, API_KEY, Transport(HttpSettings()))
    assert len(list(client.list_pages(page_size=2))) > 2  # several pages, all followed
    sim.faults.arm({"next_origin": elsewhere.base_url})
    with pytest.raises(PortalError, match=f"next page link {elsewhere.base_url}/api/"):
        list(client.list_pages(page_size=2))
    assert elsewhere.requests == []


def test_a_deadline_passing_during_the_tls_handshake_leaves_the_watchdog_working(
    sim: Simulator,
) -> None:
    # Until the handshake ends there is no connection to cut: the one watchdog
    # thread of the process must let that deadline go and keep watching the next.
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"https://127.0.0.1:{silent.getsockname()[1]}/pages/charte-cookies/"
        settings = HttpSettings(connect_timeout=3, read_timeout=1, retries=0)
        with pytest.raises(FetchError, match="timed out"):
            Transport(settings).request("GET", url)
    sim.faults.arm({"trickle": 1, "trickle_bytes": 40, "trickle_delay": 0.1})
    with pytest.raises(FetchError, match="timed out waiting for the answer"):
        Transport(HttpSettings(read_timeout=1, retries=0)).request(
            "GET", sim.base_url + "/pages/charte-cookies/"
        )
    assert hung_up(sim, 1)


def test_a_shorter_deadline_than_those_pending_is_kept(sim: Simulator) -> None:
    # A portal with a long timeout leaves its deadline pending; the watchdog
    # sleeping until then must still wake for a later request's shorter one.
    url = sim.base_url + "/pages/charte-cookies/"
    Transport(HttpSettings(read_timeout=30)).request("GET", url)
    sim.faults.arm({"trickle": 1, "trickle_bytes": 40, "trickle_delay": 0.1})
    with pytest.raises(FetchError, match="timed out waiting for the answer"):
        Transport(HttpSettings(read_timeout=1, retries=0)).request("GET", url)
    assert hung_up(sim, 1)


def test_the_command_process_ends_when_its_work_is_done(project: Path, sim: Simulator) -> None:
    # The watchdog thread must not keep the process alive after the command returns.
    package_root = Path(ods_charter.__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, "-m", "ods_charter", "check", "--config", str(project)],
        env={**os.environ, "PYTHONPATH": str(package_root)},
        cwd=package_root,  # where a mutation tool's copy finds its configuration
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert sim.requests  # it did fetch the pages: the thread was started


def test_the_transport_itself_keeps_a_key_off_plain_http_and_redirects(
    sim: Simulator, elsewhere: Simulator
) -> None:
    # Whoever calls it, and however the header is spelled: the rule lives in the transport.
    key = {"authorization": f"apikey {API_KEY}"}
    with pytest.raises(ConfigError, match="keys travel only over HTTPS"):
        Transport(HttpSettings()).request("GET", "http://portal.example.org/api/", headers=key)
    sim.faults.arm({"redirect": 1, "redirect_to": elsewhere.base_url})
    url = sim.base_url + "/pages/charte-cookies/"
    answer = Transport(HttpSettings()).request("GET", url, headers=key)
    assert answer.status == 307 and answer.url == url
    assert elsewhere.requests == [] and elsewhere.connections == 0


def test_a_write_is_sent_once_whatever_the_answer(sim: Simulator) -> None:
    sim.faults.arm({"fail_count": 3, "fail_methods": ["PUT"], "retry_after": "1"})
    waits: list[float] = []
    url = sim.base_url + "/api/automation/v1.0/pages/charte-cookies/"
    transport = Transport(HttpSettings(retries=3), sleep=waits.append)
    answer = transport.request("PUT", url, json={"title": {"fr": "x"}}, retry=False)
    assert answer.status == 503 and waits == []
    assert [r["method"] for r in sim.requests] == ["PUT"]
