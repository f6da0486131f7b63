"""The `handout` command: parses arguments, calls the Python API, prints results."""

from __future__ import annotations

import atexit
import gc
import json
import re
import sys
from pathlib import Path

import click

from .. import __version__
from ..article import PAPER_SIZES
from ..build import BuildOptions, BuildResult, build
from ..config import EMAIL_BUDGET_MB, MIN_DPI, Config, load_config
from ..diagnostics import with_removals_summarised
from ..errors import MailError, display_path
from ..output.printing import BOOKLETS, DEFAULT_BOOKLET, MARKS, N_UP, VARIANTS, PrintOptions
from ..read.load import MAX_FIT
from ..typeset.themes import discover as list_themes

output_option = click.option(
    "-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"), show_default=True, help="Folder of the PDFs.")
format_option = click.option(
    "--format", "report_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Check report as text, or as JSON for scripts.")
max_size_option = click.option(
    "--max-size", "max_size_mb", type=click.FloatRange(min=0, min_open=True), metavar="MB",
    help=f"Email budget per PDF in MB (default {EMAIL_BUDGET_MB:g}, or max_size_mb of [check] or [mail]"
         " in handout.toml).")
strict_option = click.option("--strict", is_flag=True, help="Check warnings fail too.")
trust_network_option = click.option(
    "--trust-network", "trusted_networks", multiple=True, metavar="CIDR",
    help="With --allow-remote, also fetch from this private network (an intranet server).")
allow_remote_option = click.option(
    "--allow-remote", is_flag=True,
    help="Fetch http(s) images and stylesheets (never from private or loopback addresses).")


# The paper as the build line names it.
PAPER_NAMES = {"a4": "A4", "letter": "Letter", "a5": "A5", "half-letter": "half-letter"}

# The interpreter's last cycle collection, as the command ends, walks every object it made: a
# tenth of a second after a mail run. What it would free the process's end frees; files are
# closed by `with`, and standard output and error are flushed all the same.
atexit.register(gc.freeze)


def check_network_options(allow_remote: bool, trusted_networks: tuple[str, ...]) -> None:
    if trusted_networks and not allow_remote:
        raise click.UsageError("--trust-network goes with --allow-remote")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handout")
def main() -> None:
    """Turn articles (Markdown or pasted web text) into PDF handouts."""


def booklet_and_paths(booklet: str | None, paths: tuple[Path, ...]) -> tuple[str | None, tuple[Path, ...]]:
    """The booklet asked for, and the paths: click gives an option whose value may be left out
    the next word, so `--booklet content/x.md` is the default booklet of that article."""
    if booklet is None or booklet in BOOKLETS:
        return booklet, paths
    if Path(booklet).exists():
        return DEFAULT_BOOKLET, (Path(booklet), *paths)
    raise click.BadParameter(f"'{booklet}' is not one of {', '.join(map(repr, BOOKLETS))}, nor a file",
                             param_hint="'--booklet'")


@main.command("build")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@output_option
@click.option("--theme", help="Theme for every article, over the front matter's.")
@click.option("--paper", type=click.Choice(PAPER_SIZES, case_sensitive=False),
              help="Paper size for every article, over the front matter's.")
@click.option("--css", "extra_css", type=click.Path(dir_okay=False, path_type=Path),
              help="One more stylesheet, applied after the theme's.")
@allow_remote_option
@trust_network_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.option("--force", is_flag=True, help="Build every handout, even those whose inputs did not change.")
@click.option("--prune", is_flag=True, help="Delete the handouts whose articles are gone.")
@click.option("--booklet", metavar=f"[{'|'.join(BOOKLETS)}]", is_flag=False, flag_value=DEFAULT_BOOKLET,
              help="Also a saddle-stitch booklet, NAME-booklet.pdf: pages two to a sheet side "
                   "(A5 pages on A4, half-letter on Letter; 'full': A4 pages on A3, Letter on Tabloid).")
@click.option("--fit", type=click.IntRange(1, MAX_FIT), metavar="N",
              help="Lay each article out on at most N pages (with --booklet, pages of the booklet), over its"
                   " front matter's fit:; fails when the theme's floors take more.")
@click.option("--n-up", "n_up", type=click.Choice([str(n) for n in N_UP]), multiple=True,
              help="Also 2 or 4 pages to a sheet, NAME-2up.pdf or NAME-4up.pdf.")
@click.option("--bleed", metavar="LENGTH", help="Bleed around each page for the print shop, as 3mm.")
@click.option("--marks", type=click.Choice(MARKS), help="Printer's marks in the bleed.")
@click.option("--variant", type=click.Choice(VARIANTS),
              help="A PDF for archiving, accessibility or print (tagged, with the metadata it needs).")
@click.option("--output-profile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The print shop's ICC profile, for PDF/X (default: sRGB).")
@click.option("--image-dpi", type=click.IntRange(min=0), default=PrintOptions.image_dpi, show_default=True, metavar="N",
              help="Scale images down to N pixels per inch at their printed size (0: keep them as they are).")
@click.option("--check", "run_check", is_flag=True, help="Check each handout after building it.")
@format_option
@max_size_option
@strict_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the summary.")
@click.option("-v", "--verbose", is_flag=True, help="Also print unchanged handouts, and theme, paper and time.")
def build_command(paths: tuple[Path, ...], output_dir: Path, theme: str | None, paper: str | None,
                  extra_css: Path | None, allow_remote: bool, trusted_networks: tuple[str, ...],
                  jobs: int | None, force: bool, prune: bool, booklet: str | None, fit: int | None,
                  n_up: tuple[str, ...],
                  bleed: str | None, marks: str | None, variant: str | None, output_profile: Path | None,
                  image_dpi: int, run_check: bool,
                  report_format: str, max_size_mb: float | None, strict: bool, quiet: bool,
                  verbose: bool) -> None:
    """Build a PDF handout for each article in PATHS (default: content/).

    Handouts whose inputs did not change since the last build are kept as they are.
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    booklet, paths = booklet_and_paths(booklet, paths)
    check_network_options(allow_remote, trusted_networks)
    if bleed and not re.fullmatch(r"\d+(\.\d+)?(mm|cm|in|pt|px)", bleed):
        raise click.UsageError(f"--bleed takes a length such as 3mm, not '{bleed}'")
    config = project_config()
    options = BuildOptions(output_dir=output_dir, theme=theme, paper=paper, extra_css=extra_css, config=config,
                           allow_remote=allow_remote, trusted_networks=trusted_networks, jobs=jobs,
                           force=force, prune=prune, booklet=booklet, fit=fit, n_up=tuple(map(int, n_up)),
                           printing=PrintOptions(bleed=bleed, marks=marks, variant=variant,
                                                 output_profile=output_profile, image_dpi=image_dpi))
    # With a JSON report on standard output, the build's own lines go to standard error.
    to_stderr = run_check and report_format == "json"
    try:
        with BuildDisplay(quiet, verbose, to_stderr) as display:
            results = build(list(paths) or [Path("content")], options, progress=display.show)
    except KeyboardInterrupt:
        # The workers are stopped and every handout written so far is whole and recorded.
        done = [r for r in display.shown if r.status in ("built", "unchanged")]
        failed_before = sum(not r.ok for r in display.shown)
        click.echo(f"Stopped (Ctrl-C): {len(done)} handouts built or unchanged, {failed_before} failed, the rest not"
                   f" built; each written handout is whole. Run the same command again to build the rest.", err=True)
        sys.exit(130)
    articles = [r for r in results if r.status not in ("stale", "pruned", "superseded")]
    failed = sum(not r.ok for r in articles)
    unchanged = sum(r.status == "unchanged" for r in articles)
    warnings = sum(len(r.diagnostics) for r in articles)
    click.echo(
        f"{len(articles) - failed} of {len(articles)} handouts built into {display_path(output_dir)}/"
        f" ({f'{unchanged} unchanged, ' if unchanged else ''}{failed} failed,"
        f" {warnings} warning{'s' * (warnings != 1)})",
        err=to_stderr,
    )
    if run_check:
        from ..check.verify import check, check_options

        checking = check_options(config, output_dir, max_size_mb=max_size_mb, allow_remote=allow_remote)
        built = [r.source for r in articles if r.ok]
        reports = check(built, checking, content_folders=list(paths)) if built else []
        failed += print_reports(reports, report_format, strict, quiet)
    sys.exit(1 if failed else 0)


class BuildDisplay:
    """Each handout as it is done: a progress bar on a terminal, plain lines elsewhere."""

    def __init__(self, quiet: bool, verbose: bool, to_stderr: bool):
        self.quiet, self.verbose, self.to_stderr = quiet, verbose, to_stderr
        # What was shown, for the summary of a build stopped half-way.
        self.shown: list[BuildResult] = []
        terminal = sys.stderr.isatty() and not quiet
        if terminal:
            import rich.console
            import rich.progress
        self.bar = rich.progress.Progress(
            rich.progress.SpinnerColumn(), rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(), rich.progress.MofNCompleteColumn(), rich.progress.TimeElapsedColumn(),
            console=rich.console.Console(stderr=True), transient=True,
        ) if terminal else None

    def __enter__(self):
        if self.bar:
            self.bar.start()
            self.task = self.bar.add_task("building", total=None)
        return self

    def __exit__(self, *exc_info):
        if self.bar:
            self.bar.stop()

    def echo(self, text: str, err: bool) -> None:
        if self.bar:
            self.bar.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=err)

    def show(self, result: BuildResult) -> None:
        self.shown.append(result)
        if self.bar:
            self.bar.advance(self.task)
        output = display_path(result.output) if result.output else "(none)"  # only a failed one has none
        if result.status == "superseded":
            if not self.quiet:
                self.echo(f"{display_path(result.source)}: not built; {output}, its import,"
                          " is built instead", err=True)
            return
        if result.status in ("stale", "pruned"):
            done = "deleted" if result.status == "pruned" else "left in place (--prune deletes it)"
            self.echo(f"{output}: its article {display_path(result.source)} is gone;"
                      f" {done}", err=True)
            return
        if not self.quiet:
            shown = result.diagnostics if self.verbose else with_removals_summarised(result.diagnostics)
            for diagnostic in shown:
                self.echo(str(diagnostic), err=True)
        if result.error:
            self.echo(result.error.format_message(), err=True)
        elif result.status == "unchanged":
            if self.verbose:
                self.echo(f"{display_path(result.source)} -> {output} (unchanged)", err=self.to_stderr)
        elif not self.quiet:
            self.echo(self.built_line(result, output), err=self.to_stderr)

    def built_line(self, result: BuildResult, output: str) -> str:
        """What a built handout's line says: its files, pages and size (and, verbose, how it was made)."""
        line = (f"{display_path(result.source)} -> {output}"
                f" ({result.pages} page{'s' * (result.pages != 1)}, {PAPER_NAMES.get(result.paper or '', '?')},"
                f" {result.size / 1024:.0f} KiB)")
        if result.extras:
            line += f" + {', '.join(display_path(extra) for extra in result.extras)}"
        if self.verbose:
            line += f" [theme {result.theme}, {result.seconds:.2f} s]"
        return line


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@output_option
@format_option
@max_size_option
@click.option("--min-dpi", type=click.FloatRange(min=0, min_open=True),
              help=f"Lowest acceptable image resolution (default {MIN_DPI:g}, or [check] min_dpi).")
@strict_option
@allow_remote_option
@click.option("-q", "--quiet", is_flag=True, help="Print only the handouts with findings, and the summary.")
def check_command(paths: tuple[Path, ...], output_dir: Path, report_format: str, max_size_mb: float | None,
                  min_dpi: float | None, strict: bool, allow_remote: bool, quiet: bool) -> None:
    """Check that each handout holds its whole article, readably.

    PATHS are articles, folders of articles (default: content/) or built PDFs.
    """
    from ..check.verify import check, check_options

    options = check_options(project_config(), output_dir, Path("content"), max_size_mb, min_dpi, allow_remote)
    reports = check(list(paths) or [Path("content")], options)
    sys.exit(1 if print_reports(reports, report_format, strict, quiet) else 0)


def project_config() -> Config:
    """handout.toml of the working directory; its warnings go to standard error."""
    config = load_config(Path("."))
    for diagnostic in config.diagnostics:
        click.echo(str(diagnostic), err=True)
    return config


def print_reports(reports: list, report_format: str, strict: bool, quiet: bool) -> int:
    """Print the check reports; returns how many handouts failed."""
    from ..check.verify import summary

    failed = [r for r in reports if not r.ok or (strict and r.diagnostics)]
    totals = summary(reports)
    if report_format == "json":
        click.echo(json.dumps({
            "version": 1,
            "handouts": [r.as_dict() for r in reports],
            "summary": {**totals, "failed": len(failed)},
        }, indent=2, ensure_ascii=False))
        return len(failed)
    for report in reports:
        if quiet and not report.diagnostics:
            continue
        source = display_path(report.article) + " -> " if report.article else ""
        coverage = (f", {report.words - report.missing_words} of {report.words} words"
                    f" ({report.coverage:.1%})" if report.article else "")
        if report.unchecked_words:
            coverage += f" ({report.unchecked_words} in shaped scripts not compared)"
        warnings = len(report.diagnostics) - report.errors
        click.echo(f"{source}{display_path(report.pdf)}: {report.pages} page{'s' * (report.pages != 1)}{coverage},"
                   f" {report.errors} error{'s' * (report.errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
        if report.readability:
            click.echo(f"  {report.readability.summary()}" + "".join(
                f"; {section.heading!r} {section.grade:.1f}" for section in report.readability.sections))
        for diagnostic in report.diagnostics:
            click.echo(f"  {diagnostic}")
    click.echo(
        f"Checked {len(reports)} handout{'s' * (len(reports) != 1)}: {len(reports) - len(failed)} passed, "
        f"{len(failed)} failed ({totals['errors']} errors, {totals['warnings']} warnings)"
    )
    return len(failed)


@main.command("mail")
@click.argument("recipients", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--article", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The article whose handout is attached ([mail] article in handout.toml).")
@click.option("--message", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The message: Markdown with a subject: in its front matter ([mail] message).")
@click.option("--send", is_flag=True, help="Send for real; without it, messages go to OUTPUT/outbox/ as .eml files.")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many messages now.")
@click.option("--resend", is_flag=True,
              help="Send again to recipients whose message changed since it was sent to them, or whose"
                   " delivery the server never confirmed (never the same message twice).")
@click.option("--test-to", metavar="ADDRESS",
              help="Send only the first recipient's message, to ADDRESS, to see it as they will; nothing is"
                   " sent to the list or logged as sent.")
@output_option
@max_size_option
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes for personal handouts and a dry run's messages (default: one per core).")
def mail_command(recipients: Path | None, article: Path | None, message: Path | None, send: bool,
                 limit: int | None, resend: bool, test_to: str | None, output_dir: Path, max_size_mb: float | None,
                 jobs: int | None) -> None:
    """Send a handout to every row of RECIPIENTS (a CSV with an email column), only once.

    SMTP settings: [mail] in handout.toml, or HANDOUT_SMTP_HOST, HANDOUT_SMTP_PORT,
    HANDOUT_SMTP_SECURITY, HANDOUT_SMTP_USER, HANDOUT_MAIL_FROM (which win), and the
    password only from HANDOUT_SMTP_PASSWORD.
    """
    from .. import pool

    pool.start_early(also=pool.MAIL_PRELOAD)  # before importing mail: the server's imports overlap this one's
    from .. import mail

    config = project_config()
    recipients = recipients or config.mail.recipients
    article = article or config.mail.article
    message = message or config.mail.message
    if recipients is None or article is None or message is None:
        missing = [name for name, value in (("RECIPIENTS", recipients), ("--article", article),
                                            ("--message", message)) if value is None]
        raise click.UsageError(f"give {', '.join(missing)} (or set them in [mail] of handout.toml)")
    options = BuildOptions(output_dir=output_dir, config=config, jobs=jobs)
    if test_to and send:
        raise click.UsageError("--test-to sends one message to ADDRESS only; it does not go with --send")
    with mail.sigterm_interrupts(), mail.prepared(recipients, article, message, config, options,
                                                  max_size_mb, sending=send or bool(test_to)) as merge:
        for notice in (*merge.notices, *map(str, merge.recipients.diagnostics)):
            click.echo(notice, err=True)
        if test_to:
            status, detail = mail.send_test(merge, test_to)
            click.echo(f"test message ({merge.recipients.rows[0].email}'s) to {test_to}: {status}"
                       f"{' (' + detail + ')' if detail else ''}; nothing was sent to the list")
            sys.exit(0 if status == "sent" else 1)
        with mail.stop_requests() as stop:
            if not send:
                show_outbox(mail.dry_run(merge, output_dir, stop))
                return
            run = mail.send_to_list(merge, output_dir, limit, resend, progress=show_progress, stop=stop)
    report = run.report
    show_send_report(report, display_path(run.log))
    if run.failed_rows:
        click.echo(f"The rows whose message failed are in {display_path(run.failed_rows)}: once the problem is"
                   " fixed, give it as the recipients to send them again.", err=True)
    sys.exit(1 if report.failed or report.stopped else 0)


def show_progress(status: str, letter, detail: str) -> None:
    """A line for each letter tried (those sent before are counted in the summary)."""
    from ..mail import SKIPPED

    if status != SKIPPED:
        click.echo(f"{status}: {letter.recipient.email}{' (' + detail + ')' if detail else ''}", err=status != "sent")


def show_outbox(outbox) -> None:
    import email
    import email.policy

    click.echo(f"Dry run: {outbox.written} messages ({outbox.size / 1024 / 1024:.1f} MB) written to "
               f"{display_path(outbox.folder)}/; nothing was sent (--send sends them).")
    if outbox.stopped:
        raise MailError("stopped by a signal (Ctrl-C) before the last message was written")
    first = email.message_from_bytes(outbox.first.read_bytes(), policy=email.policy.default)
    click.echo(f"First message:\n  From: {first['From']}\n  To: {first['To']}\n  Subject: {first['Subject']}")
    body = first.get_body(("plain",))
    for line in (body.get_content() if body else "").strip().splitlines()[:6]:
        click.echo(f"  | {line}")
    click.echo(f"  Attached: {next(first.iter_attachments()).get_filename()}")


def show_send_report(report, log: str) -> None:
    changed = (f" (the message changed since for {len(report.changed)} of them: --resend sends it again)"
               if report.changed else "")
    left = f", {report.left} left for later{'' if report.stopped else ' (--limit)'}" if report.left else ""
    click.echo(f"{len(report.sent)} sent, {len(report.skipped)} already sent before{changed},"
               f" {len(report.failed)} failed{left}; log: {log}")
    if report.in_doubt:
        click.echo(f"{len(report.in_doubt)} not confirmed by the server, so perhaps delivered: "
                   f"{', '.join(report.in_doubt)} (--resend sends to them again)", err=True)
    if report.stopped:
        click.echo(f"handout: error: {report.stopped}; nobody after that was sent anything."
                   " Run the same command again to send the rest.", err=True)


@main.command("serve")
@click.argument("project_dir", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than this machine's own asks for the printed access token.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the web browser.")
@allow_remote_option
def serve_command(project_dir: Path, port: int, host: str, open_browser: bool, allow_remote: bool) -> None:
    """A web page over PROJECT_DIR (default: here): its handouts, and new ones pasted from web pages."""
    from ..web.app import serve

    serve(project_dir, host, port, open_browser, allow_remote)


@main.command("themes")
def themes_command() -> None:
    """List the themes: built-in, and the project's own in themes/."""
    for theme in list_themes(Path(".")).values():
        parent = f" (extends {theme.parent})" if theme.parent else ""
        click.echo(f"{theme.name:<14} {theme.description}{parent}")


@main.command("import")
@click.argument("source")
@click.option("-o", "--output", "content_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("content"), show_default=True, help="Folder for the Markdown file.")
@click.option("--force", is_flag=True, help="Overwrite an existing Markdown file.")
@allow_remote_option
@trust_network_option
@click.option("-v", "--verbose", is_flag=True, help="List each removed block, not only the summary.")
def import_command(source: str, content_dir: Path, force: bool, allow_remote: bool,
                   trusted_networks: tuple[str, ...], verbose: bool) -> None:
    """Write a pasted (.txt) or saved (.html) web page, or the page at an http(s)
    address (with --allow-remote), as Markdown with front matter, for editing.

    What was left out of the page is listed in a comment at the end of the Markdown.
    """
    from ..read.importer import import_article  # and the network modules: only this command

    check_network_options(allow_remote, trusted_networks)
    result = import_article(source, content_dir, overwrite=force, allow_remote=allow_remote,
                            trusted_networks=trusted_networks)
    for diagnostic in result.diagnostics if verbose else with_removals_summarised(result.diagnostics):
        click.echo(str(diagnostic), err=True)
    fetched = f" (the page kept as {display_path(result.page)})" if result.page else ""
    click.echo(f"{display_path(result.source)} -> {display_path(result.output)}{fetched}")
