"""Packaged reference lists (Eurostat NUTS 2021) read at runtime with importlib.resources.

The data lives next to this module so that region validation works offline and is
versioned with the code; see SOURCE.md for where each file came from.
"""
