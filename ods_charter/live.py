"""The public page against the API copy: what visitors see against what we own.

The Automation API returns the page as saved; visitors get it through the
portal's rendering, its publish step, its caches and its language codes. When
the two differ, the difference is its own finding, with the likeliest cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ods_charter.config import PortalConfig
from ods_charter.errors import FetchError, ParseError
from ods_charter.fetch import fetch_page, with_language
from ods_charter.html.parse import CookieRecord, document, parse_page
from ods_charter.text import normalize
from ods_charter.transport import Transport

POLL_EVERY = 1.0  # seconds between two reads of a public page that lags behind

Records = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class LiveFinding:
    language: str
    kind: str  # not_rendered | language | not_live | unreadable | caught_up
    message: str

    @property
    def problem(self) -> bool:
        return self.kind != "caught_up"


@dataclass
class LiveCheck:
    url: str
    findings: list[LiveFinding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(f.problem for f in self.findings) else 0

    def text(self) -> str:
        problems = [f for f in self.findings if f.problem]
        lines = [f"[{f.language}] {f.message}" for f in self.findings]
        if not problems:
            lines.append(
                f"public page {self.url} shows the API copy ({', '.join(self.checked)})"
                if self.checked
                else f"public page {self.url}: nothing to compare"
            )
        return "\n".join(lines)


def _records(records: Sequence[CookieRecord]) -> Records:
    """The table as a visitor reads it: whitespace and composition do not count."""
    fields = ("provider", "service", "purpose", "lifetime")
    return tuple(
        (r.name, *(normalize(getattr(r, f) or "") for f in fields), r.category or "")
        for r in records
    )


def _table(html: str | bytes, lang: str) -> Records | None:
    try:
        return _records(parse_page(html, lang=lang).records)
    except ParseError:
        return None


def _served_language(html: str) -> str:
    try:
        root = document(html).css_first("html")
    except ParseError:
        return ""
    return str((root.attributes.get("lang") if root else None) or "").strip().lower()


def _same_language(served: str, asked: str) -> bool:
    """``en-gb`` asked and ``en`` served is the same language; ``fr`` is not."""
    return not served or served.split("-")[0] == asked.lower().split("-")[0]


def compare_live(
    config: PortalConfig,
    api_page: Mapping[str, Any],
    transport: Transport,
    *,
    languages: Sequence[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> LiveCheck:
    """Compare the public page with the API copy, language by language.

    A page that lags behind is read again every second until ``[page]
    live_wait`` has passed (one deadline for all languages): a cache catches
    up, a draft does not.
    """
    html = api_page["content"].get("html") or {}
    owned = {lang: _table(text, lang) for lang, text in html.items() if isinstance(text, str)}
    result = LiveCheck(config.charter_url)
    deadline = clock() + config.live_wait
    for lang in languages or config.languages:
        expected = owned.get(lang)
        if expected is None:
            continue  # no table in the API copy: the plan says so already
        result.checked.append(lang)
        code = config.flg_code(lang)
        url = with_language(config.charter_url, code)
        started, polls = clock(), 0
        while True:
            try:
                fetched = fetch_page(transport, config.charter_url, code)
            except FetchError as exc:
                # The write (if any) is done and verified: this is a finding, not a failure.
                result.findings.append(
                    LiveFinding(lang, "unreadable", f"the public page cannot be read: {exc}")
                )
                break
            text = fetched.text  # decoded as declared, like the public check
            served = _served_language(text)
            shown = _table(text, lang)
            if shown == expected:
                if polls:
                    waited = clock() - started
                    result.findings.append(
                        LiveFinding(
                            lang,
                            "caught_up",
                            f"the public page showed the API copy after {waited:.1f} s (a cache)",
                        )
                    )
                break
            finding = _diagnose(config, lang, code, url, served, shown, owned)
            if finding is not None:
                result.findings.append(finding)
                break
            if clock() + POLL_EVERY > deadline:
                result.findings.append(_not_live(config, lang, url))
                break
            sleep(POLL_EVERY)
            polls += 1
    return result


def _diagnose(
    config: PortalConfig,
    lang: str,
    code: str,
    url: str,
    served: str,
    shown: Records | None,
    owned: Mapping[str, Records | None],
) -> LiveFinding | None:
    """A cause that waiting will not fix, or None when the page may only lag."""
    other = next((k for k, v in owned.items() if k != lang and v is not None and v == shown), None)
    if not _same_language(served, code) or other is not None:
        what = f"the {other!r} content" if other else f"a page in {served!r}"
        return LiveFinding(
            lang,
            "language",
            f"{url} serves {what}, not {lang!r}: the portal's code for this language "
            f'may be regional; set [page] flg = {{ {lang} = "<code>" }} (e.g. "{lang}-gb") '
            "to the code its language menu uses",
        )
    if shown is None:
        return LiveFinding(
            lang,
            "not_rendered",
            f"the HTML served at {url} holds no cookie table though the API copy does: "
            "the content is rendered by JavaScript in the browser. Check the API copy "
            "(`check --source api`) or a page saved from a browser (`check --file`)",
        )
    return None


def _not_live(config: PortalConfig, lang: str, url: str) -> LiveFinding:
    wait = f"{config.live_wait:g} s"
    if config.publish_step == "post":
        cause = (
            "although it was published: a cache slower than that, or a publish step "
            "that did not take; run `ods-charter check` again later"
        )
    else:
        cause = (
            "a draft that is not live (if this portal needs a publish step, set "
            '[page] publish = "post" and publish again), or a cache slower than that'
        )
    return LiveFinding(
        lang,
        "not_live",
        f"the API holds the new content but the public page {url} does not after {wait}: {cause}",
    )
