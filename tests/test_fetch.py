"""Fetching public pages through the real client, with the simulator misbehaving."""

from __future__ import annotations

import codecs
import tracemalloc
from pathlib import Path

import pytest

from ods_charter.config import HttpSettings
from ods_charter.encoding import decode_html
from ods_charter.errors import FetchError
from ods_charter.fetch import fetch_page, with_language
from ods_charter.simulator import Simulator
from ods_charter.transport import USER_AGENT, Transport

PAGE = "/pages/charte-cookies/"


class Sleeps(list[float]):
    """Records the waits the client asks for instead of spending them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _transport(**settings: float) -> tuple[Transport, Sleeps]:
    sleeps = Sleeps()
    base = {"connect_timeout": 2, "read_timeout": 2, "retries": 3, "backoff": 0.01}
    return Transport(HttpSettings(**{**base, **settings}), sleep=sleeps), sleeps  # type: ignore[arg-type]


def test_fetch_sends_language_and_user_agent(sim: Simulator) -> None:
    transport, _ = _transport()
    page = fetch_page(transport, sim.base_url + PAGE, "en")
    assert b"Service provider's name" in page.html
    request = sim.requests[-1]
    assert request["query"] == "flg=en"
    assert request["headers"]["User-Agent"] == USER_AGENT


def test_with_language_replaces_an_existing_flg() -> None:
    assert with_language("https://x.org/p/?a=1&flg=fr", "en") == "https://x.org/p/?a=1&flg=en"


@pytest.mark.parametrize("status", [503, 429, 502])
def test_transient_errors_are_retried_honouring_retry_after(sim: Simulator, status: int) -> None:
    sim.faults.arm({"fail_count": 2, "fail_status": status, "retry_after": "7"})
    transport, sleeps = _transport()
    page = fetch_page(transport, sim.base_url + PAGE, "fr")
    assert b"Nom du prestataire" in page.html
    assert sleeps == [7, 7]
    assert len(sim.requests) == 3


def test_retry_after_is_capped(sim: Simulator) -> None:
    sim.faults.arm({"fail_count": 1, "retry_after": "86400"})
    transport, sleeps = _transport(max_retry_after=30)
    fetch_page(transport, sim.base_url + PAGE)
    assert sleeps == [30]


def test_retries_are_bounded(sim: Simulator) -> None:
    sim.faults.arm({"fail_count": 10})
    transport, sleeps = _transport(retries=2)
    with pytest.raises(FetchError, match="answered 503"):
        fetch_page(transport, sim.base_url + PAGE)
    assert len(sleeps) == 2 and len(sim.requests) == 3


def test_dropped_connection_and_truncated_body_are_retried(sim: Simulator) -> None:
    sim.faults.arm({"drop": 1, "truncate": 1})
    transport, sleeps = _transport()
    page = fetch_page(transport, sim.base_url + PAGE)
    assert page.html.rstrip().endswith(b"</html>")
    assert len(sleeps) == 2


def test_persistent_drop_says_what_happened(sim: Simulator) -> None:
    sim.faults.arm({"drop": 5})
    transport, _ = _transport(retries=1)
    with pytest.raises(FetchError, match=r"closed the connection|cut|cannot connect"):
        fetch_page(transport, sim.base_url + PAGE)


def test_read_timeout(sim: Simulator) -> None:
    sim.faults.arm({"latency": 0.6})
    transport, _ = _transport(read_timeout=0.2, retries=0)
    with pytest.raises(FetchError, match="timed out waiting for the answer"):
        fetch_page(transport, sim.base_url + PAGE)


def test_size_cap(sim: Simulator) -> None:
    transport, _ = _transport(max_bytes=1000)
    with pytest.raises(FetchError, match="over the cap of 1,000"):
        fetch_page(transport, sim.base_url + PAGE)


def test_not_found_non_html_and_login_redirect(sim: Simulator) -> None:
    transport, _ = _transport()
    with pytest.raises(FetchError, match="page not found \\(404\\)"):
        fetch_page(transport, sim.base_url + "/pages/nope/")
    with pytest.raises(FetchError, match="expected an HTML page, got application/json"):
        fetch_page(transport, sim.base_url + "/api/explore/v2.1/catalog/datasets/")
    with pytest.raises(FetchError, match="redirected to a login page"):
        fetch_page(transport, sim.base_url + "/pages/charte-interne/")


def test_connection_refused(tmp_path: Path) -> None:
    with Simulator(state_dir=tmp_path) as gone:
        url = gone.base_url
    transport, _ = _transport(retries=1)
    with pytest.raises(FetchError, match="cannot connect"):
        fetch_page(transport, url + PAGE)


def test_fetch_and_check_commands_against_the_simulator(cli, project: Path, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    out = project.parent / "page.html"
    assert cli("fetch", "--config", project, "--lang", "en", "-o", out).code == 0
    assert b"Cookie name(s)" in out.read_bytes()
    assert cli("check", "--config", project).code == 0
    result = cli("check", "--config", project, "--url", "/terms/cookies-policy/", "--lang", "fr")
    assert result.code == 0, result.all
    sim.faults.arm({"fail_count": 50})
    failed = cli("check", "--config", project)
    assert failed.code == 2 and "answered 503" in failed.err and "Traceback" not in failed.all


# The STAR charter page (tests/fixtures/pages, saved from the live portal) as a
# page saved by an editor that writes windows-1252: the bytes of é, à, « differ.
STAR = Path(__file__).resolve().parent / "fixtures" / "pages" / "star-charte-cookies.html"


def _star_as(encoding: str, meta: str | None, bom: bytes = b"") -> bytes:
    text = STAR.read_text(encoding="utf-8")
    if meta is not None:
        text = text.replace('<meta charset="utf-8">', meta, 1)
    return bom + text.encode(encoding)


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (_star_as("cp1252", '<meta charset="windows-1252">'), None),
        (_star_as("cp1252", '<meta charset="ISO-8859-1">'), None),
        (
            _star_as(
                "cp1252",
                '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
            ),
            None,
        ),
        (_star_as("cp1252", "<!-- no meta -->"), "text/html; charset=windows-1252"),
        # The header wins over the meta, the byte order mark over both.
        (_star_as("cp1252", '<meta charset="utf-8">'), "text/html; charset=iso-8859-1"),
        (
            _star_as("utf-8", '<meta charset="windows-1252">', codecs.BOM_UTF8),
            "text/html; charset=windows-1252",
        ),
        (_star_as("utf-16-le", '<meta charset="windows-1252">', codecs.BOM_UTF16_LE), None),
    ],
)
def test_pages_are_decoded_as_declared(body: bytes, header: str | None) -> None:
    if not body.startswith(codecs.BOM_UTF8):  # read as UTF-8, these bytes would drift
        assert "nécessaires" not in body.decode("utf-8", errors="replace")
    text = decode_html(body, header)
    assert "Ce site utilise des cookies nécessaires à son fonctionnement" in text
    assert "« nécessaires »" in text and "\ufffd" not in text


def test_an_unknown_label_falls_back_to_utf8() -> None:
    body = _star_as("utf-8", '<meta charset="no-such-charset">')
    assert "nécessaires" in decode_html(body, "text/html; charset=bogus")


def test_check_of_a_windows_1252_file_matches_the_utf8_one(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    saved = project.parent / "star-1252.html"
    saved.write_bytes(_star_as("cp1252", '<meta charset="windows-1252">'))
    as_utf8 = cli("parse", "--file", STAR, "--format", "json")
    as_1252 = cli("parse", "--file", saved, "--format", "json")
    assert as_1252.code == 0 and as_1252.out == as_utf8.out
    assert "é" in as_1252.out and "\ufffd" not in as_1252.out
    assert (
        cli("check", "--file", saved, "--config", project).code
        == cli("check", "--file", STAR, "--config", project).code
    )


def test_a_compressed_page_is_capped_as_it_is_decompressed(sim: Simulator) -> None:
    # 50 MB of spaces gzip to about 50 KB: the cap counts the bytes decompression
    # yields, and decompression stops near the cap rather than inflating the
    # whole answer at once (urllib3 before 2.7 did: a memory exhaustion).
    bomb = {"gzip_bomb": 1, "gzip_bomb_bytes": 50_000_000}
    transport, _ = _transport(retries=0, max_bytes=1_000_000)
    sim.faults.arm(bomb)  # the first answer makes the simulator build (and keep) the bomb
    with pytest.raises(FetchError, match="over the size cap of 1,000,000 bytes"):
        fetch_page(transport, sim.base_url + PAGE)
    sim.faults.arm(bomb)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="over the size cap of 1,000,000 bytes"):
            fetch_page(transport, sim.base_url + PAGE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"{peak:,} bytes allocated to read a page capped at 1 MB"
    assert sim.requests[-1]["headers"]["Accept-Encoding"] == "gzip, deflate"


def test_a_compressed_page_within_the_cap_is_read_decompressed(sim: Simulator) -> None:
    sim.faults.arm({"gzip_bomb": 1, "gzip_bomb_bytes": 0})  # no padding: the page, gzipped
    transport, _ = _transport()
    page = fetch_page(transport, sim.base_url + PAGE, "en")
    assert b"Service provider's name" in page.html


def test_the_size_cap_lets_an_answer_of_exactly_max_bytes_through(sim: Simulator) -> None:
    url = sim.base_url + PAGE
    page = _transport()[0].request("GET", url).body
    size = len(page)
    assert _transport(max_bytes=size)[0].request("GET", url).body == page
    with pytest.raises(
        FetchError, match=f"the answer is {size:,} bytes, over the cap of {size - 1:,}"
    ):
        _transport(max_bytes=size - 1)[0].request("GET", url)
    # Compressed, the cap counts the bytes decompression yields (no length is declared for them).
    sim.faults.arm({"gzip_bomb": 1, "gzip_bomb_bytes": 0})
    assert _transport(max_bytes=size)[0].request("GET", url).body == page
    sim.faults.arm({"gzip_bomb": 1, "gzip_bomb_bytes": 0})
    with pytest.raises(FetchError, match=f"over the size cap of {size - 1:,} bytes"):
        _transport(max_bytes=size - 1, retries=0)[0].request("GET", url)


def test_a_large_answer_is_read_byte_for_byte(sim: Simulator) -> None:
    # Several reads of 64 KiB: what arrives is the page and its padding, nothing added between.
    url = sim.base_url + PAGE
    page = _transport()[0].request("GET", url).body
    sim.faults.arm({"gzip_bomb": 1, "gzip_bomb_bytes": 300_000})
    assert _transport()[0].request("GET", url).body == page + b" " * (300_000 - len(page))


def test_a_retry_after_of_zero_is_not_waited_for(sim: Simulator) -> None:
    sim.faults.arm({"fail_count": 2, "retry_after": "0"})
    transport, sleeps = _transport()
    fetch_page(transport, sim.base_url + PAGE)
    assert sleeps == [0, 0]


def test_a_host_name_that_does_not_resolve_is_named_as_such() -> None:
    transport, sleeps = _transport(retries=1)
    url = "https://portal.invalid/pages/charte-cookies/"  # .invalid never resolves (RFC 6761)
    with pytest.raises(FetchError) as caught:
        transport.request("GET", url)
    assert str(caught.value) == f"{url}: cannot resolve the host name (DNS failure or no network)"
    assert len(sleeps) == 1  # retried: a resolver may fail for a moment
