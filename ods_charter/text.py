"""Text normalisation shared by the parser, the diff and the renderer.

Whitespace runs (including no-break spaces) and Unicode composition never count
as drift; everything else does, so normalisation is deliberately minimal.
"""

from __future__ import annotations

import re
import unicodedata


def normalize(text: str) -> str:
    """NFC-compose and collapse every whitespace run to one space, trimmed."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)  # (the quick check is cheap)
    text = text.strip()
    # Usually there is nothing to collapse: every whitespace character but the
    # space is unprintable (categories Cc, Zs, Zl, Zp), and so are the
    # zero-width ones (Cf), so two C scans tell, for far less than splitting
    # and joining a long cell.
    if text.isprintable() and "  " not in text:
        return text
    if "\u200b" in text or "\ufeff" in text:  # zero-width: not spaces to str.split()
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def fold(text: str) -> str:
    """A loose key for matching headings: lower case, accents and punctuation gone."""
    # A soft hyphen (&shy;) shows only where a line breaks: not part of the word.
    decomposed = unicodedata.normalize("NFKD", normalize(text.replace("\xad", "")).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", bare).strip()
