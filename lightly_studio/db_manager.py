"""Choose where the database file lives: ``db_manager.connect(db_file="~/data/my.db")``."""

from lightly_studio.db import close, connect, db_file

__all__ = ["close", "connect", "db_file"]
