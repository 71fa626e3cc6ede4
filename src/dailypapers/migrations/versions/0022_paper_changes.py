"""watchers: a trigger on `papers` records each change a reader may want to hear about

A row in `paper_changes` whenever a stored paper gets
- a newer arXiv version (`version` goes up: kind "version", detail "v3"; a paper stored
  without a version that is then seen at v1 is no change),
- a code link (`github_url` set or changed to another address: kind "code", the link),
- a project page (`project_page` likewise: kind "project_page", the address);
a link taken away, or written again differing only in case or a trailing "/", is no change.
Triggers catch every writer of papers (the harvest, the Hugging Face import, a curator's links,
the loader's upserts, plain SQL). `noticed_at` is the database's clock, in the same text form
SQLAlchemy writes on SQLite so that comparisons with bound datetimes hold.
Note for later migrations: on SQLite, a batch operation that re-creates `papers` drops its
triggers; create them again.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (kind, the condition on {old}/{new}, the detail), in the spelling both databases share.
LINK_CHANGED = (
    "COALESCE({new}.{column}, '') <> ''"
    " AND lower(rtrim(COALESCE({new}.{column}, ''), '/'))"
    " <> lower(rtrim(COALESCE({old}.{column}, ''), '/'))"
)
WATCHED = (
    ("version", "{new}.version > COALESCE({old}.version, 1)", "'v' || {new}.version"),
    ("code", LINK_CHANGED.replace("{column}", "github_url"), "{new}.github_url"),
    ("project_page", LINK_CHANGED.replace("{column}", "project_page"), "{new}.project_page"),
)
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"  # "2026-12-01 04:30:57.123000"
SQLITE_TRIGGER = (
    "CREATE TRIGGER paper_changes_{kind} AFTER UPDATE OF {column} ON papers WHEN {condition}"
    " BEGIN INSERT INTO paper_changes(paper_id, kind, detail, noticed_at)"
    " VALUES (new.id, '{kind}', substr({detail}, 1, 500), {now}); END"
)
PG_FUNCTION = """
CREATE FUNCTION paper_changes_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{checks}
  RETURN NULL;
END $$
"""
PG_CHECK = """  IF {condition} THEN
    INSERT INTO paper_changes(paper_id, kind, detail, noticed_at)
    VALUES (NEW.id, '{kind}', left({detail}, 500), now());
  END IF;"""
PG_TRIGGER = (
    "CREATE TRIGGER paper_changes_notice AFTER UPDATE OF version, github_url, project_page"
    " ON papers FOR EACH ROW EXECUTE FUNCTION paper_changes_notice()"
)
COLUMNS = {"version": "version", "code": "github_url", "project_page": "project_page"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for kind, condition, detail in WATCHED:
            op.execute(
                SQLITE_TRIGGER.format(
                    kind=kind,
                    column=COLUMNS[kind],
                    condition=condition.format(new="new", old="old"),
                    detail=detail.format(new="new"),
                    now=SQLITE_NOW,
                )
            )
        return
    checks = "\n".join(
        PG_CHECK.format(
            kind=kind,
            condition=condition.format(new="NEW", old="OLD"),
            detail=detail.format(new="NEW"),
        )
        for kind, condition, detail in WATCHED
    )
    op.execute(PG_FUNCTION.format(checks=checks))
    op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for kind, _condition, _detail in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS paper_changes_{kind}")
        return
    op.execute("DROP TRIGGER IF EXISTS paper_changes_notice ON papers")
    op.execute("DROP FUNCTION IF EXISTS paper_changes_notice()")
