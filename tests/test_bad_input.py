"""Malformed API answers and hostile local input: one line, exit 2, never a
traceback; XML outputs stay well-formed whatever the text holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ods_charter.simulator import Simulator

from .conftest import STAR_PAGE

SLUG = "charte-cookies"


def _break(page: dict[str, Any], how: str) -> None:
    content = page["content"]
    if how == "html value":
        content["html"]["fr"] = 3
    elif how == "html not an object":
        content["html"] = ["<p>x</p>"]
    elif how == "css not an object":
        content["css"] = ".a { }"
    elif how == "css value":
        content["css"]["en"] = None
    elif how == "updated_by":
        page["updated_by"] = "bob"
    elif how == "surrogate":
        content["html"]["en"] = "<p>\ud800</p>"
    elif how == "no content":
        del page["content"]
    elif how == "tags":
        page["tags"] = "légal"


@pytest.mark.off_contract("answers")  # the simulator serves a broken page on purpose
@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("html value", "content.html['fr']: expected a string, got a number"),
        ("html not an object", "content.html: expected an object of strings per language"),
        ("css not an object", "content.css: expected an object of strings per language"),
        ("css value", "content.css['en']: expected a string, got null"),
        ("updated_by", "updated_by: expected an object with a username, got a string"),
        ("surrogate", "content.html['en']: holds a lone surrogate"),
        ("no content", "content: expected an object with html and css, got null"),
        ("tags", "tags: expected a list of strings, got a string"),
    ],
)
def test_a_malformed_page_from_the_api_is_one_line(
    cli, project: Path, sim: Simulator, how: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    page = sim.store.page(SLUG)
    assert page is not None
    _break(page, how)
    sim.store.put_raw_page(page)
    result = cli("publish", "--config", project, "--yes")
    assert result.code == 2, result.all
    assert result.err.count("\n") == 1 and "Traceback" not in result.all
    assert f"page 'charte-cookies' on {sim.base_url}: the answer is not a valid" in result.err
    assert says in result.err
    assert not any(r["method"] == "PUT" for r in sim.requests)


@pytest.mark.parametrize("option", ["--config", "--file"])
def test_dev_zero_as_a_file_is_one_line(cli, project: Path, option: str) -> None:  # type: ignore[no-untyped-def]
    args = ["check", option, "/dev/zero"] + (["--config", project] if option == "--file" else [])
    result = cli(*args)
    assert result.code == 2 and "/dev/zero: more than" in result.err
    assert result.err.count("\n") == 1


def test_simulator_port_out_of_range_is_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("simulator", "--port", "99999")
    assert result.code == 2 and "Traceback" not in result.all
    assert "65535" in result.err


def test_junit_stays_well_formed_with_characters_xml_forbids(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    registry = project.parent / "registry.toml"
    registry.write_text(
        registry.read_text().replace(
            'purpose.fr = "Se souvenir de la langue du visiteur"',
            'purpose.fr = "Se souvenir de la langue du visiteur\\uffff\\ufffe"',
        )
    )
    result = cli("check", "--config", project, "--file", STAR_PAGE, "--format", "junit")
    assert result.code == 1, result.all
    root = ET.fromstring(result.out.encode("utf-8"))  # raises on a forbidden character
    failures = [f.get("message") or "" for f in root.iter("failure")]
    assert any("Se souvenir" in m and "\uffff" not in m for m in failures)
