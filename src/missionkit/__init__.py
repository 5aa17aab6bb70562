"""missionkit: mission-oriented innovation, from a bold goal to a portfolio that pulls toward it."""

__version__ = "0.1.0"
