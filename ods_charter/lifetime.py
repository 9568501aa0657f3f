"""Cookie lifetimes: days in the registry, words on the page."""

from __future__ import annotations

import re

from ods_charter.text import fold

# Months count 30 days and years 365 so that "13 mois" and 390 days round-trip.
_UNITS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"^(an|ans|annee|annees|year|years|yr|yrs)$"), 365),
    (re.compile(r"^(mois|month|months)$"), 30),
    (re.compile(r"^(semaine|semaines|week|weeks)$"), 7),
    (re.compile(r"^(jour|jours|day|days|j|d)$"), 1),
    (re.compile(r"^(heure|heures|hour|hours|h)$"), 1 / 24),
    (re.compile(r"^(minute|minutes|min)$"), 1 / 1440),
)
_SESSION = re.compile(r"\bsession\b")
_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")

_WORDS = {
    "fr": {"session": "Session", 365: ("an", "ans"), 30: ("mois", "mois"), 1: ("jour", "jours")},
    "en": {
        "session": "Session",
        365: ("year", "years"),
        30: ("month", "months"),
        1: ("day", "days"),
    },
}


def parse_days(text: str) -> float | None:
    """Days described by a lifetime cell ("13 mois", "2 weeks", "Session"), or None."""
    key = fold(text)
    if _SESSION.search(key):
        return 0
    total = 0.0
    found = False
    for amount, unit in _AMOUNT.findall(key):
        for pattern, days in _UNITS:
            if pattern.match(unit):
                total += float(amount.replace(",", ".")) * days
                found = True
                break
    return total if found else None


def format_days(days: int, language: str) -> str:
    """The words a charter uses for a lifetime in ``language`` (French by default)."""
    words = _WORDS.get(language.split("-")[0], _WORDS["en" if language.startswith("en") else "fr"])
    if days == 0:
        return str(words["session"])
    for unit in (365, 30, 1):
        if days % unit == 0:
            count = days // unit
            singular, plural = words[unit]
            return f"{count} {singular if count == 1 else plural}"
    raise AssertionError("unreachable: every whole number of days divides by 1")


def same_lifetime(days: int, text: str) -> bool:
    parsed = parse_days(text)
    return parsed is not None and round(parsed) == days
