"""ods-charter: keep an Opendatasoft portal's cookie charter true to its registry.

The library is usable without the CLI::

    from ods_charter import load_registry, parse_cookies, check_page
"""

from __future__ import annotations

__version__ = "0.1.0"

from ods_charter.diff import CheckResult, check_page, compare
from ods_charter.errors import OdsCharterError
from ods_charter.parse import parse_cookies
from ods_charter.registry import Cookie, Registry, load_registry

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
