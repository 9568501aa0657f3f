"""Compare a page's cookie records with the registry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ods_charter.html.parse import CookieRecord, ParsedPage
from ods_charter.lifetime import format_days, same_lifetime
from ods_charter.registry import Cookie, Registry
from ods_charter.text import normalize

COMPARED = ("provider", "service", "purpose", "lifetime", "category")


@dataclass(frozen=True)
class Change:
    name: str
    field: str
    registry: str | None
    page: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "field": self.field,
            "registry": self.registry,
            "page": self.page,
        }


@dataclass
class LanguageDiff:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    error: str | None = None
    checked: list[str] = field(default_factory=list)  # every name looked at

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.extra or self.changed or self.error)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "missing": self.missing,
            "extra": self.extra,
            "changed": [c.as_dict() for c in self.changed],
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class CheckResult:
    page: str
    languages: dict[str, LanguageDiff]
    portal: str = ""
    records: dict[str, list[CookieRecord]] = field(default_factory=dict)  # page, per language

    @property
    def status(self) -> str:
        if any(d.error for d in self.languages.values()):
            return "error"
        return "ok" if all(d.in_sync for d in self.languages.values()) else "drift"

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "drift": 1, "error": 2}[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "page": self.page,
            "languages": {lang: d.as_dict() for lang, d in self.languages.items()},
        }


def expected_value(cookie: Cookie, field_name: str, language: str) -> str | None:
    """What the registry says a page cell should read, in ``language``."""
    if field_name == "provider":
        return cookie.provider
    if field_name in {"service", "purpose"}:
        texts: Mapping[str, str] = getattr(cookie, field_name)
        return texts.get(language)
    if field_name == "lifetime":
        return None if cookie.lifetime_days is None else format_days(cookie.lifetime_days, language)
    if field_name == "category":
        return cookie.category
    raise ValueError(field_name)


def _differs(cookie: Cookie, field_name: str, language: str, page: str | None) -> bool:
    if field_name == "lifetime":
        if cookie.lifetime_days is None:
            return False  # nothing declared: the registry cannot contradict the page
        return not same_lifetime(cookie.lifetime_days, page or "")
    if field_name == "category" and page is None:
        return False  # no registry category stated (a "Marketing" section): none to contradict
    expected = expected_value(cookie, field_name, language)
    return normalize(expected or "") != normalize(page or "")


def compare(
    registry: Registry,
    records: Iterable[CookieRecord],
    language: str,
    fields: Iterable[str] = COMPARED,
) -> LanguageDiff:
    """What differs between the registry and a page's records in one language.

    Only ``fields`` (the columns present on the page) are compared.
    """
    by_name: dict[str, CookieRecord] = {}
    extra: list[str] = []
    for record in records:
        if record.name in by_name or registry.get(record.name) is None:
            extra.append(record.name)  # unknown, or listed twice
        else:
            by_name[record.name] = record
    result = LanguageDiff(extra=extra, checked=[c.name for c in registry.cookies] + extra)
    compared = [f for f in COMPARED if f in set(fields)]
    for cookie in registry.cookies:
        found = by_name.get(cookie.name)
        if found is None:
            result.missing.append(cookie.name)
            continue
        for field_name in compared:
            page_value = getattr(found, field_name)
            if _differs(cookie, field_name, language, page_value):
                result.changed.append(
                    Change(
                        cookie.name,
                        field_name,
                        expected_value(cookie, field_name, language),
                        page_value,
                    )
                )
    return result


def compare_page(registry: Registry, page: ParsedPage, language: str) -> LanguageDiff:
    return compare(registry, page.records, language, page.fields)


def check_page(
    registry: Registry, pages: Mapping[str, ParsedPage], source: str, portal: str = ""
) -> CheckResult:
    """Check already-parsed pages, one per language."""
    return CheckResult(
        page=source,
        languages={lang: compare_page(registry, page, lang) for lang, page in pages.items()},
        portal=portal,
        records={lang: page.records for lang, page in pages.items()},
    )
