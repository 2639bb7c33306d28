"""Alembic migrations of the store schema (env.py, versions/).

HEAD is the newest revision: a database already there needs no Alembic run, which keeps CLI commands quick.
Add a migration → update HEAD (a test checks that it matches Alembic's own head).
"""

HEAD = "0005_web_indexes"
