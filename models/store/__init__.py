"""The store: engine, tables, migrations, documents' bytes, the audit log."""
