"""The registry and portal configuration files: valid ones load, bad ones say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from ods_charter.config import load_config
from ods_charter.errors import ConfigError
from ods_charter.registry import dumps, load_registry, merge, registry_from_data

from .conftest import REGISTRY, ROOT


def test_shipped_registry_has_the_four_star_cookies() -> None:
    registry = load_registry(REGISTRY)
    assert [c.name for c in registry.cookies] == [
        "sessionid",
        "django_language",
        "csrftoken",
        "cookies_preferences",
    ]
    assert registry.languages == ("fr", "en")
    assert registry.get("sessionid").purpose["fr"] == (  # type: ignore[union-attr]
        "Se souvenir de l'utilisateur d'une page à une autre."
    )


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text('schema_version = 1\nlanguages = ["fr", "en"]\n' + body, encoding="utf-8")
    return path


COOKIE = """
[[cookies]]
name = "sessionid"
provider = "Opendatasoft"
purpose.fr = "Se souvenir"
purpose.en = "Remember"
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (COOKIE + 'colour = "blue"\n', [":5: cookie 'sessionid'", "unknown key(s) colour"]),
        (COOKIE.replace('purpose.en = "Remember"\n', ""), ["field 'purpose'", "language(s) en"]),
        (COOKIE + COOKIE, ["duplicate cookie name", ":11:"]),
        (COOKIE + 'category = "ads"\n', ["field 'category'", "unknown category 'ads'"]),
        (COOKIE + 'lifetime_days = "two weeks"\n', ["field 'lifetime_days'", "whole number"]),
        (COOKIE + "lifetime_days = -1\n", ["lifetime_days"]),
        (COOKIE + "stores_consent = 1\n", ["stores_consent", "true or false"]),
        (COOKIE + 'service.de = "Dienst"\n', ["field 'service'", "language(s) de"]),
        (COOKIE.replace('name = "sessionid"', 'name = "a;b"'), ["cookie name"]),
        ("[[cookies]]\nprovider = 'x'\n", ["cookies[0]", "'name' is required"]),
        ('cookie = "typo"\n', ["unknown top-level key(s) cookie"]),
    ],
)
def test_registry_errors_name_file_cookie_and_field(
    tmp_path: Path, body: str, expected: list[str]
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_registry(path)
    message = str(err.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[cookies]]\nname = "x\n')
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 4"):
        load_registry(path)


def test_schema_version_and_languages_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('schema_version = 2\nlanguages = ["fr"]\n')
    with pytest.raises(ConfigError, match="schema_version must be 1"):
        load_registry(path)
    path.write_text('schema_version = 1\nlanguages = ["fr", "fr"]\n')
    with pytest.raises(ConfigError, match="distinct"):
        load_registry(path)


def test_dumps_round_trips_tricky_text(tmp_path: Path) -> None:
    registry = load_registry(REGISTRY)
    path = tmp_path / "again.toml"
    path.write_text(dumps(registry), encoding="utf-8")
    again = load_registry(path)
    assert again.cookies == registry.cookies
    assert again.languages == registry.languages


def test_merge_adds_a_language_and_marks_what_needs_translating(tmp_path: Path) -> None:
    base = registry_from_data(
        {
            "schema_version": 1,
            "languages": ["fr"],
            "cookies": [
                {"name": "a", "provider": "P", "purpose": {"fr": "A fr"}},
                {"name": "b", "provider": "P", "purpose": {"fr": "B fr"}},
            ],
        },
        tmp_path / "base.toml",
    )
    incoming = registry_from_data(
        {
            "schema_version": 1,
            "languages": ["en"],
            "cookies": [
                {"name": "a", "provider": "P", "purpose": {"en": "A en"}},
                {"name": "c", "provider": "Q", "purpose": {"en": "C en"}},
            ],
        },
        tmp_path / "in.toml",
    )
    merged, untranslated = merge(base, incoming, "en")
    assert merged.languages == ("fr", "en")
    assert merged.get("a").purpose == {"fr": "A fr", "en": "A en"}  # type: ignore[union-attr]
    assert merged.get("b").purpose["en"] == "[to translate] B fr"  # type: ignore[union-attr]
    assert merged.get("c").purpose["fr"] == "[to translate] C en"  # type: ignore[union-attr]
    assert untranslated == ["b", "c"]


def test_shipped_portal_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODS_BASE_URL", raising=False)
    config = load_config(ROOT / "config" / "portal.toml")
    assert config.charter_url == "https://data.explore.star.fr/pages/charte-cookies/"
    assert config.languages == ("fr",)
    assert config.registry_path.resolve() == REGISTRY
    monkeypatch.setenv("ODS_BASE_URL", "http://127.0.0.1:9/")
    assert load_config(ROOT / "config" / "portal.toml").base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[portal]\nbase_url = "https://x.org"\n', "[page] slug is required"),
        ('[portal]\nbase_url = "ftp://x"\n[page]\nslug = "s"\n', "expected an http(s) URL"),
        ('[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\n[pages]\n', "[pages]"),
        ('[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\nlang = 1\n', "'lang'"),
        ('[portal]\nbase_url = "https://x.org"\n[page]\nslug = 3\n', "slug: expected a str"),
        ('[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\nlanguages = []\n', "at least"),
        (
            '[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\n[http]\nretries = -1\n',
            ">= 0",
        ),
        (
            '[portal]\nbase_url = "https://x.org"\n[page]\nslug = "s"\n[http]\nread_timeout = 0\n',
            "read_timeout = 0: expected a number > 0",
        ),
    ],
)
def test_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "portal.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and message in str(err.value)
