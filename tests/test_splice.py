"""Splice locates exactly the tables a browser builds, checked against html5lib.

html5lib is an HTML5 parser written independently of lexbor (which the library
reads pages with) and of the splice's scanner: it is the oracle here. For random
documents full of the constructs that fool a naive tokenizer (raw text and
RCDATA holding ``</table>``, tables in ``<template>``, comments, nested tables,
omitted end tags), replacing the bytes of the span splice finds for table k
must give the tree html5lib builds for the document with table k swapped.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ods_charter.diff import compare_page
from ods_charter.errors import ParseError, PublishError
from ods_charter.html.parse import document, parse_page
from ods_charter.html.splice import apply_changes, locate, splice_registry
from ods_charter.importer import registry_from_page
from ods_charter.registry import load_registry

from .conftest import REGISTRY, STAR_PAGE

SENTINEL = '<table id="oracle-sentinel"></table>'
REG = load_registry(REGISTRY)

# Fragments around and inside tables that a scanner must not read as tags.
_DECOYS = [
    "text",
    "<p>para",
    "<div>block</div>",
    "<!-- <table><tr><td>in a comment</td></tr></table> -->",
    "<!--> </table> <table>",
    '<script>var s = "</table><table>";</script>',
    "<style>/* <table> */ td { color: red }</style>",
    "<textarea><table><tr><td>typed</td></tr></table></textarea>",
    "<title></table><table></title>",
    "<xmp><table></xmp>",
    "<iframe><table><tr><td>x</td></tr></table></iframe>",
    "<noembed><table></noembed>",
    "<noframes></table></noframes>",
    "<template><table><tr><td>inert</td></tr></table></template>",
    "<svg><title><table><tr><td>in svg</td></tr></table></title></svg>",
    "<![CDATA[<table>]]>",
    "<?pi <table> ?>",
    '<a title="</table>">link</a>',
    "<br>",
    "</>",
    "</3 not a tag>",
    "<!---> <table>",
    "a < b and c<d",
    "<svg><style><table><tr><td>s</td></tr></table></style></svg>",
    "<svg><g><p>breaks out</p></svg>",
    "<math><mi><textarea></table></textarea></mi></math>",
    "<!-- unclosed",
    "<plaintext></table><table>",
]
_CELLS = [
    "plain",
    "<code>_pk_id.*</code>",
    "a<br>b",
    '<script>document.write("</table>")</script>after',
    "<textarea></table></textarea>",
    "<!-- </td></tr></table> -->",
    "<table><tr><td>nested</td></tr></table>",
    "<p>one</p><p>two</p>",
    "<title></table></title>",
    "",
]


@st.composite
def tables(draw: st.DrawFn) -> str:
    close_cells = draw(st.booleans())
    end = "</td>" if close_cells else ""
    rows = ["<tr><th>Cookie</th><th>Purpose</th></tr>"]
    for i in range(draw(st.integers(0, 3))):
        a, b = draw(st.sampled_from(_CELLS)), draw(st.sampled_from(_CELLS))
        row_end = draw(st.sampled_from(("</tr>", "")))
        rows.append(f"<tr><td>c{i} {a}{end}<td>{b}{end}{row_end}")
    body = "".join(rows)
    if draw(st.booleans()):
        body = f"<tbody>{body}</tbody>"
    return f'<table class="t">{body}</table>'


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = ["<!DOCTYPE html><html><head><title>T</title></head><body>"]
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(st.sampled_from(_DECOYS)))
        parts.append(draw(tables()))
        if draw(st.booleans()):
            parts.append(f"<div>{draw(tables())}</div>")
    parts.append(draw(st.sampled_from(_DECOYS)))
    parts.append("</body></html>")
    return "\n".join(parts)


def _oracle(html: str) -> Any:
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def _document_tables(root: Any) -> list[tuple[Any, Any]]:
    """(parent, table) in document order, leaving out <template> contents
    (inert: not part of the document a visitor sees)."""
    found: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        for child in node:
            if child.tag == "template":
                continue
            if child.tag == "table":
                found.append((node, child))
            walk(child)

    walk(root)
    return found


def _swapped(html: str, ordinal: int) -> bytes:
    """html5lib's tree of ``html`` with table ``ordinal`` replaced by the sentinel."""
    root = _oracle(html)
    parent, table = _document_tables(root)[ordinal]
    sentinel = ET.fromstring(SENTINEL)
    sentinel.tail = table.tail
    parent[list(parent).index(table)] = sentinel
    return ET.tostring(root)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_each_span_is_exactly_the_table_an_html5_parser_builds(html: str) -> None:
    located = locate(html)
    oracle_tables = _document_tables(_oracle(html))
    assert [item.span.ordinal for item in located] == list(range(len(oracle_tables)))
    assert len(document(html).css("table")) == len(oracle_tables)  # lexbor agrees
    for item in located:
        span = item.span
        if span.end < 0:  # open to the end of the page: never spliced (publish refuses)
            continue
        replaced = html[: span.start] + SENTINEL + html[span.end :]
        assert ET.tostring(_oracle(replaced)) == _swapped(html, span.ordinal), span


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_publishing_into_a_random_page_changes_only_its_cookie_tables(html: str) -> None:
    registry = REG
    try:
        page = parse_page(html, "random", "fr")
    except ParseError:
        return  # no cookie table left to publish into (a comment or plaintext took them)
    cookie_ordinals = {t.index for t in page.tables}
    try:
        spliced = apply_changes(page, registry, "fr", compare_page(registry, page, "fr"))
    except PublishError as exc:
        # Only a new cookie with no table of its category to go to may refuse.
        assert "cannot tell where some cookies go" in str(exc)
        return
    assert spliced.page is not None and compare_page(registry, spliced.page, "fr").in_sync
    # What html5lib builds outside the cookie tables is untouched.
    before, after = _oracle(html), _oracle(spliced.html)
    for root in (before, after):
        for ordinal, (parent, table) in reversed(list(enumerate(_document_tables(root)))):
            if ordinal in cookie_ordinals and table in list(parent):
                sentinel = ET.fromstring(SENTINEL)
                sentinel.tail = table.tail
                parent[list(parent).index(table)] = sentinel
    assert ET.tostring(before) == ET.tostring(after)


@pytest.mark.parametrize(
    "around",
    [
        "<textarea>{table}</textarea>",
        "<title>{table}</title>",
        "<template>{table}</template>",
        "<xmp>{table}</xmp>",
        "<noembed>{table}</noembed>",
        "<!-- {table} -->",
        '<script>var t = "{table}";</script>',
    ],
)
def test_a_table_a_browser_does_not_build_is_never_the_one_edited(around: str) -> None:
    """A copy of the cookie table inside raw text, a comment or a template comes
    first in the bytes; the real table after it is the one rewritten."""
    html = STAR_PAGE.read_text()
    start = html.index('<table class="table table-bordered star-charte__table">')
    end = html.index("</table>", start) + len("</table>")
    inert = around.format(table=html[start:end].replace("csrftoken", "inert_copy"))
    purpose = "<td>Récupérer des données via des appels API</td>"
    real = html[start:].replace(purpose, "<td>API</td>", 1)
    result = splice_registry(html[:start] + inert + "\n" + real, REG, "fr").html
    assert inert in result  # the copy kept byte for byte
    assert result.count(purpose) == 2  # the copy's, and the real table's restored
    assert [r.name for r in parse_page(result).records][2] == "csrftoken"


def test_content_a_browser_moves_out_of_the_table_refuses_the_publish() -> None:
    """Text directly in a table is foster-parented before it by a browser: the
    bytes of the table are then not the table read, and nothing is written."""
    html = STAR_PAGE.read_text()
    # Inside the drifted row, between two cells: the row is rewritten, the text
    # (shown above the table by a browser) would be lost.
    drifted = "Notice moved by the browser<td>API</td>"
    moved = html.replace("<td>Récupérer des données via des appels API</td>", drifted)
    with pytest.raises(PublishError, match="not exactly the cookie table a browser reads"):
        splice_registry(moved, REG, "fr")


_WORLD = sorted(
    p
    for p in (STAR_PAGE.parent.parent / "world").glob("*.html")
    if "error" not in json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
)


@pytest.mark.parametrize("path", _WORLD, ids=lambda p: p.stem)
def test_every_world_shape_can_be_brought_into_sync(path: Path) -> None:
    """On every charter shape read in tests/fixtures/world/, a drifted purpose is
    published back (rows edited or tables rebuilt) and the page reads in sync;
    the read-back check (tree outside the tables unchanged) passes."""
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    for lang in list(expected.get("languages", {})) or [None]:
        language = lang or "en"
        page = parse_page(path.read_bytes(), path.stem, lang)
        registry = registry_from_page(page, language)
        first = replace(registry.cookies[0], purpose={language: "A purpose the page lacks"})
        registry = replace(registry, cookies=(first, *registry.cookies[1:]))
        spliced = splice_registry(page.html, registry, language)
        again = parse_page(spliced.html, path.stem, lang)
        assert compare_page(registry, again, language).in_sync, (path.stem, lang)
        assert spliced.html.count("A purpose the page lacks") >= 1


def test_a_bilingual_page_is_published_one_language_at_a_time() -> None:
    page_path = STAR_PAGE.parent.parent / "world" / "bilingual-fr-nl-lang-attributes.html"
    html = page_path.read_text(encoding="utf-8")
    page = parse_page(html, "bilingual", "nl")
    registry = registry_from_page(page, "nl")
    first = replace(registry.cookies[0], purpose={"nl": "Een nieuw doel"})
    registry = replace(registry, cookies=(first, *registry.cookies[1:]))
    spliced = apply_changes(page, registry, "nl", compare_page(registry, page, "nl"))
    assert spliced.page is not None and compare_page(registry, spliced.page, "nl").in_sync
    french = [r.as_dict() for r in parse_page(html, "bilingual", "fr").records]
    assert [r.as_dict() for r in parse_page(spliced.html, "after", "fr").records] == french
