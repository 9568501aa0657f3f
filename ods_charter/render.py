"""Building cookie tables from the registry, and splicing them into a page.

Rendering into an existing page keeps that page's layout: the table's own start
tag (classes, attributes) verbatim, its columns, their order and headings, and
one table per category when the page splits them. Every registry text is
HTML-escaped, so a ``<script>`` in a purpose reaches the page as text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from ods_charter.diff import compare
from ods_charter.errors import PublishError
from ods_charter.lifetime import format_days
from ods_charter.parse import (
    CookieTable,
    cookie_tables,
    document,
    grid,
    header_row,
    own_cells,
    own_rows,
    records_of,
)
from ods_charter.registry import CATEGORIES, Cookie, Registry
from ods_charter.splice import Span, indentation, replace_spans, row_spans, table_spans
from ods_charter.text import normalize

_HEADINGS = {
    "fr": {
        "provider": "Nom du prestataire",
        "service": "Service et emplacement",
        "name": "Nom du cookie",
        "purpose": "Finalités",
        "lifetime": "Durée de vie",
        "category": "Type",
    },
    "en": {
        "provider": "Service provider's name",
        "service": "Function and location",
        "name": "Cookie name(s)",
        "purpose": "Purposes",
        "lifetime": "Lifetime",
        "category": "Type",
    },
}
_CATEGORY_LABELS = {
    "fr": {
        "necessary": "Nécessaire",
        "statistics": "Statistiques",
        "first_party": "Interne",
        "third_party": "Tiers",
    },
    "en": {
        "necessary": "Necessary",
        "statistics": "Statistics",
        "first_party": "First party",
        "third_party": "Third party",
    },
}
_SECTION_TITLES = {
    "fr": {
        "necessary": "Cookies nécessaires au bon fonctionnement de la plateforme",
        "statistics": "Cookies statistiques",
        "first_party": "Cookies internes",
        "third_party": "Cookies tiers",
    },
    "en": {
        "necessary": "Cookies necessary for the platform to work",
        "statistics": "Statistics cookies",
        "first_party": "First-party cookies",
        "third_party": "Third-party cookies",
    },
}
DEFAULT_COLUMNS = ("provider", "service", "name", "purpose", "lifetime")
_INDENT = "    "


def _words(table: dict[str, dict[str, str]], language: str) -> dict[str, str]:
    return table.get(language.split("-")[0], table["en" if language.startswith("en") else "fr"])


def cell_value(cookie: Cookie, role: str | None, language: str) -> str:
    if role == "name":
        return cookie.name
    if role == "provider":
        return cookie.provider
    if role in {"service", "purpose"}:
        texts = cookie.service if role == "service" else cookie.purpose
        return texts.get(language, "")
    if role == "lifetime":
        return "" if cookie.lifetime_days is None else format_days(cookie.lifetime_days, language)
    if role == "category":
        return _words(_CATEGORY_LABELS, language)[cookie.category]
    return ""


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class Layout:
    start_tag: str
    roles: Sequence[str | None]
    headings: Sequence[str]
    header_in_thead: bool = True
    header_cell: str = "th"


def render_table(cookies: Sequence[Cookie], layout: Layout, language: str, indent: str = "") -> str:
    """One table, deterministic and indented from ``indent``."""
    i1, i2, i3 = (indent + _INDENT * n for n in range(1, 4))
    head_cells = "".join(
        f"\n{i3 if layout.header_in_thead else i2}"
        f"<{layout.header_cell}>{_esc(h)}</{layout.header_cell}>"
        for h in layout.headings
    )
    if layout.header_in_thead:
        head = f"\n{i1}<thead>\n{i2}<tr>{head_cells}\n{i2}</tr>\n{i1}</thead>"
        body_indent = i2
    else:
        head = f"\n{i1}<tr>{head_cells}\n{i1}</tr>"
        body_indent = i1
    rows = [
        f"\n{body_indent}{_row(c, layout.roles, language, body_indent, body_indent + _INDENT)}"
        for c in cookies
    ]
    if layout.header_in_thead:
        body = f"\n{i1}<tbody>{''.join(rows)}\n{i1}</tbody>"
    else:
        body = "".join(rows)
    return f"{layout.start_tag}{head}{body}\n{indent}</table>"


def _row(
    cookie: Cookie, roles: Sequence[str | None], language: str, indent: str, cell_indent: str | None
) -> str:
    """One ``<tr>``; cells on lines of their own at ``cell_indent``, or all on one
    line when it is None (as the page's own rows are written)."""
    cells = [f"<td>{_esc(cell_value(cookie, role, language))}</td>" for role in roles]
    if cell_indent is None:
        return f"<tr>{''.join(cells)}</tr>"
    return "<tr>" + "".join(f"\n{cell_indent}{c}" for c in cells) + f"\n{indent}</tr>"


def _row_style(text: str, start: int, end: int) -> str | None:
    """The indentation of the first cell of the row at ``text[start:end]``, or
    None when its cells share the row's line."""
    first = text.find("<t", start + 1, end)
    if first < 0 or "\n" not in text[start:first]:
        return None
    return indentation(text, first)


def default_layout(language: str) -> Layout:
    words = _words(_HEADINGS, language)
    return Layout(
        start_tag='<table class="table table-bordered ods-charter-cookies">',
        roles=DEFAULT_COLUMNS,
        headings=[words[r] for r in DEFAULT_COLUMNS],
    )


def render_default(registry: Registry, language: str) -> str:
    """Clean tables for a new page: one per category present, with a heading."""
    titles = _words(_SECTION_TITLES, language)
    parts = []
    for category in CATEGORIES:
        cookies = [c for c in registry.cookies if c.category == category]
        if cookies:
            parts.append(f"<h3>{_esc(titles[category])}</h3>")
            parts.append(render_table(cookies, default_layout(language), language))
    return "\n".join(parts) + "\n"


def _assign(
    registry: Registry, tables: Sequence[CookieTable]
) -> tuple[list[list[Cookie]], list[str]]:
    """Which cookies go in which table; notes for cookies with no table of their own."""
    categories = [t.category for t in tables]
    notes: list[str] = []
    if len(tables) == 1:
        return [list(registry.cookies)], notes
    if None in categories or len(set(categories)) != len(categories):
        raise PublishError(
            "the page has several cookie tables without one distinct category heading each "
            "(nécessaires, statistiques, tiers...): cannot tell which cookie goes where"
        )
    groups: list[list[Cookie]] = [[] for _ in tables]
    for cookie in registry.cookies:
        if cookie.category in categories:
            groups[categories.index(cookie.category)].append(cookie)
        else:
            groups[0].append(cookie)
            notes.append(
                f"{cookie.name}: no {cookie.category} table on the page; added to the first "
                "table (add a section for it by hand)"
            )
    return groups, notes


@dataclass
class Spliced:
    html: str
    notes: list[str]


def splice_registry(page_html: str, registry: Registry, language: str) -> Spliced:
    """``page_html`` with its cookie table(s) rebuilt from the registry.

    Every byte outside the replaced tables is kept as it was.
    """
    # Categories come from headings above each table, so read the whole page,
    # then pair its cookie tables with the tokenizer's spans by table ordinal.
    whole, _ = cookie_tables(document(page_html))
    by_ordinal = {t.index: t for t in whole}
    found: list[tuple[Span, CookieTable, str, CookieTable]] = []
    for span in table_spans(page_html):
        table = by_ordinal.get(span.ordinal)
        if table is None:
            continue
        text = page_html[span.start : span.end if span.end >= 0 else len(page_html)]
        alone, _ = cookie_tables(document(text))
        if not alone or alone[0].headings != table.headings:
            raise PublishError(
                "cannot locate the cookie table in the page's HTML reliably "
                "(unusual markup around it); edit the page by hand"
            )
        found.append((span, table, text, alone[0]))
    if not found:
        raise PublishError(
            f"the page's '{language}' content has no cookie table to replace; "
            "add one by hand (see `ods-charter render`) and publish again"
        )
    groups, notes = _assign(registry, [t for _, t, _, _ in found])
    replacements = {}
    for (span, table, text, parsed), cookies in zip(found, groups, strict=True):
        layout = Layout(
            start_tag=span.start_tag,
            roles=table.roles,
            headings=table.headings,
            header_in_thead="<thead" in text.lower(),
            header_cell="th" if "<th" in text.lower() else "td",
        )
        edited = _edit_rows(text, parsed, cookies, registry, language)
        replacements[span] = (
            edited
            if edited is not None
            else render_table(cookies, layout, language, indentation(page_html, span.start))
        )
    return Spliced(replace_spans(page_html, replacements), notes)


def _edit_rows(
    text: str, parsed: CookieTable, cookies: Sequence[Cookie], registry: Registry, language: str
) -> str | None:
    """The table with only its drifted rows rewritten, extra rows removed and
    missing ones added after the last row; unchanged rows keep their markup.

    None when the table is not simple enough to edit row by row (rowspans,
    section rows inside the table, several names in a row that must change,
    rows without a closing tag): the caller then rebuilds the whole table.
    ``parsed`` is ``text`` already read, its element with line breaks marked.
    """
    spans = row_spans(text)
    rows = list(own_rows(parsed.element))
    if spans is None or len(spans) != len(rows):
        return None
    if any(c.get("rowspan") not in {None, "", "1"} for tr in rows for c in own_cells(tr)):
        return None
    layout_table = parsed
    texts = grid(parsed.element)
    found = header_row(texts)
    if found is None:
        return None
    header_at = found[0]
    wanted = {c.name: c for c in cookies}
    by_name = {r.name: r for r in layout_table.records}
    subset = Registry(registry.languages, tuple(cookies))
    changed = {
        c.name for c in compare(subset, layout_table.records, language, layout_table.fields).changed
    }
    edits: list[tuple[int, int, str]] = []  # (start, end, new text) in table text
    seen: set[str] = set()
    last_kept: tuple[int, int] | None = None  # where missing rows go: after it
    for (start, end), cells in list(zip(spans, texts, strict=True))[header_at + 1 :]:
        values = [normalize(c) for c in cells]
        if not any(values):
            continue
        if len(set(values)) == 1 and len(values) > 1:
            return None  # a section heading inside the table: rebuild it whole
        names = [r.name for r in records_of([cells], layout_table.roles, None)]
        seen.update(names)
        if all(n in wanted and n not in changed for n in names):
            last_kept = (start, end)
            continue
        if len(names) != 1:
            return None
        name = names[0]
        if name in wanted and by_name.get(name) is not None:
            new = _row(
                wanted[name],
                layout_table.roles,
                language,
                indentation(text, start),
                _row_style(text, start, end),
            )
            edits.append((start, end, new))
            last_kept = (start, end)
        else:  # not in the registry: remove the row and the whitespace before it
            line_start = text.rfind("\n", 0, start)
            cut = line_start if line_start >= 0 and not text[line_start:start].strip() else start
            edits.append((cut, end, ""))
    missing = [c for c in cookies if c.name not in seen]
    if missing:
        if last_kept is None:
            return None  # no row left to follow: rebuild, rather than guess a place
        indent = indentation(text, last_kept[0])
        style = _row_style(text, *last_kept)
        added = "".join(
            f"\n{indent}{_row(c, layout_table.roles, language, indent, style)}" for c in missing
        )
        edits.append((last_kept[1], last_kept[1], added))
    out, at = [], 0
    for start, end, new in sorted(edits):
        out.append(text[at:start])
        out.append(new)
        at = end
    return "".join(out) + text[at:]
