"""Building cookie tables and rows from the registry.

Rendering into an existing page keeps that page's layout: the table's own start
tag (classes, attributes) verbatim, its columns, their order and headings (see
:mod:`.splice`). Every registry text is HTML-escaped, so a ``<script>`` in a
purpose reaches the page as text, and every row holding registry text carries
``ng-non-bindable``: portal pages are compiled by AngularJS, which would
otherwise evaluate ``{{ ... }}`` in a purpose on every visitor's browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from ods_charter.html.vocabulary import CATEGORY_LABELS, HEADINGS, SECTION_TITLES, words
from ods_charter.lifetime import format_days
from ods_charter.registry import CATEGORIES, Cookie, Registry

DEFAULT_COLUMNS = ("provider", "service", "name", "purpose", "lifetime")
_INDENT = "    "
_ROW = "<tr ng-non-bindable>"  # registry text is text, not an AngularJS template


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
        return words(CATEGORY_LABELS, language)[cookie.category]
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
    transposed: bool = False  # one column per cookie, one row per field


def render_table(cookies: Sequence[Cookie], layout: Layout, language: str, indent: str = "") -> str:
    """One table, deterministic and indented from ``indent``."""
    if layout.transposed:
        return _render_transposed(cookies, layout, language, indent)
    i1, i2, i3 = (indent + _INDENT * n for n in range(1, 4))
    cell = layout.header_cell
    head_cells = "".join(
        f"\n{i3 if layout.header_in_thead else i2}<{cell}>{_esc(h)}</{cell}>"
        for h in layout.headings
    )
    if layout.header_in_thead:
        head = f"\n{i1}<thead>\n{i2}<tr>{head_cells}\n{i2}</tr>\n{i1}</thead>"
        body_indent = i2
    else:
        head = f"\n{i1}<tr>{head_cells}\n{i1}</tr>"
        body_indent = i1
    cell_indent = body_indent + _INDENT
    rows = [
        f"\n{body_indent}{render_row(c, layout.roles, language, body_indent, cell_indent)}"
        for c in cookies
    ]
    if layout.header_in_thead:
        body = f"\n{i1}<tbody>{''.join(rows)}\n{i1}</tbody>"
    else:
        body = "".join(rows)
    return f"{layout.start_tag}{head}{body}\n{indent}</table>"


def _render_transposed(
    cookies: Sequence[Cookie], layout: Layout, language: str, indent: str
) -> str:
    i1, i2 = indent + _INDENT, indent + _INDENT * 2
    rows = []
    for role, heading in zip(layout.roles, layout.headings, strict=False):
        cells = "".join(f"<td>{_esc(cell_value(c, role, language))}</td>" for c in cookies)
        rows.append(f"\n{i2}{_ROW}<th>{_esc(heading)}</th>{cells}</tr>")
    return f"{layout.start_tag}\n{i1}<tbody>{''.join(rows)}\n{i1}</tbody>\n{indent}</table>"


def render_row(
    cookie: Cookie, roles: Sequence[str | None], language: str, indent: str, cell_indent: str | None
) -> str:
    """One ``<tr>``; cells on lines of their own at ``cell_indent``, or all on one
    line when it is None (as the page's own rows are written)."""
    cells = [f"<td>{_esc(cell_value(cookie, role, language))}</td>" for role in roles]
    if cell_indent is None:
        return f"{_ROW}{''.join(cells)}</tr>"
    return _ROW + "".join(f"\n{cell_indent}{c}" for c in cells) + f"\n{indent}</tr>"


def default_layout(language: str) -> Layout:
    headings = words(HEADINGS, language)
    return Layout(
        start_tag='<table class="table table-bordered ods-charter-cookies">',
        roles=DEFAULT_COLUMNS,
        headings=[headings[r] for r in DEFAULT_COLUMNS],
    )


def render_default(registry: Registry, language: str) -> str:
    """Clean tables for a new page, in its language: one per category present,
    with a heading."""
    titles = words(SECTION_TITLES, language)
    parts = []
    for category in CATEGORIES:
        cookies = [c for c in registry.cookies if c.category == category]
        if cookies:
            parts.append(f"<h3>{_esc(titles[category])}</h3>")
            parts.append(render_table(cookies, default_layout(language), language))
    return "\n".join(parts) + "\n"
