"""Cookie lifetimes: days in the registry, words on the page.

Lifetimes are read in the languages of :mod:`ods_charter.html.vocabulary`.
"""

from __future__ import annotations

import re

from ods_charter.text import fold

# Months count 30 days and years 365 so that "13 mois" and 390 days round-trip.
_UNITS: tuple[tuple[re.Pattern[str], float], ...] = (
    (
        re.compile(
            r"^(an|ans|annee|annees|years?|yrs?|y|jahre?n?|anos?|anys?|anno|anni|jaar|jaren)$"
        ),
        365,
    ),
    (re.compile(r"^(mois|months?|mo|monate?n?|mes|meses|mesos|mese|mesi|maand|maanden)$"), 30),
    (
        re.compile(
            r"^(semaines?|weeks?|wochen?|semanas?|setmanes|setmana|settimana|settimane|weken)$"
        ),
        7,
    ),
    (re.compile(r"^(jours?|j|days?|d|tage?n?|dias?|dies|giorn[oi]|dag|dagen)$"), 1),
    (re.compile(r"^(heures?|hours?|hrs?|h|stunden?|horas?|hores|ora|ore|uur|uren)$"), 1 / 24),
    (
        re.compile(r"^(minutes?|mins?|minuten?|minutos?|minuts|minut|minuti|minuto|minuut)$"),
        1 / 1440,
    ),
    (
        re.compile(
            r"^(secondes?|seconds?|secs?|s|sek|sekunden?|segundos?|segons?|second[oi]|seconden)$"
        ),
        1 / 86400,
    ),
)
_SESSION = re.compile(
    r"\b(session|sitzung\w*|\w*sitzung|sesion|sessio|sessione|sessie|sessao)\b|"
    r"\bclose (your |the )?browser|\bbrowser (is )?closed|fermeture du navigateur|"
    r"schliessen des browsers|cierre del navegador|chiusura del browser"
)
_AMOUNT = re.compile(r"(\d+(?: point \d+)?|\b[a-z]+\b)\s*([a-z]+)")
_DECIMAL = re.compile(r"(\d)[.,](\d)")  # fold() drops the mark: keep it as a word
_WORD_NUMBERS = {
    **dict.fromkeys(("un", "une", "one", "a", "ein", "eine", "einen", "uno", "una", "een"), 1),
    **dict.fromkeys(("um", "uma"), 1),
    **dict.fromkeys(("deux", "two", "zwei", "dos", "dues", "due", "twee", "dois", "duas"), 2),
}
_ASIDE = re.compile(r"\([^()]*\)")

# Per language: the word for a session cookie, then (singular, plural) of a
# year, a month and a day.
_WORDS: dict[str, tuple[str, dict[int, tuple[str, str]]]] = {
    "fr": ("Session", {365: ("an", "ans"), 30: ("mois", "mois"), 1: ("jour", "jours")}),
    "en": ("Session", {365: ("year", "years"), 30: ("month", "months"), 1: ("day", "days")}),
    "de": ("Sitzung", {365: ("Jahr", "Jahre"), 30: ("Monat", "Monate"), 1: ("Tag", "Tage")}),
    "es": ("Sesión", {365: ("año", "años"), 30: ("mes", "meses"), 1: ("día", "días")}),
    "ca": ("Sessió", {365: ("any", "anys"), 30: ("mes", "mesos"), 1: ("dia", "dies")}),
    "it": ("Sessione", {365: ("anno", "anni"), 30: ("mese", "mesi"), 1: ("giorno", "giorni")}),
    "nl": ("Sessie", {365: ("jaar", "jaar"), 30: ("maand", "maanden"), 1: ("dag", "dagen")}),
    "pt": ("Sessão", {365: ("ano", "anos"), 30: ("mês", "meses"), 1: ("dia", "dias")}),
}


def _sum(key: str) -> float | None:
    total = 0.0
    found = False
    for amount, unit in _AMOUNT.findall(key):
        count = (
            _WORD_NUMBERS.get(amount) if amount.isalpha() else float(amount.replace(" point ", "."))
        )
        if count is None:
            continue
        for pattern, days in _UNITS:
            if pattern.match(unit):
                total += count * days
                found = True
                break
    return total if found else None


def parse_days(text: str) -> float | None:
    """Days described by a lifetime cell ("13 mois", "2 semanas", "Sitzung"), or None
    ("persistent" and other words that name no duration)."""
    # A parenthesised restatement ("13 mois (395 jours)") says the same again.
    plain = _ASIDE.sub(" ", text)
    for candidate in (plain, text) if plain != text else (text,):
        key = fold(_DECIMAL.sub(r"\1 point \2", candidate))
        if _SESSION.search(key):
            return 0
        days = _sum(key)
        if days is not None:
            return days
    return None


def format_days(days: int, language: str) -> str:
    """The words a charter uses for a lifetime in ``language`` (French by default)."""
    session, units = _WORDS.get(language.split("-")[0].lower(), _WORDS["fr"])
    if days == 0:
        return session
    for unit in (365, 30, 1):
        if days % unit == 0:
            count = days // unit
            singular, plural = units[unit]
            return f"{count} {singular if count == 1 else plural}"
    raise AssertionError("unreachable: every whole number of days divides by 1")


def same_lifetime(days: int, text: str) -> bool:
    parsed = parse_days(text)
    return parsed is not None and round(parsed) == days
