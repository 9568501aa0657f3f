"""Word-level differences between the registry's text and the page's."""

from __future__ import annotations

import difflib
import re

from ods_charter.text import normalize

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def word_diff(
    old: str | None, new: str | None, markers: tuple[str, ...] = ("[-", "-]", "{+", "+}")
) -> str:
    """``old`` turned into ``new``, word by word: ``[-removed-]{+added+}``."""
    a, b = _TOKENS.findall(normalize(old or "")), _TOKENS.findall(normalize(new or ""))
    del_open, del_close, add_open, add_close = markers

    def mark(words: list[str], opening: str, closing: str) -> str:
        # Whitespace stays outside the markers: "** x**" is not bold in Markdown.
        text = "".join(words)
        core = text.strip()
        if not core:
            return text
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        return f"{lead}{opening}{core}{closing}{trail}"

    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[i1:i2]))
            continue
        if i2 > i1:
            out.append(mark(a[i1:i2], del_open, del_close))
        if j2 > j1:
            out.append(mark(b[j1:j2], add_open, add_close))
    return "".join(out)
