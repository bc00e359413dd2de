"""The e-mail of a message, the SMTP transport, the outbox and the listener."""
