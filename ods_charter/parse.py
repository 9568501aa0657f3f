"""Find the cookie table(s) in a portal page and read them into records.

A table is a cookie table when its header row names a cookie-name column and a
provider or purpose column, in any of the wordings real charters use (French or
English). Other tables on the page are ignored but remembered, so that a page
with no cookie table can say what it did hold.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import lxml.etree

from ods_charter.errors import ParseError
from ods_charter.text import fold, normalize

FIELDS = ("name", "provider", "service", "purpose", "lifetime", "category")
_MAX_SPAN = 1000  # rowspan/colspan beyond this is a typo or an attack, not a layout
_HEADER_SCAN_ROWS = 3

# Order matters: "Service provider's name" is a provider, "Function and location"
# a service, "Function" alone a purpose.
_ROLE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("provider", re.compile(r"prestataire|provider|supplier|fournisseur|editeur|vendor|emetteur")),
    ("name", re.compile(r"\bcookies?\b|\bnom\b$|^name$|^noms?$|traceur")),
    ("lifetime", re.compile(r"duree|duration|retention|expir|lifetime|conservation|validite")),
    ("service", re.compile(r"emplacement|location|^service")),
    ("purpose", re.compile(r"finalite|purpose|function|fonction|objet|description|usage|but\b")),
    ("category", re.compile(r"^type|categor")),
)

_CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("statistics", re.compile(r"statisti|analytic|audience|mesure")),
    ("third_party", re.compile(r"tiers|third|tierce|publicit|advertis|market")),
    ("necessary", re.compile(r"necessaire|fonctionnel|functional|essenti|strictly|necessary")),
    ("first_party", re.compile(r"interne|first party|preference|experience")),
)

_NAME_SPLIT = re.compile(r"[\n;,]+")
_BLOCKS = ("br", "p", "div", "li")


def _mark_breaks(root: Any) -> None:
    # Script and style bodies are not text a reader sees in a cell.
    lxml.etree.strip_elements(root, "script", "style", "template", with_tail=False)
    for node in root.iter(*_BLOCKS):
        node.tail = "\n" + (node.tail or "")
        if node.tag != "br":
            node.text = "\n" + (node.text or "")


def role_of(heading: str) -> str | None:
    """What a column heading means (``name``, ``provider``...), or None."""
    key = fold(heading)
    return next((role for role, rule in _ROLE_RULES if rule.search(key)), None)


def category_of(text: str) -> str | None:
    key = fold(text)
    return next((cat for cat, rule in _CATEGORY_RULES if rule.search(key)), None)


@dataclass
class CookieRecord:
    name: str
    provider: str | None = None
    service: str | None = None
    purpose: str | None = None
    lifetime: str | None = None
    category: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass
class CookieTable:
    """One cookie table: its column roles and headings, and its records."""

    index: int  # position among all <table> elements of the document
    roles: list[str | None]
    headings: list[str]
    category: str | None
    records: list[CookieRecord] = field(default_factory=list)
    # The lxml <table> it was read from (line breaks marked), for row-level edits.
    element: Any = field(default=None, repr=False, compare=False)

    @property
    def fields(self) -> set[str]:
        return {r for r in self.roles if r}


@dataclass
class ParsedPage:
    tables: list[CookieTable]
    other_tables: list[list[str]]

    @property
    def records(self) -> list[CookieRecord]:
        return [r for t in self.tables for r in t.records]

    @property
    def fields(self) -> set[str]:
        found = set().union(*(t.fields for t in self.tables)) if self.tables else set()
        if any(t.category for t in self.tables):
            found.add("category")
        return found


def _cell_text(cell: Any) -> str:
    """Cell text; line breaks and block boundaries were made newlines by
    :func:`_mark_breaks`, so several names in one cell stay apart."""
    text: str = lxml.etree.tostring(cell, method="text", encoding=str, with_tail=False)
    return text


def _span(value: str | None) -> int:
    if not value:
        return 1
    try:
        return max(1, min(int(value.strip() or 1), _MAX_SPAN))
    except ValueError:
        return 1


def _owner(node: Any, tag: str) -> Any:
    return next(node.iterancestors(tag), None)


def own_rows(table: Any) -> Iterator[Any]:
    """The table's rows, not those of nested tables; in broken HTML a row may
    sit inside stray inline tags, so look at every descendant."""
    return (tr for tr in table.iter("tr") if _owner(tr, "table") is table)


def own_cells(tr: Any) -> list[Any]:
    direct = [c for c in tr if c.tag == "td" or c.tag == "th"]
    if direct:  # the usual case, and much cheaper than asking every descendant
        return direct
    return [c for c in tr.iter("td", "th") if _owner(c, "tr") is tr]


def _fill_pending(row: list[str], col: int, pending: dict[int, tuple[int, str]]) -> int:
    """Copy cells that rowspans above carry into ``row`` from ``col``; next free column."""
    while col in pending:
        left, text = pending[col]
        row.append(text)
        if left <= 1:
            del pending[col]
        else:
            pending[col] = (left - 1, text)
        col += 1
    return col


def grid(table: Any) -> list[list[str]]:
    """The table as a rectangle of cell texts, rowspan and colspan expanded."""
    rows: list[list[str]] = []
    pending: dict[int, tuple[int, str]] = {}  # column -> (rows left, text)
    for tr in own_rows(table):
        row: list[str] = []
        col = 0
        for cell in own_cells(tr):
            col = _fill_pending(row, col, pending)
            text = _cell_text(cell)
            rowspan, colspan = _span(cell.get("rowspan")), _span(cell.get("colspan"))
            for _ in range(colspan):
                row.append(text)
                if rowspan > 1:
                    pending[col] = (rowspan - 1, text)
                col += 1
        col = _fill_pending(row, col, pending)
        # Spans may still point further right, past the last real cell.
        while pending and col <= max(pending):
            if col in pending:
                col = _fill_pending(row, col, pending)
            else:
                row.append("")
                col += 1
        rows.append(row)
    return rows


def header_row(rows: list[list[str]]) -> tuple[int, list[str | None]] | None:
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        roles = [role_of(cell) if normalize(cell) else None for cell in row]
        # A header row names each role once; repeated roles come from colspan.
        if "name" in roles and ({"provider", "purpose"} & set(roles)):
            return i, roles
    return None


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _heading_category(table: Any) -> str | None:
    """The category named by the nearest heading before the table, in its
    container or the containers around it (a loop: pages can nest deeply)."""
    node = table
    while node is not None and node.tag not in {"body", "html"}:
        for sibling in node.itersiblings(preceding=True):
            if sibling.tag in _HEADINGS:
                return category_of("".join(sibling.itertext()))
            if sibling.tag == "table":
                return None
        node = node.getparent()
    return None


def records_of(
    rows: list[list[str]], roles: list[str | None], category: str | None
) -> Iterator[CookieRecord]:
    width = len(roles)
    for row in rows:
        texts = [normalize(c) for c in row]
        if not any(texts):
            continue
        if len(set(texts)) == 1 and width > 1 and len(row) >= width:
            # A row spanning every column is a category heading inside the table.
            category = category_of(texts[0]) or category
            continue
        values: dict[str, str] = {}
        raw_name = ""
        for role, raw, text in zip(roles, row, texts, strict=False):
            if role and role not in values:
                values[role] = text
                if role == "name":
                    raw_name = raw
        names = [normalize(n) for n in _NAME_SPLIT.split(raw_name)]
        names = [n for n in names if n]
        page_category = values.get("category")
        cat = (category_of(page_category) or page_category) if page_category else category
        for name in names:
            yield CookieRecord(
                name=name,
                provider=values.get("provider"),
                service=values.get("service"),
                purpose=values.get("purpose"),
                lifetime=values.get("lifetime"),
                category=cat,
            )


def document(html: str | bytes) -> Any:
    """Parse HTML (a whole page or a fragment) leniently, as browsers do."""
    if isinstance(html, str):
        html = html.encode("utf-8", errors="replace")
    # Control characters are not HTML text (browsers drop them) and lxml refuses
    # them in text it is given back; in UTF-8 these bytes are never part of a
    # longer character, so deleting them is safe.
    html = html.translate(None, _CONTROL_BYTES)
    if not html.strip():
        raise ParseError("the page is empty")
    parser = _parser()
    try:
        root = lxml.etree.fromstring(html, parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"the page is not readable HTML: {exc}") from None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        # libxml2 stops reading past its nesting limit: what follows would be lost.
        raise ParseError(
            "the page nests elements too deeply (over 2,048 levels) to be read reliably"
        )
    if root is None:
        raise ParseError("the page holds no HTML elements")
    return root


_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32)])
_LOCAL = threading.local()


def _parser() -> Any:
    """One parser per thread: lxml parsers may not be shared between threads.
    Plain etree elements, because lxml.html's element classes cost a lookup per node."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = lxml.etree.HTMLParser(
            encoding="utf-8", remove_comments=True, huge_tree=True
        )
    return parser


def cookie_tables(root: Any) -> tuple[list[CookieTable], list[list[str]]]:
    tables: list[CookieTable] = []
    others: list[list[str]] = []
    _mark_breaks(root)
    for index, table in enumerate(root.iter("table")):
        rows = grid(table)
        found = header_row(rows)
        if found is None:
            others.append([normalize(c) for c in rows[0]] if rows else [])
            continue
        at, roles = found
        category = _heading_category(table)
        heads = [normalize(c) for c in rows[at]]
        cookie_table = CookieTable(index, roles, heads, category, element=table)
        cookie_table.records = list(records_of(rows[at + 1 :], roles, category))
        tables.append(cookie_table)
    return tables, others


MAX_PAGE_BYTES = 20_000_000  # a charter is kilobytes; more is a wrong URL or an attack


def parse_page(html: str | bytes, source: str = "the page") -> ParsedPage:
    """Read every cookie table of a page; ParseError when there is none."""
    if len(html) > MAX_PAGE_BYTES:
        raise ParseError(
            f"{source}: {len(html):,} bytes is over the {MAX_PAGE_BYTES:,}-byte cap for a page"
        )
    tables, others = cookie_tables(document(html))
    if not tables:
        seen = (
            "; ".join(
                f"table {i + 1}: " + (" | ".join(h for h in heads if h) or "(no header)")
                for i, heads in enumerate(others)
            )
            or "no table at all"
        )
        raise ParseError(
            f"{source}: no cookie table found (a table whose header names a cookie column "
            f"and a provider or purpose column). Tables seen: {seen}"
        )
    return ParsedPage(tables, others)


def parse_cookies(html: str | bytes, source: str = "the page") -> list[CookieRecord]:
    """The cookie records of a page, one per cookie name."""
    return parse_page(html, source).records
