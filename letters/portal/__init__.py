"""The recipients' web page (Starlette)."""
