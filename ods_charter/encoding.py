"""Bytes of an HTML page to text, the way a browser chooses the encoding.

The HTML standard's order: a byte order mark, then the charset of the HTTP
``Content-Type`` header, then a ``<meta>`` charset in the first 1024 bytes,
then a default. Portals serve UTF-8, so UTF-8 is the default; a page saved or
served as windows-1252 is read as such instead of turning into false drift.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_META = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([a-z0-9_:.+-]+)", re.IGNORECASE)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([a-z0-9_:.+-]+)", re.IGNORECASE)
# The HTML standard reads all of these as windows-1252 (its C1 range included).
_WINDOWS_1252 = {
    "ascii",
    "us-ascii",
    "latin1",
    "l1",
    "iso-8859-1",
    "iso8859-1",
    "iso88591",
    "iso_8859-1",
    "iso_8859-1:1987",
    "iso-ir-100",
    "csisolatin1",
    "ibm819",
    "cp819",
    "cp1252",
    "x-cp1252",
    "windows-1252",
}


def _codec(label: str, from_meta: bool = False) -> str | None:
    label = label.strip().lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None  # an unknown label is ignored, as browsers do
    if from_meta and name.startswith("utf-16"):
        return "utf-8"  # a document read as ASCII bytes cannot really be UTF-16
    return name


def sniff(body: bytes, content_type: str | None = None) -> tuple[str, int]:
    """The codec to read ``body`` with, and how many leading bytes (a BOM) to skip."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return bom_codec, len(bom)
    header = _HEADER.search(content_type or "")
    meta = _META.search(_COMMENT.sub(b"", body[:1024]))
    declared = (
        (_codec(header.group(1)) if header else None)
        or (_codec(meta.group(1).decode("ascii"), from_meta=True) if meta else None)
        or "utf-8"
    )
    return declared, 0


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of an HTML page, decoded as declared (BOM > HTTP header > meta > UTF-8)."""
    name, skip = sniff(body, content_type)
    return body[skip:].decode(name, errors="replace")
