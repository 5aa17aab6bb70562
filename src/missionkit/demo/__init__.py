"""The demo mission map, built offline from the real data sets in ``shared/data``."""
