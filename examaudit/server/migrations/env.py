"""Alembic environment: the URL comes from the config db.migrate() builds (no alembic.ini)."""

from alembic import context

from examaudit.server.db import Base, make_engine
from examaudit.server import models  # noqa: F401 - registers the tables on Base.metadata

try:  # the cases tables, when that part is present
    from examaudit.server import models_cases  # noqa: F401
except ImportError:
    pass

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
