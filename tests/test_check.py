"""``check`` on saved pages: exit codes and reports a user reads."""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import PAGES, ROOT, STAR_PAGE, Result

CONFIG = ROOT / "config" / "portal.toml"
STAR = STAR_PAGE.read_text(encoding="utf-8")


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in STAR
    path = tmp_path / "page.html"
    path.write_text(STAR.replace(old, new, 1), encoding="utf-8")
    return path


def _without_row(tmp_path: Path, name: str) -> Path:
    """The STAR page with the row of cookie ``name`` deleted."""
    at = STAR.index(f"<td>{name}</td>")
    start, end = STAR.rindex("<tr>", 0, at), STAR.index("</tr>", at) + len("</tr>")
    path = tmp_path / "page.html"
    path.write_text(STAR[:start] + STAR[end:], encoding="utf-8")
    return path


def test_star_page_with_shipped_registry_is_in_sync(cli) -> None:  # type: ignore[no-untyped-def]
    result: Result = cli("check", "--config", CONFIG, "--file", STAR_PAGE)
    assert result.code == 0, result.all
    assert result.out.startswith("in sync:")


def test_missing_cookie(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _without_row(tmp_path, "csrftoken")
    result = cli("check", "--config", CONFIG, "--file", path, "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["status"] == "drift"
    assert report["languages"]["fr"] == {"missing": ["csrftoken"], "extra": [], "changed": []}


def test_extra_cookie(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    extra = "<tr><td>Matomo</td><td>Statistiques</td><td>_pk_id*</td><td>Audience</td></tr>"
    path = _variant(tmp_path, "</tbody>", extra + "</tbody>")
    result = cli("check", "--config", CONFIG, "--file", path, "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["languages"]["fr"]["extra"] == ["_pk_id*"]


def test_changed_field_shows_a_word_diff(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _variant(tmp_path, "Récupérer des données via", "Récupérer vos données via")
    result = cli("check", "--config", CONFIG, "--file", path)
    assert result.code == 1
    assert "changed csrftoken purpose: Récupérer [-des-]{+vos+} données via" in result.out
    report = json.loads(cli("check", "--config", CONFIG, "--file", path, "--format", "json").out)
    assert report["languages"]["fr"]["changed"] == [
        {
            "name": "csrftoken",
            "field": "purpose",
            "registry": "Récupérer des données via des appels API",
            "page": "Récupérer vos données via des appels API",
        }
    ]


def test_changed_punctuation_is_drift(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _variant(tmp_path, "d'une page à une autre.", "d'une page à une autre")
    result = cli("check", "--config", CONFIG, "--file", path)
    assert result.code == 1
    assert "sessionid purpose" in result.out and "[-.-]" in result.out


def test_provider_change_is_drift(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _variant(tmp_path, "<td>Opendatasoft</td>", "<td>OpenDataSoft</td>")
    result = cli("check", "--config", CONFIG, "--file", path, "--format", "json")
    assert json.loads(result.out)["languages"]["fr"]["changed"][0]["field"] == "provider"


def test_whitespace_nbsp_and_unicode_form_are_not_drift(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = STAR.replace(
        "Se souvenir de la langue du visiteur", "Se souvenir  de&nbsp;la\n langue du visiteur "
    )
    text = text.replace("Sélection", unicodedata.normalize("NFD", "Sélection"))
    assert unicodedata.normalize("NFD", "é") in text
    path = tmp_path / "page.html"
    path.write_text(text, encoding="utf-8")
    assert cli("check", "--config", CONFIG, "--file", path).code == 0


def test_markdown_report_fits_a_pull_request(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _variant(tmp_path, "Récupérer des données", "Récupérer | des données")
    result = cli("check", "--config", CONFIG, "--file", path, "--format", "markdown")
    assert result.code == 1
    assert result.out.startswith("### ⚠️ Cookie charter: drift")
    assert "| `csrftoken` | purpose | Récupérer **\\|** des données" in result.out


def test_github_annotations(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _without_row(tmp_path, "csrftoken")
    result = cli("check", "--config", CONFIG, "--file", path, "--format", "github")
    assert result.code == 1
    assert result.out.splitlines()[0].startswith("::error title=Cookie missing (fr)::csrftoken")


def test_junit_has_one_case_per_cookie(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _variant(tmp_path, "Récupérer des données", "Récupérer les données")
    out = tmp_path / "junit.xml"
    result = cli("check", "--config", CONFIG, "--file", path, "--format", "junit", "-o", out)
    assert result.code == 1
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"sessionid", "django_language", "csrftoken", "cookies_preferences"}
    assert cases["csrftoken"].find("failure") is not None
    assert cases["sessionid"].find("failure") is None
    assert suite.get("failures") == "1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "nope.toml"], "nope.toml: file not found"),
        (["--file", "missing.html"], "missing.html: file not found"),
        (["--file", str(PAGES / "no-cookie-table.html")], "no cookie table found"),
        (["--format", "yaml", "--file", str(STAR_PAGE)], "unknown format 'yaml'"),
        (["--lang", "de", "--file", str(STAR_PAGE)], "language(s) de not in the registry"),
    ],
)
def test_errors_exit_2_with_a_message_and_no_traceback(
    cli,
    args: list[str],
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    full = ["check", *args] if "--config" in args else ["check", "--config", str(CONFIG), *args]
    result = cli(*full)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.all


def test_bad_toml_in_registry_exits_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "registry.toml").write_text('schema_version = 1\nlanguages = ["fr"]\nname = \n')
    config = tmp_path / "portal.toml"
    config.write_text(CONFIG.read_text())
    result = cli("check", "--config", config, "--file", STAR_PAGE)
    assert result.code == 2
    assert "registry.toml: invalid TOML" in result.err and "line 3" in result.err


def test_unreadable_file_exits_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--config", CONFIG, "--file", tmp_path)
    assert result.code == 2 and "cannot read" in result.err


def test_parse_formats(cli) -> None:  # type: ignore[no-untyped-def]
    as_json = json.loads(cli("parse", "--file", STAR_PAGE).out)
    assert next(c["name"] for c in as_json["cookies"]) == "sessionid"
    assert as_json["cookies"][0]["lifetime"] is None
    csv_lines = cli("parse", "--file", STAR_PAGE, "--format", "csv").out.splitlines()
    assert csv_lines[0] == "name,provider,service,purpose,lifetime,category,storage"
    assert len(csv_lines) == 5
    table = cli("parse", "--file", STAR_PAGE, "--format", "table").out
    assert "cookies_preferences" in table


def test_validate(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("validate", "--config", CONFIG)
    assert result.code == 0 and "4 cookies" in result.out


def test_import_then_check_round_trip(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "registry.toml"
    result = cli("import", "--file", STAR_PAGE, "--lang", "fr", "--output", out)
    assert result.code == 0, result.all
    refused = cli("import", "--file", STAR_PAGE, "--output", out)
    assert refused.code == 2 and "--merge" in refused.err
    config = tmp_path / "portal.toml"
    config.write_text(CONFIG.read_text())
    assert cli("check", "--config", config, "--file", STAR_PAGE).code == 0
    english = tmp_path / "en.html"
    english.write_text((ROOT / "ods_charter" / "data" / "star_charte_cookies.en.html").read_text())
    merged = cli("import", "--file", english, "--lang", "en", "--output", out, "--merge")
    assert merged.code == 0, merged.all
    assert cli("check", "--config", config, "--file", english, "--lang", "en").code == 0


def test_import_refuses_a_page_that_gives_no_valid_registry(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "page.html"
    page.write_text(STAR.replace("<td>csrftoken</td>", "<td>any cookie from the API</td>"))
    out = tmp_path / "registry.toml"
    result = cli("import", "--file", page, "--output", out)
    assert result.code == 2 and "nothing written" in result.err
    assert "'any cookie from the API'" in result.err and "Traceback" not in result.all
    assert not out.exists()
