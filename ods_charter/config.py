"""The portal configuration (``config/portal.toml``)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from ods_charter.errors import ConfigError
from ods_charter.tomlfile import read_toml
from ods_charter.urls import checked_origin

DEFAULT_CONFIG = Path("config/portal.toml")
DEFAULT_KEY_ENV = "ODS_API_KEY"
PUBLISH_STEPS = ("none", "post")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_SCAN_PATHS = ("/", "/explore/", "/api/explore/v2.1/catalog/datasets/?limit=1")

_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "portal": {"name": str, "base_url": str, "api_key_env": str},
    "page": {
        "slug": str,
        "url": str,
        "languages": list,
        "flg": dict,
        "publish": str,
        "live_wait": (int, float),
    },
    "registry": {"path": str},
    "http": {
        "connect_timeout": (int, float),
        "read_timeout": (int, float),
        "retries": int,
        "max_bytes": int,
        "ca_bundle": str,
        "proxy": str,
    },
    "scan": {"paths": list, "languages": list, "require_secure": bool},
    "consent": {"accept": str, "refuse": str, "third_party_ok": list},
}


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    retries: int = 3
    max_bytes: int = 5_000_000
    backoff: float = 0.5
    max_retry_after: float = 30.0
    ca_bundle: str | None = None  # PEM file of trusted CAs; None: environment, then certifi
    proxy: str | None = None  # used for HTTPS requests only; the environment's is ignored


@dataclass(frozen=True)
class PortalConfig:
    name: str
    base_url: str
    slug: str
    languages: tuple[str, ...]
    registry_path: Path
    page_url: str | None = None
    http: HttpSettings = field(default_factory=HttpSettings)
    scan_paths: tuple[str, ...] = ()  # empty: DEFAULT_SCAN_PATHS and the charter page
    scan_languages: tuple[str, ...] = ()
    scan_require_secure: bool | None = None  # None: when base_url is HTTPS
    consent_accept: str | None = None  # CSS selector of the banner's "accept all" button
    consent_refuse: str | None = None  # ... and of its "refuse all" button
    third_party_ok: tuple[str, ...] = ()  # hosts a visitor may meet before consenting
    source: Path | None = None
    api_key_env: str | None = None  # None: DEFAULT_KEY_ENV, and no key in fleet mode
    flg: Mapping[str, str] = field(default_factory=dict)  # content language -> ?flg= code
    publish_step: str = "none"  # "post": POST .../publish/ after the PUT
    live_wait: float = 10.0  # seconds the public page may take to show the API copy

    def api_key(self, *, fleet: bool = False) -> str:
        """This portal's key, from the variable its config names.

        In fleet mode a portal must name its own variable: keys are bound to
        the portal that issued them, and one shared key would reach them all.
        """
        from ods_charter.secrets import api_key

        if self.api_key_env is None and fleet:
            raise ConfigError(
                f"{self.source or self.name}: several portals need one key each: set "
                f'[portal] api_key_env = "{suggested_key_env(self)}" and put this '
                "portal's key in that variable"
            )
        key = api_key(env=self.api_key_env or DEFAULT_KEY_ENV)
        assert key is not None
        return key

    def flg_code(self, language: str) -> str:
        """The ``?flg=`` code the portal uses for a content language (``en`` → ``en-gb``)."""
        return self.flg.get(language, language)

    @property
    def charter_url(self) -> str:
        """The public charter page: ``[page].url`` or ``<base_url>/pages/<slug>/``."""
        if self.page_url:
            return urljoin(self.base_url + "/", self.page_url)
        return f"{self.base_url}/pages/{self.slug}/"

    @property
    def expects_secure_cookies(self) -> bool:
        """``[scan] require_secure``, by default whether the portal is on HTTPS."""
        if self.scan_require_secure is not None:
            return self.scan_require_secure
        return self.base_url.startswith("https:")

    @property
    def scan_targets(self) -> tuple[str, ...]:
        """``[scan] paths``, or home, catalog, an API endpoint and the charter page."""
        return self.scan_paths or (*DEFAULT_SCAN_PATHS, self.charter_url)

    def resolve(self, url: str) -> str:
        """A URL given on the command line, absolute or relative to the portal."""
        return urljoin(self.base_url + "/", url)

    def with_base_url(self, base_url: str | None) -> PortalConfig:
        if not base_url:
            return self
        return replace(self, base_url=check_portal_url(base_url, "base URL"))


def suggested_key_env(config: PortalConfig) -> str:
    return f"{DEFAULT_KEY_ENV}_" + re.sub(r"[^A-Z0-9]+", "_", config.name.upper()).strip("_")


def check_portal_url(url: str, what: str) -> str:
    """A portal URL: unambiguous, and HTTPS unless the portal is on loopback."""
    origin = checked_origin(url, what)
    if origin.scheme == "http" and not origin.is_loopback:
        raise ConfigError(
            f"{what} {url!r}: the key travels only over HTTPS (plain HTTP is allowed "
            "to loopback only); use https://"
        )
    return url.rstrip("/")


def _http_settings(section: Mapping[str, Any], file: Path) -> HttpSettings:
    for key, value in section.items():
        if key in {"ca_bundle", "proxy"}:
            continue
        least = 0 if key == "retries" else 1e-9  # zero retries is fine, a zero timeout is not
        if not math.isfinite(value):
            raise ConfigError(f"{file}: [http] {key} = {value}: expected a finite number")
        if value < least:
            sign = ">= 0" if key == "retries" else "> 0"
            raise ConfigError(f"{file}: [http] {key} = {value}: expected a number {sign}")
    settings = dict(section)
    if "ca_bundle" in settings:
        bundle = file.parent / settings["ca_bundle"]
        if not bundle.is_file():
            raise ConfigError(f"{file}: [http] ca_bundle: {bundle} is not a file")
        settings["ca_bundle"] = str(bundle)
    if "proxy" in settings:
        checked_origin(settings["proxy"], f"{file}: [http] proxy")
    return HttpSettings(**settings)


def _page_url(url: str | None, file: Path) -> str | None:
    """``[page] url``: relative to the portal, or an absolute URL read one way only."""
    if url is not None and urlsplit(url).scheme:
        checked_origin(url, f"{file}: [page] url")
    return url


def _validate(data: Mapping[str, Any], path: Path) -> None:
    for section, body in data.items():
        if section not in _SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}]; expected {', '.join(_SCHEMA)}")
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in body.items():
            expected = _SCHEMA[section].get(key)
            if expected is None:
                raise ConfigError(
                    f"{path}: [{section}] unknown key {key!r}; expected one of "
                    f"{', '.join(_SCHEMA[section])}"
                )
            wrong = (
                not isinstance(value, bool)
                if expected is bool
                else (not isinstance(value, expected) or isinstance(value, bool))
            )
            if wrong:
                names = expected.__name__ if isinstance(expected, type) else "number"
                raise ConfigError(f"{path}: [{section}] {key}: expected a {names}")


def _strings(value: list[Any], path: Path, where: str) -> tuple[str, ...]:
    if not all(isinstance(x, str) and x for x in value):
        raise ConfigError(f"{path}: {where}: expected a list of strings")
    return tuple(value)


def load_config(path: str | os.PathLike[str] = DEFAULT_CONFIG) -> PortalConfig:
    """Read ``portal.toml``; ``ODS_BASE_URL`` in the environment overrides the base URL."""
    file = Path(path)
    data, _ = read_toml(file)
    _validate(data, file)
    portal, page = data.get("portal", {}), data.get("page", {})
    for section, key in (("portal", "base_url"), ("page", "slug")):
        if key not in data.get(section, {}):
            raise ConfigError(f"{file}: [{section}] {key} is required")
    languages = _strings(page.get("languages", ["fr"]), file, "[page] languages")
    if not languages:
        raise ConfigError(f"{file}: [page] languages must name at least one language")
    registry_rel = data.get("registry", {}).get("path", "registry.toml")
    http = _http_settings(data.get("http", {}), file)
    scan = data.get("scan", {})
    key_env = portal.get("api_key_env")
    if key_env is not None and not _ENV_NAME.match(key_env):
        raise ConfigError(
            f"{file}: [portal] api_key_env = {key_env!r}: expected the name of an "
            "environment variable, such as ODS_API_KEY_STAR"
        )
    flg = page.get("flg", {})
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in flg.items()):
        raise ConfigError(f'{file}: [page] flg: expected a table of codes, e.g. {{ en = "en-gb" }}')
    publish_step = page.get("publish", "none")
    if publish_step not in PUBLISH_STEPS:
        raise ConfigError(
            f"{file}: [page] publish = {publish_step!r}: expected one of {', '.join(PUBLISH_STEPS)}"
        )
    live_wait = page.get("live_wait", 10.0)
    if not 0 <= live_wait <= 600:
        raise ConfigError(f"{file}: [page] live_wait = {live_wait}: expected 0 to 600 seconds")
    config = PortalConfig(
        name=portal.get("name", file.stem),
        base_url=check_portal_url(portal["base_url"], f"{file}: [portal] base_url"),
        slug=page["slug"],
        languages=languages,
        registry_path=(file.parent / registry_rel),
        page_url=_page_url(page.get("url"), file),
        http=http,
        scan_paths=_strings(scan.get("paths", []), file, "[scan] paths"),
        scan_languages=_strings(scan.get("languages", []), file, "[scan] languages"),
        scan_require_secure=scan.get("require_secure"),
        consent_accept=data.get("consent", {}).get("accept"),
        consent_refuse=data.get("consent", {}).get("refuse"),
        third_party_ok=_strings(
            data.get("consent", {}).get("third_party_ok", []), file, "[consent] third_party_ok"
        ),
        source=file,
        api_key_env=key_env,
        flg=dict(flg),
        publish_step=publish_step,
        live_wait=float(live_wait),
    )
    return config.with_base_url(os.environ.get("ODS_BASE_URL"))


CONFIG_ENV = "ODS_CHARTER_CONFIG"
CONFIG_NAME = Path("config") / "portal.toml"


def find_config(explicit: Path | None = None, start: Path | None = None) -> Path | None:
    """``explicit``, else ``$ODS_CHARTER_CONFIG``, else ``config/portal.toml`` in
    ``start`` (the working directory) or the nearest parent that has one."""
    if explicit is not None:
        return explicit
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    return None


def adhoc_config(url: str | None, registry: Path | None) -> PortalConfig:
    """A config for one page read without any ``portal.toml`` (``--url``/``--file``)."""
    base, page = "http://localhost", None
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(f"--url {url!r}: without a config, give an absolute http(s) URL")
        base, page = f"{parts.scheme}://{parts.netloc}", url
    return PortalConfig(
        name=urlsplit(base).hostname or base,
        base_url=base,
        slug="",
        languages=("fr",),
        registry_path=registry or Path("registry.toml"),
        page_url=page,
    )
