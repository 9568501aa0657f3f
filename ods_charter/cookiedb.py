"""The Open Cookie Database, vendored in ``data/open-cookie-database/`` (Apache-2.0).

Read on first use only: most commands never need it.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import re
from dataclasses import dataclass
from importlib.resources import files

_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")
_UNIT_DAYS = {
    "second": 1 / 86400,
    "sec": 1 / 86400,
    "minute": 1 / 1440,
    "min": 1 / 1440,
    "hour": 1 / 24,
    "day": 1,
    "week": 7,
    "month": 30.4,  # "12 months" is 365 days and "13 months" 395, the lint's limit
    "year": 365,
}
_SESSION = re.compile(r"^(end of )?(the )?(browser )?sessions?\b")


@dataclass(frozen=True)
class DbCookie:
    platform: str
    category: str  # Functional | Analytics | Marketing | Security | Necessary | Personalization
    name: str
    domains: tuple[str, ...]  # empty: any site may set it
    description: str
    retention: str
    controller: str
    wildcard: bool  # the name is a prefix

    def covers(self, cookie_name: str) -> bool:
        if self.wildcard:
            return cookie_name.startswith(self.name)
        return cookie_name == self.name


def domains_of(text: str) -> tuple[str, ...]:
    """The domains named in a free-text Domain cell ("facebook.com (3rd party)")."""
    return tuple(d.lstrip(".") for d in _DOMAIN.findall(text.lower()))


@functools.cache
def cookies() -> tuple[DbCookie, ...]:
    raw = files("ods_charter") / "data" / "open-cookie-database" / "open-cookie-database.csv.gz"
    text = gzip.decompress(raw.read_bytes()).decode("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        name = row["Cookie / Data Key name"].strip()
        if not name or any(ch in name for ch in " ,;="):
            continue  # not a cookie name a registry could hold
        out.append(
            DbCookie(
                platform=row["Platform"].strip(),
                category=row["Category"].strip(),
                name=name,
                domains=domains_of(row["Domain"]),
                description=row["Description"].strip(),
                retention=row["Retention period"].strip(),
                controller=row["Data Controller"].strip(),
                wildcard=row["Wildcard match"].strip() == "1",
            )
        )
    return tuple(out)


def retention_days(text: str) -> tuple[int | None, bool]:
    """Whole days for a free-text retention ("13 months", "Session", "30 minutes").

    Returns (days, exact): 0 for a session cookie; a part of a day counts as one
    day; ``exact`` is False when the text says more than one amount ("180 days
    after last activity or 10 years ...") and only the first was read. None when
    no amount is given ("Unknown", "Varies", "forever").
    """
    key = " ".join(text.lower().split())
    if _SESSION.match(key):
        return 0, True
    found = _AMOUNT.findall(key)
    for amount, unit in found:
        base = unit[:-1] if unit.endswith("s") and unit[:-1] in _UNIT_DAYS else unit
        if base in _UNIT_DAYS:
            days = float(amount.replace(",", ".")) * _UNIT_DAYS[base]
            whole = max(1, round(days))  # part of a day: one day, never a session cookie
            rest = key.replace(f"{amount} {unit}", "", 1).replace(f"{amount}{unit}", "", 1)
            return whole, len(found) == 1 and not rest.strip()
    return None, False
