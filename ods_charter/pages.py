"""The portal's code editor pages at a glance: which one is the cookie charter?"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ods_charter.errors import ConfigError, OdsCharterError
from ods_charter.html.parse import parse_page

if TYPE_CHECKING:
    from ods_charter.portal import AutomationClient

# Words a cookie page's slug or title tends to hold, in the portals' languages.
_COOKIE_WORDS = re.compile(r"cookie|charte|privacy|confidentialit|rgpd|gdpr|traceur", re.I)


@dataclass
class PageInfo:
    slug: str
    titles: dict[str, str]
    updated_at: str
    restricted: bool
    archived: bool
    pushed_by_parent: bool
    subdomain_copies: bool
    cookie_table: list[str]  # languages whose content holds a cookie table

    @property
    def flags(self) -> list[str]:
        named = (
            ("restricted", self.restricted),
            ("archived", self.archived),
            ("pushed", self.pushed_by_parent),
            ("subdomain-copies", self.subdomain_copies),
        )
        return [name for name, on in named if on]


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def has_cookie_table(html: str) -> bool:
    try:
        parse_page(html)
    except OdsCharterError:
        return False
    return True


def page_info(page: Mapping[str, Any]) -> PageInfo:
    content = page.get("content")
    html = _strings(content.get("html")) if isinstance(content, Mapping) else {}
    return PageInfo(
        slug=str(page.get("slug", "")),
        titles=_strings(page.get("title")),
        updated_at=str(page.get("updated_at") or ""),
        restricted=page.get("is_restricted") is True,
        archived=page.get("is_archived") is True,
        pushed_by_parent=page.get("is_pushed_by_parent") is True,
        subdomain_copies=page.get("has_subdomain_copies") is True,
        cookie_table=[lang for lang, text in html.items() if has_cookie_table(text)],
    )


def code_editor_pages(client: AutomationClient) -> list[PageInfo]:
    """Every code editor page of the portal, in the order the API lists them."""
    return [page_info(page) for page in client.list_pages()]


def cookie_page_slugs(pages: Iterable[Mapping[str, Any]]) -> list[str]:
    """Slugs of pages holding a cookie table, or named like a cookie page."""
    out = []
    for page in pages:
        info = page_info(page)
        named = " ".join([info.slug, *info.titles.values()])
        if info.cookie_table or _COOKIE_WORDS.search(named):
            out.append(info.slug)
    return out


def format_pages(infos: Sequence[PageInfo], fmt: str) -> str:
    if fmt == "json":
        items = [{**asdict(i), "flags": i.flags} for i in infos]
        return json.dumps({"pages": items}, ensure_ascii=False, indent=2)
    if fmt != "text":
        raise ConfigError(f"unknown format {fmt!r}; expected text or json")
    head = ("", "slug", "updated_at", "flags", "title")
    rows: list[tuple[str, ...]] = [
        (
            "*" if i.cookie_table else "",
            i.slug,
            i.updated_at,
            ",".join(i.flags),
            " / ".join(f"{lang}: {t}" for lang, t in i.titles.items()),
        )
        for i in infos
    ]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        for r in [head, *rows]
    ]
    lines.append(f"{len(infos)} pages; * = holds a cookie table")
    return "\n".join(line.rstrip() for line in lines)
