"""The simulator's state: pages and legal texts, kept in one JSON file.

Every change is written to a temporary file and renamed over the old one, so
a crash leaves the previous state or the new one, never half of either.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

DATA = resources.files("ods_charter") / "data"
CHARTER_SLUG = "charte-cookies"
# What a writable field becomes when a PUT leaves it out (content is required).
WRITABLE_DEFAULTS: dict[str, Any] = {
    "title": {},
    "description": "",
    "template": "custom.html",
    "tags": [],
    "is_restricted": False,
    "is_archived": False,
}


def data_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def now_iso(after: str | None = None) -> str:
    """An ISO timestamp strictly later than ``after``: each write moves updated_at."""
    moment = datetime.now(UTC)
    if after:
        previous = datetime.fromisoformat(after.replace("Z", "+00:00"))
        if moment <= previous:
            moment = previous + timedelta(microseconds=1)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _page(slug: str, title: dict[str, str], html: dict[str, str], **extra: Any) -> dict[str, Any]:
    stamp = "2024-03-12T09:30:00.000000Z"
    page: dict[str, Any] = {
        "slug": slug,
        "title": title,
        "description": "",
        "template": "custom.html",
        "tags": [],
        "is_restricted": False,
        "is_archived": False,
        "has_subdomain_copies": False,
        "is_pushed_by_parent": False,
        "content": {"html": html, "css": {lang: "" for lang in html}},
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": {"username": "star.admin"},
        "updated_by": {"username": "star.admin"},
    }
    page.update(extra)
    return page


def seed_state() -> dict[str, Any]:
    """The STAR portal as it is today: the charter in French and English, and a
    few other pages (archived, restricted, pushed by a parent) for the tests."""
    fr, en = data_text("star_charte_cookies.fr.html"), data_text("star_charte_cookies.en.html")
    css = data_text("star_charte_cookies.css")
    charter = _page(
        CHARTER_SLUG,
        {"fr": "Charte cookies", "en": "Cookie charter"},
        {"fr": fr, "en": en},
        description="Liste des cookies déposés par le portail",
        tags=["légal", "cookies"],
    )
    charter["content"]["css"] = {"fr": css, "en": css}
    pages = [
        charter,
        _page("accueil", {"fr": "Accueil"}, {"fr": "<h1>Bienvenue</h1>"}),
        _page("contact", {"fr": "Contact"}, {"fr": "<p>contact@star.fr</p>"}),
        _page("ancienne-charte", {"fr": "Ancienne charte"}, {"fr": fr}, is_archived=True),
        _page("charte-interne", {"fr": "Charte interne"}, {"fr": fr}, is_restricted=True),
        _page("charte-groupe", {"fr": "Charte groupe"}, {"fr": fr}, is_pushed_by_parent=True),
    ]
    return {
        "portal": {"name": "STAR open data", "languages": ["fr", "en"], "default_language": "fr"},
        "pages": {p["slug"]: p for p in pages},
        "legal": {"cookies-policy": {"title": {"fr": "Politique cookies"}, "html": {"fr": fr}}},
        "history": [],
    }


class StateStore:
    """Thread-safe access to the state, persisted atomically after each change."""

    def __init__(self, path: Path, initial: dict[str, Any] | None = None) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path.exists():
            self.data = json.loads(path.read_text(encoding="utf-8"))
        else:
            self.data = initial if initial is not None else seed_state()
            self.save()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.data)

    def save(self) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state.", suffix=".tmp")
            try:
                text = json.dumps(self.data, ensure_ascii=False, indent=1)
                if not text.isascii():
                    try:
                        text.encode("utf-8")
                    except UnicodeEncodeError:  # a lone surrogate a test stored
                        text = json.dumps(self.data, indent=1)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def portal(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.data["portal"])

    def legal(self, name: str) -> dict[str, Any] | None:
        with self.lock:
            text = self.data["legal"].get(name)
            return copy.deepcopy(text) if text is not None else None

    def page(self, slug: str) -> dict[str, Any] | None:
        with self.lock:
            page = self.data["pages"].get(slug)
            return copy.deepcopy(page) if page is not None else None

    def update_page(
        self, slug: str, changes: dict[str, Any], username: str, *, replace: bool = True
    ) -> dict[str, Any]:
        """Apply a PUT's writable fields, stamp the edit, record it, persist.

        ``replace`` follows the contract: a PUT replaces the page with what it is
        given, so a writable field left out goes back to its default. With
        ``replace=False`` (the lenient switch) fields left out are kept.
        """
        with self.lock:
            page = self.data["pages"][slug]
            changes = copy.deepcopy(changes)
            content = changes.pop("content", None) or {}
            if replace:
                page.update(copy.deepcopy(WRITABLE_DEFAULTS))
                page["content"] = {"html": {}, "css": {}}
            for kind in ("html", "css"):
                if kind in content:
                    page["content"][kind] = content[kind]
            page.update(changes)
            page["updated_at"] = now_iso(page["updated_at"])
            page["updated_by"] = {"username": username}
            self.data["history"].append(
                {"slug": slug, "updated_at": page["updated_at"], "by": username}
            )
            self.save()
            return copy.deepcopy(page)

    def put_raw_page(self, page: dict[str, Any]) -> None:
        with self.lock:
            self.data["pages"][page["slug"]] = page
            self.save()
