"""The key of the store's meta row that marks the demo's store (its value: when and how it was
built). Alone here: the app reads it at every sign-in, before it needs the builder."""

DEMO_MARKER_KEY = "demo"
