"""The Automation API's page object, checked once where it enters.

An answer from a portal (or a backup file) is untrusted: everything past
:func:`page_problem` may rely on the shapes the official contract gives, so a
malformed page ends in one clear line instead of a traceback deeper in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_KIND = {str: "a string", bool: "true or false", list: "a list", dict: "an object"}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    for typ, name in _KIND.items():
        if isinstance(value, typ):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _text(value: Any, where: str) -> str | None:
    if not isinstance(value, str):
        return f"{where}: expected a string, got {_kind(value)}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{where}: holds a lone surrogate, not valid Unicode text"
    return None


def _by_language(value: Any, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where}: expected an object of strings per language, got {_kind(value)}"
    for lang, text in value.items():
        problem = _text(lang, f"{where} (a language code)") or _text(text, f"{where}[{lang!r}]")
        if problem:
            return problem
    return None


def _strings(value: Any, where: str) -> str | None:
    if not isinstance(value, list):
        return f"{where}: expected a list of strings, got {_kind(value)}"
    return next((p for i, v in enumerate(value) if (p := _text(v, f"{where}[{i}]"))), None)


def _flag(value: Any, where: str) -> str | None:
    if isinstance(value, bool):
        return None
    return f"{where}: expected true or false, got {_kind(value)}"


def _user(value: Any, where: str) -> str | None:
    if value is None:
        return None  # a deleted account
    if not isinstance(value, dict):
        return f"{where}: expected an object with a username, got {_kind(value)}"
    return _text(value.get("username", ""), f"{where}.username")


_FIELDS: dict[str, Callable[[Any, str], str | None]] = {
    "slug": _text,
    "title": _by_language,
    "description": _text,
    "template": _text,
    "tags": _strings,
    "is_restricted": _flag,
    "is_archived": _flag,
    "has_subdomain_copies": _flag,
    "is_pushed_by_parent": _flag,
    "created_at": _text,
    "updated_at": _text,
    "created_by": _user,
    "updated_by": _user,
}


def page_problem(data: Any) -> str | None:
    """What makes ``data`` not a code editor page, or None when it is one."""
    if not isinstance(data, dict):
        return f"expected a page object, got {_kind(data)}"
    content = data.get("content")
    if not isinstance(content, dict):
        return f"content: expected an object with html and css, got {_kind(content)}"
    for kind in ("html", "css"):
        if kind in content or kind == "html":
            problem = _by_language(content.get(kind), f"content.{kind}")
            if problem:
                return problem
    for name, check in _FIELDS.items():
        if name in data and (problem := check(data[name], name)):
            return problem
    return None
