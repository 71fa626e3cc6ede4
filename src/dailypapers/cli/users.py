"""`dailypapers users`: create an admin, list members, disable, enable, change roles."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from dailypapers.cli.common import console, fail, opened_site

if TYPE_CHECKING:
    from dailypapers.members.models import Member

app = typer.Typer(
    help="Members: create an admin, list, disable, change roles.", no_args_is_help=True
)
UserName = Annotated[str, typer.Argument(help="The member's user name.")]


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create-admin")
def users_create_admin(
    username: Annotated[str, typer.Argument(help="User name (3-32 letters, digits, - or _).")],
    email: Annotated[str, typer.Argument(help="Email address (confirmed at once).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    role: Annotated[str, typer.Option(help="admin, curator or member.")] = "admin",
) -> None:
    """Create a member with a confirmed address, an admin by default."""
    from dailypapers.members.accounts import AccountError
    from dailypapers.members.admin import create_admin

    password = _read_password(password_stdin)
    with opened_site() as site, site.sessions() as session, session.begin():
        try:
            member = create_admin(session, username, email, password, role)
        except AccountError as error:
            fail(str(error))
        console.print(f"Created {member.role} {member.username} <{member.email}>.")


@app.command("list")
def users_list() -> None:
    """List members: name, email, role, confirmed, disabled."""
    from dailypapers.members.admin import all_members

    table = Table("user name", "email", "role", "confirmed", "disabled", "joined")
    with opened_site() as site, site.sessions() as session:
        for member in all_members(session):
            table.add_row(
                member.username,
                member.email or "",
                member.role,
                "yes" if member.confirmed else "no",
                "yes" if member.disabled else "",
                member.created_at.date().isoformat(),
            )
    Console().print(table)


def _change(username: str, change: Callable[[Member], None]) -> None:
    """Apply the change to the named member and commit (exit 1 when there is no such member
    or the change is refused)."""
    from dailypapers.members.admin import MemberChangeRefused, member_named

    with opened_site() as site, site.sessions() as session, session.begin():
        try:
            change(member_named(session, username))
        except MemberChangeRefused as error:
            fail(str(error))


@app.command("disable")
def users_disable(username: UserName) -> None:
    """Disable a member: they are logged out and can no longer log in or act."""
    from dailypapers.members.admin import set_disabled

    _change(username, lambda member: set_disabled(member, True))
    console.print(f"Disabled {username}.")


@app.command("enable")
def users_enable(username: UserName) -> None:
    """Enable a disabled member again."""
    from dailypapers.members.admin import set_disabled

    _change(username, lambda member: set_disabled(member, False))
    console.print(f"Enabled {username}.")


@app.command("set-role")
def users_set_role(
    username: UserName,
    role: Annotated[str, typer.Argument(help="member, curator or admin.")],
) -> None:
    """Make a member a curator or an admin (or a member again)."""
    from dailypapers.members.admin import set_role
    from dailypapers.members.models import ROLES

    if role not in ROLES:  # before opening the site: a usage mistake
        fail(f"role must be one of {', '.join(ROLES)}")
    _change(username, lambda member: set_role(member, role))
    console.print(f"{username} is now {role}.")
