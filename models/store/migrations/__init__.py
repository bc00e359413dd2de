"""Alembic migrations of the store (script location for models.migrate)."""
