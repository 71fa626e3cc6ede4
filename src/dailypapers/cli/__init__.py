"""The `dailypapers` command line: one module per group of commands, each command a thin call
into the services, with the site's parts from `Site.open` (`common.py`)."""

from __future__ import annotations

import sys

import typer

from dailypapers.cli import db, digests, users
from dailypapers.cli.common import console
from dailypapers.cli.harvest import harvest
from dailypapers.cli.papers import index, load, search, submit
from dailypapers.cli.serve import serve
from dailypapers.cli.worker import worker

app = typer.Typer(
    help="dailypapers: the papers worth reading each day, curated by your community.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(digests.app, name="digest")
app.add_typer(users.app, name="users")
for command in (serve, load, index, search, submit, worker, harvest):
    app.command()(command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted; everything committed so far is kept")
        sys.exit(130)
