"""Coverage-guided fuzzing of the parser with atheris (optional, not run in CI).

    pip install atheris
    python fuzz/fuzz_parse.py fuzz/corpus/ -max_total_time=300

fuzz/corpus/ holds the inputs earlier runs found interesting (seed it with
tests/fixtures/pages/*.html when starting afresh).

The only acceptable outcomes are records or ods-charter's ParseError; anything
else (another exception, a crash, a hang) is a bug worth a regression test.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from ods_charter.errors import ParseError
    from ods_charter.html.parse import parse_page


def test_one_input(data: bytes) -> None:
    try:
        page = parse_page(data)
    except ParseError:
        return
    for record in page.records:
        if not record.name or "\n" in record.name:
            raise AssertionError(f"bad record name {record.name!r}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
