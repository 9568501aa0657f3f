"""The words charters use, in the languages Opendatasoft portals are written in
(fr, en, de, es, ca, it, nl, pt): column headings, category and storage words
to read, and the headings and titles to write.

Every pattern is matched against :func:`ods_charter.text.fold` output: lower
case, accents and punctuation gone.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ods_charter.text import fold

LANGUAGES = ("fr", "en", "de", "es", "ca", "it", "nl", "pt")

# Order matters: "Service provider's name" is a provider, "Cookie expiry" a
# lifetime, "Function and location" a service, "Function" alone a purpose; the
# name rule comes last because "cookie" appears in many other headings.
_ROLE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "provider",
        re.compile(
            r"prestataire|provider|supplier|fournisseur|editeur|vendor|emetteur|anbieter|"
            r"proveedor|proveidor|fornitore|aanbieder|leverancier|fornecedor|provedor|"
            r"\bset by\b|depose par|^titular\b|^titolare\b|^herkunft\b"
        ),
    ),
    (
        "lifetime",
        re.compile(
            r"duree|duration|\bdura|retention|retencao|expir|caduc|scaden|vencim|venciment|"
            r"lifetime|conservation|conservaci|conservazione|validit|validade|ablauf|laufzeit|"
            r"dauer|gultig|bewaar|verloop|verval|looptijd|\bduur\b|storage period|\bexpires?\b"
        ),
    ),
    (
        "storage",
        re.compile(
            r"^(storage|stockage|speicherart|speichertyp|almacenamiento|emmagatzematge|"
            r"archiviazione|opslag|armazenamento)( type| kind)?$|"
            r"^(type|typ|tipo|tipus) (de |d |of )?"
            r"(storage|stockage|speicher|almacenamiento|emmagatzematge|archiviazione|opslag)"
        ),
    ),
    (
        "service",
        re.compile(r"emplacement|location|^service|^servicio|^servei|^servizio|^servico|^dienst\b"),
    ),
    (
        "purpose",
        re.compile(
            r"finalit|finalid|purpose|function|fonction|funktion|funcion|funcio|funzione|functie|funcao|"
            r"objet|objectif|descri|beschreibung|beschrijving|omschrijving|usage|utilite|"
            r"utilisation|\buso\b|\bus\b|\bbut\b|zweck|scopo|\bdoel|proposit|verwendung|gebruik|"
            r"utilizzo|\bused for\b"
        ),
    ),
    (
        "category",
        re.compile(
            r"^type|\btype\b|\btyp\b|^art\b|categor|kategor|\btipo|\btipus|soort|tipolog|"
            r"^(party|partie|partei|partij)$"
        ),
    ),
    (
        "name",
        re.compile(
            r"\bcookies?\b|^cookie|cookienaam|traceur|\bgalet(a|es)\b|\btemoins?\b|\btracker\b|"
            r"^(name|names|name s|nom|noms|nom s|nombre|nome|naam|bezeichnung|identifiant)$"
        ),
    ),
)


@lru_cache(maxsize=4096)  # the same few headings recur on every table
def role_of(heading: str) -> str | None:
    """What a column heading means (``name``, ``provider``...), or None."""
    key = fold(heading)
    return next((role for role, rule in _ROLE_RULES if rule.search(key)), None)


# Only unambiguous words map to a registry category: "functional",
# "preferences", "marketing" or "advertising" cookies need consent on some
# pages and not on others, so they stay unmapped.
# "Not strictly necessary", "non nécessaires", "nicht notwendig": a negation
# up to two words before the word turns it into no category at all.
_NOT = r"(?<!\bnon )(?<!\bnot )(?<!\bnicht )(?<!\bno )(?<!\bniet )(?<!\bnao )(?<!\bpas )"
_NEGATED = re.compile(
    r"\b(non|not|nicht|no|niet|nao|pas|keine?)( \w+){0,2} (necess|notwendig|erforderlich|"
    r"essen|imprescindible|noodzakelijk)"
)
_CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "statistics",
        re.compile(
            r"statisti|analyti|analiti|analitic|analyse|analisi|analisis|audience|\bmesure\b|"
            r"statistik|estadistic|estatistic|statistiek|analytisch|analise"
        ),
    ),
    (
        "third_party",
        re.compile(
            r"\btiers\b|\btierces?\b|third party|third parties|drittanbieter|derde partij|"
            r"de terceros|de tercers|terze parti|van derden|de terceiros"
        ),
    ),
    (
        "necessary",
        re.compile(
            _NOT + r"(\bstrictly necessary|\bnecessary|\bessential|\bnecessaires?\b|\bnotwendig|"
            r"\berforderlich|\bnecesari|\bimprescindible|\bnecessari|\bessenzi|\bnoodzakelijk|"
            r"\bessentieel|\bnecessario|\bnecessarios|\bessenciai|\bessenciais|\bessentiel)"
        ),
    ),
    (
        "first_party",
        re.compile(
            r"\binternes?\b|first party|\bpropias?\b|\bpropies\b|erstanbieter|\beigene\b|"
            r"eerste partij|"
            r"\bpropri\b|\bproprie\b|\beigen\b|\bproprios\b"
        ),
    ),
)


@lru_cache(maxsize=4096)
def category_of(text: str) -> str | None:
    """The registry category a section title or cell names, when it is unambiguous."""
    key = fold(text)
    found = next((cat for cat, rule in _CATEGORY_RULES if rule.search(key)), None)
    return None if found == "necessary" and _NEGATED.search(key) else found


_STORAGE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sessionStorage", re.compile(r"session ?storage|stockage de session|sitzungsspeicher")),
    (
        "localStorage",
        re.compile(
            r"local ?storage|^html$|stockage local|lokaler speicher|local speicher|"
            r"almacenamiento local|emmagatzematge local|archiviazione locale|lokale opslag|"
            r"armazenamento local|indexeddb"
        ),
    ),
    ("cookie", re.compile(r"^(http )?cookies?$|^http$|^http cookie|^cookie http|^cookie de")),
)


@lru_cache(maxsize=4096)
def storage_of(text: str) -> str | None:
    """``cookie``, ``localStorage`` or ``sessionStorage`` when ``text`` names one."""
    key = fold(text)
    if key == "indexeddb":
        return None
    return next((kind for kind, rule in _STORAGE_RULES if rule.search(key)), None)


# Words that tell a table's language when its headings are all it has.
_LANGUAGE_WORDS: dict[str, re.Pattern[str]] = {
    "fr": re.compile(r"\b(nom|prestataire|finalites?|duree|fournisseur|expiration|conservation)\b"),
    "en": re.compile(r"\b(name|provider|purpose|expiry|duration|description|lifetime|supplier)\b"),
    "de": re.compile(
        r"\b(bezeichnung|anbieter|zweck|ablauf|speicherdauer|laufzeit|beschreibung)\b"
    ),
    "es": re.compile(r"\b(nombre|proveedor|finalidad|duracion|caducidad|descripcion)\b"),
    "ca": re.compile(r"\b(proveidor|finalitat|durada|caducitat|descripcio|galeta)\b"),
    "it": re.compile(r"\b(nome|fornitore|scopo|durata|scadenza|descrizione|finalita)\b"),
    "nl": re.compile(r"\b(naam|aanbieder|doel|bewaartermijn|looptijd|beschrijving|vervaltijd)\b"),
    "pt": re.compile(r"\b(nome|fornecedor|finalidade|duracao|validade|descricao|provedor)\b"),
}


@lru_cache(maxsize=1024)
def language_of_headings(headings: tuple[str, ...]) -> str | None:
    """The one language whose words the headings use most, or None on a tie."""
    key = " ".join(fold(h) for h in headings)
    scores = {lang: len(rule.findall(key)) for lang, rule in _LANGUAGE_WORDS.items()}
    best = max(scores.values())
    winners = [lang for lang, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


# What a new table says, per language.
HEADINGS: dict[str, dict[str, str]] = {
    "fr": {
        "provider": "Nom du prestataire",
        "service": "Service et emplacement",
        "name": "Nom du cookie",
        "purpose": "Finalités",
        "lifetime": "Durée de vie",
        "category": "Type",
    },
    "en": {
        "provider": "Service provider's name",
        "service": "Function and location",
        "name": "Cookie name(s)",
        "purpose": "Purposes",
        "lifetime": "Lifetime",
        "category": "Type",
    },
    "de": {
        "provider": "Anbieter",
        "service": "Dienst",
        "name": "Name des Cookies",
        "purpose": "Zweck",
        "lifetime": "Speicherdauer",
        "category": "Kategorie",
    },
    "es": {
        "provider": "Proveedor",
        "service": "Servicio",
        "name": "Nombre de la cookie",
        "purpose": "Finalidad",
        "lifetime": "Duración",
        "category": "Categoría",
    },
    "ca": {
        "provider": "Proveïdor",
        "service": "Servei",
        "name": "Nom de la galeta",
        "purpose": "Finalitat",
        "lifetime": "Durada",
        "category": "Categoria",
    },
    "it": {
        "provider": "Fornitore",
        "service": "Servizio",
        "name": "Nome del cookie",
        "purpose": "Scopo",
        "lifetime": "Durata",
        "category": "Categoria",
    },
    "nl": {
        "provider": "Aanbieder",
        "service": "Dienst",
        "name": "Naam van de cookie",
        "purpose": "Doel",
        "lifetime": "Bewaartermijn",
        "category": "Categorie",
    },
    "pt": {
        "provider": "Fornecedor",
        "service": "Serviço",
        "name": "Nome do cookie",
        "purpose": "Finalidade",
        "lifetime": "Duração",
        "category": "Categoria",
    },
}
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "necessary": "Nécessaire",
        "statistics": "Statistiques",
        "first_party": "Interne",
        "third_party": "Tiers",
    },
    "en": {
        "necessary": "Necessary",
        "statistics": "Statistics",
        "first_party": "First party",
        "third_party": "Third party",
    },
    "de": {
        "necessary": "Notwendig",
        "statistics": "Statistik",
        "first_party": "Erstanbieter",
        "third_party": "Drittanbieter",
    },
    "es": {
        "necessary": "Necesarias",
        "statistics": "Estadísticas",
        "first_party": "Propias",
        "third_party": "De terceros",
    },
    "ca": {
        "necessary": "Necessàries",
        "statistics": "Estadístiques",
        "first_party": "Pròpies",
        "third_party": "De tercers",
    },
    "it": {
        "necessary": "Necessari",
        "statistics": "Statistici",
        "first_party": "Proprietari",
        "third_party": "Di terze parti",
    },
    "nl": {
        "necessary": "Noodzakelijk",
        "statistics": "Statistieken",
        "first_party": "Eigen",
        "third_party": "Van derden",
    },
    "pt": {
        "necessary": "Necessários",
        "statistics": "Estatísticas",
        "first_party": "Próprios",
        "third_party": "De terceiros",
    },
}
SECTION_TITLES: dict[str, dict[str, str]] = {
    "fr": {
        "necessary": "Cookies nécessaires au bon fonctionnement de la plateforme",
        "statistics": "Cookies statistiques",
        "first_party": "Cookies internes",
        "third_party": "Cookies tiers",
    },
    "en": {
        "necessary": "Cookies necessary for the platform to work",
        "statistics": "Statistics cookies",
        "first_party": "First-party cookies",
        "third_party": "Third-party cookies",
    },
    "de": {
        "necessary": "Notwendige Cookies",
        "statistics": "Statistik-Cookies",
        "first_party": "Cookies von Erstanbietern",
        "third_party": "Cookies von Drittanbietern",
    },
    "es": {
        "necessary": "Cookies necesarias",
        "statistics": "Cookies estadísticas",
        "first_party": "Cookies propias",
        "third_party": "Cookies de terceros",
    },
    "ca": {
        "necessary": "Galetes necessàries",
        "statistics": "Galetes estadístiques",
        "first_party": "Galetes pròpies",
        "third_party": "Galetes de tercers",
    },
    "it": {
        "necessary": "Cookie necessari",
        "statistics": "Cookie statistici",
        "first_party": "Cookie proprietari",
        "third_party": "Cookie di terze parti",
    },
    "nl": {
        "necessary": "Noodzakelijke cookies",
        "statistics": "Statistische cookies",
        "first_party": "Eigen cookies",
        "third_party": "Cookies van derden",
    },
    "pt": {
        "necessary": "Cookies necessários",
        "statistics": "Cookies estatísticos",
        "first_party": "Cookies próprios",
        "third_party": "Cookies de terceiros",
    },
}


def words(table: dict[str, dict[str, str]], language: str) -> dict[str, str]:
    """``table``'s words for ``language`` (``de-CH`` reads as ``de``); French,
    the first language of the portals this was built for, for any other."""
    return table.get(language.split("-")[0].lower(), table["fr"])
