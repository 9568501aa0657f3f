"""Check results as text, JSON, Markdown, GitHub annotations and JUnit XML."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable

from ods_charter.diff import Change, CheckResult
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


def _summary(result: CheckResult) -> str:
    drifted = [lang for lang, d in result.languages.items() if not d.in_sync]
    if result.status == "ok":
        return f"in sync: {result.page} matches the registry ({', '.join(result.languages)})"
    if result.status == "error":
        return f"error: {result.page} could not be checked"
    return f"drift: {result.page} differs from the registry in {', '.join(drifted)}"


def to_text(result: CheckResult) -> str:
    lines = [_summary(result)]
    for lang, d in result.languages.items():
        if d.in_sync:
            continue
        lines.append(f"[{lang}]")
        if d.error:
            lines.append(f"  error: {d.error}")
        lines += [f"  missing from the page: {name}" for name in d.missing]
        lines += [f"  on the page, not in the registry: {name}" for name in d.extra]
        for c in d.changed:
            lines.append(f"  changed {c.name} {c.field}: {word_diff(c.registry, c.page)}")
            lines.append(f"      registry: {c.registry!r}")
            lines.append(f"      page:     {c.page!r}")
    if result.status == "drift":
        lines.append("(in a change: [-registry text-]{+page text+})")
    return "\n".join(lines)


def to_json(result: CheckResult) -> str:
    return json.dumps(result.as_dict(), ensure_ascii=False, indent=2)


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _md_change(c: Change) -> str:
    diff = word_diff(c.registry, c.page, ("~~", "~~", "**", "**"))
    return f"| `{c.name}` | {c.field} | {_md_cell(diff)} |"


def to_markdown(result: CheckResult) -> str:
    icon = {"ok": "✅", "drift": "⚠️", "error": "❌"}[result.status]
    lines = [f"### {icon} Cookie charter: {result.status}", "", f"Page: {result.page}", ""]
    for lang, d in result.languages.items():
        if d.in_sync:
            lines.append(f"- **{lang}**: in sync")
            continue
        lines += [f"#### Language `{lang}`", ""]
        if d.error:
            lines += [f"Error: {_md_cell(d.error)}", ""]
        if d.missing:
            lines.append("Missing from the page: " + ", ".join(f"`{n}`" for n in d.missing))
        if d.extra:
            lines.append(
                "On the page, not in the registry: " + ", ".join(f"`{n}`" for n in d.extra)
            )
        if d.changed:
            lines += ["", "| cookie | field | change (~~registry~~ **page**) |", "|---|---|---|"]
            lines += [_md_change(c) for c in d.changed]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def to_github(result: CheckResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    source = result.page
    lines = []
    for lang, d in result.languages.items():
        if d.error:
            lines.append(f"::error title=Charter check failed ({lang})::{_gh_escape(d.error)}")
        for name in d.missing:
            msg = f"{name} is in the registry but missing from {source}"
            lines.append(f"::error title=Cookie missing ({lang})::{_gh_escape(msg)}")
        for name in d.extra:
            msg = f"{name} is on {source} but not in the registry"
            lines.append(f"::error title=Undeclared cookie ({lang})::{_gh_escape(msg)}")
        for c in d.changed:
            msg = f"{c.name} {c.field}: {word_diff(c.registry, c.page)}"
            lines.append(f"::warning title=Cookie text changed ({lang})::{_gh_escape(msg)}")
    lines.append(_summary(result))
    return "\n".join(lines)


# What XML 1.0 forbids even escaped: most control characters, lone surrogates,
# U+FFFE and U+FFFF. Shown as U+FFFD so a CI's XML parser still reads the file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def to_junit(result: CheckResult) -> str:
    """JUnit XML: one test case per cookie and language."""
    # Imported here: saxutils pulls in urllib.request and http.client, which
    # every other format's start-up would pay for.
    from xml.sax.saxutils import escape, quoteattr

    cases: list[str] = []
    failures = 0
    for lang, d in result.languages.items():
        names = list(dict.fromkeys([*d.missing, *d.extra, *(c.name for c in d.changed)]))
        names += [n for n in dict.fromkeys(d.checked) if n not in names]
        for name in names:
            problems = []
            if name in d.missing:
                problems.append("missing from the page")
            if name in d.extra:
                problems.append("on the page but not in the registry")
            problems += [
                f"{c.field}: {word_diff(c.registry, c.page)}" for c in d.changed if c.name == name
            ]
            body = ""
            if problems:
                failures += 1
                text = "; ".join(problems)
                body = f"<failure message={quoteattr(text)}>{escape(text)}</failure>"
            cases.append(
                f"    <testcase classname={quoteattr('charter.' + lang)} name={quoteattr(name)}>"
                f"{body}</testcase>"
            )
        if d.error:
            failures += 1
            cases.append(
                f'    <testcase classname={quoteattr("charter." + lang)} name="(page)">'
                f"<error message={quoteattr(d.error)}/></testcase>"
            )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<testsuites><testsuite name={quoteattr('ods-charter ' + result.page)} "
        f'tests="{len(cases)}" failures="{failures}">\n'
        + "\n".join(cases)
        + "\n</testsuite></testsuites>\n"
    )
    return _NOT_XML.sub("\ufffd", xml)


FORMATS: dict[str, Callable[[CheckResult], str]] = {
    "text": to_text,
    "json": to_json,
    "markdown": to_markdown,
    "github": to_github,
    "junit": to_junit,
}
