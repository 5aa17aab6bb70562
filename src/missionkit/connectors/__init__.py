"""Readers that turn published funding data (CORDIS, 360Giving) into mission-map document parts."""
