"""Rules a registry is held to (CNIL 2020 guidelines and recommendation).

Every rule lives in :data:`RULES`: an id, a severity, a one-line reason and a
check. ``ods-charter lint --list`` prints them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ods_charter.registry import TO_TRANSLATE, Registry

MAX_LIFETIME_DAYS = 395  # 13 months
CONSENT_CHOICE_DAYS = 183  # 6 months, the CNIL's reference for keeping a choice


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    cookie: str
    message: str


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # "error" or "warning"
    reason: str
    check: Callable[[Registry], Iterator[tuple[str, str]]]  # (cookie, message)


def _lifetime(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        if c.lifetime_days is not None and c.lifetime_days > MAX_LIFETIME_DAYS:
            yield c.name, f"lifetime {c.lifetime_days} days is over 13 months ({MAX_LIFETIME_DAYS})"


def _consent_choice(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        if c.stores_consent and (c.lifetime_days or 0) > CONSENT_CHOICE_DAYS:
            yield (
                c.name,
                f"keeps the consent choice {c.lifetime_days} days; 6 months is the reference",
            )


def _purpose(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        if c.category == "necessary":
            continue
        for lang in registry.languages:
            text = c.purpose.get(lang, "").strip()
            if not text or text.startswith(TO_TRANSLATE.strip()):
                yield c.name, f"no stated purpose in {lang!r} for a cookie that needs consent"


def _missing_lifetime(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        if c.lifetime_days is None:
            yield c.name, "no lifetime_days: the charter cannot state how long it is kept"


def _exempt_third_party(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        if c.consent_exempt and (c.third_party or c.category == "third_party"):
            yield c.name, "claimed exempt from consent but set by a third party"


def _exempt_not_statistics(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        if c.consent_exempt and c.category != "statistics":
            yield c.name, f"consent_exempt only applies to audience measurement, not {c.category}"


def _overlaps(registry: Registry) -> Iterator[tuple[str, str]]:
    patterns = [c for c in registry.cookies if c.is_pattern]
    for pattern in patterns:
        for other in registry.cookies:
            if other is pattern:
                continue
            if pattern.matches(other.name.rstrip("*")) or pattern.matches(other.name):
                yield other.name, f"also covered by the pattern {pattern.name!r}"


def _braces(registry: Registry) -> Iterator[tuple[str, str]]:
    for c in registry.cookies:
        texts = {"name": c.name, "provider": c.provider}
        for lang in registry.languages:
            texts[f"purpose.{lang}"] = c.purpose.get(lang, "")
            texts[f"service.{lang}"] = c.service.get(lang, "")
        for key, text in texts.items():
            if "{{" in text or "}}" in text:
                yield (
                    c.name,
                    f"{key} holds '{{{{' or '}}}}', which AngularJS on the portal would run",
                )


RULES: tuple[Rule, ...] = (
    Rule(
        "lifetime-over-13-months", "error", "CNIL: a tracker may live 13 months at most", _lifetime
    ),
    Rule(
        "consent-choice-over-6-months",
        "warning",
        "CNIL: keep the visitor's choice about 6 months",
        _consent_choice,
    ),
    Rule(
        "purpose-missing",
        "error",
        "CNIL: a cookie that needs consent must state its purpose in every language",
        _purpose,
    ),
    Rule(
        "lifetime-missing",
        "warning",
        "the charter should say how long each cookie is kept",
        _missing_lifetime,
    ),
    Rule(
        "exempt-but-third-party",
        "error",
        "CNIL: audience measurement is exempt only when first-party",
        _exempt_third_party,
    ),
    Rule(
        "exempt-not-statistics",
        "warning",
        "only audience measurement can be exempt from consent",
        _exempt_not_statistics,
    ),
    Rule(
        "overlapping-patterns",
        "error",
        "a name covered by two entries makes the charter ambiguous",
        _overlaps,
    ),
    Rule(
        "template-braces",
        "error",
        "registry text is text: AngularJS evaluates {{ }} on portal pages",
        _braces,
    ),
)


def lint(registry: Registry) -> list[Finding]:
    return [
        Finding(rule.id, rule.severity, cookie, message)
        for rule in RULES
        for cookie, message in rule.check(registry)
    ]


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.severity == "error" for f in findings) else 0


def format_findings(findings: list[Finding], fmt: str, source: str) -> str:
    if fmt == "json":
        return json.dumps(
            {"registry": source, "findings": [f.__dict__ for f in findings]},
            ensure_ascii=False,
            indent=2,
        )
    if not findings:
        return f"ok: {source} passes every rule"
    return "\n".join(
        f"{source}: {f.severity}: {f.cookie}: {f.message} [{f.rule}]" for f in findings
    )


def rules_table() -> str:
    return "\n".join(f"{r.id:<30} {r.severity:<8} {r.reason}" for r in RULES)
