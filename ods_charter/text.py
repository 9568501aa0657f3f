"""Text normalisation shared by the parser, the diff and the renderer.

Whitespace runs (including no-break spaces) and Unicode composition never count
as drift; everything else does, so normalisation is deliberately minimal.
"""

from __future__ import annotations

import re
import unicodedata


def normalize(text: str) -> str:
    """NFC-compose and collapse every whitespace run to one space, trimmed."""
    if not text.isascii():
        # str.split() already treats no-break and figure spaces as whitespace;
        # zero-width ones it does not.
        if not unicodedata.is_normalized("NFC", text):  # the quick check is cheap
            text = unicodedata.normalize("NFC", text)
        if "\u200b" in text or "\ufeff" in text:
            text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def fold(text: str) -> str:
    """A loose key for matching headings: lower case, accents and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", normalize(text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", bare).strip()
