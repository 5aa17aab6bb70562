"""The domain: the nouns of a mission and every rule about them, in one place.

Pure Python (pydantic); the API, the CLI and every importer validate through these models.
"""
