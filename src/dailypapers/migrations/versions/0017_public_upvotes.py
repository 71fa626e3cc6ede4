"""members may show their upvotes on their public page; papers found by author and category

`members.public_upvotes`: whether /members/{name} lists the member's upvotes to everyone
(off by default, and for every member who existed before this revision).

`paper_authors` (name, paper_id) and `paper_categories` (category, paper_id): who wrote each
paper and where arXiv lists it, one row per name, so that /authors/{name} and
/papers/category/{cat} read an index instead of every paper's JSON text (160 ms → under 1 ms
at 180k papers). Triggers on `papers` keep them equal to the JSON lists, whoever writes a paper
(the loader, a submission, the harvest, `db copy`), and take a deleted paper's rows away; the
rows of the papers stored before this revision are made here. One index each, the primary key
(name, paper_id) (SQLite: WITHOUT ROWID), and no foreign key, so that loading stays cheap: the
triggers find a paper's rows by the names in its old list. They are derived data, not models:
`db copy` does not copy them, the target's triggers make them. A name is kept to its first 200
characters (an index entry's limit); readers compare the whole name with the paper's list.
Note for later migrations: on SQLite, a batch operation that re-creates `papers` drops its
triggers; create them again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_KEY_CHARS = 200

# (table, key column, papers' JSON column, characters kept)
LISTS = (
    ("paper_authors", "name", "authors", NAME_KEY_CHARS),
    ("paper_categories", "category", "categories", 32),
)

# A paper's names, `item.value` (`{row}` is new, old or papers), as each database spells it:
# the items of its JSON list, the list's text values only, each cut to the key's length.
SQLITE = {
    "items": "json_each({row}.{column}) AS item",
    "where": "json_type({row}.{column}) = 'array' AND item.type = 'text'",
    "value": "substr(item.value, 1, {chars})",
    "insert": "INSERT OR IGNORE INTO",
    "distinct": "",
    "conflict": "",
}
POSTGRESQL = {
    "items": "jsonb_array_elements_text(CASE WHEN jsonb_typeof({row}.{column}::jsonb) = 'array'"
    " THEN {row}.{column}::jsonb ELSE '[]'::jsonb END) AS item(value)",
    "where": "TRUE",
    "value": "left(item.value, {chars})",
    "insert": "INSERT INTO",
    "distinct": "DISTINCT ",
    "conflict": " ON CONFLICT DO NOTHING",
}
FILL = (
    "{insert} {table}({key}, paper_id) SELECT {distinct}{value}, {row}.id"
    " FROM {source}{items} WHERE {where}{conflict}"
)
CLEAR = (
    "DELETE FROM {table} WHERE paper_id = {row}.id"
    " AND {key} IN (SELECT {value} FROM {items} WHERE {where})"
)

SQLITE_TRIGGERS = (
    "CREATE TRIGGER paper_names_insert AFTER INSERT ON papers BEGIN {fill_new} END",
    "CREATE TRIGGER paper_names_update AFTER UPDATE OF authors, categories ON papers"
    " WHEN old.authors IS NOT new.authors OR old.categories IS NOT new.categories"
    " BEGIN {clear_old} {fill_new} END",
    "CREATE TRIGGER paper_names_delete AFTER DELETE ON papers BEGIN {clear_old} END",
)
PG_FUNCTION = """
CREATE FUNCTION paper_names_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.authors IS NOT DISTINCT FROM NEW.authors
     AND OLD.categories IS NOT DISTINCT FROM NEW.categories THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {clear_old}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {fill_new}
  END IF;
  RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER paper_names_insert AFTER INSERT ON papers"
    " FOR EACH ROW EXECUTE FUNCTION paper_names_sync()",
    "CREATE TRIGGER paper_names_update AFTER UPDATE OF authors, categories ON papers"
    " FOR EACH ROW EXECUTE FUNCTION paper_names_sync()",
    "CREATE TRIGGER paper_names_delete AFTER DELETE ON papers"
    " FOR EACH ROW EXECUTE FUNCTION paper_names_sync()",
)


def _statements(template: str, spelling: dict[str, str], row: str, source: str = "") -> list[str]:
    """`template` for both lists, in this database's spelling."""
    statements = []
    for table, key, column, chars in LISTS:
        parts = {
            name: part.format(row=row, column=column, chars=chars)
            for name, part in spelling.items()
        }
        statements.append(template.format(table=table, key=key, row=row, source=source, **parts))
    return statements


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("public_upvotes", sa.Boolean(), nullable=False, server_default="0")
        )
    for table, key, _column, chars in LISTS:
        op.create_table(
            table,
            sa.Column(key, sa.String(chars), primary_key=True),
            sa.Column("paper_id", sa.Integer(), primary_key=True),
            sqlite_with_rowid=False,
        )
    sqlite = op.get_bind().dialect.name == "sqlite"
    spelling = SQLITE if sqlite else POSTGRESQL
    new, old = ("new", "old") if sqlite else ("NEW", "OLD")
    parts = {
        "fill_new": " ".join(f"{s};" for s in _statements(FILL, spelling, new)),
        "clear_old": " ".join(f"{s};" for s in _statements(CLEAR, spelling, old)),
    }
    if sqlite:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger.format(**parts))
    else:
        op.execute(PG_FUNCTION.format(**parts))
        for trigger in PG_TRIGGERS:
            op.execute(trigger)
    for statement in _statements(FILL, spelling, "papers", source="papers, "):
        op.execute(statement)  # the papers stored before this revision


def downgrade() -> None:
    for trigger in ("paper_names_insert", "paper_names_update", "paper_names_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + _on_papers())
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS paper_names_sync()")
    for table, *_ in LISTS:
        op.drop_table(table)
    with op.batch_alter_table("members") as batch:
        batch.drop_column("public_upvotes")


def _on_papers() -> str:
    return "" if op.get_bind().dialect.name == "sqlite" else " ON papers"
