"""The ``ods-charter`` command: a thin layer over the library.

Errors are turned into messages and exit codes here, in :func:`main`, and
nowhere else: 0 success / in sync, 1 drift or findings, 2 error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ods_charter.config import PortalConfig
    from ods_charter.registry import Registry

app = typer.Typer(
    name="ods-charter",
    help="Keep an Opendatasoft portal's cookie charter true to the registry in git.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Portal configuration file.", show_default=True)
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--base-url", envvar="ODS_BASE_URL", help="Override [portal] base_url."),
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", help="Read this page (absolute, or relative to the portal).")
]
FileOpt = Annotated[
    Path | None, typer.Option("--file", "-f", help="Read a saved HTML file instead of the portal.")
]
LangOpt = Annotated[
    list[str] | None, typer.Option("--lang", "-l", help="Language(s); default: [page] languages.")
]
DEFAULT_CONFIG = Path("config/portal.toml")


def _config(path: Path, base_url: str | None) -> PortalConfig:
    from ods_charter.config import load_config

    return load_config(path).with_base_url(base_url)


def _registry(config: PortalConfig) -> Registry:
    from ods_charter.registry import load_registry

    return load_registry(config.registry_path)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    from ods_charter.registry import atomic_write

    atomic_write(output, text if text.endswith("\n") else text + "\n")


@app.command()
def fetch(
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    url: UrlOpt = None,
    lang: Annotated[str | None, typer.Option("--lang", "-l", help="?flg= language")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Download the public charter page (HTML) as the portal serves it."""
    from ods_charter.fetch import fetch_page
    from ods_charter.transport import Transport

    cfg = _config(config, base_url)
    target = cfg.resolve(url) if url else cfg.charter_url
    page = fetch_page(Transport(cfg.http), target, lang or cfg.languages[0])
    if output is None:
        sys.stdout.buffer.write(page.html)
    else:
        output.write_bytes(page.html)
        typer.echo(f"saved {len(page.html):,} bytes from {page.url} to {output}", err=True)


@app.command()
def parse(
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    lang: Annotated[str | None, typer.Option("--lang", "-l")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json | csv | table")] = "json",
) -> None:
    """Print the cookie records found in a page."""
    from ods_charter.charter import load_pages
    from ods_charter.output import records_as

    if file is None:
        cfg = _config(config, base_url)
        languages = [lang or cfg.languages[0]]
        _, pages = load_pages(cfg, languages, url=url)
    else:
        from ods_charter.charter import read_html_file
        from ods_charter.parse import parse_page

        pages = {"": parse_page(read_html_file(file), str(file))}
    typer.echo(records_as(next(iter(pages.values())).records, fmt), nl=False)


@app.command()
def check(
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    lang: LangOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text | json | markdown | github | junit | html")
    ] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
) -> None:
    """Compare the charter page with the registry: exit 0 in sync, 1 drift, 2 error."""
    from ods_charter.charter import run_check
    from ods_charter.output import check_report

    cfg = _config(config, base_url)
    registry = _registry(cfg)
    languages = lang or ([registry.default_language] if file else list(cfg.languages))
    result = run_check(cfg, registry, languages=languages, file=file, url=url)
    _emit(check_report(result, fmt, registry), output)
    raise typer.Exit(result.exit_code)


@app.command("import")
def import_(
    output: Annotated[Path, typer.Option("--output", "-o", help="Registry file to write.")],
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    lang: Annotated[str, typer.Option("--lang", "-l")] = "fr",
    merge: Annotated[bool, typer.Option("--merge", help="Add this language to the file.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file.")] = False,
) -> None:
    """Bootstrap a registry from a charter page (or add a language with --merge)."""
    from ods_charter.importer import import_registry

    if merge and force:
        raise typer.BadParameter("--merge and --force exclude each other")
    pages: dict[str, Any]
    if file is not None:
        from ods_charter.charter import read_html_file
        from ods_charter.parse import parse_page

        page = parse_page(read_html_file(file), str(file))
    else:
        from ods_charter.charter import load_pages

        _, pages = load_pages(_config(config, base_url), [lang], url=url)
        page = pages[lang]
    for line in import_registry(page, lang, output, merge=merge, force=force):
        typer.echo(line, err=True)


@app.command()
def validate(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Check the portal configuration and the registry: exit 0 or 2."""
    cfg = _config(config, None)
    registry = _registry(cfg)
    missing = [lang for lang in cfg.languages if lang not in registry.languages]
    if missing:
        from ods_charter.errors import ConfigError

        raise ConfigError(
            f"{config}: [page] languages {missing} are not in {cfg.registry_path} languages "
            f"{list(registry.languages)}"
        )
    typer.echo(
        f"ok: {config} and {cfg.registry_path} are valid "
        f"({len(registry.cookies)} cookies, languages {', '.join(registry.languages)})"
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command, turn the project's errors into exit code 2."""
    from ods_charter.errors import OdsCharterError
    from ods_charter.secrets import load_dotenv_file, redact

    load_dotenv_file()
    try:
        code = app(args=argv, prog_name="ods-charter", standalone_mode=False)
    except OdsCharterError as exc:
        typer.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
