"""The demo database: its builder and its corpus of names and texts."""
