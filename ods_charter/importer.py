"""Bootstrapping a registry from a charter page."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from ods_charter.errors import ConfigError
from ods_charter.html.parse import ParsedPage
from ods_charter.lifetime import parse_days
from ods_charter.registry import (
    CATEGORIES,
    Cookie,
    Registry,
    atomic_write,
    dumps,
    load_registry,
    registry_from_data,
)
from ods_charter.registry import merge as merge_registries


def registry_from_page(page: ParsedPage, language: str) -> Registry:
    cookies: dict[str, Cookie] = {}
    for r in page.records:
        if r.name in cookies:
            continue
        days = parse_days(r.lifetime) if r.lifetime else None
        cookies[r.name] = Cookie(
            name=r.name,
            provider=r.provider or "unknown",
            category=r.category if r.category in CATEGORIES else "necessary",
            purpose={language: r.purpose or ""},
            service={language: r.service} if r.service else {},
            lifetime_days=None if days is None else round(days),
        )
    return Registry(languages=(language,), cookies=tuple(cookies.values()))


def import_registry(
    page: ParsedPage, language: str, output: Path, *, merge: bool = False, force: bool = False
) -> Iterator[str]:
    """Write a registry read from ``page``; yields what it did, line by line."""
    incoming = registry_from_page(page, language)
    if output.exists() and not (merge or force):
        raise ConfigError(
            f"{output} exists: pass --merge to add {language!r} texts to it, "
            "or --force to overwrite it"
        )
    stated = {r.name for r in page.records if r.category in CATEGORIES}
    for cookie in incoming.cookies:
        if cookie.name not in stated:
            yield (
                f"note: {cookie.name}: the page states no registry category for it "
                f"(or one like 'functional' that maps to none): written as '{cookie.category}', "
                "check it"
            )
    result = incoming
    if merge and output.exists():
        result, untranslated = merge_registries(load_registry(output), incoming, language)
        for name in untranslated:
            yield f"note: {name}: purpose copied as '[to translate]' in a missing language"
    # Hold what would be written to the same rules as any registry file, so
    # that import never leaves a file the next command refuses.
    text = dumps(result)
    try:
        registry_from_data(tomllib.loads(text), output, text)
    except ConfigError as exc:
        raise ConfigError(
            f"nothing written: the page does not give a valid registry: {exc}"
        ) from None
    atomic_write(output, text)
    yield f"wrote {output}: {len(result.cookies)} cookies, languages {', '.join(result.languages)}"
