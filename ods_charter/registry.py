"""The canonical registry: the cookies a charter must list, kept in git.

File format (``config/registry.toml``)::

    schema_version = 1
    languages = ["fr", "en"]          # first = default
    [[cookies]]
    name = "sessionid"                # exact name, or a prefix pattern ending in *
    provider = "Opendatasoft"
    category = "necessary"            # necessary | statistics | first_party | third_party
    lifetime_days = 14                # optional; 0 = session cookie
    service.fr = "..."                # optional per language
    purpose.fr = "..."                # required in every declared language
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ods_charter.errors import ConfigError
from ods_charter.secrets import redact
from ods_charter.text import normalize
from ods_charter.tomlfile import line_of, read_toml, toml_string

SCHEMA_VERSION = 1
CATEGORIES = ("necessary", "statistics", "first_party", "third_party")
_COOKIE_KEYS = {
    "name",
    "provider",
    "category",
    "lifetime_days",
    "service",
    "purpose",
    "third_party",
    "consent_exempt",
    "stores_consent",
}
_BAD_NAME = re.compile(r"[\s,;=]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOP_KEYS = {"schema_version", "languages", "cookies"}


@dataclass(frozen=True)
class Cookie:
    """One cookie (or pattern) of the registry, with its texts per language."""

    name: str
    provider: str
    category: str = "necessary"
    purpose: Mapping[str, str] = field(default_factory=dict)
    service: Mapping[str, str] = field(default_factory=dict)
    lifetime_days: int | None = None
    third_party: bool = False
    consent_exempt: bool = False
    stores_consent: bool = False

    @property
    def is_pattern(self) -> bool:
        return self.name.endswith("*")

    def matches(self, cookie_name: str) -> bool:
        """True when a cookie actually set by a site is covered by this entry."""
        if self.is_pattern:
            return cookie_name.startswith(self.name.rstrip("*"))
        return cookie_name == self.name


@dataclass(frozen=True)
class Registry:
    languages: tuple[str, ...]
    cookies: tuple[Cookie, ...]
    path: Path | None = None

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def get(self, name: str) -> Cookie | None:
        return next((c for c in self.cookies if c.name == name), None)

    def find_match(self, cookie_name: str) -> Cookie | None:
        """The entry covering a cookie name: an exact name first, then a pattern."""
        return self.get(cookie_name) or next(
            (c for c in self.cookies if c.matches(cookie_name)), None
        )


def _where(
    path: Path, text: str, name: str | None, field_name: str | None = None, occurrence: int = 1
) -> str:
    where = str(path)
    if name is not None:
        line = line_of(text, "name", name, occurrence)
        where += f":{line}" if line else ""
        where += f": cookie {name!r}"
    if field_name:
        where += f", field {field_name!r}"
    return where


def _texts(
    raw: Any, path: Path, text: str, name: str, key: str, languages: Iterable[str]
) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(
            f"{_where(path, text, name, key)}: expected a table of texts per language, "
            f'e.g. {key}.fr = "..."'
        )
    for lang, value in raw.items():
        if _CONTROL.search(value):
            raise ConfigError(
                f"{_where(path, text, name, f'{key}.{lang}')}: holds a control character, "
                "which no web page can show"
            )
    unknown = sorted(set(raw) - set(languages))
    if unknown:
        raise ConfigError(
            f"{_where(path, text, name, key)}: language(s) {', '.join(unknown)} "
            f"not in the registry's languages {list(languages)}"
        )
    return dict(raw)


TODO = "TODO"  # what ods-charter suggest leaves for a person to write


def _unreviewed(raw: dict[str, Any]) -> str | None:
    """The first field still holding ``TODO``, as ``purpose.fr`` or ``provider``."""
    for key in ("provider", "category", "service", "purpose"):
        value = raw.get(key)
        texts = value.items() if isinstance(value, dict) else [("", value)]
        for lang, item in texts:
            if isinstance(item, str) and item.strip().startswith(TODO):
                return f"{key}.{lang}" if lang else key
    return None


def _cookie(raw: Any, path: Path, text: str, languages: tuple[str, ...], index: int) -> Cookie:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: cookies[{index}]: expected a [[cookies]] table")
    name = raw.get("name")
    if not isinstance(name, str) or not normalize(name):
        raise ConfigError(f"{path}: cookies[{index}]: 'name' is required and must be a string")
    if _BAD_NAME.search(name.strip()):
        raise ConfigError(
            f"{_where(path, text, name, 'name')}: a cookie name cannot hold spaces, "
            "commas, semicolons or '='"
        )
    unknown = sorted(set(raw) - _COOKIE_KEYS)
    if unknown:
        raise ConfigError(
            f"{_where(path, text, name)}: unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(_COOKIE_KEYS))}"
        )
    unreviewed = _unreviewed(raw)
    if unreviewed:
        raise ConfigError(
            f"{_where(path, text, name, unreviewed)}: still {TODO}: a suggested entry "
            "must be reviewed and completed before it can be used"
        )
    provider = raw.get("provider")
    if not isinstance(provider, str) or not provider.strip() or _CONTROL.search(provider):
        raise ConfigError(
            f"{_where(path, text, name, 'provider')}: expected a non-empty string "
            "without control characters"
        )
    category = raw.get("category", "necessary")
    if category not in CATEGORIES:
        raise ConfigError(
            f"{_where(path, text, name, 'category')}: unknown category {category!r}; "
            f"expected one of {', '.join(CATEGORIES)}"
        )
    lifetime = raw.get("lifetime_days")
    if lifetime is not None and (
        not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 0
    ):
        raise ConfigError(
            f"{_where(path, text, name, 'lifetime_days')}: expected a whole number of days >= 0"
        )
    flags = {}
    for key in ("third_party", "consent_exempt", "stores_consent"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise ConfigError(f"{_where(path, text, name, key)}: expected true or false")
        flags[key] = value
    purpose = _texts(raw.get("purpose"), path, text, name, "purpose", languages)
    missing = [lang for lang in languages if not purpose.get(lang, "").strip()]
    if missing:
        raise ConfigError(
            f"{_where(path, text, name, 'purpose')}: missing in language(s) "
            f"{', '.join(missing)}; every declared language needs a purpose"
        )
    return Cookie(
        name=normalize(name),
        provider=provider,
        category=category,
        purpose=purpose,
        service=_texts(raw.get("service"), path, text, name, "service", languages),
        lifetime_days=lifetime,
        **flags,
    )


def registry_from_data(data: Mapping[str, Any], path: Path, text: str = "") -> Registry:
    """Validate a parsed registry document; every error names file, cookie and field."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ConfigError(f"{path}: schema_version must be {SCHEMA_VERSION}, found {version!r}")
    languages = data.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(x, str) and x for x in languages)
        or len(set(languages)) != len(languages)
    ):
        raise ConfigError(
            f'{path}: languages must be a non-empty list of distinct codes, e.g. ["fr", "en"]'
        )
    raw_cookies = data.get("cookies", [])
    if not isinstance(raw_cookies, list):
        raise ConfigError(f"{path}: cookies must be an array of [[cookies]] tables")
    langs = tuple(languages)
    cookies = [_cookie(raw, path, text, langs, i) for i, raw in enumerate(raw_cookies)]
    seen: set[str] = set()
    for cookie in cookies:
        if cookie.name in seen:
            raise ConfigError(f"{_where(path, text, cookie.name, None, 2)}: duplicate cookie name")
        seen.add(cookie.name)
    return Registry(languages=langs, cookies=tuple(cookies), path=path)


def load_registry(path: str | os.PathLike[str]) -> Registry:
    """Read and validate a registry file."""
    file = Path(path)
    data, text = read_toml(file)
    return registry_from_data(data, file, text)


def dumps(registry: Registry) -> str:
    """Serialise a registry in the documented, diff-friendly layout."""
    out = [
        f"schema_version = {SCHEMA_VERSION}",
        f"languages = [{', '.join(toml_string(x) for x in registry.languages)}]",
    ]
    for c in registry.cookies:
        out += ["", "[[cookies]]", f"name = {toml_string(c.name)}"]
        out.append(f"provider = {toml_string(c.provider)}")
        out.append(f"category = {toml_string(c.category)}")
        if c.lifetime_days is not None:
            out.append(f"lifetime_days = {c.lifetime_days}")
        for flag in ("third_party", "consent_exempt", "stores_consent"):
            if getattr(c, flag):
                out.append(f"{flag} = true")
        for key in ("service", "purpose"):
            texts: Mapping[str, str] = getattr(c, key)
            out += [
                f"{key}.{lang} = {toml_string(texts[lang])}"
                for lang in registry.languages
                if lang in texts
            ]
    return "\n".join(out) + "\n"


def atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    """Write via a temporary file and a rename: a crash leaves the old file or the new one.

    Every file the program writes (reports, backups, registries) comes through
    here, so the API key is masked here, even where a hostile page echoed it."""
    text = redact(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


TO_TRANSLATE = "[to translate] "


def merge(base: Registry, incoming: Registry, language: str) -> tuple[Registry, list[str]]:
    """Add one language's texts (and cookies new to ``base``) from ``incoming``.

    A cookie left without a purpose in some language gets a visible
    ``[to translate]`` copy of another language's text, so the file stays valid
    and the gap shows up in review; the names of those cookies are returned.
    """
    languages = base.languages + ((language,) if language not in base.languages else ())
    cookies = []
    for cookie in base.cookies:
        other = incoming.get(cookie.name)
        if other is not None and language in other.purpose:
            cookie = replace(
                cookie,
                purpose={**cookie.purpose, language: other.purpose[language]},
                service={**cookie.service, **_only(other.service, language)},
            )
        cookies.append(cookie)
    known = {c.name for c in base.cookies}
    cookies += [c for c in incoming.cookies if c.name not in known]
    untranslated = []
    for i, cookie in enumerate(cookies):
        gaps = [lang for lang in languages if not cookie.purpose.get(lang)]
        if gaps:
            source = next(iter(cookie.purpose.values()), "")
            filled = {**cookie.purpose, **{lang: TO_TRANSLATE + source for lang in gaps}}
            cookies[i] = replace(cookie, purpose=filled)
            untranslated.append(cookie.name)
    return Registry(languages=languages, cookies=tuple(cookies), path=base.path), untranslated


def _only(texts: Mapping[str, str], language: str) -> dict[str, str]:
    return {language: texts[language]} if language in texts else {}
