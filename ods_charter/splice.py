"""Locating tables in page HTML by byte offsets, and replacing them.

Everything outside the replaced tables must stay byte-identical, so tables are
found with the standard library's tokenizer, which reports positions in the
original text (script and style bodies and comments are skipped as such).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from ods_charter.errors import PublishError


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive; -1 while the table is unclosed
    start_tag: str
    ordinal: int  # position among every <table> start tag, nested ones included


class _TableLocator(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self._line_starts = [0]
        for i, char in enumerate(text):
            if char == "\n":
                self._line_starts.append(i + 1)
        self._text = text
        self._depth = 0
        self._open: tuple[int, str, int] | None = None
        self._count = 0
        self.spans: list[Span] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "table":
            return
        if self._depth == 0:
            self._open = (self._offset(), self.get_starttag_text() or "<table>", self._count)
        self._depth += 1
        self._count += 1

    def handle_endtag(self, tag: str) -> None:
        if tag != "table" or self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0 and self._open is not None:
            at = self._offset()
            end = self._text.index(">", at) + 1
            self.spans.append(Span(self._open[0], end, self._open[1], self._open[2]))
            self._open = None

    def close(self) -> None:
        super().close()
        if self._open is not None:
            self.spans.append(Span(self._open[0], -1, self._open[1], self._open[2]))


def table_spans(html: str) -> list[Span]:
    """Top-level ``<table>`` elements, by position in ``html``."""
    locator = _TableLocator(html)
    locator.feed(html)
    locator.close()
    return locator.spans


def replace_spans(html: str, replacements: Mapping[Span, str]) -> str:
    """``html`` with each span's text replaced; the rest is untouched."""
    out: list[str] = []
    at = 0
    for span in sorted(replacements, key=lambda s: s.start):
        if span.end < 0:
            raise PublishError(
                "a cookie table has no closing </table>: fix the page by hand before publishing"
            )
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


class _RowLocator(_TableLocator):
    """The ``<tr>`` elements of one table (not of tables nested in it)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.rows: list[tuple[int, int]] = []
        self._row_start: int | None = None
        self.broken = False  # a row without its own </tr>: positions are guesses

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and self._depth == 1:
            if self._row_start is not None:
                self.broken = True
            self._row_start = self._offset()
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._depth == 1 and self._row_start is not None:
            end = self._text.index(">", self._offset()) + 1
            self.rows.append((self._row_start, end))
            self._row_start = None
        super().handle_endtag(tag)


def row_spans(table_html: str) -> list[tuple[int, int]] | None:
    """(start, end) of each row of the table ``table_html``; None when a row has
    no closing tag, since then its end cannot be told for sure."""
    locator = _RowLocator(table_html)
    locator.feed(table_html)
    locator.close()
    if locator.broken or locator._row_start is not None:
        return None
    return locator.rows
