"""The `handout` command: parses arguments, calls the Python API, prints results."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .article import PAPER_SIZES
from .build import BuildOptions, BuildResult, build
from .errors import display_path
from .importer import import_text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handout")
def main() -> None:
    """Turn articles (Markdown or pasted web text) into PDF handouts."""


@main.command("build")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("output"), show_default=True, help="Folder for the PDFs.")
@click.option("--theme", help="Theme for every article, over the front matter's.")
@click.option("--paper", type=click.Choice(PAPER_SIZES, case_sensitive=False),
              help="Paper size for every article, over the front matter's.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the summary.")
@click.option("-v", "--verbose", is_flag=True, help="Also print theme, paper and time per article.")
def build_command(paths: tuple[Path, ...], output_dir: Path, theme: str | None,
                  paper: str | None, quiet: bool, verbose: bool) -> None:
    """Build a PDF handout for each article in PATHS (default: content/)."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    options = BuildOptions(output_dir=output_dir, theme=theme, paper=paper)
    results = build(list(paths) or [Path("content")], options)
    for result in results:
        report(result, quiet, verbose)
    failed = sum(not r.ok for r in results)
    warnings = sum(len(r.diagnostics) for r in results)
    click.echo(
        f"{len(results) - failed} of {len(results)} handouts built into {display_path(output_dir)}/"
        f" ({failed} failed, {warnings} warning{'s' * (warnings != 1)})"
    )
    sys.exit(1 if failed else 0)


def report(result: BuildResult, quiet: bool, verbose: bool) -> None:
    if not quiet:
        for diagnostic in result.diagnostics:
            click.echo(str(diagnostic), err=True)
    if not result.ok:
        result.error.show()
    elif not quiet:
        line = (f"{display_path(result.source)} -> {display_path(result.output)}"
                f" ({result.pages} page{'s' * (result.pages != 1)}, {result.size / 1024:.0f} KiB)")
        if verbose:
            line += f" [theme {result.theme}, paper {result.paper}, {result.seconds:.2f} s]"
        click.echo(line)


@main.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "content_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("content"), show_default=True, help="Folder for the Markdown file.")
@click.option("--force", is_flag=True, help="Overwrite an existing Markdown file.")
def import_command(source: Path, content_dir: Path, force: bool) -> None:
    """Write a plain-text article as Markdown with front matter, for editing."""
    result = import_text(source, content_dir, overwrite=force)
    for diagnostic in result.diagnostics:
        click.echo(str(diagnostic), err=True)
    click.echo(f"{display_path(result.source)} -> {display_path(result.output)}")
