"""Text normalisation shared by the parser, the diff and the renderer.

Whitespace runs (including no-break spaces) and Unicode composition never count
as drift; everything else does, so normalisation is deliberately minimal.
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff]+")


def normalize(text: str) -> str:
    """NFC-compose and collapse every whitespace run to one space, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """A loose key for matching headings: lower case, accents and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", normalize(text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", bare).strip()
