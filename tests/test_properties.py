"""Guarantees for inputs nobody thought of (hypothesis)."""

from __future__ import annotations

import string
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ods_charter.diff import compare, compare_page
from ods_charter.errors import ParseError
from ods_charter.html.parse import parse_page
from ods_charter.html.render import render_default
from ods_charter.html.splice import splice_registry
from ods_charter.registry import CATEGORIES, Cookie, Registry, load_registry
from ods_charter.text import normalize

from .conftest import PAGES, REGISTRY

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LANGUAGES = ("fr", "en")

# Any printable text: quotes, <, &, emoji, accents, right-to-left, long runs.
_TEXT_ALPHABET = st.characters(
    blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters="\x7f"
)
texts = st.text(_TEXT_ALPHABET, min_size=1, max_size=200).filter(lambda t: normalize(t) != "")
long_texts = st.one_of(texts, st.builds(lambda t, n: t * n, texts, st.integers(5, 40)))
_TOKEN = string.ascii_letters + string.digits + "!#$%&'+-.^_`|~"
names = st.builds(
    lambda base, star: base + ("*" if star else ""),
    st.text(st.sampled_from(_TOKEN), min_size=1, max_size=30),
    st.booleans(),
)


@st.composite
def registries(draw: st.DrawFn, max_cookies: int = 300) -> Registry:
    chosen = draw(st.lists(names, min_size=0, max_size=max_cookies, unique=True))
    cookies = []
    for name in chosen:
        cookies.append(
            Cookie(
                name=name,
                provider=draw(texts),
                category=draw(st.sampled_from(CATEGORIES)),
                purpose={lang: draw(long_texts) for lang in LANGUAGES},
                service={lang: draw(texts) for lang in LANGUAGES if draw(st.booleans())},
                lifetime_days=draw(st.one_of(st.none(), st.integers(0, 5000))),
            )
        )
    return Registry(languages=LANGUAGES, cookies=tuple(cookies))


def _nonempty(registry: Registry) -> bool:
    return bool(registry.cookies)


@SETTINGS
@given(registries().filter(_nonempty))
def test_render_then_parse_gives_the_registry_back(registry: Registry) -> None:
    for lang in LANGUAGES:
        page = parse_page(render_default(registry, lang))
        records = {r.name: r for r in page.records}
        assert list(records) == [c.name for c in sorted(registry.cookies, key=_category_order)]
        for cookie in registry.cookies:
            record = records[cookie.name]
            assert record.provider == normalize(cookie.provider)
            assert record.purpose == normalize(cookie.purpose[lang])
            assert record.service == normalize(cookie.service.get(lang, ""))
            assert record.category == cookie.category
        assert compare_page(registry, page, lang).in_sync  # its own rendering never drifts


def _category_order(cookie: Cookie) -> int:
    return CATEGORIES.index(cookie.category)


# -- splice -------------------------------------------------------------------

_SAFE = st.text(st.sampled_from(string.ascii_letters + " éà&;\n\t"), max_size=40)
fragments = st.one_of(
    st.builds("<p>{}</p>".format, _SAFE),
    st.builds("<!-- {} -->".format, _SAFE.map(lambda t: t.replace("-", ""))),
    st.builds('<script>var s = "<table><tr><td>{}</td></tr></table>";</script>'.format, _SAFE),
    st.builds("<style>table {{ color: red; }} /* {} */</style>".format, _SAFE),
    st.builds("<![CDATA[ {} ]]>".format, _SAFE),
    st.builds(
        '<table class="other"><tr><th>Ligne</th></tr><tr><td>{}</td></tr></table>'.format, _SAFE
    ),
    st.sampled_from(["", "\n", "\r\n", "   \t ", "\u00a0", "<br>", "<hr/>", "<div>", "</div>"]),
)
_STAR = load_registry(REGISTRY)
_DRIFTED_TABLE = render_default(replace(_STAR, cookies=_STAR.cookies[:2]), "fr").split("\n", 1)[
    1
]  # the table alone, a row short


@SETTINGS
@given(st.lists(fragments, max_size=12), st.lists(fragments, max_size=12))
def test_splice_changes_no_byte_outside_the_table(before: list[str], after: list[str]) -> None:
    prefix, suffix = "".join(before) + "\n", "\n" + "".join(after)
    page = prefix + _DRIFTED_TABLE + suffix
    result = splice_registry(page, _STAR, "fr").html
    assert result.startswith(prefix) and result.endswith(suffix)
    middle = result[len(prefix) : len(result) - len(suffix)]
    assert [r.name for r in parse_page(middle).records] == [c.name for c in _STAR.cookies]


# -- diff ---------------------------------------------------------------------

_MUTABLE = ("provider", "service", "purpose", "lifetime")


@SETTINGS
@given(st.data())
def test_every_single_field_mutation_is_reported_exactly_once(data: st.DataObject) -> None:
    page = parse_page(render_default(_STAR, "fr"))
    index = data.draw(st.integers(0, len(_STAR.cookies) - 1))
    field_name = data.draw(st.sampled_from(_MUTABLE))
    cookie = _STAR.cookies[index]
    if field_name == "lifetime":
        days = data.draw(st.integers(0, 5000).filter(lambda d: d != cookie.lifetime_days))
        mutated = replace(cookie, lifetime_days=days)
    elif field_name == "provider":
        mutated = replace(
            cookie,
            provider=data.draw(texts.filter(lambda t: normalize(t) != normalize(cookie.provider))),
        )
    else:
        current = getattr(cookie, field_name)
        new = data.draw(texts.filter(lambda t: normalize(t) != normalize(current.get("fr", ""))))
        mutated = replace(cookie, **{field_name: {**current, "fr": new}})
    cookies = list(_STAR.cookies)
    cookies[index] = mutated
    diff = compare(replace(_STAR, cookies=tuple(cookies)), page.records, "fr", page.fields)
    assert not diff.missing and not diff.extra
    assert [(c.name, c.field) for c in diff.changed] == [(cookie.name, field_name)]


# -- fuzzing the parser -------------------------------------------------------

_REAL = [p.read_bytes() for p in sorted(PAGES.glob("*.html"))]


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_REAL)))
    for _ in range(draw(st.integers(1, 30))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(("flip", "insert", "delete", "dup")))
        if action == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"<",
                        b">",
                        b"</table>",
                        b"<td>",
                        b"<tr>",
                        b"\x00",
                        b'rowspan="999999"',
                        b"colspan=-3",
                        b"&#0;",
                    ]
                )
            )
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 500))]
    return bytes(data)


def _only_records_or_parse_error(html: bytes | str) -> None:
    try:
        page = parse_page(html)
    except ParseError:
        return
    for record in page.records:
        assert record.name and "\n" not in record.name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_pages())
def test_mutated_real_pages_give_records_or_a_parse_error(html: bytes) -> None:
    _only_records_or_parse_error(html)


def test_fuzz_corpus_gives_records_or_a_parse_error() -> None:
    """Inputs coverage-guided fuzzing found interesting (fuzz/corpus/), replayed."""
    corpus = sorted((Path(__file__).resolve().parent.parent / "fuzz" / "corpus").iterdir())
    assert len(corpus) > 100
    for path in corpus:
        _only_records_or_parse_error(path.read_bytes())


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000) | st.binary(max_size=2000))
def test_random_input_gives_records_or_a_parse_error(html: str | bytes) -> None:
    _only_records_or_parse_error(html)


def test_pathological_inputs_end_with_records_or_a_clear_error() -> None:
    table = (PAGES / "supplier-duration.html").read_text()
    deep = "<div>" * 10_000 + table + "</div>" * 10_000
    try:
        parse_page(deep)
    except ParseError as exc:
        assert "nests elements too deeply" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("10,000 nested tags must be refused, not half read")
    assert len(parse_page("<div>" * 500 + table + "</div>" * 500).records) == 4
    empty_cells = (
        "<table><tr><th>Nom du cookie</th><th>Finalités</th></tr>"
        + "<tr>"
        + "<td></td>" * 100_000
        + "</tr></table>"
    )
    assert parse_page(empty_cells).records == []
    many_rows = (
        "<table><tr><th>Cookie</th><th>Purpose</th></tr>"
        + "<tr><td></td><td></td></tr>" * 50_000
        + "</table>"
    )
    assert parse_page(many_rows).records == []
    head = "<table><tr><th>Cookie</th><th>Purpose</th></tr>"
    spans = head + '<tr><td>x</td><td rowspan="99999999" colspan="99999999">y</td></tr></table>'
    assert [(r.name, r.purpose) for r in parse_page(spans).records] == [("x", "y")]
    section = head + '<tr><td colspan="99999999">Cookies tiers</td></tr></table>'
    assert parse_page(section).records == []  # a cell across every column is a heading
    huge = b"<p>" + b"a" * 50_000_000
    try:
        parse_page(huge)
    except ParseError as exc:
        assert "cap" in str(exc)
    else:  # pragma: no cover - the assertion above is the point
        raise AssertionError("a 50 MB page must be refused")


def test_import_of_a_rendered_page_round_trips(tmp_path: Path) -> None:
    from ods_charter.importer import import_registry

    html = render_default(_STAR, "fr")
    out = tmp_path / "r.toml"
    list(import_registry(parse_page(html), "fr", out))
    again = load_registry(out)
    assert [(c.name, c.purpose["fr"], c.lifetime_days) for c in again.cookies] == [
        (c.name, c.purpose["fr"], c.lifetime_days) for c in _STAR.cookies
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        st.sampled_from(
            " \t\n\r\x0b\x0c\x1c\x1f\x85ab\u00a0\u2007\u200b\ufeffe\u0301é\u3000\u2028\u1680"
        ),
        max_size=40,
    )
)
def test_normalize_fast_path_agrees_with_the_definition(text: str) -> None:
    import unicodedata

    spaced = unicodedata.normalize("NFC", text).replace("\u200b", " ").replace("\ufeff", " ")
    assert normalize(text) == " ".join(spaced.split())


@SETTINGS
@given(st.data())
def test_row_edits_bring_any_registry_change_into_sync(data: st.DataObject) -> None:
    from ods_charter.demo import outside_tables

    html = (PAGES / "star-charte-cookies.html").read_text()
    kept = data.draw(st.lists(st.sampled_from(_STAR.cookies), unique_by=lambda c: c.name))
    cookies = [
        replace(c, purpose={**c.purpose, "fr": data.draw(texts)}) if data.draw(st.booleans()) else c
        for c in kept
    ]
    new_names = data.draw(st.lists(names, max_size=4, unique=True))
    cookies += [
        Cookie(n, "Nouveau", purpose={"fr": data.draw(texts), "en": "x"})
        for n in new_names
        if n not in {c.name for c in cookies}
    ]
    registry = replace(_STAR, cookies=tuple(cookies))
    result = splice_registry(html, registry, "fr").html
    assert outside_tables(result) == outside_tables(html)
    assert compare_page(registry, parse_page(result), "fr").in_sync
    for cookie in cookies:
        if cookie in _STAR.cookies and cookie.name == "sessionid":
            assert "<p><br></p>" in result  # an unchanged row keeps its own markup
