"""``ods-charter init``: find a portal's charter page and write a starting project
(``config/portal.toml`` with every key explained, ``config/registry.toml`` read
from the page)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ods_charter.config import HttpSettings
from ods_charter.errors import ConfigError, OdsCharterError
from ods_charter.html.parse import ParsedPage, parse_page
from ods_charter.transport import Transport

# Where portals usually keep the charter: code editor pages first, then the
# built-in legal page every Opendatasoft portal has.
USUAL_PATHS = (
    "/pages/charte-cookies/",
    "/pages/cookies/",
    "/pages/cookie-policy/",
    "/pages/politique-cookies/",
    "/pages/politique-de-cookies/",
    "/pages/charte-des-cookies/",
    "/terms/cookies-policy/",
)


@dataclass
class FoundPage:
    url: str  # the public page, absolute
    slug: str  # the code editor page's slug ("" for a built-in legal page)
    page: ParsedPage


def _slug(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) == 2 and parts[0] == "pages" else ""


def charter_at(base_url: str, url: str, language: str) -> FoundPage:
    """The charter at the address the user gave, read as it is (no search)."""
    from ods_charter.charter import load_pages
    from ods_charter.config import adhoc_config

    target, pages = load_pages(adhoc_config(base_url, None), [language], url=url)
    return FoundPage(target, _slug(urlsplit(target).path), pages[language])


def _from_api(base_url: str, key: str, transport: Transport) -> Iterator[FoundPage]:
    """Code editor pages whose HTML holds a cookie table, from the Automation API."""
    from ods_charter.portal import AutomationClient

    client = AutomationClient(base_url, key, transport)
    for listed in client.list_pages():
        html = (listed.get("content") or {}).get("html") or {}
        slug = str(listed.get("slug", ""))
        for text in html.values():
            try:
                page = parse_page(text, f"page {slug!r}")
            except OdsCharterError:
                continue
            yield FoundPage(f"{base_url}/pages/{slug}/", slug, page)
            break


def _from_paths(base_url: str, language: str, transport: Transport) -> Iterator[FoundPage]:
    from ods_charter.fetch import fetch_page

    for path in USUAL_PATHS:
        url = base_url + path
        try:
            fetched = fetch_page(transport, url, language)
            page = parse_page(fetched.html, url)
        except OdsCharterError:
            continue
        yield FoundPage(url, _slug(path), page)


def find_charter(
    base_url: str,
    *,
    language: str = "fr",
    api_key: str | None = None,
    transport: Transport | None = None,
    on_try: Callable[[str], None] = lambda _: None,
) -> FoundPage:
    """The portal's cookie charter: through the page list when a key is given,
    else by trying the usual public paths."""
    client = transport or Transport(HttpSettings(retries=0, read_timeout=10))
    if api_key:
        on_try(f"looking through the portal's pages (Automation API) at {base_url}")
        for found in _from_api(base_url, api_key, client):
            return found
    on_try(f"trying the usual paths on {base_url}: {', '.join(USUAL_PATHS)}")
    for found in _from_paths(base_url, language, client):
        return found
    raise ConfigError(
        f"{base_url}: no cookie table found at {', '.join(USUAL_PATHS)}"
        + ("" if api_key else " (set ODS_API_KEY to look through every page)")
        + ": pass --url with the charter's address"
    )


def portal_toml(base_url: str, slug: str, url: str, languages: list[str]) -> str:
    """A ``portal.toml`` with every section and key, the optional ones commented."""
    name = urlsplit(base_url).hostname or base_url
    path = urlsplit(url).path
    default = f"/pages/{slug}/"
    langs = ", ".join(f'"{lang}"' for lang in languages)
    rows: list[tuple[str, str]] = [
        ("# Written by `ods-charter init`. Every key is described in the README.", ""),
        ("[portal]", ""),
        (f'name = "{name}"', "shown in reports and fleet tables"),
        (f'base_url = "{base_url}"', ""),
        ('# api_key_env = "ODS_API_KEY"', "variable holding this portal's key"),
        ("", ""),
        ("[page]", ""),
        (f'slug = "{slug}"' if slug else 'slug = "cookies-policy"', "code editor page (API)"),
        (f'url = "{path}"' if path != default else f'# url = "{default}"', "public address"),
        (f"languages = [{langs}]", "checked and published, first = default"),
        ('# publish = "none"', '"post": call the publish endpoint after a write'),
        ('# flg = { en = "en-gb" }', "the ?flg= code the portal uses, if not the language"),
        ("# live_wait = 10", "seconds the public page may take to show a write"),
        ("", ""),
        ("[registry]", ""),
        ('path = "registry.toml"', "relative to this file"),
        ("", ""),
        ("[http]", ""),
        ("# connect_timeout = 5", "seconds"),
        ("# read_timeout = 20", "seconds"),
        ("# retries = 3", "on connection errors, 429 and 5xx"),
        ("# max_bytes = 5000000", "larger answers are refused"),
        ('# ca_bundle = "/etc/ssl/my-ca.pem"', "a private CA"),
        ('# proxy = "https://proxy.example:3128"', "HTTPS proxy, never given the key"),
        ("", ""),
        ("[scan]", ""),
        (f'# paths = ["/", "/explore/", "{path}"]', "default: home, catalog, API, charter"),
        (f"# languages = [{langs}]", "default: [page] languages"),
        ("# require_secure = true", "default: when base_url is HTTPS"),
        ("", ""),
        ("# [consent]", "the browser scan's banner buttons (CSS selectors)"),
        ('# accept = "#accept-all"', ""),
        ('# refuse = "#refuse-all"', ""),
        ('# third_party_ok = ["cdn.example.org"]', "hosts a visitor may meet before choosing"),
    ]
    width = 40
    return "".join(
        (f"{code:<{width}} # {note}" if note else code).rstrip() + "\n" for code, note in rows
    )


def write_project(
    directory: Path,
    found: FoundPage,
    base_url: str,
    languages: list[str],
    *,
    force: bool = False,
) -> Iterator[str]:
    """Write ``portal.toml`` and ``registry.toml`` in ``directory``; yields what it did."""
    from ods_charter.importer import import_registry
    from ods_charter.registry import atomic_write

    config = directory / "portal.toml"
    registry = directory / "registry.toml"
    existing = [p for p in (config, registry) if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} exists: pass --force to overwrite "
            f"{' and '.join(str(p) for p in existing)}"
        )
    # The registry first: if the page gives no valid registry nothing is written.
    lines = list(import_registry(found.page, languages[0], registry, force=True))
    atomic_write(config, portal_toml(base_url, found.slug, found.url, languages))
    yield f"found the charter at {found.url} ({len(found.page.records)} cookies)"
    yield from lines
    yield f"wrote {config}"
