"""Registry entries proposed for cookies a scan found undeclared.

Knowledge: Opendatasoft's own platform cookies (below), then the Open Cookie
Database (:mod:`ods_charter.cookiedb`). A proposal is never final: every text
the sources do not give is ``TODO``, which the registry refuses to load, so an
entry nobody reviewed cannot be published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ods_charter.errors import ConfigError
from ods_charter.registry import TODO, Cookie, atomic_write
from ods_charter.tomlfile import read_toml, toml_string

# Analytics that Opendatasoft portals can switch on: preferred when a name is ambiguous.
_PORTAL_ANALYTICS = {"Matomo", "Google Analytics", "Piano", "AT Internet", "Hotjar"}


@dataclass(frozen=True)
class Observed:
    name: str
    domain: str = ""  # the domain that set it; "" when unknown
    lifetime_days: int | None = None  # as a browser stored it (0: session); None unknown


def observed_days(days: float | None) -> int:
    """A seen cookie's lifetime in whole days (``None``, a session cookie: 0)."""
    return 0 if days is None else max(1, round(days))


@dataclass
class Suggestion:
    name: str
    provider: str
    category: str
    source: str
    confidence: str  # high | medium | low | none
    seen_as: str
    lifetime_days: int | None = None
    purpose: dict[str, str] = field(default_factory=dict)
    service: dict[str, str] = field(default_factory=dict)
    third_party: bool = False
    stores_consent: bool = False
    notes: list[str] = field(default_factory=list)


def _platform(
    name: str,
    days: int,
    service: tuple[str, str],
    purpose: tuple[str, str],
    stores_consent: bool = False,
) -> Suggestion:
    return Suggestion(
        name,
        "Opendatasoft",
        "necessary",
        "Opendatasoft platform cookies (ods-charter)",
        "high",
        name,
        days,
        {"fr": purpose[0], "en": purpose[1]},
        {"fr": service[0], "en": service[1]},
        stores_consent=stores_consent,
    )


# Opendatasoft's platform cookies: the names and French texts of its standard
# charter, the lifetimes its portals publish (see the project's reference notes).
_OPENDATASOFT = {
    s.name: s
    for s in (
        _platform(
            "sessionid",
            14,
            ("Authentification (front et back office)", "Authentication (front and back office)"),
            (
                "Se souvenir de l'utilisateur d'une page à une autre.",
                "Remember the user from one page to the next.",
            ),
        ),
        _platform(
            "django_language",
            365,
            (
                "Sélection de la langue (front et back office)",
                "Language selection (front and back office)",
            ),
            ("Se souvenir de la langue du visiteur", "Remember the visitor's language"),
        ),
        _platform(
            "csrftoken",
            365,
            ("API (CSRF) (front et back office)", "API (CSRF) (front and back office)"),
            ("Récupérer des données via des appels API", "Retrieve data through API calls"),
        ),
        _platform(
            "cookies_preferences",
            180,
            (
                "Choix concernant vos préférences sur les cookies",
                "Choices about your cookie preferences",
            ),
            (
                "Se souvenir du choix opéré par le visiteur concernant les cookies",
                "Remember the visitor's choice about cookies",
            ),
            stores_consent=True,
        ),
    )
}


def _within(host: str, domain: str) -> bool:
    host, domain = host.lstrip(".").lower(), domain.lstrip(".").lower()
    return host == domain or host.endswith("." + domain)


def _category(db_category: str, third_party: bool) -> str:
    kind = db_category.lower()
    if kind == "analytics":
        return "statistics"
    if kind in {"necessary", "security"}:
        return "necessary"
    # "Functional" is not "strictly necessary": it stays a cookie that needs consent.
    return "third_party" if kind == "marketing" or third_party else "first_party"


def suggest_one(observed: Observed, portal_host: str) -> Suggestion:
    """The best proposal for one cookie, weighing who set it."""
    from ods_charter import cookiedb

    # The portal's own host, a subdomain of it, or a parent domain it set cookies on.
    own = not observed.domain or any(
        _within(a, b) for a, b in ((observed.domain, portal_host), (portal_host, observed.domain))
    )
    if own and observed.name in _OPENDATASOFT:
        return _OPENDATASOFT[observed.name]
    ranked = []
    for row in cookiedb.cookies():
        if not row.covers(observed.name):
            continue
        if row.domains and observed.domain:
            if not any(_within(observed.domain, d) for d in row.domains):
                continue  # e.g. Instagram's sessionid, but set by the portal itself
            domain_fit = 2
        else:
            domain_fit = 0 if row.domains else 1  # 0: the database's site, maybe not this one
        score = (not row.wildcard, domain_fit, row.platform in _PORTAL_ANALYTICS, len(row.name))
        ranked.append((score, row))
    seen_life = ["lifetime as observed"] if observed.lifetime_days is not None else []
    if not ranked:
        return Suggestion(
            observed.name,
            TODO,
            TODO,
            "nothing known: neither the Opendatasoft table nor the Open Cookie Database",
            "none",
            observed.name,
            lifetime_days=observed.lifetime_days,
            notes=seen_life,
        )
    ranked.sort(key=lambda item: item[0], reverse=True)
    score, row = ranked[0]
    rivals = {r.platform for s, r in ranked if s[:2] == score[:2]} - {row.platform}
    days, exact = cookiedb.retention_days(row.retention)
    if score[1] == 0:
        confidence = "low"
    elif row.wildcard or rivals:
        confidence = "medium"
    else:
        confidence = "high"
    third_party = not own or (score[1] == 0 and bool(row.domains))
    notes = [f'retention in the database: "{row.retention}"'] if not exact else []
    if days is None:
        days, notes = observed.lifetime_days, notes + seen_life
    if rivals:
        notes.append("the same name is also listed for " + ", ".join(sorted(rivals)))
    kind = "prefix" if row.wildcard else "exact name"
    return Suggestion(
        name=row.name + "*" if row.wildcard else observed.name,
        provider=row.platform,
        category=_category(row.category, third_party),
        source=f'Open Cookie Database ({row.platform}: "{row.name}", {kind}, {row.category})',
        confidence=confidence,
        seen_as=observed.name,
        lifetime_days=days,
        purpose={"en": row.description} if row.description else {},
        third_party=third_party,
        notes=notes,
    )


@dataclass(frozen=True)
class RegistryFile:
    """What suggest needs of a registry, read without validating it: it may hold TODOs."""

    path: Path
    languages: tuple[str, ...]
    names: tuple[str, ...]

    def covers(self, cookie_name: str) -> bool:
        return any(Cookie(n, "").matches(cookie_name) for n in self.names)


def read_registry_file(path: Path) -> RegistryFile:
    data, _ = read_toml(path)
    languages = data.get("languages")
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise ConfigError(f"{path}: languages must be a list of language codes")
    cookies = data.get("cookies", [])
    if not isinstance(cookies, list):
        raise ConfigError(f"{path}: cookies must be an array of [[cookies]] tables")
    names = tuple(
        c["name"] for c in cookies if isinstance(c, dict) and isinstance(c.get("name"), str)
    )
    return RegistryFile(path, tuple(languages), names)


def suggest(observed: list[Observed], registry: RegistryFile, portal_host: str) -> list[Suggestion]:
    """One proposal per cookie the registry does not cover yet (one per pattern)."""
    out: list[Suggestion] = []
    for item in observed:
        if registry.covers(item.name) or any(Cookie(s.name, "").matches(item.name) for s in out):
            continue
        out.append(suggest_one(item, portal_host))
    return out


def render(suggestions: list[Suggestion], languages: tuple[str, ...]) -> str:
    """``[[cookies]]`` tables, each with a ``# suggested`` comment; TODO where unknown."""
    blocks = []
    for s in suggestions:
        lines = [
            "[[cookies]]",
            f"# suggested by ods-charter from {s.source}; confidence {s.confidence}; "
            f"seen as {s.seen_as}. Review every field and replace each TODO.",
        ]
        lines += [f"# {note}" for note in s.notes]
        lines += [
            f"# purpose ({lang}): {text}"
            for lang, text in s.purpose.items()
            if lang not in languages
        ]
        lines += [
            f"name = {toml_string(s.name)}",
            f"provider = {toml_string(s.provider)}",
            f"category = {toml_string(s.category)}",
        ]
        if s.lifetime_days is not None:
            lines.append(f"lifetime_days = {s.lifetime_days}")
        for flag in ("third_party", "stores_consent"):
            if getattr(s, flag):
                lines.append(f"{flag} = true")
        lines += [
            f"service.{lang} = {toml_string(s.service[lang])}"
            for lang in languages
            if lang in s.service
        ]
        lines += [
            f"purpose.{lang} = {toml_string(s.purpose.get(lang, TODO))}" for lang in languages
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def write(registry: RegistryFile, suggestions: list[Suggestion]) -> None:
    """Append the proposals to the registry file; every byte already there stays."""
    import tomlkit

    original = registry.path.read_text(encoding="utf-8")
    doc = tomlkit.parse(original)
    if "cookies" not in doc:
        doc.append("cookies", tomlkit.aot())
    tables = doc["cookies"]
    if not isinstance(tables, tomlkit.items.AoT):
        raise ConfigError(f"{registry.path}: cookies must be written as [[cookies]] tables")
    for table in tomlkit.parse(render(suggestions, registry.languages))["cookies"]:
        tables.append(table)
    text = tomlkit.dumps(doc)
    if not text.startswith(original):  # pragma: no cover - tomlkit keeps documents as read
        raise ConfigError(f"{registry.path}: could not add entries without rewriting the file")
    added = text[len(original) :]
    gap = (
        ""
        if original.endswith("\n\n") or not original
        else "\n"
        if original.endswith("\n")
        else "\n\n"
    )
    atomic_write(registry.path, original + gap + added.strip("\n") + "\n")


def observed_from_scan(path: Path) -> tuple[list[Observed], str]:
    """The undeclared cookies of a ``scan --format json`` report, and the portal's host."""
    try:
        report: Any = json.loads(path.read_text(encoding="utf-8"))
        urls = report["urls"]
        cookies = {c["name"]: c for c in report["cookies"]}
        names = [f["cookie"] for f in report["findings"] if f["kind"] == "undeclared"]
        observed = [
            Observed(n, cookies[n]["domain"], observed_days(cookies[n]["lifetime_days"]))
            if n in cookies
            else Observed(n)
            for n in names
        ]
        host = urlsplit(urls[0]).hostname or "" if urls else ""
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{path}: not a scan report (expected the output of scan --format json): {exc}"
        ) from None
    return observed, host
