"""The `missionkit` command: a thin edge over the services."""
