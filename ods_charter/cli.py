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
ConfigsOpt = Annotated[
    list[Path] | None,
    typer.Option("--config", "-c", help="Portal configuration file(s); repeat for several."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every portal in config/portals/*.toml.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Portals processed at once, in all.")]
ProcessesOpt = Annotated[
    int | None,
    typer.Option("--processes", help="Worker processes for many portals; default: one per core."),
]


def _config(path: Path, base_url: str | None) -> PortalConfig:
    from ods_charter.config import load_config

    return load_config(path).with_base_url(base_url)


def _registry(config: PortalConfig) -> Registry:
    from ods_charter.registry import load_registry

    return load_registry(config.registry_path)


def _one_page(
    file: Path | None, url: str | None, config: Path, base_url: str | None, lang: str | None
) -> Any:
    """A parsed page from a saved file, or fetched from the portal in ``lang``."""
    if file is not None:
        from ods_charter.charter import read_html_file
        from ods_charter.encoding import decode_html
        from ods_charter.html.parse import parse_page

        return parse_page(decode_html(read_html_file(file)), str(file), lang)
    from ods_charter.charter import load_pages

    cfg = _config(config, base_url)
    language = lang or cfg.languages[0]
    return load_pages(cfg, [language], url=url)[1][language]


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    from ods_charter.registry import atomic_write

    atomic_write(output, text if text.endswith("\n") else text + "\n")


def _one_or_fleet(
    configs: list[Path] | None,
    all_portals: bool,
    task: Any,
    jobs: int,
    processes: int | None,
    base_url: str | None,
    fmt: str,
    output: Path | None,
) -> Path:
    """The one config to use; with several (or --all), run ``task`` over every
    portal, print one summary table and exit."""
    configs = configs or [DEFAULT_CONFIG]
    if not all_portals and len(configs) == 1:
        return configs[0]
    import os

    from ods_charter import fleet  # only here: one portal's start-up does not pay for it

    paths = fleet.portal_configs(configs, all_portals)
    # A progress bar only for a person at a terminal: never in CI logs or pipes.
    show = sys.stderr.isatty() and not os.environ.get("CI")
    if show:
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
    _emit(fleet.format_fleet(summaries, fmt if fmt in {"json", "markdown"} else "text"), output)
    raise typer.Exit(fleet.fleet_exit_code(summaries))


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
    page = fetch_page(Transport(cfg.http), target, cfg.flg_code(lang or cfg.languages[0]))
    if output is None:
        sys.stdout.buffer.write(page.html)
    else:
        from ods_charter.secrets import redact_bytes

        output.write_bytes(redact_bytes(page.html))
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
    from ods_charter.output import records_as

    page = _one_page(file, url, config, base_url, lang)
    typer.echo(records_as(page.records, fmt), nl=False)


@app.command()
def check(
    file: FileOpt = None,
    url: UrlOpt = None,
    config: ConfigsOpt = None,
    base_url: BaseUrlOpt = None,
    all_portals: AllOpt = False,
    jobs: JobsOpt = 8,
    processes: ProcessesOpt = None,
    lang: LangOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text | json | markdown | github | junit | html")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here.")
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            "--source", help="public: the page visitors see (no key) | api: the API copy (key)"
        ),
    ] = "public",
) -> None:
    """Compare the charter page with the registry: exit 0 in sync, 1 drift, 2 error."""
    from ods_charter.charter import run_check
    from ods_charter.output import check_report

    if source not in {"public", "api"}:
        raise typer.BadParameter(f"--source {source!r}: expected public or api")
    if source == "api" and (file or url):
        raise typer.BadParameter("--source api reads the portal's API copy: drop --file/--url")
    task = _api_check_task if source == "api" else _check_task
    one = _one_or_fleet(config, all_portals, task, jobs, processes, base_url, fmt, output)
    cfg = _config(one, base_url)
    registry = _registry(cfg)
    languages = lang or ([registry.default_language] if file else list(cfg.languages))
    client = _client(cfg) if source == "api" else None
    result = run_check(cfg, registry, languages=languages, file=file, url=url, client=client)
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
    page = _one_page(file, url, config, base_url, lang)
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
    from ods_charter.lint import RULES

    for cookie, message in next(r for r in RULES if r.id == "template-braces").check(registry):
        typer.echo(f"warning: {cfg.registry_path}: {cookie}: {message}", err=True)
    typer.echo(
        f"ok: {config} and {cfg.registry_path} are valid "
        f"({len(registry.cookies)} cookies, languages {', '.join(registry.languages)})"
    )


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; needed without a terminal.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the plan, write nothing.")]
BackupOpt = Annotated[Path | None, typer.Option("--backup-dir", help="Where backups go.")]
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
LockWaitOpt = Annotated[
    float,
    typer.Option("--lock-wait", help="Seconds to wait for another run writing the same page."),
]


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

            raise PublishError("no terminal to ask for confirmation: pass --yes to publish")
        where = " and to every subdomain's copy of the page" if copies else ""
        return typer.confirm(f"Write these changes to {plan.portal}{where}?", default=False)

    return ask


def _write_plan(
    client: Any,
    plan: Any,
    *,
    yes: bool,
    dry_run: bool,
    backup_dir: Path | None,
    include_subdomains: bool = False,
    lock_wait: float = 30.0,
) -> Any:
    """Show the plan, then ask and write (publish and rollback alike); the Outcome."""
    from ods_charter.publish import execute

    typer.echo(plan.summary())
    diff = plan.html_diff()
    if diff:
        typer.echo(diff, nl=False)
    if not plan.has_changes or dry_run:
        raise typer.Exit(0)
    if not _confirm(yes, include_subdomains)(plan):
        typer.echo("nothing written", err=True)
        raise typer.Exit(1)
    return execute(
        client, plan, backup_dir=_backup_dir(backup_dir), on_step=typer.echo, lock_wait=lock_wait
    )


def _backup_dir(backup_dir: Path | None) -> Path:
    from ods_charter.publish import DEFAULT_BACKUP_DIR

    return backup_dir or DEFAULT_BACKUP_DIR


@app.command()
def render(
    config: ConfigOpt = DEFAULT_CONFIG,
    lang: Annotated[str | None, typer.Option("--lang", "-l")] = None,
    page_file: Annotated[
        Path | None, typer.Option("--page-file", help="Render into this page's layout.")
    ] = None,
) -> None:
    """Print the cookie table(s) built from the registry."""
    from ods_charter.html.render import render_default
    from ods_charter.html.splice import splice_registry

    cfg = _config(config, None)
    registry = _registry(cfg)
    language = lang or cfg.languages[0]
    if page_file is None:
        typer.echo(render_default(registry, language), nl=False)
        return
    from ods_charter.charter import read_html_file
    from ods_charter.encoding import decode_html

    html = decode_html(read_html_file(page_file))
    typer.echo(splice_registry(html, registry, language).html, nl=False)


@app.command()
def publish(
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    include_subdomains: SubdomainsOpt = False,
    backup_dir: BackupOpt = None,
    verify_live: VerifyLiveOpt = True,
    lock_wait: LockWaitOpt = 30.0,
) -> None:
    """Write the registry's tables into the charter page (Automation API; the key in
    [portal] api_key_env, default ODS_API_KEY), then compare the public page."""
    from ods_charter.publish import LegalPageError, plan_publish

    cfg = _config(config, base_url)
    registry = _registry(cfg)
    try:
        client = _client(cfg)
        plan = plan_publish(client, cfg, registry)
    except LegalPageError as exc:
        typer.echo(exc.html, nl=False)
        raise
    page = plan.page
    if plan.has_changes or dry_run or not verify_live:
        page = (
            _write_plan(
                client,
                plan,
                yes=yes,
                dry_run=dry_run,
                backup_dir=backup_dir,
                include_subdomains=include_subdomains,
                lock_wait=lock_wait,
            ).page
            or plan.page
        )
    else:
        typer.echo(plan.summary())
    if verify_live:
        from ods_charter.live import compare_live

        live = compare_live(cfg, page, client.transport)
        typer.echo(live.text())
        raise typer.Exit(live.exit_code)


def _check_task(cfg: PortalConfig, registry: Registry) -> Any:
    # Module-level, so that it pickles to worker processes; fleet code is
    # imported only when many portals are checked.
    from ods_charter.fleet import check_task

    return check_task(cfg, registry)


def _api_check_task(cfg: PortalConfig, registry: Registry) -> Any:
    """``check --source api`` for one portal of many, with its own key."""
    from ods_charter.fleet import api_check_task

    return api_check_task(cfg, registry)


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
) -> None:
    """Check the API copy, publish when it drifted, then compare the public page:
    0 in sync, 1 drift left (or the public page differs), 2 error."""
    from ods_charter.report import to_text
    from ods_charter.sync import sync as run_sync

    configs = config or [DEFAULT_CONFIG]
    if all_portals or len(configs) > 1:
        if not (yes or dry_run):
            from ods_charter.errors import ConfigError

            raise ConfigError("sync of several portals asks no questions: pass --yes or --dry-run")

        from functools import partial

        task = partial(
            _sync_task,
            dry_run=dry_run,
            verify_live=verify_live,
            include_subdomains=include_subdomains,
            backup_dir=_backup_dir(backup_dir),
        )
        _one_or_fleet(configs, all_portals, task, jobs, processes, base_url, "text", None)
    cfg = _config(configs[0], base_url)
    registry = _registry(cfg)
    outcome = run_sync(
        cfg,
        registry,
        _client(cfg),
        confirm=_confirm(yes, include_subdomains),
        dry_run=dry_run,
        verify_live=verify_live,
        backup_dir=_backup_dir(backup_dir),
        on_step=typer.echo,
    )
    if outcome.plan is not None and (dry_run or outcome.published is None):
        diff = outcome.plan.html_diff()
        typer.echo(diff, nl=False)
    typer.echo(to_text(outcome.final))
    if outcome.live is not None and outcome.live.exit_code:
        typer.echo("but the public page does not show the API copy: see the finding(s) above")
    raise typer.Exit(outcome.exit_code)


@app.command()
def rollback(
    backup: Annotated[Path, typer.Argument(help="A backup file written by publish.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    backup_dir: BackupOpt = None,
    include_subdomains: SubdomainsOpt = False,
    to_slug: Annotated[
        str | None,
        typer.Option("--to-slug", help="Restore into this page, even if the backup is of another."),
    ] = None,
    force_portal: Annotated[
        bool,
        typer.Option("--force-portal", help="Restore a backup taken on another portal."),
    ] = False,
    lock_wait: LockWaitOpt = 30.0,
) -> None:
    """Restore a page from a backup, with the same plan, checks and backup as publish."""
    from ods_charter.backup import read_backup
    from ods_charter.publish import plan_rollback

    data = read_backup(backup)
    cfg = _config(config, base_url)
    client = _client(cfg)
    plan = plan_rollback(
        client,
        data,
        slug=to_slug or cfg.slug,
        to_slug=to_slug is not None,
        force_portal=force_portal,
    )
    plan.publish_step = cfg.publish_step
    _write_plan(
        client,
        plan,
        yes=yes,
        dry_run=dry_run,
        backup_dir=backup_dir,
        include_subdomains=include_subdomains,
        lock_wait=lock_wait,
    )


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
    read_only_key: Annotated[str | None, typer.Option("--read-only-key")] = None,
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
def demo(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Run the whole fetch, check, publish, verify cycle against a simulated portal."""
    from ods_charter.demo import run_demo

    raise typer.Exit(run_demo(config, typer.echo))


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
    lang: LangOpt = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser", help="Also visit in headless Chromium: no choice, refuse all, accept all."
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="text | json | markdown")] = "text",
    har: Annotated[
        Path | None,
        typer.Option("--har", help="With --browser: save the raw exchanges as a HAR file."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
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
) -> None:
    """Record the cookies the portal really sets and hold the registry to them.

    With --browser, visits in three consent states (no interaction, refuse all,
    accept all) and reports trackers set before consent or after a refusal."""
    from ods_charter.fleet import scan_task
    from ods_charter.scan import format_scan, scan_with_browser
    from ods_charter.scan import scan as run_scan

    if har is not None and not browser:
        raise typer.BadParameter("--har needs --browser")
    one_portal = (browser, output, json_output, evidence)
    if (all_portals or len(config or []) > 1) and any(x for x in one_portal):
        raise typer.BadParameter(
            "--browser, --output, --json-output and --evidence scan one portal at a time"
        )
    one = _one_or_fleet(config, all_portals, scan_task, jobs, processes, base_url, fmt, None)
    cfg = _config(one, base_url)
    registry = _registry(cfg)
    result = run_scan(cfg, registry, paths=path, languages=lang)
    if browser:
        result = scan_with_browser(cfg, registry, result, har_path=har)
    _emit(format_scan(result, fmt), output)
    if json_output is not None:
        _emit(format_scan(result, "json"), json_output)
    if evidence is not None:
        from ods_charter import evidence as ev
        from ods_charter.charter import run_check

        _emit(ev.to_html(registry, run_check(cfg, registry), result), evidence)
    raise typer.Exit(result.exit_code)


@app.command()
def lint(
    config: ConfigOpt = DEFAULT_CONFIG,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
    list_rules: Annotated[bool, typer.Option("--list", help="List the rules and exit.")] = False,
) -> None:
    """Check the registry against the rules: 0 no errors, 1 errors, 2 could not run."""
    from ods_charter.lint import exit_code, format_findings, rules_table
    from ods_charter.lint import lint as run_lint

    if list_rules:
        typer.echo(rules_table())
        return
    cfg = _config(config, None)
    findings = run_lint(_registry(cfg))
    typer.echo(format_findings(findings, fmt, str(cfg.registry_path)))
    raise typer.Exit(exit_code(findings))


@app.command()
def pages(
    config: ConfigOpt = DEFAULT_CONFIG,
    base_url: BaseUrlOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """List the portal's code editor pages, marking those holding a cookie table."""
    from ods_charter.pages import code_editor_pages, format_pages

    if fmt not in {"text", "json"}:
        raise typer.BadParameter(f"--format {fmt!r}: expected text or json")
    cfg = _config(config, base_url)
    typer.echo(format_pages(code_editor_pages(_client(cfg)), fmt))


@app.command()
def suggest(
    names: Annotated[
        list[str] | None, typer.Argument(help="Cookie names (instead of a scan).")
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
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
) -> None:
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
        return
    typer.echo(sg.render(suggestions, registry.languages), nl=False)
    if write:
        sg.write(registry, suggestions)
        typer.echo(
            f"added {len(suggestions)} entries to {registry.path}; replace every TODO, "
            "then run ods-charter validate (nothing was published)",
            err=True,
        )


def _only_command(argv: list[str]) -> tuple[typer.Typer, list[str], str]:
    """The app to run: with a command named, an app of that command alone, since
    typer builds every command's options at each start (a tenth of `check`'s)."""
    import copy

    for info in app.registered_commands:
        name = info.name or getattr(info.callback, "__name__", "").replace("_", "-")
        if argv and argv[0] == name:
            one = copy.copy(app)
            one.registered_commands = [info]
            return one, argv[1:], f"ods-charter {name}"
    return app, argv, "ods-charter"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command, turn the project's errors into exit code 2."""
    from ods_charter.secrets import masked_output

    with masked_output():  # the key is masked in all that is printed, whatever prints it
        _run(argv)


def _run(argv: list[str] | None) -> None:
    from ods_charter.errors import OdsCharterError
    from ods_charter.secrets import load_dotenv_file, redact, register_from_env

    try:
        load_dotenv_file()
        register_from_env()  # masked in every command's output, not only those that send it
        runner, args, prog = _only_command(sys.argv[1:] if argv is None else argv)
        code = runner(args=args, prog_name=prog, standalone_mode=False)
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
    except OSError as exc:  # a path the user gave: unwritable, missing folder, port taken
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
