"""The ``ods-charter`` command: a thin layer over the library.

Commands return an :class:`~ods_charter.exitcode.ExitCode`; errors are turned
into messages and exit codes in one place, :func:`main`. Only typer is imported
at start-up: everything else is imported inside the command that needs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ods_charter import __version__
from ods_charter.exitcode import ExitCode
from ods_charter.reports import PlanFormat, RecordFormat, ReportFormat

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ods_charter.config import PortalConfig
    from ods_charter.events import RequestEvent
    from ods_charter.registry import Registry
    from ods_charter.reports import Report

app = typer.Typer(
    name="ods-charter",
    help="Keep an Opendatasoft portal's cookie charter true to the registry in git.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

CONFIG_ENV = "ODS_CHARTER_CONFIG"  # as in ods_charter.config, which the CLI loads late
CONFIG_NAME = Path("config") / "portal.toml"


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


class CheckSource(StrEnum):
    public = "public"
    api = "api"


@dataclass
class _Ui:
    """What the global options asked for, for the command that runs."""

    color: bool = False  # colour on stdout
    color_err: bool = False  # colour on stderr
    verbose: bool = False
    quiet: bool = False


UI = _Ui()

# Options shared by the commands: one name, one meaning everywhere.
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help=f"Portal configuration file; default ${CONFIG_ENV}, else {CONFIG_NAME} "
        "here or in a parent folder.",
    ),
]
ConfigsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--config",
        "-c",
        help=f"Portal configuration file(s), repeat for several; default ${CONFIG_ENV}, "
        f"else {CONFIG_NAME} here or in a parent folder.",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--base-url", envvar="ODS_BASE_URL", help="Override [portal] base_url."),
]
UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="Read this page (absolute, or relative to the portal)."),
]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="Read a saved HTML file instead of the portal (- = stdin)."),
]
LangOpt = Annotated[
    str | None, typer.Option("--lang", "-l", help="Language; default: the first of [page].")
]
LangsOpt = Annotated[
    list[str] | None,
    typer.Option("--lang", "-l", help="Language, repeat for several; default: [page] languages."),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file (- = stdout).")
]
RegistryOpt = Annotated[
    Path | None,
    typer.Option("--registry", help="Registry file; default [registry] path of the config."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every portal in config/portals/*.toml.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Portals processed at once, in all.")]
ProcessesOpt = Annotated[
    int | None,
    typer.Option("--processes", help="Worker processes for many portals; default: one per core."),
]
ReportFormatOpt = Annotated[ReportFormat, typer.Option("--format", help="Report format.")]
PlanFormatOpt = Annotated[
    PlanFormat, typer.Option("--format", help="text for people, json for programs.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; needed without a terminal.")]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Show the plan, write nothing: exit 0 nothing to do, 1 changes."
    ),
]
SubdomainsOpt = Annotated[
    bool,
    typer.Option(
        "--include-subdomains", help="Edit a page whose copies on subdomains change with it."
    ),
]
VerifyLiveOpt = Annotated[
    bool,
    typer.Option(
        "--verify-live/--no-verify-live", help="Compare the public page with the API copy."
    ),
]
BackupOpt = Annotated[
    Path | None, typer.Option("--backup-dir", help="Where backups go (.ods-charter/backups).")
]
LockWaitOpt = Annotated[
    float,
    typer.Option("--lock-wait", help="Seconds to wait for another run writing the same page."),
]


# -- global options -------------------------------------------------------------


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ods-charter {__version__}")
        raise typer.Exit()


def _wants_color(choice: Color, stream: Any) -> bool:
    if choice is Color.never:
        return False
    if choice is Color.always:
        return True
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(stream.isatty())


def _on_request(event: RequestEvent) -> None:
    """--verbose: one line per request, and a line before each retry."""
    if event.kind == "retry":
        return _on_retry(event)
    what = str(event.status) if event.status is not None else f"failed: {event.reason}"
    tries = f" (attempt {event.attempt} of {event.attempts})" if event.attempt > 1 else ""
    _note(f"{event.method} {event.url} -> {what} in {event.seconds * 1000:.0f} ms{tries}")


def _on_retry(event: RequestEvent) -> None:
    if event.kind == "retry":
        _note(
            f"retrying in {event.seconds:.1f} s: {event.reason} from {event.url} "
            f"(attempt {event.attempt + 1} of {event.attempts})"
        )


@app.callback()
def options(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    color: Annotated[
        Color, typer.Option("--color", help="Colour: auto (on a terminal, unless NO_COLOR).")
    ] = Color.auto,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show each HTTP request (never the key).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing but errors and asked-for data.")
    ] = False,
) -> None:
    """Keep an Opendatasoft portal's cookie charter true to the registry in git.

    Exit codes: 0 success / in sync, 1 drift, findings or changes pending, 2 error.
    """
    from ods_charter import events

    UI.color = _wants_color(color, sys.stdout)
    UI.color_err = _wants_color(color, sys.stderr)
    UI.verbose, UI.quiet = verbose, quiet
    events.LISTENERS[:] = []
    if verbose:
        events.LISTENERS.append(_on_request)
    elif sys.stderr.isatty() and not quiet:
        events.LISTENERS.append(_on_retry)


# -- output ---------------------------------------------------------------------


def _say(text: str) -> None:
    """A line for the person running the command (stdout); silent with --quiet."""
    if not UI.quiet:
        typer.echo(text, color=UI.color)


def _note(text: str) -> None:
    """Progress and notes (stderr); silent with --quiet."""
    if not UI.quiet:
        typer.echo(text, err=True, color=UI.color_err)


def _emit(text: str, output: Path | None, *, data: bool = True) -> None:
    """A result: to ``output`` (atomically) or stdout. ``data`` results (asked-for
    formats) are printed even with --quiet; human text is not."""
    if output is None or str(output) == "-":
        if data or not UI.quiet:
            typer.echo(text, nl=not text.endswith("\n"), color=UI.color)
        return
    from ods_charter.registry import atomic_write

    atomic_write(output, text if text.endswith("\n") else text + "\n")


def _show(report: Report, fmt: ReportFormat, output: Path | None) -> ExitCode:
    from ods_charter.reports import render

    to_terminal = output is None or str(output) == "-"
    text = render(report, fmt.value, color=UI.color and to_terminal)
    _emit(text, output, data=fmt is not ReportFormat.text)
    return report.exit_code


def _report_even_on_failure(
    run: Callable[[], Report],
    failed: Callable[[str], Report],
    fmt: ReportFormat,
    output: Path | None,
) -> ExitCode:
    """``run``'s report; when the portal or page cannot be read, a machine format
    still gets a report (``failed``) so that a CI job has a file to show, and
    the error then goes to ``main`` (exit 2)."""
    from ods_charter.errors import FetchError, ParseError, PortalError

    try:
        report = run()
    except (FetchError, ParseError, PortalError) as exc:
        if fmt is not ReportFormat.text:
            _show(failed(str(exc)), fmt, output)
        raise
    return _show(report, fmt, output)


# -- configuration --------------------------------------------------------------


def _config_path(explicit: Path | None) -> Path:
    from ods_charter.config import find_config

    found = find_config(explicit)
    if found is None:
        from ods_charter.errors import ConfigError

        raise ConfigError(
            f"no {CONFIG_NAME} here or in a parent folder: run `ods-charter init URL`, "
            f"pass --config or set {CONFIG_ENV}"
        )
    return found


def _config(path: Path | None, base_url: str | None) -> PortalConfig:
    from ods_charter.config import load_config

    return load_config(_config_path(path)).with_base_url(base_url)


def _config_for_page(
    config: Path | None,
    base_url: str | None,
    url: str | None,
    file: Path | None,
    registry: Path | None = None,
) -> PortalConfig:
    """The config when there is one; --url and --file also work without."""
    from dataclasses import replace

    from ods_charter.config import adhoc_config, find_config

    if find_config(config) is None and (url or file):
        return adhoc_config(url, registry)
    cfg = _config(config, base_url)
    return replace(cfg, registry_path=registry) if registry else cfg


def _registry(config: PortalConfig) -> Registry:
    from ods_charter.registry import load_registry

    return load_registry(config.registry_path)


def _languages(asked: list[str] | None, known: tuple[str, ...], where: str) -> list[str]:
    unknown = [lang for lang in asked or [] if lang not in known]
    if unknown:
        from ods_charter.errors import ConfigError

        raise ConfigError(
            f"--lang {', '.join(unknown)}: not a language of {where} ({', '.join(known)})"
        )
    return list(asked or known)


def _one_page(
    file: Path | None, url: str | None, config: Path | None, base_url: str | None, lang: str | None
) -> Any:
    """A parsed page from a saved file (or stdin), or fetched from the portal in ``lang``."""
    from ods_charter.charter import load_pages

    cfg = _config_for_page(config, base_url, url, file)
    # Any language may be asked of a page: one it does not hold is the parser's error.
    language = lang or cfg.languages[0]
    return load_pages(cfg, [language], file=file, url=url)[1][language]


# -- fleet ----------------------------------------------------------------------


def _fleet(
    configs: list[Path] | None,
    all_portals: bool,
    task: Any,
    jobs: int,
    processes: int | None,
    base_url: str | None,
    report: tuple[str, ReportFormat, Path | None],
) -> ExitCode | None:
    """With several configs (or --all): ``task`` run over every portal, one
    summary report (title, format, output) shown, its exit code; else None."""
    if not all_portals and len(configs or []) <= 1:
        return None
    from ods_charter import fleet
    from ods_charter.reports.build import from_fleet

    task = getattr(fleet, task) if isinstance(task, str) else task  # a name: imported late

    paths = fleet.portal_configs(configs or [_config_path(None)], all_portals)
    # A progress bar only for a person at a terminal: never in CI logs or pipes.
    if sys.stderr.isatty() and not os.environ.get("CI") and not UI.quiet:
        with typer.progressbar(length=len(paths), label="portals", file=sys.stderr) as bar:
            summaries = fleet.run_fleet(
                paths,
                task,
                jobs=jobs,
                processes=processes,
                base_url=base_url,
                on_done=lambda _: bar.update(1),
            )
    else:
        summaries = fleet.run_fleet(paths, task, jobs=jobs, processes=processes, base_url=base_url)
    title, fmt, output = report
    return _show(from_fleet(summaries, title), fmt, output)


# -- reading --------------------------------------------------------------------


@app.command()
def fetch(
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    url: UrlOpt = None,
    lang: LangOpt = None,
    output: OutputOpt = None,
) -> ExitCode:
    """Download the public charter page (HTML) as the portal serves it."""
    from ods_charter.fetch import fetch_page
    from ods_charter.transport import Transport

    cfg = _config_for_page(config, base_url, url, None)
    target = cfg.resolve(url) if url else cfg.charter_url
    language = _languages([lang] if lang else None, cfg.languages, "[page] languages")[0]
    page = fetch_page(Transport(cfg.http), target, cfg.flg_code(language))
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(page.html)
    else:
        from ods_charter.secrets import redact_bytes

        output.write_bytes(redact_bytes(page.html))
        _note(f"saved {len(page.html):,} bytes from {page.url} to {output}")
    return ExitCode.OK


@app.command()
def parse(
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    lang: LangOpt = None,
    fmt: Annotated[RecordFormat, typer.Option("--format", help="Records format.")] = (
        RecordFormat.json
    ),
    output: OutputOpt = None,
) -> ExitCode:
    """Print the cookie records found in a page."""
    from ods_charter.reports.records import records_as

    page = _one_page(file, url, config, base_url, lang)
    _emit(records_as(page.records, fmt.value), output)
    return ExitCode.OK


@app.command()
def check(
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigsOpt = None,
    registry: RegistryOpt = None,
    base_url: BaseUrlOpt = None,
    all_portals: AllOpt = False,
    jobs: JobsOpt = 8,
    processes: ProcessesOpt = None,
    lang: LangsOpt = None,
    fmt: ReportFormatOpt = ReportFormat.text,
    output: OutputOpt = None,
    source: Annotated[
        CheckSource,
        typer.Option(
            "--source", help="public: the page visitors see (no key); api: the API copy (key)"
        ),
    ] = CheckSource.public,
) -> ExitCode:
    """Compare the charter page with the registry: exit 0 in sync, 1 drift, 2 error."""
    from ods_charter.charter import run_check
    from ods_charter.reports.build import failed_check, from_check

    api = source is CheckSource.api
    if api and (file or url):
        raise typer.BadParameter("--source api reads the portal's API copy: drop --file/--url")
    report = ("Cookie charter", fmt, output)
    task = "api_check_task" if api else "check_task"
    if (code := _fleet(config, all_portals, task, jobs, processes, base_url, report)) is not None:
        return code
    cfg = _config_for_page(config[0] if config else None, base_url, url, file, registry)
    reg = _registry(cfg)
    default = [reg.default_language] if file or not cfg.slug else None
    languages = _languages(lang or default, reg.languages, f"{cfg.registry_path}")
    page = str(file) if file else (cfg.resolve(url) if url else cfg.charter_url)
    client = _client(cfg) if api else None
    return _report_even_on_failure(
        lambda: from_check(
            run_check(cfg, reg, languages=languages, file=file, url=url, client=client), reg
        ),
        lambda error: from_check(failed_check(page, languages, error, cfg.name), reg),
        fmt,
        output,
    )


@app.command()
def scan(
    config: ConfigsOpt = None,
    base_url: BaseUrlOpt = None,
    all_portals: AllOpt = False,
    jobs: JobsOpt = 8,
    processes: ProcessesOpt = None,
    path: Annotated[
        list[str] | None, typer.Option("--path", "-p", help="Paths to visit; default [scan].")
    ] = None,
    lang: LangsOpt = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser", help="Also visit in headless Chromium: no choice, refuse all, accept all."
        ),
    ] = False,
    fmt: ReportFormatOpt = ReportFormat.text,
    output: OutputOpt = None,
    har: Annotated[
        Path | None,
        typer.Option("--har", help="With --browser: save the raw exchanges as a HAR file."),
    ] = None,
    json_output: Annotated[
        Path | None,
        typer.Option("--json-output", help="Also write the JSON report here (for suggest)."),
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence", help="Write an HTML file: registry, published page, observed per state."
        ),
    ] = None,
) -> ExitCode:
    """Record the cookies the portal really sets and hold the registry to them.

    With --browser, visits in three consent states (no interaction, refuse all,
    accept all) and reports trackers set before consent or after a refusal."""
    from ods_charter.reports.build import failed_scan, from_scan
    from ods_charter.scan import scan as run_scan
    from ods_charter.scan import scan_with_browser

    if har is not None and not browser:
        raise typer.BadParameter("--har needs --browser")
    if (all_portals or len(config or []) > 1) and any((har, output, json_output, evidence)):
        raise typer.BadParameter(
            "--har, --output, --json-output and --evidence scan one portal at a time"
        )
    report = ("Cookie scan", fmt, output)
    task = "browser_scan_task" if browser else "scan_task"
    if (code := _fleet(config, all_portals, task, jobs, processes, base_url, report)) is not None:
        return code
    cfg = _config(config[0] if config else None, base_url)
    reg = _registry(cfg)
    languages = (
        _languages(lang, cfg.scan_languages or cfg.languages, "the portal") if lang else None
    )

    def run() -> Report:
        result = run_scan(cfg, reg, paths=path, languages=languages)
        if browser:
            result = scan_with_browser(cfg, reg, result, har_path=har)
        scanned = from_scan(result, cfg.name)
        if json_output is not None:
            from ods_charter.reports import render as render_report

            _emit(render_report(scanned, "json"), json_output)
        if evidence is not None:
            from ods_charter import evidence as ev
            from ods_charter.charter import run_check

            _emit(ev.to_html(reg, run_check(cfg, reg), result), evidence)
        return scanned

    return _report_even_on_failure(
        run, lambda error: failed_scan(cfg.name, cfg.base_url, error), fmt, output
    )


@app.command()
def lint(
    config: ConfigOpt = None,
    registry: RegistryOpt = None,
    fmt: ReportFormatOpt = ReportFormat.text,
    output: OutputOpt = None,
    list_rules: Annotated[bool, typer.Option("--list", help="List the rules and exit.")] = False,
) -> ExitCode:
    """Check the registry against the rules: 0 no errors, 1 errors, 2 could not run."""
    from ods_charter.lint import lint as run_lint
    from ods_charter.lint import rules_table
    from ods_charter.registry import load_registry
    from ods_charter.reports.build import from_lint

    if list_rules:
        _emit(rules_table(), output)
        return ExitCode.OK
    path = registry or _config(config, None).registry_path
    reg = load_registry(path)
    return _show(from_lint(run_lint(reg), str(path), reg), fmt, output)


@app.command("import")
def import_(
    output: Annotated[Path, typer.Option("--output", "-o", help="Registry file to write.")],
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    lang: Annotated[str, typer.Option("--lang", "-l", help="Language of the page read.")] = "fr",
    merge: Annotated[
        bool, typer.Option("--merge", help="Add this language to the file, keeping its comments.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file.")] = False,
) -> ExitCode:
    """Bootstrap a registry from a charter page (or add a language with --merge)."""
    from ods_charter.charter import load_pages
    from ods_charter.importer import import_registry

    if merge and force:
        raise typer.BadParameter("--merge and --force exclude each other")
    cfg = _config_for_page(config, base_url, url, file)
    page = load_pages(cfg, [lang], file=file, url=url)[1][lang]
    for line in import_registry(page, lang, output, merge=merge, force=force):
        _note(line)
    return ExitCode.OK


@app.command()
def validate(
    config: ConfigOpt = None,
    fmt: PlanFormatOpt = PlanFormat.text,
    output: OutputOpt = None,
) -> ExitCode:
    """Check the portal configuration and the registry: exit 0 or 2."""
    import json

    path = _config_path(config)
    cfg = _config(path, None)
    registry = _registry(cfg)
    missing = [lang for lang in cfg.languages if lang not in registry.languages]
    if missing:
        from ods_charter.errors import ConfigError

        raise ConfigError(
            f"{path}: [page] languages {missing} are not in {cfg.registry_path} languages "
            f"{list(registry.languages)}"
        )
    from ods_charter.lint import RULES

    braces = next(r for r in RULES if r.id == "template-braces").check(registry)
    warnings = [f"{cfg.registry_path}: {cookie}: {message}" for cookie, message in braces]
    if fmt is PlanFormat.json:
        doc = {
            "status": "ok",
            "config": str(path),
            "registry": str(cfg.registry_path),
            "cookies": len(registry.cookies),
            "languages": list(registry.languages),
            "warnings": warnings,
        }
        _emit(json.dumps(doc, ensure_ascii=False, indent=2), output)
        return ExitCode.OK
    for warning in warnings:
        _note(f"warning: {warning}")
    _emit(
        f"ok: {path} and {cfg.registry_path} are valid "
        f"({len(registry.cookies)} cookies, languages {', '.join(registry.languages)})",
        output,
        data=False,
    )
    return ExitCode.OK


@app.command()
def render(
    config: ConfigOpt = None,
    lang: LangOpt = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Render into this saved page's layout (- = stdin)."),
    ] = None,
    output: OutputOpt = None,
) -> ExitCode:
    """Print the cookie table(s) built from the registry."""
    from ods_charter.html.render import render_default
    from ods_charter.html.splice import splice_registry

    cfg = _config(config, None)
    registry = _registry(cfg)
    language = _languages([lang] if lang else None, registry.languages, str(cfg.registry_path))[0]
    if lang is None:
        language = cfg.languages[0]
    if file is None:
        _emit(render_default(registry, language), output)
        return ExitCode.OK
    from ods_charter.charter import read_html_file
    from ods_charter.encoding import decode_html

    html = decode_html(read_html_file(file))
    _emit(splice_registry(html, registry, language).html, output)
    return ExitCode.OK


# -- writing --------------------------------------------------------------------


def _client(cfg: PortalConfig, fleet: bool = False) -> Any:
    """The API client for this portal, with the key its config names."""
    from ods_charter.portal import AutomationClient

    return AutomationClient.for_portal(cfg, fleet=fleet)


def _confirm(yes: bool, include_subdomains: bool = False) -> Any:
    def ask(plan: Any) -> bool:
        from ods_charter.publish import confirm_subdomains

        copies = bool(plan.page.get("has_subdomain_copies")) and not include_subdomains
        if yes:
            confirm_subdomains(plan, include_subdomains)
            return True
        if not sys.stdin.isatty():
            from ods_charter.errors import PublishError

            raise PublishError("no terminal to ask for confirmation: pass --yes to write")
        where = " and to every subdomain's copy of the page" if copies else ""
        return typer.confirm(
            f"Write these changes to {plan.portal}{where}?", default=False, err=True
        )

    return ask


def _show_plan(plan: Any) -> None:
    from ods_charter.reports.plans import colour_diff

    _say(plan.summary())
    diff = plan.html_diff()
    if diff:
        _say(f"(diff of the page HTML, {plan.action}: - now on the page, + after {plan.action})")
        _say(colour_diff(diff, UI.color).rstrip("\n"))


def _write_plan(
    client: Any,
    plan: Any,
    *,
    yes: bool,
    dry_run: bool,
    backup_dir: Path | None,
    fmt: PlanFormat,
    output: Path | None,
    include_subdomains: bool = False,
    lock_wait: float = 30.0,
) -> tuple[ExitCode, Any]:
    """Show the plan, then ask and write (publish and rollback alike)."""
    from ods_charter.publish import execute
    from ods_charter.reports.plans import plan_outcome

    if fmt is PlanFormat.text:
        _show_plan(plan)
    outcome = None
    if plan.has_changes and not dry_run:
        if _confirm(yes, include_subdomains)(plan):
            step = _say if fmt is PlanFormat.text else _note
            outcome = execute(
                client, plan, backup_dir=_backup_dir(backup_dir), on_step=step, lock_wait=lock_wait
            )
        else:
            _note("nothing written")
    status, code = plan_outcome(plan, outcome, dry_run=dry_run)
    if fmt is PlanFormat.json:
        from ods_charter.reports.plans import plan_json

        _emit(plan_json(plan, status, outcome), output)
    return code, outcome


def _backup_dir(backup_dir: Path | None) -> Path:
    from ods_charter.publish import DEFAULT_BACKUP_DIR

    return backup_dir or DEFAULT_BACKUP_DIR


@app.command()
def publish(
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    include_subdomains: SubdomainsOpt = False,
    backup_dir: BackupOpt = None,
    verify_live: VerifyLiveOpt = True,
    fmt: PlanFormatOpt = PlanFormat.text,
    output: OutputOpt = None,
    lock_wait: LockWaitOpt = 30.0,
) -> ExitCode:
    """Write the registry's tables into the charter page (Automation API; the key in
    [portal] api_key_env, default ODS_API_KEY), then compare the public page.

    Exit 0 written or nothing to do, 1 changes pending (--dry-run), declined or not
    live, 2 error.
    """
    from ods_charter.publish import LegalPageError, plan_publish

    cfg = _config(config, base_url)
    registry = _registry(cfg)
    try:
        client = _client(cfg)
        plan = plan_publish(client, cfg, registry)
    except LegalPageError as exc:
        _emit(exc.html, None)
        raise
    code, outcome = _write_plan(
        client,
        plan,
        yes=yes,
        dry_run=dry_run,
        backup_dir=backup_dir,
        fmt=fmt,
        output=output,
        include_subdomains=include_subdomains,
        lock_wait=lock_wait,
    )
    if not verify_live or dry_run or (plan.has_changes and outcome is None):
        return code
    from ods_charter.live import compare_live

    written = outcome.page if outcome is not None else None
    live = compare_live(cfg, written or plan.page, client.transport)
    (_say if fmt is PlanFormat.text else _note)(live.text())
    return ExitCode.worst([code, ExitCode(live.exit_code)])


def _sync_task(
    cfg: PortalConfig,
    registry: Registry,
    *,
    dry_run: bool,
    verify_live: bool,
    include_subdomains: bool,
    backup_dir: Path,
) -> Any:
    """One portal of ``sync --all``: its own key, no questions (a page with
    subdomain copies needs --include-subdomains); module-level, so it pickles."""
    from ods_charter.sync import sync as run_sync

    outcome = run_sync(
        cfg,
        registry,
        _client(cfg, fleet=True),
        confirm=_confirm(True, include_subdomains),
        dry_run=dry_run,
        verify_live=verify_live,
        backup_dir=backup_dir,
    )
    return outcome.summary(cfg)


@app.command()
def sync(
    config: ConfigsOpt = None,
    base_url: BaseUrlOpt = None,
    all_portals: AllOpt = False,
    jobs: JobsOpt = 8,
    processes: ProcessesOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    include_subdomains: SubdomainsOpt = False,
    backup_dir: BackupOpt = None,
    verify_live: VerifyLiveOpt = True,
    fmt: PlanFormatOpt = PlanFormat.text,
    output: OutputOpt = None,
) -> ExitCode:
    """Check the API copy, publish when it drifted, then compare the public page.

    Exit 0 in sync, 1 drift left, changes pending (--dry-run) or the public page
    differs, 2 error.
    """
    from functools import partial

    from ods_charter.reports.plans import sync_exit_code, sync_json
    from ods_charter.sync import sync as run_sync

    task = partial(
        _sync_task,
        dry_run=dry_run,
        verify_live=verify_live,
        include_subdomains=include_subdomains,
        backup_dir=_backup_dir(backup_dir),
    )
    if (all_portals or len(config or []) > 1) and not (yes or dry_run):
        from ods_charter.errors import ConfigError

        raise ConfigError("sync of several portals asks no questions: pass --yes or --dry-run")
    as_report = ReportFormat.json if fmt is PlanFormat.json else ReportFormat.text
    report = ("Cookie charter sync", as_report, output)
    if (code := _fleet(config, all_portals, task, jobs, processes, base_url, report)) is not None:
        return code
    cfg = _config(config[0] if config else None, base_url)
    registry = _registry(cfg)
    text = fmt is PlanFormat.text
    outcome = run_sync(
        cfg,
        registry,
        _client(cfg),
        confirm=_confirm(yes, include_subdomains),
        dry_run=dry_run,
        verify_live=verify_live,
        backup_dir=_backup_dir(backup_dir),
        on_step=_say if text else _note,
    )
    if not text:
        _emit(sync_json(outcome, dry_run=dry_run), output)
        return sync_exit_code(outcome, dry_run=dry_run)
    if outcome.plan is not None and (dry_run or outcome.published is None):
        from ods_charter.reports.plans import colour_diff

        diff = outcome.plan.html_diff()
        if diff:
            _say("(diff of the page HTML: - now on the page, + after publish)")
            _say(colour_diff(diff, UI.color).rstrip("\n"))
    from ods_charter.reports.build import from_check

    _show(from_check(outcome.final, registry), ReportFormat.text, None)
    if outcome.live is not None and outcome.live.exit_code:
        _say("but the public page does not show the API copy: see the finding(s) above")
    return sync_exit_code(outcome, dry_run=dry_run)


@app.command()
def rollback(
    backup: Annotated[
        str | None,
        typer.Argument(help="A backup file written by publish, or 'latest' for the newest."),
    ] = None,
    list_backups: Annotated[
        bool, typer.Option("--list", help="List the backups, newest last, and exit.")
    ] = False,
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    include_subdomains: SubdomainsOpt = False,
    backup_dir: BackupOpt = None,
    fmt: PlanFormatOpt = PlanFormat.text,
    output: OutputOpt = None,
    to_slug: Annotated[
        str | None,
        typer.Option("--to-slug", help="Restore into this page, even if the backup is of another."),
    ] = None,
    force_portal: Annotated[
        bool,
        typer.Option("--force-portal", help="Restore a backup taken on another portal."),
    ] = False,
    lock_wait: LockWaitOpt = 30.0,
) -> ExitCode:
    """Restore a page from a backup, with the same plan, checks and backup as publish."""
    from ods_charter.backup import read_backup
    from ods_charter.publish import plan_rollback
    from ods_charter.reports.plans import backups_json, backups_text, list_backups_in

    folder = _backup_dir(backup_dir)
    if list_backups:
        found = list_backups_in(folder)
        text = backups_json(found) if fmt is PlanFormat.json else backups_text(found, folder)
        _emit(text, output)
        return ExitCode.OK
    if backup is None:
        raise typer.BadParameter("name a backup file, or 'latest' (see rollback --list)")
    cfg = _config(config, base_url)
    if backup == "latest":
        from ods_charter.backup import host_of

        here = host_of(cfg.base_url)
        mine = [b for b in list_backups_in(folder) if host_of(b.portal) == here]
        if not mine:
            from ods_charter.errors import ConfigError

            raise ConfigError(f"{folder}: no backup of {cfg.base_url} to roll back to")
        path = mine[-1].path
        _note(f"latest backup: {path}")
    else:
        path = Path(backup)
    data = read_backup(path)
    client = _client(cfg)
    plan = plan_rollback(
        client,
        data,
        slug=to_slug or cfg.slug,
        to_slug=to_slug is not None,
        force_portal=force_portal,
    )
    plan.publish_step = cfg.publish_step
    code, _ = _write_plan(
        client,
        plan,
        yes=yes,
        dry_run=dry_run,
        backup_dir=backup_dir,
        fmt=fmt,
        output=output,
        include_subdomains=include_subdomains,
        lock_wait=lock_wait,
    )
    return code


# -- getting started ------------------------------------------------------------


@app.command()
def init(
    portal: Annotated[
        str | None, typer.Argument(help="The portal's address, e.g. https://data.example.org.")
    ] = None,
    url: UrlOpt = None,
    lang: LangsOpt = None,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to write portal.toml and registry.toml.")
    ] = Path("config"),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite portal.toml and registry.toml.")
    ] = False,
) -> ExitCode:
    """Find the portal's cookie charter and write config/portal.toml and config/registry.toml."""
    from ods_charter.config import check_portal_url
    from ods_charter.init import charter_at, find_charter, write_project
    from ods_charter.secrets import api_key

    if portal is None:
        if not sys.stdin.isatty():
            raise typer.BadParameter("give the portal's address: ods-charter init URL")
        portal = typer.prompt("Portal address (e.g. https://data.example.org)", err=True)
    base = check_portal_url(portal, "portal address")
    languages = lang or ["fr"]
    if url:
        found = charter_at(base, url, languages[0])
    else:
        found = find_charter(
            base, language=languages[0], api_key=api_key(required=False), on_try=_note
        )
    for line in write_project(directory, found, base, languages, force=force):
        _note(line)
    _note("next: ods-charter check   (then ods-charter sync --dry-run with ODS_API_KEY set)")
    return ExitCode.OK


@app.command()
def demo(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Portal config to run it with; default: built in."),
    ] = None,
) -> ExitCode:
    """Run the whole fetch, check, publish, verify cycle against a simulated portal."""
    from ods_charter.demo import run_demo

    return ExitCode(run_demo(config, _say, color=UI.color))


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 = any free port).")] = 8000,
    state: Annotated[Path, typer.Option("--state", help="State directory.")] = Path(
        ".ods-charter/simulator"
    ),
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar="ODS_SIMULATOR_KEY", help="Read-write key.")
    ] = None,
    read_only_key: Annotated[
        str | None, typer.Option("--read-only-key", help="A key that may only read.")
    ] = None,
    tls: Annotated[
        bool, typer.Option("--tls", help="Serve HTTPS with a certificate made at start-up.")
    ] = False,
) -> None:
    """Run the embedded Opendatasoft portal simulator in the foreground."""
    import secrets

    from ods_charter.simulator import Simulator

    key = api_key or secrets.token_hex(16)
    sim = Simulator(
        host=host, port=port, state_dir=state, api_key=key, read_only_key=read_only_key, tls=tls
    )
    sim.start()  # before printing anything: a taken port is an error, not a half start
    typer.echo(f"portal simulator on {sim.base_url} (state in {state}/state.json)")
    if sim.ca_bundle:
        typer.echo(f"its certificate authority: {sim.ca_bundle} (set [http] ca_bundle to it)")
    if api_key is None:
        # A generated key must be shown once or nobody could use it.
        typer.echo(f"read-write API key for this run: {key}")
    typer.echo("press Ctrl-C to stop")
    try:
        sim.serve_forever()
    finally:
        sim.stop()


@app.command()
def pages(
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    fmt: PlanFormatOpt = PlanFormat.text,
    output: OutputOpt = None,
) -> ExitCode:
    """List the portal's code editor pages, marking those holding a cookie table."""
    from ods_charter.pages import code_editor_pages, format_pages

    cfg = _config(config, base_url)
    _emit(format_pages(code_editor_pages(_client(cfg)), fmt.value), output)
    return ExitCode.OK


@app.command()
def suggest(
    names: Annotated[
        list[str] | None, typer.Argument(help="Cookie names (instead of a scan).")
    ] = None,
    config: ConfigOpt = None,
    base_url: BaseUrlOpt = None,
    from_scan: Annotated[
        Path | None,
        typer.Option("--from-scan", help="The undeclared cookies of a scan --format json file."),
    ] = None,
    run_scan: Annotated[
        bool, typer.Option("--scan", help="Scan the portal now and take its undeclared cookies.")
    ] = False,
    browser: Annotated[bool, typer.Option("--browser", help="With --scan: scan in Chromium.")] = (
        False
    ),
    domain: Annotated[
        str | None, typer.Option("--domain", help="The domain that set the named cookies.")
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Add the entries to the registry (never publishes).")
    ] = False,
) -> ExitCode:
    """Propose registry entries for undeclared cookies; TODO marks what a person must write."""
    from urllib.parse import urlsplit

    from ods_charter import suggest as sg

    if sum(bool(x) for x in (names, from_scan, run_scan)) != 1:
        raise typer.BadParameter("give cookie names, --from-scan FILE or --scan (one of them)")
    if browser and not run_scan:
        raise typer.BadParameter("--browser goes with --scan")
    cfg = _config(config, base_url)
    registry = sg.read_registry_file(cfg.registry_path)
    host = urlsplit(cfg.base_url).hostname or ""
    if from_scan is not None:
        observed, host = sg.observed_from_scan(from_scan)
    elif run_scan:
        from ods_charter.scan import scan as do_scan
        from ods_charter.scan import scan_with_browser

        result = do_scan(cfg, _registry(cfg))
        if browser:
            result = scan_with_browser(cfg, _registry(cfg), result)
        seen = {c.name: c for c in result.cookies}
        undeclared = [f.cookie for f in result.findings if f.kind == "undeclared"]
        observed = [
            sg.Observed(n, seen[n].domain, sg.observed_days(seen[n].lifetime_days))
            for n in undeclared
        ]
    else:
        observed = [sg.Observed(n, domain or "") for n in names or []]
    suggestions = sg.suggest(observed, registry, host)
    if not suggestions:
        typer.echo("nothing to suggest: the registry covers every cookie given", err=True)
        return ExitCode.OK
    typer.echo(sg.render(suggestions, registry.languages), nl=False)
    if write:
        sg.write(registry, suggestions)
        typer.echo(
            f"added {len(suggestions)} entries to {registry.path}; replace every TODO, "
            "then run ods-charter validate (nothing was published)",
            err=True,
        )
    return ExitCode.OK


class _CommandsOnDemand(Mapping[str, Any]):
    """The app's commands by name, in the order declared; each one (its click
    Command, every option converted) built only when asked for. typer builds
    all sixteen at every start, a tenth of ``check --file``'s time; help,
    completion and "did you mean" still see every name through this mapping."""

    def __init__(self, infos: list[typer.models.CommandInfo]) -> None:
        self._infos = {
            info.name or typer.main.get_command_name(info.callback.__name__): info
            for info in infos
            if info.callback
        }
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = typer.main.get_command_from_info(
                self._infos[name],
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)


def _group() -> typer.core.TyperGroup:
    """``app`` as typer would build it (callback, global options, completion
    options), its commands built on demand."""
    import copy

    bare = copy.copy(app)
    bare.registered_commands = []
    group = typer.main.get_command(bare)
    assert isinstance(group, typer.core.TyperGroup)  # the callback makes it a group
    group.commands = _CommandsOnDemand(app.registered_commands)  # type: ignore[assignment]
    return group


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command, map the project's errors to messages and exit codes."""
    from ods_charter.secrets import masked_output

    with masked_output():  # the key is masked in all that is printed, whatever prints it
        _run(argv)


def _run(argv: list[str] | None) -> None:
    from ods_charter.errors import OdsCharterError
    from ods_charter.secrets import load_dotenv_file, redact, register_from_env

    def fail(message: str, code: ExitCode) -> None:
        label = "\033[31merror:\033[0m" if UI.color_err else "error:"
        typer.echo(f"{label} {message}", err=True, color=UI.color_err)
        sys.exit(int(code))

    try:
        load_dotenv_file()
        register_from_env()  # masked in every command's output, not only those that send it
        code = _group()(args=argv, prog_name="ods-charter", standalone_mode=False)
    except OdsCharterError as exc:
        fail(redact(str(exc)), exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
            sys.exit(int(ExitCode.ERROR))
        fail(exc.format_message(), ExitCode.ERROR)
    except OSError as exc:  # a path the user gave: unwritable, missing folder, port taken
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", ExitCode.ERROR)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    sys.exit(int(code) if isinstance(code, int) else int(ExitCode.OK))
