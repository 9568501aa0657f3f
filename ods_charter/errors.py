"""The project's exception types.

Every user-facing failure is an :class:`OdsCharterError`; the CLI turns it into a
message on stderr and exit code 2 in one place (``cli.main``). Messages never hold
an API key: :func:`ods_charter.secrets.redact` is applied before they are shown.
"""

from __future__ import annotations


class OdsCharterError(Exception):
    """A failure the user can act on: bad input, an unreachable portal, a refusal."""

    exit_code = 2


class ConfigError(OdsCharterError):
    """A configuration or registry file is missing, unreadable or invalid."""


class ParseError(OdsCharterError):
    """A page holds no readable cookie table."""


class FetchError(OdsCharterError):
    """A public page could not be fetched."""


class PortalError(OdsCharterError):
    """The Automation API answered with an error."""

    def __init__(self, message: str, status: int | None = None, error_code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class PublishError(OdsCharterError):
    """A publish or rollback was refused or could not complete safely."""


class ConcurrentEditError(PublishError):
    """The page changed between the plan and the write."""


class InterruptedWrite(PublishError):
    """Ctrl-C came while a write was in flight; the message says what the page holds."""

    exit_code = 130
