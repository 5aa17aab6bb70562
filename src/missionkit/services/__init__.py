"""Use cases: what the CLI, the API and the web pages do, in one place each."""
