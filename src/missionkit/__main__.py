"""`python -m missionkit` runs the CLI."""

from missionkit.cli.main import app

app()
