"""Importing consultations and registers from JSON or CSV files."""
