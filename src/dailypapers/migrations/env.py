"""Alembic environment: runs migrations on the engine the app hands over (or the settings')."""

from alembic import context

from dailypapers.all_models import metadata
from dailypapers.database import make_engine

config = context.config
MIGRATION_LOCK = 7_411_203  # the advisory lock id that serialises migrations on PostgreSQL


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from dailypapers.settings import get_settings

        engine = make_engine(get_settings().resolved_database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Two `db upgrade` (or two starting servers) at once: the second waits here
                # until the first has committed, then finds the schema current.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            context.run_migrations()
        connection.commit()


run_migrations()
