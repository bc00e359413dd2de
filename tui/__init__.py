"""The application shell: command line, settings, the Textual App and its styles."""
