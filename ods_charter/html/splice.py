"""Applying a change set to a page's bytes, and proving it touched nothing else.

Tables are located in the original text by a scanner that follows the HTML5
tokenizer where it matters for tables: comments, raw-text and RCDATA elements
(script, style, xmp, iframe, noembed, noframes, textarea, title, plaintext),
``<template>`` contents (not in the document), foreign content (svg, math),
and the tree-construction rules that end a table (``</table>`` inside a cell,
``<table>`` where no cell is open). Its spans are paired with the tables the
parser read by their position among every ``<table>`` of the document.

The scanner proposes; the tree decides. After splicing, the new text is parsed
and its tree compared with the old one with the replaced tables cut out of
both: anything but an exact match (a span that was not the table the parser
read, content a browser would move out of the table) refuses the publish.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ods_charter.diff import LanguageDiff
from ods_charter.errors import ParseError, PublishError
from ods_charter.html.parse import (
    CookieTable,
    ParsedPage,
    cell_text,
    own_cells,
    own_rows,
    parse_page,
    records_of,
)
from ods_charter.html.render import Layout, render_row, render_table
from ods_charter.html.vocabulary import SECTION_TITLES, words
from ods_charter.registry import Cookie, Registry
from ods_charter.text import normalize


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive; -1 while the table is unclosed
    start_tag: str
    ordinal: int  # position among every <table> of the document, nested ones included


_RAW_TEXT = frozenset(
    ("script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title")
)
_INTEGRATION_POINTS = frozenset(("foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext"))
# Start tags that end foreign content (HTML "in foreign content" breakout list).
_BREAKOUT_WORDS = (
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr "
    "i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table "
    "tt u ul var"
)
_BREAKOUT = frozenset(_BREAKOUT_WORDS.split())
_CELL_ENDERS = frozenset(("tr", "tbody", "thead", "tfoot", "caption", "col", "colgroup"))
_TAG_NAME = re.compile(r"[^\t\n\f\r />]+")
_ATTR = re.compile(
    r"""[\t\n\f\r /]*(?:(>)|[^\t\n\f\r />][^\t\n\f\r />=]*"""
    r"""(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"[^"]*"?|'[^']*'?|[^\t\n\f\r >]*))?)"""
)
_RAW_END: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in _RAW_TEXT
}


@dataclass
class _Tag:
    start: bool
    name: str
    at: int
    end: int


def _tag_end(text: str, at: int) -> int:
    """Offset just past the ``>`` closing the tag whose attributes start at
    ``at`` (quoted values may hold ``>``); len(text) when it never closes."""
    while True:
        match = _ATTR.match(text, at)
        if match is None or match.end() == at:
            return len(text)
        at = match.end()
        if match.group(1):
            return at


def _tokens(text: str, html_element: Callable[[], bool]) -> Iterator[_Tag]:
    """Start and end tags as the HTML5 tokenizer sees them, skipping comments,
    raw text and RCDATA. ``html_element()``, asked once the caller has taken a
    start tag, says whether it became an HTML element (an svg ``<title>`` or
    ``<style>`` is not raw text)."""
    at = 0
    size = len(text)
    while True:
        lt = text.find("<", at)
        if lt < 0 or lt + 1 >= size:
            return
        nxt = text[lt + 1]
        if nxt == "!":
            if text.startswith("<!--", lt):
                at = _comment_end(text, lt + 4)
            elif text.startswith("[CDATA[", lt + 2):
                # Only foreign content has CDATA; in HTML it is a bogus comment,
                # and the caller makes us see it as such through foreign=False.
                end = text.find("]]>", lt)
                at = size if end < 0 else end + 3
            else:
                end = text.find(">", lt)
                at = size if end < 0 else end + 1
        elif nxt == "?":
            end = text.find(">", lt)
            at = size if end < 0 else end + 1
        elif nxt == "/":
            if lt + 2 < size and text[lt + 2] == ">":
                at = lt + 3
            elif lt + 2 < size and text[lt + 2].isascii() and text[lt + 2].isalpha():
                name = _TAG_NAME.match(text, lt + 2)
                assert name is not None
                end = _tag_end(text, name.end())
                yield _Tag(False, name.group().lower(), lt, end)
                at = end
            else:
                end = text.find(">", lt)
                at = size if end < 0 else end + 1
        elif nxt.isascii() and nxt.isalpha():
            found = _TAG_NAME.match(text, lt + 1)
            assert found is not None
            tag_name = found.group().lower()
            end = _tag_end(text, found.end())
            yield _Tag(True, tag_name, lt, end)
            at = end
            if (tag_name in _RAW_END or tag_name == "plaintext") and html_element():
                if tag_name == "plaintext":
                    return
                if tag_name in _RAW_END:
                    close = _RAW_END[tag_name].search(text, end)
                    at = size if close is None else close.start()
        else:
            at = lt + 1


def _comment_end(text: str, at: int) -> int:
    if text.startswith(">", at):
        return at + 1
    if text.startswith("->", at):
        return at + 2
    ends = [i for i in (text.find("-->", at), text.find("--!>", at)) if i >= 0]
    if not ends:
        return len(text)
    first = min(ends)
    return first + (3 if text.startswith("-->", first) else 4)


@dataclass
class _Open:
    start: int
    start_tag: str
    ordinal: int
    in_cell: bool = False
    row_start: int | None = None
    rows: list[tuple[int, int]] = field(default_factory=list)
    broken_rows: bool = False  # a row ended without its own </tr>


@dataclass
class Located:
    span: Span
    rows: list[tuple[int, int]] | None  # (start, end) of each row; None if one has no </tr>


def locate(text: str) -> list[Located]:
    """Every ``<table>`` of the document (not in ``<template>``), by position in
    ``text``, in the order a parser meets them."""
    found: list[Located] = []
    stack: list[_Open] = []
    foreign: list[str] = []
    template = 0
    count = 0

    def close(table: _Open, end: int) -> None:
        rows = None if table.broken_rows or table.row_start is not None else table.rows
        found.append(Located(Span(table.start, end, table.start_tag, table.ordinal), rows))

    as_html = [True]  # whether the last start tag was taken as an HTML element

    def html_content() -> bool:
        return not foreign or foreign[-1] in _INTEGRATION_POINTS

    for tag in _tokens(text, lambda: as_html[0]):
        in_foreign = not html_content()
        name = tag.name
        if tag.start:
            as_html[0] = not in_foreign or name in _BREAKOUT
            if not as_html[0]:
                if not text[tag.at : tag.end].endswith("/>"):
                    foreign.append(name)
                continue
            if in_foreign:
                foreign.clear()
            if name in {"svg", "math"} and not text[tag.at : tag.end].endswith("/>"):
                foreign.append(name)
            elif name == "template":
                template += 1
            elif template:
                continue
            elif name == "table":
                if stack and not stack[-1].in_cell:
                    close(stack.pop(), tag.at)
                stack.append(_Open(tag.at, text[tag.at : tag.end], count))
                count += 1
            elif stack:
                _in_table_start(stack[-1], name, tag.at)
        else:
            if foreign and name in foreign:
                del foreign[foreign.index(name) :]
                continue
            if in_foreign:
                continue
            if name == "template":
                template = max(0, template - 1)
            elif template or not stack:
                continue
            elif name == "table":
                top = stack.pop()
                if top.row_start is not None and top.in_cell:
                    top.broken_rows = True
                close(top, tag.end)
            else:
                _in_table_end(stack[-1], name, tag.at, tag.end)
    while stack:
        close(stack.pop(), -1)
    found.sort(key=lambda located: located.span.ordinal)
    return found


def _in_table_start(top: _Open, name: str, at: int) -> None:
    if name in {"td", "th"}:
        top.in_cell = True
    elif top.in_cell and name in _CELL_ENDERS:
        top.in_cell = False
        if top.row_start is not None:
            top.broken_rows = True
            top.row_start = None
    if name == "tr" and not top.in_cell:
        if top.row_start is not None:
            top.broken_rows = True
        top.row_start = at
    elif name in {"tbody", "thead", "tfoot"} and top.row_start is not None:
        top.broken_rows = True
        top.row_start = None


def _in_table_end(top: _Open, name: str, at: int, end: int) -> None:
    if name in {"td", "th"}:
        top.in_cell = False
    elif name == "tr":
        if top.in_cell:
            top.in_cell = False
        if top.row_start is not None:
            top.rows.append((top.row_start, end))
            top.row_start = None
    elif name in {"tbody", "thead", "tfoot"} and top.row_start is not None:
        top.in_cell = False
        top.broken_rows = True
        top.row_start = None


def table_spans(html: str) -> list[Span]:
    """The top-level ``<table>`` elements of the document, by position in ``html``."""
    spans: list[Span] = []
    for located in locate(html):
        span = located.span
        if not spans or spans[-1].end < 0 or span.start >= spans[-1].end:
            spans.append(span)
    return spans


def replace_spans(html: str, replacements: Mapping[Span, str]) -> str:
    """``html`` with each span's text replaced; the rest is untouched."""
    out: list[str] = []
    at = 0
    for span in sorted(replacements, key=lambda s: s.start):
        if span.end < 0:
            raise PublishError(
                "a cookie table has no closing </table>: fix the page by hand before publishing"
            )
        if span.start < at:
            raise PublishError("cookie tables nested in one another cannot be rewritten")
        out.append(html[at : span.start])
        out.append(replacements[span])
        at = span.end
    out.append(html[at:])
    return "".join(out)


def indentation(html: str, offset: int) -> str:
    """The whitespace that starts the line ``offset`` is on, if only whitespace."""
    line_start = html.rfind("\n", 0, offset) + 1
    prefix = html[line_start:offset]
    return prefix if prefix.strip() == "" else ""


def _row_style(text: str, start: int, end: int) -> str | None:
    """The indentation of the first cell of the row at ``text[start:end]``, or
    None when its cells share the row's line."""
    first = text.find("<t", start + 1, end)
    if first < 0 or "\n" not in text[start:first]:
        return None
    return indentation(text, first)


@dataclass
class Spliced:
    html: str
    notes: list[str]
    page: ParsedPage | None = None  # the result, read back (None when nothing changed)


def assign(registry: Registry, tables: Sequence[CookieTable], language: str) -> list[list[Cookie]]:
    """Which cookies go in which table. A cookie on the page stays in its table
    unless that table's heading names another category; any other goes to the
    one table of its category. A cookie is never put under another category's
    heading: no table (or several) for its category refuses, naming it."""
    categories = [t.category for t in tables]
    where: dict[str, int] = {}
    for i, table in enumerate(tables):
        for record in table.records:
            where.setdefault(record.name, i)
    titles = words(SECTION_TITLES, language)
    groups: list[list[Cookie]] = [[] for _ in tables]
    homeless: list[str] = []
    for cookie in registry.cookies:
        here = where.get(cookie.name)
        own = [i for i, category in enumerate(categories) if category == cookie.category]
        if here is not None and (
            categories[here] in {None, cookie.category} or "category" in tables[here].roles
        ):
            groups[here].append(cookie)
        elif len(own) == 1:
            groups[own[0]].append(cookie)
        elif len(tables) == 1 and (categories[0] is None or "category" in tables[0].roles):
            groups[0].append(cookie)  # one table, no heading to contradict
        elif own:
            homeless.append(f"{cookie.name}: {len(own)} tables are headed {cookie.category}")
        else:
            homeless.append(
                f"{cookie.name}: the page has no {cookie.category} section "
                f"(add a '{titles[cookie.category]}' heading and table by hand)"
            )
    if homeless:
        raise PublishError(
            f"[{language}] cannot tell where some cookies go, nothing changed: "
            + "; ".join(homeless)
        )
    return groups


def apply_changes(
    page: ParsedPage, registry: Registry, language: str, changes: LanguageDiff
) -> Spliced:
    """``page`` with the change set applied: drifted rows rewritten, extra rows
    removed, missing rows added; a table rebuilt whole where rows cannot be
    edited safely. Every byte outside the replaced tables is kept, and the
    result is read back to prove it."""
    text = page.html
    located = {item.span.ordinal: item for item in locate(text)}
    for table in page.tables:
        if table.index not in located:
            raise PublishError(
                "cannot locate the cookie table in the page's HTML reliably "
                "(unusual markup around it); edit the page by hand"
            )
    groups = assign(registry, page.tables, language)
    changed = {c.name for c in changes.changed} | set(changes.extra) | set(changes.missing)
    replacements: dict[Span, str] = {}
    for table, cookies in zip(page.tables, groups, strict=True):
        on_page = {r.name for r in table.records}
        wanted = {c.name for c in cookies}
        if on_page == wanted and not (changed & wanted) and len(table.records) == len(on_page):
            continue  # this table already says what the registry says
        where = located[table.index]
        if where.span.end < 0:
            raise PublishError(
                "a cookie table has no closing </table>: fix the page by hand before publishing"
            )
        own = text[where.span.start : where.span.end]
        rows = [(s - where.span.start, e - where.span.start) for s, e in where.rows or []]
        edited = None
        if where.rows is not None and not table.transposed:
            edited = _edit_rows(own, rows, table, cookies, changed, language)
        if edited is None:
            layout = Layout(
                start_tag=where.span.start_tag,
                roles=table.roles,
                headings=table.headings,
                header_in_thead="<thead" in own.lower(),
                header_cell="th" if "<th" in own.lower() else "td",
                transposed=table.transposed,
            )
            edited = render_table(cookies, layout, language, indentation(text, where.span.start))
        replacements[where.span] = edited
    if not replacements:
        return Spliced(text, [])
    result = replace_spans(text, replacements)
    replaced = sorted(s.ordinal for s in replacements)
    return Spliced(result, [], verify(page, result, replaced, language))


def verify(page: ParsedPage, result: str, replaced: Sequence[int], language: str) -> ParsedPage:
    """``result`` read back (its tables in ``language``); PublishError unless its
    tree equals the page's with the tables at ``replaced`` ordinals (and only
    those) swapped."""
    try:
        after = parse_page(result, "the rewritten page", language)
    except ParseError as exc:
        raise PublishError(f"the rewritten page would not read back: {exc}") from None
    marker = f"ods-charter-{secrets.token_hex(8)}"
    old_tree, new_tree = page.tree.clone(), after.tree.clone()
    old_tables, new_tables = old_tree.css("table"), new_tree.css("table")
    shift = 0
    pairs = []
    for ordinal in replaced:
        old = old_tables[ordinal]
        at = ordinal + shift
        if at >= len(new_tables):
            break
        new = new_tables[at]
        shift += len(new.css("table")) - len(old.css("table"))
        pairs.append((old, new))
    same = len(pairs) == len(replaced)
    if same:
        for k, (old, new) in enumerate(pairs):
            old.replace_with(f"{marker}-{k}")
            new.replace_with(f"{marker}-{k}")
        same = old_tree.html == new_tree.html
    if not same:
        raise PublishError(
            "refused: the bytes that would be replaced are not exactly the cookie table a "
            "browser reads (markup around or inside it is unusual); nothing written, "
            "edit the page by hand"
        )
    return after


def _edit_rows(
    text: str,
    spans: list[tuple[int, int]],
    table: CookieTable,
    cookies: Sequence[Cookie],
    changed: set[str],
    language: str,
) -> str | None:
    """The table ``text`` with only its drifted rows rewritten, extra rows
    removed and missing ones added after the last kept row; unchanged rows keep
    their markup. None when the table is not simple enough to edit row by row
    (rowspans, section rows, several names in a row that must change)."""
    rows = list(own_rows(table.element))
    if len(spans) != len(rows):
        return None
    if any(
        (c.attributes or {}).get("rowspan") not in {None, "", "1"}
        for tr in rows
        for c in own_cells(tr)
    ):
        return None
    wanted = {c.name: c for c in cookies}
    on_page = {r.name for r in table.records}
    edits: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    last_kept: tuple[int, int] | None = None
    for (start, end), tr in list(zip(spans, rows, strict=True))[table.header_at + 1 :]:
        cells = [cell_text(c) for c in own_cells(tr)]
        values = [normalize(c) for c in cells]
        if not any(values):
            continue
        if len(set(values)) == 1 and len(values) > 1:
            return None  # a section heading inside the table: rebuild it whole
        names = [r.name for r in records_of([cells], table.roles, None)]
        seen.update(names)
        if all(n in wanted and n not in changed for n in names):
            last_kept = (start, end)
            continue
        if len(names) != 1:
            return None
        name = names[0]
        if name in wanted and name in on_page:
            new = render_row(
                wanted[name],
                table.roles,
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
            f"\n{indent}{render_row(c, table.roles, language, indent, style)}" for c in missing
        )
        edits.append((last_kept[1], last_kept[1], added))
    out, at = [], 0
    for start, end, new in sorted(edits):
        out.append(text[at:start])
        out.append(new)
        at = end
    return "".join(out) + text[at:]


def splice_registry(page_html: str, registry: Registry, language: str) -> Spliced:
    """``page_html`` brought in line with the registry in ``language``: parse,
    compare, apply. Every byte outside the replaced tables is kept as it was."""
    from ods_charter.diff import compare_page

    try:
        page = parse_page(page_html, f"the page [{language}]", language)
    except ParseError as exc:
        raise PublishError(
            f"{exc}; add one by hand (see `ods-charter render`) and publish again"
        ) from None
    return apply_changes(page, registry, language, compare_page(registry, page, language))
