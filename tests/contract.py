"""Every Automation API exchange a test causes, held to the official contract.

The simulator reports each exchange (request with the key masked, answer) to
``exchange_observers``; :func:`problems` checks them with openapi-core against
the OpenAPI file, and error answers against the contract's error schema.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

SPEC = (
    Path(__file__).resolve().parent
    / "fixtures"
    / "openapi"
    / "ods-automation-api-v1.0-code-editor-pages.openapi.json"
)
SERVER = "/api/automation/v1.0"


@cache
def _spec() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text(encoding="utf-8")))


@cache
def _error_schema() -> OAS30Validator:
    response = _spec()["components"]["responses"]["Error"]
    return OAS30Validator(response["content"]["application/json"]["schema"])


@cache
def _openapi() -> OpenAPI:
    spec = _spec()
    spec["servers"] = [{"url": f"http://contract.test{SERVER}"}]
    return OpenAPI.from_dict(spec)


def _request(exchange: dict[str, Any]) -> MockRequest:
    # One fixed host: the contract is about paths, not which port a test used.
    return MockRequest(
        "http://contract.test",
        exchange["method"],
        exchange["path"],
        args=dict(parse_qsl(exchange["query"])),
        headers=exchange["headers"],
        data=exchange["body"],
        content_type=exchange["headers"].get("Content-Type", "application/json"),
    )


def _line(error: object) -> str:
    try:
        return str(error).split("\n")[0]
    except Exception:  # some openapi-core errors cannot print themselves
        return type(error).__name__


def _why(exc: BaseException) -> str:
    cause = exc.__cause__
    details = getattr(cause, "schema_errors", None) or ([cause] if cause else [])
    return f"{type(exc).__name__}: " + "; ".join(_line(d) for d in details)


def problems(exchange: dict[str, Any], *, check_request: bool = True) -> list[str]:
    """What in one exchange breaks the contract (empty: nothing)."""
    where = f"{exchange['method']} {exchange['path']}"
    found: list[str] = []
    request = _request(exchange)
    if check_request:
        try:
            _openapi().validate_request(request)
        except Exception as exc:  # openapi-core raises one of many types
            found.append(f"{where}: request: {_why(exc)}"[:600])
    status = exchange["status"]
    if status is None or exchange["faulty"]:
        return found  # a fault dropped or made up the answer on purpose
    answer: bytes = exchange["answer"]
    if status >= 400:
        try:
            body = json.loads(answer)
        except ValueError:
            return [*found, f"{where}: answer {status} is not JSON"]
        errors = _error_schema().iter_errors(body)
        found += [f"{where}: answer {status}: {e.message}" for e in errors]
    response = MockResponse(answer, status, content_type=exchange["content_type"])
    try:
        _openapi().validate_response(request, response)
    except Exception as exc:
        name = type(exc).__name__
        # A method or path the contract does not list can only be checked as an error.
        if not (status >= 400 and name in {"OperationNotFound", "PathNotFound"}):
            found.append(f"{where}: answer {status}: {_why(exc)}"[:600])
    return found
