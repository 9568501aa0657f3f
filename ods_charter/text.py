"""Text normalisation shared by the parser, the diff and the renderer.

Whitespace runs (including no-break spaces) and Unicode composition never count
as drift; everything else does, so normalisation is deliberately minimal.
"""

from __future__ import annotations

import re
import unicodedata

# Every character str.isspace() accepts (what str.split() splits on), then a
# double space: with none of them inside, a trimmed text is already collapsed.
_BREAKS = (
    "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0",
    "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
    "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f",
    "\u3000", "  ",
)  # fmt: skip


def normalize(text: str) -> str:
    """NFC-compose and collapse every whitespace run to one space, trimmed."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):  # the quick check is cheap
            text = unicodedata.normalize("NFC", text)
        if "\u200b" in text or "\ufeff" in text:  # zero-width: not spaces to str.split()
            text = text.replace("\u200b", " ").replace("\ufeff", " ")
    text = text.strip()
    # Usually there is nothing to collapse, and a few substring tests cost far
    # less than splitting and joining a long cell.
    if not any(mark in text for mark in _BREAKS):
        return text
    return " ".join(text.split())


def fold(text: str) -> str:
    """A loose key for matching headings: lower case, accents and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", normalize(text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", bare).strip()
