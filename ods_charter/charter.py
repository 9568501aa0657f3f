"""The read path end to end: get the page(s), parse, compare with the registry."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ods_charter.config import PortalConfig
from ods_charter.diff import CheckResult, check_page
from ods_charter.encoding import decode_html
from ods_charter.errors import ConfigError, ParseError
from ods_charter.html.parse import ParsedPage, parse_page
from ods_charter.registry import Registry
from ods_charter.userfile import read_capped

if TYPE_CHECKING:  # the HTTP client is slow to import; `check --file` does not need it
    from ods_charter.portal import AutomationClient
    from ods_charter.transport import Transport

SCRIPT_HINT = (
    "if the page's content is rendered by JavaScript in the browser, the served HTML "
    "does not hold it: check a copy saved from a browser with --file, or the API copy "
    "with --source api (key needed)"
)


def read_html_file(path: Path) -> bytes:
    """A saved page; ``-`` reads standard input."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return read_capped(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_pages(
    config: PortalConfig,
    languages: Sequence[str],
    *,
    file: Path | None = None,
    url: str | None = None,
    transport: Transport | None = None,
) -> tuple[str, dict[str, ParsedPage]]:
    """Parsed pages per language, from a file (one language) or the portal."""
    if file is not None:
        text = decode_html(read_html_file(file))
        return str(file), {languages[0]: parse_page(text, str(file), languages[0])}
    from ods_charter.fetch import fetch_page
    from ods_charter.transport import Transport

    target = config.resolve(url) if url else config.charter_url
    owned = transport is None
    client = transport or Transport(config.http)
    try:
        pages = {}
        for lang in languages:
            fetched = fetch_page(client, target, config.flg_code(lang))
            try:
                pages[lang] = parse_page(fetched.text, f"{target} ({lang})", lang)
            except ParseError as exc:
                raise ParseError(f"{exc}; {SCRIPT_HINT}") from None
        return target, pages
    finally:
        if owned:
            client.close()


def api_copy_pages(
    page: Mapping[str, Any], slug: str, languages: Sequence[str]
) -> dict[str, ParsedPage]:
    """The page's content per language as the Automation API holds it."""
    html = page["content"].get("html") or {}
    return {
        lang: parse_page(html.get(lang, ""), f"API copy of page {slug!r} [{lang}]", lang)
        for lang in languages
    }


def check_api_copy(
    config: PortalConfig,
    registry: Registry,
    page: Mapping[str, Any],
    base_url: str,
    languages: Sequence[str] | None = None,
) -> CheckResult:
    """Check the API copy of the charter (what we own) against the registry."""
    pages = api_copy_pages(page, config.slug, languages or config.languages)
    return check_page(
        registry, pages, f"API copy of {config.slug!r} on {base_url}", portal=config.name
    )


def run_check(
    config: PortalConfig,
    registry: Registry,
    *,
    languages: Sequence[str] | None = None,
    file: Path | None = None,
    url: str | None = None,
    transport: Transport | None = None,
    client: AutomationClient | None = None,
) -> CheckResult:
    """Check the live (or saved) charter against the registry; with ``client``,
    the API copy instead of the public page."""
    langs = list(languages or config.languages)
    unknown = [lang for lang in langs if lang not in registry.languages]
    if unknown:
        raise ConfigError(
            f"language(s) {', '.join(unknown)} not in the registry's languages "
            f"{list(registry.languages)}"
        )
    if client is not None:
        return check_api_copy(
            config, registry, client.get_page(config.slug), client.base_url, langs
        )
    source, pages = load_pages(config, langs, file=file, url=url, transport=transport)
    return check_page(registry, pages, source, portal=config.name)
