"""ods-charter: keep an Opendatasoft portal's cookie charter true to its registry.

The library is usable without the CLI::

    from ods_charter import load_registry, parse_cookies, check_page

Names are imported on first use, so that ``ods-charter --help`` or
``ods-charter simulator`` do not pay for the HTML parser and the rest at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CheckResult": "ods_charter.diff",
    "check_page": "ods_charter.diff",
    "compare": "ods_charter.diff",
    "OdsCharterError": "ods_charter.errors",
    "parse_cookies": "ods_charter.html.parse",
    "Cookie": "ods_charter.registry",
    "Registry": "ods_charter.registry",
    "load_registry": "ods_charter.registry",
}

if TYPE_CHECKING:
    from ods_charter.diff import CheckResult, check_page, compare
    from ods_charter.errors import OdsCharterError
    from ods_charter.html.parse import parse_cookies
    from ods_charter.registry import Cookie, Registry, load_registry


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ods_charter' has no attribute {name!r}")


__all__ = [
    "CheckResult",
    "Cookie",
    "OdsCharterError",
    "Registry",
    "__version__",
    "check_page",
    "compare",
    "load_registry",
    "parse_cookies",
]
