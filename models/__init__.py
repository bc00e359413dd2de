"""The store: SQLAlchemy Core tables, queries, domain rules and migrations (no Textual here)."""
