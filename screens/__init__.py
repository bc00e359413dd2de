"""One module per screen of the platform's flow. Screens never talk SQL or SMTP: they call the
store (in workers) and receive plain data objects."""
