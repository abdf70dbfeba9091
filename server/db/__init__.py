"""The data layer: tables, migrations and stores, on SQLAlchemy (SQLite or PostgreSQL)."""
