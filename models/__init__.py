"""The store: SQLModel tables, queries, domain rules and migrations (no Textual here)."""
