"""A large, deterministic charter page for the parse benchmark."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAR_PAGE = ROOT / "tests" / "fixtures" / "pages" / "star-charte-cookies.html"


def big_page(tables: int = 40, rows: int = 50, cell_words: int = 140) -> bytes:
    """~5 MB: ``tables`` cookie tables of ``rows`` rows, long purpose cells."""
    words = [
        "Se",
        "souvenir",
        "du",
        "choix",
        "opéré",
        "par",
        "le",
        "visiteur",
        "concernant",
        "les",
        "cookies",
        "et",
    ]
    filler = " ".join(words[i % len(words)] for i in range(cell_words))
    parts = ['<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head><body>']
    for t in range(tables):
        parts.append(f"<h3>Cookies nécessaires, section {t}</h3>")
        parts.append('<table class="table"><thead><tr><th>Nom du prestataire</th>')
        parts.append("<th>Service et emplacement</th><th>Nom du cookie</th><th>Finalités</th>")
        parts.append("<th>Durée de vie</th></tr></thead><tbody>")
        for r in range(rows):
            parts.append(
                f"<tr><td>Prestataire {r % 7}</td><td>Service {t}-{r} — {filler}</td>"
                f"<td>cookie_{t}_{r}</td><td>{filler} ({t}/{r}) {filler}</td>"
                f"<td>{1 + r % 13} mois</td></tr>"
            )
        parts.append("</tbody></table><p>" + filler * 3 + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
