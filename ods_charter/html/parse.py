"""Find the cookie table(s) in a portal page and read them into records.

The page is read with lexbor (through selectolax), an HTML5 parser: the tree is
the one a browser builds, malformed markup included, so what is read is what a
visitor sees. A table is a cookie table when its header row (or, transposed,
its first column of header cells) names a cookie-name column and a provider or
purpose column, in any of the languages of :mod:`ods_charter.html.vocabulary`.
Other tables are ignored but remembered, so that a page with no cookie table
can say what it did hold.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ods_charter.encoding import decode_html, sniff
from ods_charter.errors import ParseError
from ods_charter.html.vocabulary import category_of, language_of_headings, role_of, storage_of
from ods_charter.text import fold, normalize

FIELDS = ("name", "provider", "service", "purpose", "lifetime", "category", "storage")
_MAX_SPAN = 1000  # rowspan/colspan beyond this is a typo or an attack, not a layout
MAX_EXPANSION = 50_000  # grid cells one table may gain from rowspan/colspan
MAX_PAGE_EXPANSION = 200_000  # and a whole page
_HEADER_SCAN_ROWS = 3
_TRANSPOSED_MAX_ROWS = 12  # a table with one column per cookie has one row per field

_NAME_SPLIT = re.compile(r"[\n;,]+")
_COUNT_SUFFIX = re.compile(r"\s*\[x\d+\]$")  # consent platforms: "_ga_* [x2]"
# A family of cookies named in words: "Any cookie starting with __hs" is "__hs*".
_FAMILY = re.compile(
    r"^(?:any|all|every) cookies? (?:starting|beginning|whose names? starts?) with\s+(\S+)$|"
    r"^(?:tout|tous les) cookies? commen[cç]ant par\s+(\S+)$",
    re.IGNORECASE,
)
_HEADING_MAX = 60  # a longer cell is content, not a column heading
_GENERIC_NAME = re.compile(r"^(name|names|nom|noms|nombre|nome|naam|bezeichnung)\b")
_BLOCKS = frozenset(("p", "div", "li", "dt", "dd", "ul", "ol"))
# A nested table is a table of its own, not its cell's text (and reading it
# into every cell around it would make nested tables quadratic).
_HIDDEN = frozenset(("script", "style", "template", "-comment", "table"))
_SECTIONS = frozenset(("thead", "tbody", "tfoot"))
_CELLS = frozenset(("td", "th"))


@dataclass
class CookieRecord:
    name: str
    provider: str | None = None
    service: str | None = None
    purpose: str | None = None
    lifetime: str | None = None
    category: str | None = None
    storage: str | None = None  # "cookie", "localStorage" or "sessionStorage" when stated

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
    element: Any = field(default=None, repr=False, compare=False)  # the lexbor <table>
    language: str | None = None
    transposed: bool = False
    header_at: int = 0  # row of the header, in :func:`grid` order

    @property
    def fields(self) -> set[str]:
        return {r for r in self.roles if r}


@dataclass
class ParsedPage:
    tables: list[CookieTable]
    other_tables: list[list[str]]
    source: str | bytes = ""  # what was parsed
    tree: Any = field(default=None, repr=False, compare=False)

    @property
    def html(self) -> str:
        """The page as text, for splicing (decoded only when asked)."""
        return decode(self.source) if isinstance(self.source, bytes) else self.source

    @property
    def records(self) -> list[CookieRecord]:
        return [r for t in self.tables for r in t.records]

    @property
    def fields(self) -> set[str]:
        found = set().union(*(t.fields for t in self.tables)) if self.tables else set()
        if any(t.category for t in self.tables):
            found.add("category")
        return found

    @property
    def languages(self) -> list[str]:
        """The languages the cookie tables are in, in page order (may be empty)."""
        return list(dict.fromkeys(t.language for t in self.tables if t.language))

    def in_language(self, language: str) -> ParsedPage:
        """The tables in ``language`` when the page holds the charter in several."""
        if len({t.language for t in self.tables}) < 2:
            return self
        base = language.split("-")[0].lower()
        tables = [t for t in self.tables if (t.language or "").split("-")[0].lower() == base]
        if not tables:
            raise ParseError(
                f"the page holds cookie tables in {', '.join(self.languages)}, none in {language!r}"
            )
        return ParsedPage(tables, self.other_tables, self.source, self.tree)


def cell_text(cell: LexborNode) -> str:
    """What a reader sees in a cell; line breaks and block boundaries become
    newlines, so several names in one cell stay apart."""
    child = cell.child
    if child is not None and child.next is None and child.is_text_node:
        return child.text_content or ""  # the usual cell: one text node
    out: list[str] = []
    stack: list[LexborNode | str] = list(reversed(list(cell.iter(include_text=True))))
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        tag = node.tag
        if tag == "-text":
            out.append(node.text_content or "")
        elif tag == "br":
            out.append("\n")
        elif tag not in _HIDDEN:
            if tag in _BLOCKS:
                out.append("\n")
                stack.append("\n")
            stack.extend(reversed(list(node.iter(include_text=True))))
    return "".join(out)


def _span(value: str | None) -> int:
    if not value:
        return 1
    try:
        return max(1, min(int(value.strip() or 1), _MAX_SPAN))
    except ValueError:
        return 1


def own_rows(table: LexborNode) -> Iterator[LexborNode]:
    """The table's rows, not those of nested tables (an HTML5 tree always puts
    them in a section or directly in the table)."""
    for child in table.iter():
        tag = child.tag
        if tag == "tr":
            yield child
        elif tag in _SECTIONS:
            yield from (tr for tr in child.iter() if tr.tag == "tr")


def own_cells(tr: LexborNode) -> list[LexborNode]:
    return [c for c in tr.iter() if c.tag in _CELLS]


def grid(table: LexborNode, limit: int | None = None, cap: int = MAX_EXPANSION) -> list[list[str]]:
    """The table as a rectangle of cell texts (see :func:`expand`)."""
    return expand(table, limit, cap)[0]


def expand(
    table: LexborNode, limit: int | None = None, cap: int = MAX_EXPANSION
) -> tuple[list[list[str]], int]:
    """The table as a rectangle of cell texts, rowspan and colspan expanded;
    the first ``limit`` rows only when given. Linear in the cells it yields;
    ParseError once spans have added more than ``cap`` cells to those written."""
    rows: list[list[str]] = []
    pending: dict[int, tuple[int, str]] = {}  # column -> (rows left, text)
    added = 0
    for tr in own_rows(table):
        if limit is not None and len(rows) >= limit:
            break
        row: list[str] = []
        col = 0
        cells = own_cells(tr)
        for cell in cells:
            col = _fill_pending(row, col, pending)
            text = cell_text(cell)
            attrs = cell.attributes
            rowspan = _span(attrs.get("rowspan")) if attrs else 1
            colspan = _span(attrs.get("colspan")) if attrs else 1
            for _ in range(colspan):
                row.append(text)
                if rowspan > 1:
                    pending[col] = (rowspan - 1, text)
                col += 1
        if pending:
            # Spans may still point further right, past the last real cell:
            # the widest is looked up once per row, which keeps this linear.
            last = max(pending)
            while col <= last:
                if col in pending:
                    col = _fill_pending(row, col, pending)
                else:
                    row.append("")
                    col += 1
        rows.append(row)
        added += len(row) - len(cells)
        if added > cap:
            raise ParseError(
                f"a table's rowspan/colspan add over {cap:,} cells to it "
                f"({len(rows):,} rows read so far): not a cookie table a page can mean"
            )
    return rows, added


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


def header_row(rows: list[list[str]]) -> tuple[int, list[str | None]] | None:
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        roles = _roles(row)
        if roles is not None:
            return i, roles
    return None


def _roles(headings: list[str]) -> list[str | None] | None:
    """Column roles when ``headings`` read as a cookie table's header, else None."""
    roles = [role_of(cell) if 0 < len(cell.strip()) <= _HEADING_MAX else None for cell in headings]
    # A header row names each role once; repeated roles come from colspan.
    if "name" in roles and ({"provider", "purpose"} & set(roles)):
        return roles
    return None


_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_TITLE_TAGS = frozenset(("summary", "legend", "dt", "p", "strong", "b", "span", "button", "div"))
_TITLE_CLASS = re.compile(r"title|header|heading|category|categorie|type", re.IGNORECASE)
_TITLE_MAX = 80  # longer text is a description, not a section title


def _section_title(node: LexborNode) -> str | None:
    """The text of ``node`` when it reads as a section title."""
    tag = node.tag
    if tag in _HEADINGS:
        return node.text()
    if tag in _TITLE_TAGS:
        classes = (node.attributes or {}).get("class") or ""
        if tag in {"summary", "legend"} or _TITLE_CLASS.search(classes):
            text = node.text()
            return text if len(text) <= _TITLE_MAX else None
    return None


def section_category(table: LexborNode) -> tuple[bool, str | None]:
    """(found, category) from the table's caption or the nearest section title
    before it, in its container or the containers around it."""
    for child in table.iter():
        if child.tag == "caption":
            return True, category_of(child.text())
    node: LexborNode | None = table
    while node is not None and node.tag not in {"body", "html", "td", "th"}:
        sibling = node.prev
        while sibling is not None:
            if sibling.tag == "table":
                return False, None
            title = _section_title(sibling)
            if title is not None:
                return True, category_of(title)
            sibling = sibling.prev
        node = node.parent
    return False, None


def _split_names(raw: str) -> list[str]:
    names = (_COUNT_SUFFIX.sub("", normalize(n)) for n in _NAME_SPLIT.split(raw))
    return [_family(n) for n in names if n]


def _family(name: str) -> str:
    found = _FAMILY.match(name)
    return (found.group(1) or found.group(2)).rstrip(".*") + "*" if found else name


def records_of(
    rows: list[list[str]], roles: list[str | None], category: str | None
) -> Iterator[CookieRecord]:
    width = len(roles)
    columns: dict[str, int] = {}  # each role's first column
    for i, role in enumerate(roles):
        if role:
            columns.setdefault(role, i)
    for row in rows:
        if not any(c.strip() for c in row):
            continue
        # (count, not set(): hashing every long cell of every row costs more)
        if width > 1 and len(row) >= width and row.count(row[0]) == len(row):
            # A row spanning every column is a category heading inside the table.
            category = category_of(row[0])
            continue
        size = len(row)
        values = {role: normalize(row[i]) for role, i in columns.items() if i < size}
        raw_name = row[columns["name"]] if columns.get("name", size) < size else ""
        stated = values.get("category")
        storage = storage_of(values["storage"]) if values.get("storage") else None
        cat = category
        if stated:
            # A "type" column may hold the storage kind (consent platforms), not
            # a category: then the section title keeps the say.
            kind = storage_of(stated)
            if kind is not None:
                storage = storage or kind
            else:
                cat = category_of(stated)
        for name in _split_names(raw_name):
            yield CookieRecord(
                name=name,
                provider=values.get("provider"),
                service=values.get("service"),
                purpose=values.get("purpose"),
                lifetime=values.get("lifetime"),
                category=cat,
                storage=storage,
            )


def document(html: str | bytes) -> LexborHTMLParser:
    """Parse HTML (a whole page or a fragment) as a browser does."""
    if isinstance(html, bytes) and sniff(html)[0] != "utf-8":
        html = decode_html(html)
    data = html.encode("utf-8", errors="replace") if isinstance(html, str) else html
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if _CONTENT.search(data) is None:  # (not strip(): that copies the page)
        raise ParseError("the page is empty")
    if _too_deep(data):
        # Tree construction checks scopes down the stack of open elements: the
        # deeper the stack, the longer each later tag takes.
        raise ParseError(
            f"the page nests elements too deeply (over {MAX_DEPTH:,} levels) to be read safely"
        )
    return LexborHTMLParser(data)


_CONTENT = re.compile(rb"[^ \t\n\r\f\x00]")


def decode(data: bytes) -> str:
    """Page bytes as text, in the encoding they declare (BOM, then ``<meta>``;
    UTF-8 by default), undecodable bytes replaced."""
    return decode_html(data)


MAX_DEPTH = 512  # where Chromium stops nesting too; real charter pages nest a few dozen
# Elements that add no level: void ones, and those a later tag closes implicitly.
_FLAT = (
    b"area base br col embed hr img input link meta param source track wbr p li dt dd tr td th "
    b"option optgroup thead tbody tfoot colgroup caption rb rt rtc rp html head body"
)
_FLAT_NAMES = frozenset(_FLAT.split())
_TAG = re.compile(rb"<(/?[a-zA-Z][a-zA-Z0-9]*)")  # one group: no tuple per tag


def _too_deep(data: bytes) -> bool:
    """A quick upper estimate of the nesting depth exceeds :data:`MAX_DEPTH`
    (bytes, not text: the scan is several times faster). A table counts four
    levels: its section, row and cell are open inside it."""
    depth = 0
    for tag in _TAG.findall(data):
        closing = tag[0] == 0x2F  # "/"
        name = tag[1:] if closing else tag
        if name in _FLAT_NAMES or (not name.islower() and name.lower() in _FLAT_NAMES):
            continue
        step = 4 if name.lower() == b"table" else 1
        if closing:
            depth = max(0, depth - step)
        else:
            depth += step
            if depth > MAX_DEPTH:
                return True
    return False


def _language(node: LexborNode, known: dict[int, str | None]) -> str | None:
    """The ``lang`` of the nearest element around ``node`` that has one;
    ``known`` remembers the answer for every element passed (nested tables
    share their ancestors: each is walked once)."""
    passed: list[int] = []
    current: LexborNode | None = node
    found: str | None = None
    while current is not None:
        key = current.mem_id
        if key in known:
            found = known[key]
            break
        passed.append(key)
        attrs = current.attributes
        if attrs and attrs.get("lang"):
            found = str(attrs["lang"]).strip() or None
            break
        current = current.parent
    for key in passed:
        known[key] = found
    return found


def _transposed(table: LexborNode) -> list[list[str]] | None:
    """The rows of a table written one column per cookie, header cells in its
    first column, turned the usual way round; None for any other table."""
    rows = list(islice(own_rows(table), _TRANSPOSED_MAX_ROWS + 1))
    if len(rows) < 2 or len(rows) > _TRANSPOSED_MAX_ROWS:
        return None
    if not all((cells := own_cells(tr)) and cells[0].tag == "th" for tr in rows):
        return None
    if all(c.tag == "th" for c in own_cells(rows[0])):
        return None  # a header row above row headers: the usual way round
    texts = grid(table)
    width = max(len(r) for r in texts)
    return [[r[j] if j < len(r) else "" for r in texts] for j in range(width)]


def _read_table(
    table: LexborNode, index: int, page_cap: int
) -> tuple[CookieTable | list[str], int]:
    """A cookie table, or the first row of any other table (for messages); and
    the number of grid cells it took."""
    cap = min(page_cap, MAX_EXPANSION)
    head, added = expand(table, _HEADER_SCAN_ROWS, cap)
    turned = _transposed(table)
    found = None if turned is not None and _roles(turned[0]) else header_row(head)
    transposed = False
    if found is None:
        roles = _roles(turned[0]) if turned else None
        if turned is None or roles is None:
            return ([normalize(c) for c in head[0]] if head else []), added
        rows, at, transposed = turned, 0, True
    else:
        at, roles = found
        # A short table was read whole already.
        rows, added = (head, added) if len(head) < _HEADER_SCAN_ROWS else expand(table, None, cap)
    _, category = section_category(table)
    cookie_table = CookieTable(
        index,
        roles,
        [normalize(c) for c in rows[at]],
        category,
        element=table,
        transposed=transposed,
        header_at=at,
    )
    cookie_table.records = list(records_of(rows[at + 1 :], roles, category))
    if _not_cookies(cookie_table):
        return [normalize(c) for c in rows[at]], added
    return cookie_table, added


def _not_cookies(table: CookieTable) -> bool:
    """A table headed just "Name" whose names are not cookie names (they hold
    spaces: "Opendatasoft SAS", "Portal accounts") lists processors or kinds of
    data, not cookies."""
    name_heading = table.headings[table.roles.index("name")]
    if not _GENERIC_NAME.match(fold(name_heading)) or not table.records:
        return False
    spaced = sum(1 for r in table.records if " " in r.name)
    return spaced * 2 > len(table.records)


def cookie_tables(tree: LexborHTMLParser) -> tuple[list[CookieTable], list[list[str]]]:
    tables: list[CookieTable] = []
    others: list[list[str]] = []
    budget = MAX_PAGE_EXPANSION  # cells spans may add on the whole page
    for index, table in enumerate(tree.css("table")):
        read, cells = _read_table(table, index, budget)
        budget -= cells
        if isinstance(read, list):
            others.append(read)
        else:
            tables.append(read)
    _assign_languages(tables)
    return tables, others


def _assign_languages(tables: list[CookieTable]) -> None:
    """Each table's language: from ``lang`` attributes, or from its headings'
    words when the tables are in several languages that no attribute tells."""
    known: dict[int, str | None] = {}
    by_attr = [_language(t.element, known) for t in tables]
    by_words = [language_of_headings(tuple(t.headings)) for t in tables]
    if len(set(by_attr)) < 2 and None not in by_words and len(set(by_words)) > 1:
        chosen: list[str | None] = list(by_words)
    else:
        chosen = by_attr
    for table, language in zip(tables, chosen, strict=True):
        table.language = language


MAX_PAGE_BYTES = 20_000_000  # a charter is kilobytes; more is a wrong URL or an attack
_LIST_LABELS = "dt, th, strong, b, label, span, div, h3, h4, h5, h6"
_INLINE_LABEL = re.compile(r"([^\W\d][\w' -]{1,30}):")


def _non_table_list(tree: LexborHTMLParser) -> bool:
    """True when the page lays a cookie list out in div/dl blocks: labels
    naming a cookie's lifetime and its provider or purpose, beside its name
    (a label, or the term of a definition list)."""
    roles: set[str | None] = set()
    for node in tree.css(_LIST_LABELS):
        child = node.child
        if child is None or child.next is not None or not child.is_text_node:
            continue
        text = child.text_content or ""
        if len(text) <= 40 and fold(text) != "cookies":
            roles.add(role_of(text.strip().rstrip(":")))
    for node in tree.css("dd, li"):
        roles.update(role_of(label) for label in _INLINE_LABEL.findall(node.text()))
    if tree.css_first("dl dt") is not None:
        roles.add("name")
    return "name" in roles and bool({"provider", "purpose"} & roles) and "lifetime" in roles


def parse_page(html: str | bytes, source: str = "the page", lang: str | None = None) -> ParsedPage:
    """Read every cookie table of a page (those in ``lang`` when the page
    holds the charter in several); ParseError when there is none."""
    if len(html) > MAX_PAGE_BYTES:
        raise ParseError(
            f"{source}: {len(html):,} bytes is over the {MAX_PAGE_BYTES:,}-byte cap for a page"
        )
    tree = document(html)
    try:
        tables, others = cookie_tables(tree)
    except ParseError as exc:
        raise ParseError(f"{source}: {exc}") from None
    if not tables:
        if _non_table_list(tree):
            raise ParseError(
                f"{source}: the page has a cookie list that is not a table (div/dl blocks); "
                "only cookie tables can be read: turn the list into a <table>"
            )
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
    page = ParsedPage(tables, others, html, tree)
    return page.in_language(lang) if lang else page


def parse_cookies(html: str | bytes, source: str = "the page") -> list[CookieRecord]:
    """The cookie records of a page, one per cookie name."""
    return parse_page(html, source).records
